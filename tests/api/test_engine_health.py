"""The administrators' engine view: timer lateness over a window, overdue timers, the relay's
backlog, read through GraphQL from rows whose answer the test knows."""

from __future__ import annotations

import datetime as dt

import httpx

from domain.persistence import models as m
from tests.helpers import gql

QUERY = """query($w: Int) { engineHealth(windowMinutes: $w) {
  timerLateness { fired p50Seconds p99Seconds maxSeconds }
  timersPending timersOverdue oldestOverdueDueAt undispatchedEvents queuedMessages
  runsByState { state count } } }"""


async def _timer(key: str, due: dt.datetime, fired: dt.datetime | None = None) -> None:
    await m.Timer.create(
        key=key,
        purpose="wait",
        due_at=due,
        status="FIRED" if fired else "PENDING",
        fired_at=fired,
    )


async def test_engine_health_reports_lateness_overdue_timers_and_backlog(
    api: httpx.AsyncClient,
) -> None:
    now = dt.datetime.now(dt.UTC)
    for index, late in enumerate((0.1, 0.2, 0.3, 2.0)):
        due = now - dt.timedelta(minutes=5 + index)
        await _timer(f"fired-{index}", due, due + dt.timedelta(seconds=late))
    long_ago = now - dt.timedelta(minutes=40)  # outside a 15-minute window
    await _timer("old", long_ago, long_ago + dt.timedelta(seconds=100))
    overdue_since = now - dt.timedelta(minutes=2)
    await _timer("overdue-1", overdue_since)
    await _timer("overdue-2", now - dt.timedelta(minutes=1))
    await _timer("future", now + dt.timedelta(hours=1))
    await m.DomainEvent.create(type="customer.updated", subject_type="Customer", subject_id=1,
                               occurred_at=now)  # fmt: skip

    body = await gql(api, QUERY, {"w": 15})
    health = body["data"]["engineHealth"]
    late = health["timerLateness"]
    assert late["fired"] == 4
    # Nearest rank over (0.1, 0.2, 0.3, 2.0): the 2nd for p50, the 4th for p99.
    assert abs(late["p50Seconds"] - 0.2) < 0.01
    assert abs(late["p99Seconds"] - 2.0) < 0.01
    assert abs(late["maxSeconds"] - 2.0) < 0.01
    assert health["timersPending"] == 3
    assert health["timersOverdue"] == 2
    oldest = dt.datetime.fromisoformat(health["oldestOverdueDueAt"])
    assert abs((oldest - overdue_since).total_seconds()) < 0.01
    assert health["undispatchedEvents"] == 1
    assert health["queuedMessages"] is None  # no Redis in this app

    wider = await gql(api, QUERY, {"w": 60})
    assert wider["data"]["engineHealth"]["timerLateness"]["fired"] == 5
    assert abs(wider["data"]["engineHealth"]["timerLateness"]["maxSeconds"] - 100.0) < 0.01


async def test_engine_health_window_is_validated(api: httpx.AsyncClient) -> None:
    body = await gql(api, QUERY, {"w": 0}, expect_errors=True)
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "OUT_OF_RANGE"
