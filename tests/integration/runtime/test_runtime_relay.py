"""The domain-event relay: in order, marked with the handler's writes, redelivered on failure."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.persistence.models import DomainEvent, Timer
from workflows.runtime.relay import relay_events, set_event_handler, undispatched_events_exist

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


async def _events(count: int) -> list[int]:
    created = [
        await DomainEvent.create(
            type="customer.updated",
            subject_type="customer",
            subject_id=i,
            payload={"n": i},
            occurred_at=T0,
        )
        for i in range(count)
    ]
    return [event.id for event in created]


@pytest.fixture
def seen() -> list[int]:
    return []


async def test_relays_in_order_and_marks_dispatched(database: str, seen: list[int]) -> None:
    ids = await _events(5)

    async def handler(event: DomainEvent) -> None:
        seen.append(event.id)

    set_event_handler(handler)
    try:
        assert await relay_events(batch=3) == 3
        assert await relay_events() == 2
        assert await relay_events() == 0
    finally:
        set_event_handler(None)
    assert seen == ids
    assert not await undispatched_events_exist()
    assert await DomainEvent.filter(dispatched_at__isnull=True).count() == 0


async def test_failed_handler_rolls_back_and_the_event_is_delivered_again(
    database: str, seen: list[int]
) -> None:
    ids = await _events(3)
    crash_on = ids[1]

    async def handler(event: DomainEvent) -> None:
        seen.append(event.id)
        await Timer.create(key=f"from-event-{event.id}", purpose="wait", due_at=T0)
        if event.id == crash_on:
            raise RuntimeError("process died mid-handler")

    set_event_handler(handler)
    try:
        with pytest.raises(RuntimeError):
            await relay_events()
        dispatched = await DomainEvent.filter(dispatched_at__isnull=False).values_list(
            "id", flat=True
        )
        assert list(dispatched) == [ids[0]]
        assert not await Timer.filter(key=f"from-event-{crash_on}").exists()  # rolled back

        crash_on = -1
        assert await relay_events() == 2
    finally:
        set_event_handler(None)

    assert seen == [ids[0], ids[1], ids[1], ids[2]]
    assert await Timer.filter(key__startswith="from-event-").count() == 3
