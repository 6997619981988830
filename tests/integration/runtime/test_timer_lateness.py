"""Timer lateness is measured and reported: per fired timer in Prometheus (the worker's
registry) and per database over a recent window (the admin report), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from prometheus_client import REGISTRY

from domain.persistence.models import Timer
from workflows.runtime.admin import timer_lateness
from workflows.runtime.timers import claim_due_timers, fire_timer

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
PURPOSE = "latetest"


def _sample(name: str, labels: dict[str, str] | None = None) -> float:
    return REGISTRY.get_sample_value(name, labels or {}) or 0.0


async def _fire_with_lateness(lateness: list[float]) -> None:
    """Timers due one second apart, each fired ``lateness[i]`` seconds after its due time."""
    timers = [
        await Timer.create(key=f"t{i}", purpose=PURPOSE, due_at=T0 + dt.timedelta(seconds=i))
        for i in range(len(lateness))
    ]
    claims = {
        t.id: t.claim_token for t in await claim_due_timers(T0 + dt.timedelta(hours=1), limit=1000)
    }
    for i, timer in enumerate(timers):
        fired_at = timer.due_at + dt.timedelta(seconds=lateness[i])
        assert await fire_timer(timer.id, claims[timer.id], fired_at)


async def test_admin_report_gives_percentiles_of_the_recent_window(database: str) -> None:
    late = [round(0.01 * (i + 1), 2) for i in range(100)]  # 0.01 .. 1.00 s
    await _fire_with_lateness(late)
    # Fired well before the window, and never fired: neither counts.
    old = await Timer.create(key="old", purpose=PURPOSE, due_at=T0 - dt.timedelta(days=1))
    await Timer.filter(id=old.id).update(
        status="FIRED", fired_at=T0 - dt.timedelta(days=1) + dt.timedelta(seconds=30)
    )
    await Timer.create(key="pending", purpose=PURPOSE, due_at=T0)

    now = T0 + dt.timedelta(minutes=5)
    report = await timer_lateness(now=now, window=dt.timedelta(minutes=15))

    assert report.fired == 100
    assert report.p50 == pytest.approx(0.50, abs=1e-3)
    assert report.p99 == pytest.approx(0.99, abs=1e-3)
    assert report.max == pytest.approx(1.00, abs=1e-3)
    assert (report.since, report.until) == (now - dt.timedelta(minutes=15), now)

    # A window that ends before the firings (they happened from T0 on) has none of them.
    empty = await timer_lateness(now=T0 - dt.timedelta(minutes=1), window=dt.timedelta(hours=1))
    assert (empty.fired, empty.p50, empty.p99, empty.max) == (0, None, None, None)
    with pytest.raises(ValueError, match="positive"):
        await timer_lateness(now=now, window=dt.timedelta(0))


async def test_each_fired_timer_is_observed_in_the_lateness_histogram(database: str) -> None:
    labels = {"purpose": PURPOSE}
    count = _sample("rapport_timer_lateness_seconds_count", labels)
    total = _sample("rapport_timer_lateness_seconds_sum", labels)
    under_a_second = _sample("rapport_timer_lateness_seconds_bucket", {**labels, "le": "1.0"})
    stale = _sample("rapport_timer_stale_messages_total")

    await _fire_with_lateness([0.2, 0.4, 3.0])
    (fired,) = await Timer.filter(key="t0").values_list("id", flat=True)
    assert not await fire_timer(fired, None, T0 + dt.timedelta(hours=2))  # a duplicate message

    assert _sample("rapport_timer_lateness_seconds_count", labels) == count + 3
    assert _sample("rapport_timer_lateness_seconds_sum", labels) == pytest.approx(total + 3.6)
    after = _sample("rapport_timer_lateness_seconds_bucket", {**labels, "le": "1.0"})
    assert after == under_a_second + 2
    assert _sample("rapport_timer_stale_messages_total") == stale + 1
