"""Relaying the domain-event outbox (``domain_events``) to a handler, in id order.

Services write events in the transaction of the change (:mod:`domain.recording`); this module
hands each undispatched event to the registered handler and sets ``dispatched_at`` **in the
same transaction as the handler's writes**. If the handler raises or the process dies, neither
commits and the event is delivered again on the next relay: delivery is at-least-once, so
handlers must be idempotent (the engine glue keys its writes by the event id, e.g.
``WorkflowRunStep.input_key``).

Order: each event is taken by a conditional update of the *oldest* undispatched row, so two
relays running at once serialise on it (PostgreSQL: the second waits on the row lock, then
finds it dispatched and looks again; SQLite: the update takes the write lock). Events are
therefore handled one at a time, in id order. A failing event stops the batch, so later events
wait for it (a poison event blocks the relay until it is fixed; it is logged every attempt).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable

from tortoise.transactions import in_transaction

from domain.persistence.models import DomainEvent

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


async def relay_events(batch: int = 100) -> int:
    """Dispatch up to ``batch`` undispatched events, oldest first; return how many.

    Raises what the handler raised, after committing the events before it.
    """
    dispatched = 0
    while dispatched < batch:
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
