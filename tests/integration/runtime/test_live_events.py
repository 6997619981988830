"""Live events against a real Redis: what the relay publishes, that a failed publish is retried
(at least once), and how the API's hub fans one subscription out."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator

import pytest
import redis.exceptions
from redis.asyncio import Redis

from domain.activities.tasks import TaskInput, create_task
from domain.customers.commands import PersonInput
from domain.customers.services import create_person
from domain.persistence.models import DomainEvent
from gql.live_hub import LiveEventHub
from tests.helpers import free_port
from tests.integration.runtime.test_runtime_worker import worker_process  # noqa: F401 (fixture)
from workflows.runtime import relay
from workflows.runtime.actors import declare_actors
from workflows.runtime.broker import build_broker
from workflows.runtime.live_events import CHANNEL, LiveEvent, LiveEventPublisher


@contextlib.asynccontextmanager
async def listening(redis_url: str) -> AsyncIterator[asyncio.Queue[LiveEvent]]:
    """Every live event published while inside, decoded, in order."""
    received: asyncio.Queue[LiveEvent] = asyncio.Queue()
    client = Redis.from_url(redis_url)
    pubsub = client.pubsub()
    await pubsub.subscribe(CHANNEL)
    assert (await pubsub.get_message(timeout=5))["type"] == "subscribe"  # type: ignore[index]

    async def pump() -> None:
        async for message in pubsub.listen():
            if message["type"] == "message":
                received.put_nowait(LiveEvent.decode(message["data"]))

    task = asyncio.create_task(pump())
    try:
        yield received
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await pubsub.aclose()
        await client.aclose()


@contextlib.asynccontextmanager
async def publishing(redis_url: str) -> AsyncIterator[None]:
    publisher = LiveEventPublisher(redis_url)
    relay.set_event_publisher(publisher)
    try:
        yield
    finally:
        relay.set_event_publisher(None)
        await publisher.close()


async def test_the_relay_publishes_each_event_with_its_customer(
    database: str, redis_url: str
) -> None:
    person = await create_person(PersonInput(first_name="Hoa"), actor="user:7")
    task = await create_task(TaskInput(title="Call back", customer_id=person.id), actor="user:7")
    stored = await DomainEvent.all().order_by("id")
    async with listening(redis_url) as received, publishing(redis_url):
        assert await relay.relay_events() == len(stored)
        published = [await asyncio.wait_for(received.get(), 5) for _ in stored]
    assert [(e.id, e.type) for e in published] == [(e.id, e.type) for e in stored]
    created = next(e for e in published if e.type == "customer.created")
    assert (created.subject_type, created.subject_id, created.customer_id) == (
        "Customer",
        person.id,
        person.id,
    )
    # The task's customer is looked up once, by the relay, for every subscriber.
    task_event = next(e for e in published if e.subject_type == "Task")
    assert (task_event.subject_id, task_event.customer_id) == (task.id, person.id)
    assert task_event.actor == "user:7"
    assert not await relay.undispatched_events_exist()


async def test_an_event_whose_publish_failed_stays_undispatched_and_is_published_later(
    database: str, redis_url: str
) -> None:
    await create_person(PersonInput(first_name="Minh"), actor="test")
    nowhere = LiveEventPublisher(f"redis://127.0.0.1:{free_port()}/0")
    relay.set_event_publisher(nowhere)
    try:
        with pytest.raises(redis.exceptions.ConnectionError):
            await relay.relay_events()
    finally:
        relay.set_event_publisher(None)
        await nowhere.close()
    # The first event's publish failed, so nothing was marked dispatched.
    stored = await DomainEvent.all().order_by("id")
    assert [e.dispatched_at for e in stored] == [None] * len(stored)
    async with listening(redis_url) as received, publishing(redis_url):
        assert await relay.relay_events() == len(stored)
        published = [await asyncio.wait_for(received.get(), 5) for _ in stored]
    assert [e.id for e in published] == [e.id for e in stored]
    assert not await relay.undispatched_events_exist()


@pytest.mark.slow
@pytest.mark.usefixtures("worker_process")
async def test_a_real_worker_publishes_the_events_it_relays(database: str, redis_url: str) -> None:
    """``crm worker`` installs the publisher: the production path, in its own process."""
    person = await create_person(PersonInput(first_name="Thu"), actor="test")
    broker = build_broker(redis_url=redis_url)
    try:
        async with listening(redis_url) as received:
            declare_actors(broker).relay_events.send()
            event = await asyncio.wait_for(received.get(), 15)
    finally:
        broker.close()
    assert (event.type, event.subject_id, event.customer_id) == (
        "customer.created",
        person.id,
        person.id,
    )
    # Published inside the relay's transaction, just before the commit that marks it dispatched.
    async with asyncio.timeout(5):
        while True:
            if (await DomainEvent.get(id=event.id)).dispatched_at is not None:
                break
            await asyncio.sleep(0.02)


def _event(n: int) -> LiveEvent:
    return LiveEvent(
        id=n,
        type="customer.updated",
        subject_type="Customer",
        subject_id=n,
        customer_id=n,
        actor="test",
        occurred_at=dt.datetime(2026, 5, 1, tzinfo=dt.UTC),
    )


async def test_the_hub_fans_one_redis_subscription_out_and_bounds_slow_readers(
    redis_url: str,
) -> None:
    hub = LiveEventHub(redis_url, queue_size=3)
    publisher = Redis.from_url(redis_url)
    try:
        async with hub.subscribe() as fast, hub.subscribe() as slow:
            assert hub.subscribers == 2
            # One connection to Redis, whatever the number of subscribers.
            assert (await publisher.pubsub_numsub(CHANNEL)) == [(CHANNEL.encode(), 1)]
            fast_ids = []
            for n in range(1, 6):
                await publisher.publish(CHANNEL, _event(n).encode())
                fast_ids.append((await asyncio.wait_for(anext(fast), 5)).id)
            # slow read nothing while five arrived: it keeps the newest three.
            slow_ids = [(await asyncio.wait_for(anext(slow), 5)).id for _ in range(3)]
        assert fast_ids == [1, 2, 3, 4, 5]
        assert slow_ids == [3, 4, 5]
        assert hub.subscribers == 0
    finally:
        await hub.close()
        await publisher.aclose()


async def test_the_hub_resubscribes_after_redis_drops_its_connection(redis_url: str) -> None:
    hub = LiveEventHub(redis_url)
    admin = Redis.from_url(redis_url)
    try:
        async with hub.subscribe() as events:
            await admin.publish(CHANNEL, _event(1).encode())
            assert (await asyncio.wait_for(anext(events), 5)).id == 1
            assert await admin.client_kill_filter(_type="pubsub") == 1
            # Wait until the hub is subscribed again (events published meanwhile are lost).
            async with asyncio.timeout(15):
                while True:
                    if await admin.pubsub_numsub(CHANNEL) == [(CHANNEL.encode(), 1)]:
                        break
                    await asyncio.sleep(0.05)
            await admin.publish(CHANNEL, _event(2).encode())
            assert (await asyncio.wait_for(anext(events), 5)).id == 2
    finally:
        await hub.close()
        await admin.aclose()
