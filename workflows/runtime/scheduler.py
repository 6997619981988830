"""The scheduler: every ``interval`` it claims due timers and enqueues one ``fire_timer`` per
timer, kicks the event relay when events wait, and re-enqueues outbox e-mails nobody sends.

Run exactly one per deployment (``crm scheduler``). Two would still be *correct* (claims are
exclusive, firing is idempotent), only wasteful; on PostgreSQL a second scheduler additionally
waits on a session advisory lock, so it is a hot standby that takes over when the first dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from tortoise import Tortoise

from domain.persistence.models import Timer
from workflows.runtime import metrics
from workflows.runtime.clock import SystemClock
from workflows.runtime.email import deliverable_email_ids
from workflows.runtime.relay import undispatched_events_exist
from workflows.runtime.timers import DEFAULT_LEASE, claim_due_timers
from workflows.runtime.webhooks import deliverable_webhook_ids

logger = logging.getLogger(__name__)

#: Key of the PostgreSQL advisory lock the scheduler holds (any constant 64-bit integer).
SCHEDULER_LOCK_KEY = 7_262_001


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


@dataclass
class Enqueuers:
    """How the scheduler hands work to workers (Dramatiq sends, or test doubles)."""

    fire_timer: Callable[[int, str | None], object]
    relay_events: Callable[[], object]
    send_email: Callable[[int], object]
    deliver_webhook: Callable[[int], object] = lambda _delivery_id: None
    #: Messages waiting in the workers' queue (``None``: unknown, no back-pressure).
    queued: Callable[[], int] | None = None
    #: Several claims ``(timer_id, claim_token)`` in one message; ``None``: one per timer.
    fire_timers: Callable[[list[tuple[int, str | None]]], object] | None = None


@dataclass
class Scheduler:
    enqueue: Enqueuers
    clock: Clock = field(default_factory=SystemClock)
    interval: float = 0.2
    batch: int = 100
    lease: dt.timedelta = DEFAULT_LEASE
    #: Claim no more timers while the queue holds about this many. A claim is a lease: once
    #: the queue holds more than a lease of work, every lease re-claims and re-enqueues the
    #: timers still waiting in it, and the workers spend their time on duplicates (before
    #: ``fire_timer`` accepted a late message, on messages that fired nothing at all: the
    #: worker stopped firing for good). Due timers wait in SQL instead, where they are
    #: durable. Keep it well below what the workers do in one lease (1,000 needs 34/s for 30 s).
    max_queued: int = 1000
    #: Timers per ``fire_timers`` message (when the enqueuers batch).
    message_batch: int = 10
    #: A PENDING e-mail or webhook due this long without being sent is enqueued again.
    email_grace: dt.timedelta = dt.timedelta(seconds=60)
    email_sweep_every: float = 10.0
    #: Waiting events make the scheduler send ``relay_events`` at most this often (seconds).
    relay_kick_every: float = 1.0
    _last_email_sweep: float = field(default=float("-inf"), init=False)
    _last_relay_kick: float = field(default=float("-inf"), init=False)
    _last_full_warning: float = field(default=float("-inf"), init=False)

    async def tick(self) -> int:
        """One round; returns the number of timers enqueued."""
        with metrics.TICK_SECONDS.time():
            return await self._tick()

    async def _tick(self) -> int:
        now = self.clock.now()
        enqueued = 0
        room = self._room()
        while room > 0:
            limit = min(self.batch, room)
            claimed = await claim_due_timers(now, limit=limit, lease=self.lease)
            self._send(claimed, now)
            enqueued += len(claimed)
            room -= len(claimed)
            if len(claimed) < limit:
                break
        if (
            time.monotonic() - self._last_relay_kick >= self.relay_kick_every
            and await undispatched_events_exist()
        ):
            self._last_relay_kick = time.monotonic()
            self.enqueue.relay_events()
        if time.monotonic() - self._last_email_sweep >= self.email_sweep_every:
            self._last_email_sweep = time.monotonic()
            for message_id in await deliverable_email_ids(now, grace=self.email_grace):
                self.enqueue.send_email(message_id)
            for delivery_id in await deliverable_webhook_ids(now, grace=self.email_grace):
                self.enqueue.deliver_webhook(delivery_id)
        return enqueued

    def _send(self, claimed: list[Timer], now: dt.datetime) -> None:
        for timer in claimed:
            metrics.CLAIM_LATENESS.observe(max((now - timer.due_at).total_seconds(), 0.0))
        metrics.TIMERS_ENQUEUED.inc(len(claimed))
        batch = self.enqueue.fire_timers
        if batch is None:
            for timer in claimed:
                self.enqueue.fire_timer(timer.id, timer.claim_token)
            return
        step = max(self.message_batch, 1)
        for offset in range(0, len(claimed), step):
            batch([(timer.id, timer.claim_token) for timer in claimed[offset : offset + step]])

    def _room(self) -> int:
        """How many timers this tick may enqueue (see ``max_queued``)."""
        if self.enqueue.queued is None:
            return sys.maxsize
        messages = self.enqueue.queued()
        metrics.QUEUE_DEPTH.set(messages)
        # Counted as if every waiting message were a full batch of timers: an over-estimate
        # (e-mails and relays are single), which errs on the side of short queue waits.
        per_message = self.message_batch if self.enqueue.fire_timers is not None else 1
        queued = messages * max(per_message, 1)
        room = self.max_queued - queued
        if room <= 0:
            metrics.SCHEDULER_HELD_BACK.inc()
        if room <= 0 and time.monotonic() - self._last_full_warning >= 10:
            self._last_full_warning = time.monotonic()
            logger.warning(
                "%s messages queued (max %s): due timers wait in SQL until workers catch up",
                queued,
                self.max_queued,
            )
        return max(room, 0)

    async def run(self, stop: asyncio.Event) -> None:
        """Tick every ``interval`` until ``stop`` is set; a failing tick is logged and retried."""
        async with _leadership(stop):
            while not stop.is_set():
                started = time.monotonic()
                try:
                    await self.tick()
                except Exception:
                    logger.exception("scheduler tick failed")
                remaining = self.interval - (time.monotonic() - started)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=max(remaining, 0))


class _leadership:
    """On PostgreSQL, hold a session advisory lock for the scheduler's lifetime."""

    def __init__(self, stop: asyncio.Event) -> None:
        self.stop = stop
        self.connection: object | None = None

    async def __aenter__(self) -> None:
        client = Tortoise.get_connection("default")
        if client.capabilities.dialect != "postgres":
            return
        if getattr(client, "_pool", None) is None:
            await client.execute_query("SELECT 1")  # the pool is created on first use
        pool = getattr(client, "_pool", None)
        if pool is None:
            return
        self.connection = connection = await pool.acquire()
        while not self.stop.is_set():
            if await connection.fetchval("SELECT pg_try_advisory_lock($1)", SCHEDULER_LOCK_KEY):
                logger.info("scheduler lock taken: this is the active scheduler")
                return
            logger.info("another scheduler is active; waiting")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), timeout=5)

    async def __aexit__(self, *exc: object) -> None:
        if self.connection is not None:
            # The lock belongs to the session, which outlives its return to the pool.
            await self.connection.execute(  # type: ignore[attr-defined]
                "SELECT pg_advisory_unlock($1)", SCHEDULER_LOCK_KEY
            )
            client = Tortoise.get_connection("default")
            await client._pool.release(self.connection)
