"""The Dramatiq actors: thin shims carrying ids only, around the async functions of
:mod:`~workflows.runtime.timers`, :mod:`~workflows.runtime.email` and
:mod:`~workflows.runtime.relay`.

Actors are declared on an explicit broker by :func:`declare_actors` (never at import time),
once per process: the worker declares them to consume, producers to enqueue.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

import dramatiq
from dramatiq import Actor, Broker

from workflows.runtime import dispatch, email, relay, timers
from workflows.runtime.actions import new_messages

logger = logging.getLogger(__name__)

#: The one queue of the runtime's actors.
QUEUE = "default"


async def _with_outbox(work: Awaitable[Any]) -> None:
    """Run ``work``; then hand the e-mails it committed to the ``send_email`` actor.

    Enqueued only after the commit, so a worker never picks up a message that could still be
    rolled back; if this process dies first, the scheduler's outbox sweep sends them.
    """
    pending: list[int] = []
    token = new_messages.set(pending)
    try:
        await work
    finally:
        new_messages.reset(token)
    for message_id in pending:
        _declared().send_email.send(message_id)


async def _fire_timer(timer_id: int, claim_token: str | None = None) -> None:
    await _with_outbox(timers.fire_timer(timer_id, claim_token, dispatch.utcnow()))


async def _send_email(message_id: int) -> None:
    delivery = await email.deliver(message_id)
    if delivery.retry_at is not None:
        # A short back-off, which is what Dramatiq's delay is for; if this message is lost,
        # the scheduler's outbox sweep sends the e-mail anyway.
        delay = max(delivery.retry_at - dt.datetime.now(dt.UTC), dt.timedelta(0))
        _declared().send_email.send_with_options(
            args=(message_id,), delay=int(delay.total_seconds() * 1000)
        )


async def _relay_events() -> None:
    await _with_outbox(relay.relay_events())


@dataclass(frozen=True)
class Actors:
    fire_timer: Actor[Any, Any]
    send_email: Actor[Any, Any]
    relay_events: Actor[Any, Any]


_actors: Actors | None = None


def declare_actors(broker: Broker) -> Actors:
    """Declare the runtime's actors on ``broker`` (again, if it is a new broker).

    ``fire_timer`` is not retried by Dramatiq: a timer whose firing failed stays ``CLAIMED``
    and is claimed again when its lease expires. ``relay_events`` is kicked again by the
    scheduler, so a few retries are enough.
    """
    global _actors

    def declare(name: str, max_retries: int) -> Any:
        return dramatiq.actor(
            actor_name=name, broker=broker, queue_name=QUEUE, max_retries=max_retries
        )

    _actors = Actors(
        fire_timer=declare("fire_timer", 0)(_fire_timer),
        send_email=declare("send_email", 5)(_send_email),
        relay_events=declare("relay_events", 3)(_relay_events),
    )
    return _actors


def _declared() -> Actors:
    if _actors is None:
        raise RuntimeError("declare_actors(broker) has not been called in this process")
    return _actors
