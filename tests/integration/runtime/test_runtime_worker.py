"""The scheduler and a real Dramatiq worker (``crm worker`` in a subprocess) through Redis."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import redis
from dramatiq import Message
from prometheus_client.parser import text_string_to_metric_families

from domain.persistence.models import DomainEvent, EmailMessage, Timer
from tests.integration.runtime.conftest import free_port
from workflows.runtime.actors import QUEUE, declare_actors
from workflows.runtime.broker import NAMESPACE, build_broker
from workflows.runtime.email import enqueue_email
from workflows.runtime.processes import broker_enqueuers
from workflows.runtime.scheduler import Enqueuers, Scheduler
from workflows.runtime.timers import fire_timer

ROOT = Path(__file__).resolve().parents[3]
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
LEASE = dt.timedelta(seconds=30)


@dataclass
class FakeClock:
    moment: dt.datetime

    def now(self) -> dt.datetime:
        return self.moment


@dataclass
class Recorded:
    fired: list[tuple[int, str | None]] = field(default_factory=list)
    relays: int = 0
    emails: list[int] = field(default_factory=list)

    def enqueuers(self) -> Enqueuers:
        def relay() -> None:
            self.relays += 1

        return Enqueuers(
            fire_timer=lambda timer_id, token: self.fired.append((timer_id, token)),
            relay_events=relay,
            send_email=self.emails.append,
        )


async def test_scheduler_enqueues_due_timers_kicks_relay_and_sweeps_outbox(
    database: str,
) -> None:
    due = await Timer.create(key="due", purpose="wait", due_at=T0)
    await Timer.create(key="later", purpose="wait", due_at=T0 + dt.timedelta(hours=1))
    await DomainEvent.create(type="x", subject_type="customer", subject_id=1, occurred_at=T0)
    mail = await enqueue_email(idempotency_key="k", to_address="a@b.c", subject="s", text="t")
    record = Recorded()
    clock = FakeClock(T0)
    scheduler = Scheduler(enqueue=record.enqueuers(), clock=clock, batch=1, lease=LEASE)

    assert await scheduler.tick() == 1
    assert [timer_id for timer_id, _ in record.fired] == [due.id]
    assert record.relays == 1
    assert record.emails == []  # not overdue yet
    clock.moment = T0 + dt.timedelta(seconds=1)
    assert await scheduler.tick() == 0  # claimed: not enqueued again within its lease

    scheduler.email_sweep_every = 0
    clock.moment = (await EmailMessage.get(id=mail.id)).created_at + dt.timedelta(minutes=5)
    await scheduler.tick()
    assert record.emails == [mail.id]


async def test_lost_queue_messages_lose_no_timer(database: str, redis_url: str) -> None:
    """FLUSHALL after the scheduler enqueued: the timer is still in SQL and, once its lease
    expires, claimed and enqueued again; the new message fires it."""
    broker = build_broker(redis_url=redis_url)
    actors = declare_actors(broker)
    enqueue = Enqueuers(
        fire_timer=lambda timer_id, token: actors.fire_timer.send(timer_id, token),
        relay_events=lambda: actors.relay_events.send(),
        send_email=lambda message_id: actors.send_email.send(message_id),
    )
    client = redis.Redis.from_url(redis_url)
    queued = f"{NAMESPACE}:{QUEUE}.msgs"
    try:
        timer = await Timer.create(key="t", purpose="wait", due_at=T0)
        clock = FakeClock(T0)
        scheduler = Scheduler(enqueue=enqueue, clock=clock, lease=LEASE)

        assert await scheduler.tick() == 1
        assert client.hlen(queued) == 1
        client.flushall()

        clock.moment = T0 + LEASE - dt.timedelta(seconds=1)
        assert await scheduler.tick() == 0  # still leased
        clock.moment = T0 + LEASE
        assert await scheduler.tick() == 1
        (raw,) = client.hvals(queued)
        message = Message.decode(raw)
        assert (message.actor_name, message.args[0]) == ("fire_timer", timer.id)

        assert await fire_timer(*message.args, now=clock.moment)
        assert (await Timer.get(id=timer.id)).status == "FIRED"
    finally:
        client.close()
        broker.close()


@pytest.fixture
def worker_process(database: str, redis_url: str) -> Iterator[subprocess.Popen[str]]:
    """``crm worker`` on the test's database and Redis, once it has booted."""
    metrics_port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "REDIS_URL": redis_url,
        "LOG_LEVEL": "info",
        "RAPPORT_WORKER_METRICS_PORT": str(metrics_port),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker", "--threads", "2"],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    started = threading.Event()
    lines: list[str] = []

    def watch() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.append(line)
            if "worker started" in line:
                started.set()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        if not started.wait(timeout=30):
            raise RuntimeError("worker did not start:\n" + "".join(lines))
        process.metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"  # type: ignore[attr-defined]
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        watcher.join(timeout=5)
        if process.stderr is not None:
            process.stderr.close()
    assert process.returncode == 0, "".join(lines)


@pytest.mark.slow
async def test_a_due_timer_is_fired_by_a_real_worker_within_a_second(
    database: str, redis_url: str, worker_process: subprocess.Popen[str]
) -> None:
    broker = build_broker(redis_url=redis_url)
    actors = declare_actors(broker)
    enqueue = Enqueuers(
        fire_timer=lambda timer_id, token: actors.fire_timer.send(timer_id, token),
        relay_events=lambda: actors.relay_events.send(),
        send_email=lambda message_id: actors.send_email.send(message_id),
    )
    stop = asyncio.Event()
    scheduler = asyncio.create_task(Scheduler(enqueue=enqueue, interval=0.05).run(stop))
    try:
        due_at = dt.datetime.now(dt.UTC) + dt.timedelta(milliseconds=500)
        timers = [await Timer.create(key=f"t{i}", purpose="wait", due_at=due_at) for i in range(3)]
        await DomainEvent.create(type="x", subject_type="customer", subject_id=1, occurred_at=T0)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            fired = await Timer.filter(status="FIRED").count()
            relayed = not await DomainEvent.filter(dispatched_at__isnull=True).exists()
            if fired == len(timers) and relayed:
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await scheduler
        broker.close()

    for timer in timers:
        stored = await Timer.get(id=timer.id)
        assert stored.status == "FIRED"
        assert stored.fired_at is not None
        lateness = (stored.fired_at - stored.due_at).total_seconds()
        assert 0 <= lateness < 1.0, lateness
    assert not await DomainEvent.filter(dispatched_at__isnull=True).exists()

    # The worker's Prometheus endpoint saw the three firings, all within a second.
    async with httpx.AsyncClient() as client:
        page = (await client.get(worker_process.metrics_url)).text  # type: ignore[attr-defined]
    samples = {
        (family.name, sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(page)
        for sample in family.samples
    }
    wait = (("purpose", "wait"),)
    assert (
        samples[("rapport_timer_lateness_seconds", "rapport_timer_lateness_seconds_count", wait)]
        == 3
    )
    bucket = (("le", "1.0"), ("purpose", "wait"))
    assert (
        samples[("rapport_timer_lateness_seconds", "rapport_timer_lateness_seconds_bucket", bucket)]
        == 3
    )
    done = (("actor", "fire_timer"), ("outcome", "done"))
    assert samples[("rapport_worker_messages", "rapport_worker_messages_total", done)] == 3


async def test_scheduler_sweeps_webhook_deliveries_whose_message_was_lost(database: str) -> None:
    from workflows.runtime.webhooks import enqueue_webhook

    delivery = await enqueue_webhook(idempotency_key="w", url="http://127.0.0.1:9/hook", body={})
    swept: list[int] = []
    record = Recorded()
    enqueuers = record.enqueuers()
    enqueuers.deliver_webhook = swept.append
    clock = FakeClock(delivery.created_at + dt.timedelta(seconds=5))
    scheduler = Scheduler(enqueue=enqueuers, clock=clock, email_sweep_every=0)
    await scheduler.tick()
    assert swept == []  # just enqueued: its own message is still on the way
    clock.moment = delivery.created_at + dt.timedelta(minutes=5)
    await scheduler.tick()
    assert swept == [delivery.id]


@pytest.mark.slow
@pytest.mark.parametrize("bounded", [True, False], ids=["bounded-queue", "unbounded-queue"])
async def test_a_backlog_longer_than_the_lease_does_not_stop_the_timers(
    database: str, redis_url: str, worker_process: subprocess.Popen[str], bounded: bool
) -> None:
    """Regression: 50,000 timers due at once on SQLite stopped firing for good after ~20,000.

    The scheduler enqueued every due timer at once; once the queue held more than a lease of
    work, each message reached the worker after its timer had been claimed again under a new
    token, and the worker, which required the message's own token, fired nothing, while the
    scheduler re-claimed and re-enqueued everything every lease. Here a 1 s lease and 4,000
    timers (several seconds of work for one worker) reproduce it: with the old worker and no
    bound, 343 of 4,000 fired and then none.

    Two fixes, each tested: the scheduler bounds the queue (``max_queued``), so messages are
    fresh and every timer fires on its first claim; and with the queue unbounded, a late
    message still fires its (re-claimed) timer, so every timer fires anyway, exactly once.
    """
    lease = dt.timedelta(seconds=1)
    due_at = dt.datetime.now(dt.UTC)
    count = 4000
    await Timer.bulk_create(
        [Timer(key=f"t{i}", purpose="wait", due_at=due_at) for i in range(count)], batch_size=500
    )
    broker = build_broker(redis_url=redis_url)
    scheduler = Scheduler(
        enqueue=broker_enqueuers(broker),
        interval=0.05,
        lease=lease,
        max_queued=50 if bounded else 10**9,
    )
    stop = asyncio.Event()
    running = asyncio.create_task(scheduler.run(stop))
    fired = 0
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and fired < count:
            await asyncio.sleep(0.5)
            fired = await Timer.filter(status="FIRED").count()
    finally:
        stop.set()
        await running
        broker.close()

    assert fired == count
    if bounded:
        assert await Timer.filter(attempts__gt=1).count() == 0
