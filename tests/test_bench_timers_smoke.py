"""The timers benchmark (bench/timers.py) runs end to end at a tiny size: SQLite, a real
redis-server, ``crm scheduler`` and one ``crm worker``; every timer is a workflow run's wait."""

from __future__ import annotations

import importlib.util
import io
import re
import sys
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _load_bench() -> ModuleType:
    path = ROOT / "bench" / "timers.py"
    spec = importlib.util.spec_from_file_location("bench_timers", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def _run_in_thread(bench: ModuleType, argv: list[str]) -> tuple[list[Any], str]:
    """Run the benchmark on its own thread: it starts its own event loops and Tortoise state."""
    out = io.StringIO()
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["results"] = bench.run(argv, out)
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="bench-timers-smoke")
    thread.start()
    thread.join(timeout=90)
    assert not thread.is_alive(), "benchmark did not finish"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["results"], out.getvalue()


def test_timers_benchmark_fires_every_timer_and_prints_figures() -> None:
    bench = _load_bench()
    argv = [
        "--backend", "sqlite",
        "--timers", "300",
        "--window", "5",
        "--workers", "1",
        "--capacity-window", "0",
        "--pending", "1000",
        "--memory-timers", "50",
        "--memory-window", "1",
        "--drain-timeout", "20",
    ]  # fmt: skip
    results, output = _run_in_thread(bench, argv)

    assert [(r.kind, r.workers, r.timers, r.pending) for r in results] == [
        ("load", 1, 300, 0),
        ("memory", 1, 50, 1000),
    ]
    load = results[0]
    assert load.all_fired
    assert load.advanced == 300  # each firing moved its run on to the next wait
    assert not load.timed_out
    assert len(load.lateness) == 300
    assert abs(load.due_span - 5 * 299 / 300) < 0.01  # spread evenly over the window
    assert all(late >= 0 for late in load.lateness)
    assert {m.role for m in load.memory} == {"scheduler", "worker 1"}
    assert all(m.start > 0 and m.end > 0 and m.peak >= m.start for m in load.memory)
    assert all(code == 0 for code in load.exit_codes.values()), load.exit_codes
    assert results[1].all_fired

    assert "fired 300/300 in" in output
    assert "runs moved on to their next wait: 300/300" in output
    assert re.search(r"^transitions/s: \d+\.\d", output, re.MULTILINE)
    assert re.search(r"^lateness s: p50 \d+\.\d{3}  p99 \d+\.\d{3}  max \d+\.\d{3}$", output, re.M)
    for role in ("scheduler", "worker 1"):
        row = re.search(rf"^{role}\s+\d+\s+(\d+\.\d)\s+(\d+\.\d)\s+(\d+\.\d)$", output, re.M)
        assert row, f"no RSS row for {role} in:\n{output}"
        assert all(float(figure) > 0 for figure in row.groups())
    assert "== summary" in output
    summary = output.split("== summary", 1)[1]
    assert re.search(r"^sqlite\s+load\s+1\s+300\s+0\s", summary, re.M)
    assert "memory flat" not in summary  # one pending size: nothing to compare
