"""The ``Subscription`` root: records as they change, re-read as the subscriber may see them.

Every live event (:mod:`workflows.runtime.live_events`) names a record only. Each subscriber
re-reads it through the request's loaders, which apply the permission layer and record scope,
so an event about a record the subscriber may not see is dropped, exactly as ``node`` would
answer null for it. Deleted records read as missing too, so deletions are not announced.

The context of a WebSocket is made once per connection and shared by its subscriptions, so
each event gets fresh loaders: a cached row from an earlier event would be stale.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from enum import Enum
from typing import Any

import strawberry

from domain.errors import DomainError
from domain.identity.permissions import require
from gql.connection_auth import LiveCredential
from gql.context import Context
from gql.dataloaders import load
from gql.ids import STORAGE_OF, decode_id, decode_pk
from gql.loaders import Loaders
from gql.types.customers import Customer
from gql.types.node import Actor, Node, actor_of
from workflows.runtime.live_events import LiveEvent

Info = strawberry.Info[Context, None]


class LiveEventsUnavailable(DomainError):
    code = "LIVE_EVENTS_UNAVAILABLE"


@strawberry.enum(description="Kinds of record recordChanged can follow.")
class ChangedRecordType(Enum):
    PERSON = "Person"
    ORGANIZATION = "Organization"
    OPPORTUNITY = "Opportunity"
    TASK = "Task"
    INTERACTION = "Interaction"
    RELATIONSHIP = "Relationship"
    USER = "User"
    TEAM = "Team"
    PIPELINE = "Pipeline"
    TICKET = "Ticket"


_CUSTOMER_TYPES = {"PERSON": "Person", "ORGANIZATION": "Organization"}


def _type_name(row: Any) -> str:
    """The GraphQL type a row is shown as (customers are people or organizations)."""
    name = type(row).__name__
    return _CUSTOMER_TYPES[row.kind] if name == "Customer" else name


@strawberry.type(description="Something happened to a record the subscriber may see.")
class RecordChangedEvent:
    event_id: strawberry.ID = strawberry.field(
        description="The event's id; delivery is at least once, so a repeat has the same id."
    )
    event: str = strawberry.field(description='What happened, e.g. "opportunity.won".')
    occurred_at: dt.datetime
    record: Node = strawberry.field(description="The record as it is now.")
    actor_value: strawberry.Private[str]

    @strawberry.field(description="Who made the change.")
    def actor(self) -> Actor:
        return actor_of(self.actor_value)


@strawberry.type(description="Something happened to a customer the subscriber may see.")
class CustomerChangedEvent:
    event_id: strawberry.ID
    event: str
    occurred_at: dt.datetime
    customer: Customer
    actor_value: strawberry.Private[str]

    @strawberry.field(description="Who made the change.")
    def actor(self) -> Actor:
        return actor_of(self.actor_value)


@strawberry.type(
    description="A customer's timeline gained or changed an item: refetch "
    "customer.timeline. record is what changed (an interaction, task, deal, ticket or the "
    "customer)."
)
class TimelineUpdatedEvent:
    event_id: strawberry.ID
    event: str
    occurred_at: dt.datetime
    customer: Customer
    record: Node
    actor_value: strawberry.Private[str]

    @strawberry.field(description="Who made the change.")
    def actor(self) -> Actor:
        return actor_of(self.actor_value)


async def _events(info: Info, accept: Callable[[LiveEvent], bool]) -> AsyncIterator[LiveEvent]:
    """Live events ``accept`` keeps, each with fresh loaders on the connection's context."""
    hub = info.context.live_events
    if hub is None:
        raise LiveEventsUnavailable("live events need Redis (REDIS_URL) in the API process")
    credential = LiveCredential.of(
        info.context.connection_params, info.context.request, info.context.tokens
    )
    async with hub.subscribe() as events:
        async for event in events:
            if accept(event):
                await credential.ensure_valid()
                info.context.loaders = Loaders()
                yield event


async def _visible(info: Info, entity: str, pk: int | None) -> Any:
    """The record as the subscriber may see it, or None (missing, deleted or out of scope)."""
    return await load(info.context, STORAGE_OF.get(entity, entity), pk)


def _followed(global_id: str) -> tuple[str, int]:
    """``(subject type, pk)`` of a record whose events recordChanged(ids:) follows."""
    type_name, pk = decode_id(global_id, expected={t.value for t in ChangedRecordType}, field="ids")
    return STORAGE_OF.get(type_name, type_name), pk


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Changes to the records the subscriber may see, narrowed to the given "
        "types and to the records with the given ids (each filter applies when given)."
    )
    async def record_changed(
        self,
        info: Info,
        types: list[ChangedRecordType] | None = None,
        ids: list[strawberry.ID] | None = None,
    ) -> AsyncGenerator[RecordChangedEvent, None]:
        # Events about other kinds of record (workflows, attribute definitions) are not followed.
        wanted = {t.value for t in (types or ChangedRecordType)}
        storage = {STORAGE_OF.get(name, name) for name in wanted}
        followed = {_followed(i) for i in ids} if ids else None

        def accept(event: LiveEvent) -> bool:
            if event.subject_type not in storage:
                return False
            return followed is None or (event.subject_type, event.subject_id) in followed

        async for event in _events(info, accept):
            row = await _visible(info, event.subject_type, event.subject_id)
            if row is None or _type_name(row) not in wanted:
                continue
            yield RecordChangedEvent(
                event_id=strawberry.ID(str(event.id)),
                event=event.type,
                occurred_at=event.occurred_at,
                record=row,
                actor_value=event.actor,
            )

    @strawberry.subscription(
        description="Changes to one customer (its own fields, lifecycle, merges), or to any "
        "customer when id is omitted."
    )
    async def customer_changed(
        self, info: Info, id: strawberry.ID | None = None
    ) -> AsyncGenerator[CustomerChangedEvent, None]:
        require(info.context.principal, "read", "Customer")
        pk = decode_pk(id, "Person", "Organization") if id is not None else None

        def accept(event: LiveEvent) -> bool:
            return event.subject_type == "Customer" and pk in (None, event.subject_id)

        async for event in _events(info, accept):
            customer = await _visible(info, "Customer", event.subject_id)
            if customer is None:
                continue
            yield CustomerChangedEvent(
                event_id=strawberry.ID(str(event.id)),
                event=event.type,
                occurred_at=event.occurred_at,
                customer=customer,
                actor_value=event.actor,
            )

    @strawberry.subscription(
        description="Anything that changes the customer's timeline: its interactions, tasks, "
        "deals, tickets and audited changes."
    )
    async def timeline_updated(
        self, info: Info, customer_id: strawberry.ID
    ) -> AsyncGenerator[TimelineUpdatedEvent, None]:
        require(info.context.principal, "read", "Customer")
        pk = decode_pk(customer_id, "Person", "Organization", field="customerId")

        def accept(event: LiveEvent) -> bool:
            return event.customer_id == pk

        async for event in _events(info, accept):
            customer = await _visible(info, "Customer", pk)
            record = await _visible(info, event.subject_type, event.subject_id)
            if customer is None or record is None:
                continue
            yield TimelineUpdatedEvent(
                event_id=strawberry.ID(str(event.id)),
                event=event.type,
                occurred_at=event.occurred_at,
                customer=customer,
                record=record,
                actor_value=event.actor,
            )
