"""The domain-event relay: in order, marked with the handler's writes, redelivered on failure."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from domain.persistence.config import is_sqlite
from domain.persistence.models import DomainEvent, RuntimeLease, Timer
from workflows.runtime import leases
from workflows.runtime.relay import (
    LEASE,
    LEASE_TTL,
    relay_events,
    set_event_handler,
    undispatched_events_exist,
)

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


async def test_a_lease_has_one_holder_until_released_or_expired(database: str) -> None:
    ttl = dt.timedelta(seconds=15)
    assert await leases.take("job", "a", T0, ttl)
    assert not await leases.take("job", "b", T0 + dt.timedelta(seconds=14), ttl)
    assert not await leases.renew("job", "b", T0, ttl)  # not b's
    assert await leases.renew("job", "a", T0 + dt.timedelta(seconds=10), ttl)  # to T0 + 25 s
    assert not await leases.take("job", "b", T0 + dt.timedelta(seconds=20), ttl)
    # a dies without releasing: the lease expires and b takes it over
    assert await leases.take("job", "b", T0 + dt.timedelta(seconds=25), ttl)
    assert not await leases.renew("job", "a", T0 + dt.timedelta(seconds=26), ttl)
    await leases.release("job", "a")  # a late release of a's lease changes nothing
    assert not await leases.take("job", "c", T0 + dt.timedelta(seconds=26), ttl)
    await leases.release("job", "b")
    assert await leases.take("job", "c", T0 + dt.timedelta(seconds=26), ttl)
    assert await leases.take("other", "a", T0, ttl)  # leases are per name


async def test_a_relay_finding_another_at_work_returns_at_once(
    database: str, seen: list[int]
) -> None:
    """Kicked while a relay holds the lease, a relay returns 0 without waiting on it (the
    scheduler kicks every second; kicks used to queue up behind each other's row locks)."""
    if is_sqlite(database):
        # Both relays would share this process's one SQLite connection, which the first
        # holds for its event's transaction; the held lease is tested below on both backends.
        pytest.skip("one SQLite connection per process: the relays cannot overlap in one")
    ids = await _events(4)
    release = asyncio.Event()
    started = asyncio.Event()

    async def slow(event: DomainEvent) -> None:
        seen.append(event.id)
        started.set()
        await release.wait()

    set_event_handler(slow)
    try:
        first = asyncio.create_task(relay_events())
        await asyncio.wait_for(started.wait(), timeout=10)
        assert await asyncio.wait_for(relay_events(), timeout=5) == 0
        release.set()
        assert await asyncio.wait_for(first, timeout=30) == 4
        assert await relay_events() == 0  # nothing left; the lease was released
    finally:
        set_event_handler(None)
    assert seen == ids


async def test_events_of_a_relay_that_died_are_relayed_once_its_lease_expires(
    database: str, seen: list[int]
) -> None:
    ids = await _events(2)
    now = dt.datetime.now(dt.UTC)
    # A relay took the lease and was killed: nobody releases it.
    assert await leases.take(LEASE, "killed", now, LEASE_TTL)

    async def handler(event: DomainEvent) -> None:
        seen.append(event.id)

    set_event_handler(handler)
    try:
        assert await relay_events() == 0
        await RuntimeLease.filter(name=LEASE).update(expires_at=now - dt.timedelta(seconds=1))
        assert await relay_events() == 2
    finally:
        set_event_handler(None)
    assert seen == ids
