"""Timeline items: what happened to a customer, newest first, across record kinds."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON

from domain.errors import ValidationFailed
from domain.persistence import models as m
from domain.persistence.querying.fetch import MAX_PAGE_SIZE
from domain.persistence.querying.timeline import TimelinePage, fetch_timelines
from gql.context import Context
from gql.dataloaders import by_id
from gql.pagination import PageInfo
from gql.types.activities import Interaction, Task
from gql.types.node import Actor, Node, actor_of
from gql.types.sales import StageChange
from gql.types.tickets import Ticket


@strawberry.type(description="An audited change of the customer (lifecycle stage, merge, ...).")
class CustomerChange(Node):
    at: dt.datetime
    action: str
    changes: JSON

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, m.AuditEntry)

    @strawberry.field
    def actor(self, root: strawberry.Parent[m.AuditEntry]) -> Actor:
        return actor_of(root.actor)


TimelineItem = Annotated[
    Interaction | StageChange | Task | Ticket | CustomerChange,
    strawberry.union("TimelineItem"),
]


@strawberry.type
class TimelineEdge:
    cursor: str
    node: TimelineItem


@strawberry.type
class TimelineConnection:
    edges: list[TimelineEdge]
    page_info: PageInfo


_ENTITY_OF = {
    "INTERACTION": "Interaction",
    "STAGE_CHANGE": "StageChange",
    "TASK": "Task",
    "TICKET": "Ticket",
}


def _audit_loader(context: Context) -> Any:
    async def batch(keys: Sequence[int]) -> list[Any]:
        rows = {r.id: r for r in await m.AuditEntry.filter(id__in=list(keys))}
        return [rows.get(k) for k in keys]

    return context.loaders.get(("by_id", "AuditEntry"), batch)


async def customer_timeline(
    context: Context, customer_id: int, first: int, after: str | None
) -> TimelineConnection:
    if not 0 <= first <= MAX_PAGE_SIZE:
        raise ValidationFailed(
            "first", f"first must be between 0 and {MAX_PAGE_SIZE}", "PAGE_SIZE_OUT_OF_RANGE"
        )

    async def batch(keys: Sequence[int]) -> list[TimelinePage]:
        pages = await fetch_timelines(list(keys), first, after, context.scope)
        return [pages[k] for k in keys]

    page = await context.loaders.get(("timeline", first, after), batch).load(customer_id)
    # Gathered, so each kind's loader fetches all its rows in one statement.
    nodes = await asyncio.gather(
        *(
            _audit_loader(context).load(e.id)
            if e.kind == "CHANGE"
            else by_id(context, _ENTITY_OF[e.kind]).load(e.id)
            for e in page.entries
        )
    )
    edges = [
        TimelineEdge(cursor=e.cursor, node=n)
        for e, n in zip(page.entries, nodes, strict=True)
        if n is not None
    ]
    return TimelineConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )
