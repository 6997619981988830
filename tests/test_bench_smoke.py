"""The nested-query benchmark (bench/graphql_nested.py) runs end to end at a tiny scale."""

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
    path = ROOT / "bench" / "graphql_nested.py"
    spec = importlib.util.spec_from_file_location("bench_graphql_nested", path)
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

    thread = threading.Thread(target=target, name="bench-smoke")
    thread.start()
    thread.join(timeout=120)
    assert not thread.is_alive(), "benchmark did not finish"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["results"], out.getvalue()


def test_benchmark_prints_figures_and_matches_raw_sql() -> None:
    bench = _load_bench()
    argv = ["--backend", "sqlite", "--scale", "0.01", "--requests", "5", "--concurrency", "1,2"]
    results, output = _run_in_thread(bench, argv)

    assert len(results) == 1
    result = results[0]
    assert result.backend == "sqlite"
    # API and raw SQL see the same page: same customers in the same order, same child rows
    assert len(result.api_ids) == 50
    assert result.api_ids == result.raw_ids == result.http_ids
    assert result.api_shape == result.raw_shape
    assert result.api_total == result.raw_total == result.counts["customers"]
    assert 0 < result.statements <= 8
    assert [load.concurrency for load in result.loads] == [1, 2]
    assert all(load.requests == 5 for load in result.loads)
    assert len(result.raw_ms) == 5

    assert re.search(r"SQL statements per request \(in-process StatementLog\): \d+", output)
    for label in ("HTTP c=1", "HTTP c=2", "in-process execute", "raw SQL"):
        row = re.search(rf"^{re.escape(label)}.*$", output, re.MULTILINE)
        assert row, f"no {label!r} row in:\n{output}"
        figures = re.findall(r"\d+\.\d", row.group(0))
        assert len(figures) == 4, row.group(0)  # req/s, p50, p95, p99
    assert re.search(r"API p50 \(HTTP c=1\) / raw SQL p50 = \d+\.\d\dx", output)
    assert "page ids (API in-process, HTTP, raw SQL) match: yes" in output
    assert "== summary ==" in output
