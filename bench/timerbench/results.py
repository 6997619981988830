"""What one run measured, and the tables printed from it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

BACKENDS = ("sqlite", "postgres")
#: A second counts as saturated when every timer fired in it was more than this late.
SATURATED_LATENESS = 1.0
MB = 1024 * 1024


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
    #: Runs whose transition scheduled their next wait (checks each firing was a transition).
    advanced: int = 0
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
        f"runs moved on to their next wait: {r.advanced:,}/{r.timers:,}",
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
