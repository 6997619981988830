"""Live events: each relayed domain event, published to Redis for the API's subscriptions.

The relay (:mod:`workflows.runtime.relay`) runs in the worker processes, where every domain
event passes, whichever process wrote it (an API mutation, a workflow step, a timer). So the
relay publishes, and API processes subscribe (``gql.live_events``).

A message names the record an event is about and nothing more: subscribers re-read the record
as their subscriber may see it, so no field of a record leaves through Redis unchecked.

Delivery is at least once: the relay publishes before it marks the event dispatched, so a
relay that dies in between publishes the event again. Subscribers see ``id`` to tell repeats.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

import orjson
from redis.asyncio import Redis

from domain.persistence import models as m

logger = logging.getLogger(__name__)

#: The pub/sub channel of every live event.
CHANNEL = "rapport:live-events"

#: Subjects that belong to one customer, and the model whose ``customer_id`` says which.
_CUSTOMER_OWNED: dict[str, Any] = {
    "Interaction": m.Interaction,
    "Task": m.Task,
    "Opportunity": m.Opportunity,
    "StageChange": m.StageChange,
    "Ticket": m.Ticket,
}


@dataclass(frozen=True)
class LiveEvent:
    """What subscribers learn of a domain event: which record it is about, not its contents."""

    id: int
    type: str
    subject_type: str
    subject_id: int
    customer_id: int | None
    actor: str
    occurred_at: dt.datetime

    def encode(self) -> bytes:
        return orjson.dumps(
            {
                "id": self.id,
                "type": self.type,
                "subjectType": self.subject_type,
                "subjectId": self.subject_id,
                "customerId": self.customer_id,
                "actor": self.actor,
                "occurredAt": self.occurred_at.isoformat(),
            }
        )

    @classmethod
    def decode(cls, data: bytes | str) -> LiveEvent:
        raw = orjson.loads(data)
        return cls(
            id=int(raw["id"]),
            type=str(raw["type"]),
            subject_type=str(raw["subjectType"]),
            subject_id=int(raw["subjectId"]),
            customer_id=None if raw["customerId"] is None else int(raw["customerId"]),
            actor=str(raw["actor"]),
            occurred_at=dt.datetime.fromisoformat(raw["occurredAt"]),
        )


async def customer_of(event: m.DomainEvent) -> int | None:
    """The customer an event concerns (its subject, or the customer its subject belongs to)."""
    if event.subject_type == "Customer":
        return event.subject_id
    model = _CUSTOMER_OWNED.get(event.subject_type)
    if model is None:
        return None
    found = await model.filter(id=event.subject_id).values_list("customer_id", flat=True)
    return int(found[0]) if found and found[0] is not None else None


async def live_event(event: m.DomainEvent) -> LiveEvent:
    return LiveEvent(
        id=event.id,
        type=event.type,
        subject_type=event.subject_type,
        subject_id=event.subject_id,
        customer_id=await customer_of(event),
        actor=event.actor,
        occurred_at=event.occurred_at,
    )


class LiveEventPublisher:
    """Publishes relayed events to :data:`CHANNEL`; install with ``relay.set_event_publisher``.

    The client is made on first use, on the loop the relay runs on (the worker's event-loop
    thread), since redis.asyncio connections belong to the loop that opened them.
    """

    def __init__(self, redis_url: str) -> None:
        self.redis_url = redis_url
        self._client: Redis | None = None

    async def __call__(self, event: m.DomainEvent) -> None:
        if self._client is None:
            self._client = Redis.from_url(self.redis_url)
        await self._client.publish(CHANNEL, (await live_event(event)).encode())

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
