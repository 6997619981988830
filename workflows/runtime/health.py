"""What an administrator reads about the engine's health, in one snapshot: how late timers
fired, timers overdue right now, runs by state (FAILED ones are the dead letters), the e-mail
and webhook outboxes, domain events waiting for the relay, and the workers' queue in Redis.

Everything but the queue depth comes from SQL, where the durable state lives; the queue depth is
read from Redis when a URL is given (a broker that is down reads as None, not as an error: the
snapshot is what an administrator opens when something is wrong).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from redis.asyncio import Redis
from tortoise.functions import Count
from tortoise.models import Model

from domain.persistence import models as m
from workflows.runtime.actors import QUEUE
from workflows.runtime.admin import TimerLateness, timer_lateness
from workflows.runtime.timers import utc

logger = logging.getLogger(__name__)

#: A timer is overdue once it is this late and still not fired (the engine's promise is "within
#: a second of due").
OVERDUE_AFTER = dt.timedelta(seconds=1)

#: Dramatiq's Redis broker keeps a queue's waiting messages in this list.
QUEUE_KEY = f"dramatiq:{QUEUE}"


@dataclass(frozen=True)
class EngineHealth:
    at: dt.datetime
    lateness: TimerLateness
    timers_pending: int
    timers_overdue: int
    oldest_overdue_due_at: dt.datetime | None
    runs_by_state: dict[str, int]
    emails_by_status: dict[str, int]
    webhooks_by_status: dict[str, int]
    undispatched_events: int
    oldest_undispatched_at: dt.datetime | None
    queued_messages: int | None


async def _counts(model: type[Model], column: str) -> dict[str, int]:
    rows = await model.annotate(n=Count("id")).group_by(column).values(column, "n")
    return {str(row[column]): int(row["n"]) for row in rows}


async def _queue_depth(redis_url: str) -> int | None:
    client = Redis.from_url(redis_url, socket_connect_timeout=1, socket_timeout=1)
    try:
        return int(await client.llen(QUEUE_KEY))
    except Exception as exc:
        logger.warning("engine health: Redis queue depth unavailable: %s", exc)
        return None
    finally:
        await client.aclose()


async def engine_health(
    *, now: dt.datetime, window: dt.timedelta, redis_url: str | None = None
) -> EngineHealth:
    now = utc(now)
    waiting = m.Timer.filter(status__in=("PENDING", "CLAIMED"))
    overdue = waiting.filter(due_at__lt=now - OVERDUE_AFTER)
    oldest_timer = await overdue.order_by("due_at").first()
    undispatched = m.DomainEvent.filter(dispatched_at__isnull=True)
    oldest_event = await undispatched.order_by("id").first()
    return EngineHealth(
        at=now,
        lateness=await timer_lateness(now=now, window=window),
        timers_pending=await waiting.count(),
        timers_overdue=await overdue.count(),
        oldest_overdue_due_at=oldest_timer.due_at if oldest_timer else None,
        runs_by_state=await _counts(m.WorkflowRun, "state"),
        emails_by_status=await _counts(m.EmailMessage, "status"),
        webhooks_by_status=await _counts(m.WebhookDelivery, "status"),
        undispatched_events=await undispatched.count(),
        oldest_undispatched_at=oldest_event.occurred_at if oldest_event else None,
        queued_messages=await _queue_depth(redis_url) if redis_url else None,
    )
