"""The Dramatiq actors: thin shims carrying ids only, around the async functions of
:mod:`~workflows.runtime.timers`, :mod:`~workflows.runtime.email`,
:mod:`~workflows.runtime.webhooks` and :mod:`~workflows.runtime.relay`.

Actors are declared on an explicit broker by :func:`declare_actors` (never at import time),
once per process: the worker declares them to consume, producers to enqueue.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, TypeVar

import dramatiq
from dramatiq import Actor, Broker

from workflows.runtime import dispatch, email, relay, timers, webhooks
from workflows.runtime.actions import new_messages, new_webhooks

logger = logging.getLogger(__name__)

#: The one queue of the runtime's actors.
QUEUE = "default"

T = TypeVar("T")


async def _with_outbox(work: Awaitable[T]) -> T:
    """Run ``work``; then hand the e-mails and webhook calls it committed to the
    ``send_email`` and ``deliver_webhook`` actors.

    Enqueued only after the commit, so a worker never picks up a message that could still be
    rolled back; if this process dies first, the scheduler's outbox sweep sends them.
    """
    pending: list[int] = []
    hooks: list[int] = []
    token = new_messages.set(pending)
    hooks_token = new_webhooks.set(hooks)
    try:
        result = await work
    finally:
        new_webhooks.reset(hooks_token)
        new_messages.reset(token)
    for message_id in pending:
        _declared().send_email.send(message_id)
    for delivery_id in hooks:
        _declared().deliver_webhook.send(delivery_id)
    return result


def _delay_ms(retry_at: dt.datetime, now: dt.datetime) -> int:
    return int(max(retry_at - now, dt.timedelta(0)).total_seconds() * 1000)


async def _fire_timer(timer_id: int, claim_token: str | None = None) -> None:
    await _with_outbox(timers.fire_timer(timer_id, claim_token, dispatch.utcnow()))


async def _fire_timers(claims: list[list[Any]]) -> None:
    """Fire several claimed timers, each ``[timer_id, claim_token]``, in one transaction.

    The scheduler batches claims into one message, and the worker applies them together: one
    round trip to Redis and one transaction with a few statements per kind of write for the
    whole batch, instead of per timer. If the batch fails (a run whose transition raises, a
    deadlock), nothing of it committed, and its timers are fired one by one, each in its own
    transaction: a timer that fails alone is logged and stays CLAIMED, and is claimed again
    when its lease expires (as with ``fire_timer``, which Dramatiq does not retry).
    """
    pairs = [(int(timer_id), claim_token) for timer_id, claim_token in claims]
    try:
        await _with_outbox(timers.fire_timers(pairs, dispatch.utcnow()))
        return
    except Exception:
        if len(pairs) == 1:
            logger.exception("timer %s failed to fire; retried after its lease", pairs[0][0])
            return
        logger.warning("a batch of %s timers failed; firing them one by one", len(pairs))
    for timer_id, claim_token in pairs:
        try:
            await _fire_timer(timer_id, claim_token)
        except Exception:
            logger.exception("timer %s failed to fire; retried after its lease", timer_id)


async def _send_email(message_id: int) -> None:
    # In the outbox context: a message that fails for good feeds its run ActionFailed, whose
    # on_failure steps may send more.
    delivery = await _with_outbox(email.deliver(message_id))
    if delivery.retry_at is not None:
        # A short back-off, which is what Dramatiq's delay is for; if this message is lost,
        # the scheduler's outbox sweep sends the e-mail anyway.
        _declared().send_email.send_with_options(
            args=(message_id,), delay=_delay_ms(delivery.retry_at, dispatch.utcnow())
        )


async def _deliver_webhook(delivery_id: int) -> None:
    now = dispatch.utcnow()
    delivery = await _with_outbox(webhooks.deliver_webhook(delivery_id, now=now))
    if delivery.retry_at is not None:
        _declared().deliver_webhook.send_with_options(
            args=(delivery_id,), delay=_delay_ms(delivery.retry_at, now)
        )


async def _relay_events() -> None:
    await _with_outbox(relay.relay_events())


@dataclass(frozen=True)
class Actors:
    fire_timer: Actor[Any, Any]
    fire_timers: Actor[Any, Any]
    send_email: Actor[Any, Any]
    relay_events: Actor[Any, Any]
    deliver_webhook: Actor[Any, Any]


_actors: Actors | None = None


def declare_actors(broker: Broker) -> Actors:
    """Declare the runtime's actors on ``broker`` (again, if it is a new broker).

    ``fire_timer`` and ``fire_timers`` are not retried by Dramatiq: a timer whose firing
    failed stays ``CLAIMED`` and is claimed again when its lease expires. ``relay_events`` is
    kicked again by the scheduler, so a few retries are enough.
    """
    global _actors

    def declare(name: str, max_retries: int) -> Any:
        return dramatiq.actor(
            actor_name=name, broker=broker, queue_name=QUEUE, max_retries=max_retries
        )

    _actors = Actors(
        fire_timer=declare("fire_timer", 0)(_fire_timer),
        fire_timers=declare("fire_timers", 0)(_fire_timers),
        send_email=declare("send_email", 5)(_send_email),
        relay_events=declare("relay_events", 3)(_relay_events),
        deliver_webhook=declare("deliver_webhook", 5)(_deliver_webhook),
    )
    return _actors


def _declared() -> Actors:
    if _actors is None:
        raise RuntimeError("declare_actors(broker) has not been called in this process")
    return _actors
