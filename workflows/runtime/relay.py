"""Relaying the domain-event outbox (``domain_events``) to a handler, in id order.

Services write events in the transaction of the change (:mod:`domain.recording`); this module
hands each undispatched event to the registered handler and sets ``dispatched_at`` **in the
same transaction as the handler's writes**. If the handler raises or the process dies, neither
commits and the event is delivered again on the next relay: delivery is at-least-once, so
handlers must be idempotent (the engine glue keys its writes by the event id, e.g.
``WorkflowRunStep.input_key``).

Order: one relay runs at a time. A relay first takes the ``event-relay`` lease
(:mod:`~workflows.runtime.leases`); one that finds it held returns at once, so the scheduler's
kicks (one a second while events wait) never queue relays behind each other's row locks, tying
up worker threads. The lease is renewed as events go and expires if its holder dies, then the
next kick goes on. Each event is still taken by a conditional update of the *oldest*
undispatched row, so even two relays at once (an expired lease whose holder was only slow)
would handle each event once, in id order. A failing event stops the batch, so later events
wait for it (a poison event blocks the relay until it is fixed; it is logged every attempt).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable

from tortoise.transactions import in_transaction

from domain.persistence.models import DomainEvent
from workflows.runtime import leases

logger = logging.getLogger(__name__)

EventHandler = Callable[[DomainEvent], Awaitable[None]]

_event_handler: EventHandler | None = None
_event_publisher: EventHandler | None = None


def set_event_handler(handler: EventHandler | None) -> None:
    """Register the subscriber of domain events (the engine glue), or ``None`` to remove it.

    With no handler, events are marked dispatched without being handed to anyone.
    """
    global _event_handler
    _event_handler = handler


def set_event_publisher(publisher: EventHandler | None) -> None:
    """Register what publishes each event to live subscribers (after the handler), or ``None``.

    It runs in the event's transaction, before the commit that marks the event dispatched: a
    failed publish retries the event, and a publish whose commit fails is repeated (at least
    once). The change the event reports committed before the event could be relayed.
    """
    global _event_publisher
    _event_publisher = publisher


#: The relay's lease, and how long it lasts without renewal: after a holder's crash, events
#: wait at most this long for the next relay.
LEASE = "event-relay"
LEASE_TTL = dt.timedelta(seconds=15)
#: The lease is renewed when less than this is left.
RENEW_BELOW = dt.timedelta(seconds=10)


async def relay_events(batch: int = 1000) -> int:
    """Dispatch up to ``batch`` undispatched events, oldest first; return how many (0 when
    another relay holds the lease: it is relaying them).

    Raises what the handler raised, after committing the events before it.
    """
    holder = leases.new_holder()
    started = dt.datetime.now(dt.UTC)
    if not await leases.take(LEASE, holder, started, LEASE_TTL):
        return 0
    try:
        return await _relay(batch, holder, started + LEASE_TTL)
    finally:
        await leases.release(LEASE, holder)


async def _relay(batch: int, holder: str, expires: dt.datetime) -> int:
    dispatched = 0
    while dispatched < batch:
        now = dt.datetime.now(dt.UTC)
        if expires - now < RENEW_BELOW:
            if not await leases.renew(LEASE, holder, now, LEASE_TTL):
                logger.warning("the event relay lost its lease; another relay goes on")
                break
            expires = now + LEASE_TTL
        oldest = (
            await DomainEvent.filter(dispatched_at__isnull=True)
            .order_by("id")
            .limit(1)
            .values_list("id", flat=True)
        )
        if not oldest:
            break
        event_id = int(oldest[0])  # type: ignore[call-overload]
        async with in_transaction() as connection:
            # First statement of the transaction, so SQLite takes its write lock here and
            # never has to upgrade a read snapshot (which would fail with SQLITE_BUSY).
            taken = (
                await DomainEvent.filter(id=event_id, dispatched_at__isnull=True)
                .using_db(connection)
                .update(dispatched_at=dt.datetime.now(dt.UTC))
            )
            if not taken:
                continue  # another relay dispatched it meanwhile; look again
            event = await DomainEvent.filter(id=event_id).using_db(connection).get()
            if _event_handler is not None:
                try:
                    await _event_handler(event)
                except Exception:
                    logger.exception("handler failed on domain event %s (%s)", event.id, event.type)
                    raise
            if _event_publisher is not None:
                await _event_publisher(event)
        dispatched += 1
    return dispatched


async def undispatched_events_exist() -> bool:
    return await DomainEvent.filter(dispatched_at__isnull=True).exists()
