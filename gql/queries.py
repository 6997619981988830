"""The ``Query`` root: node lookup and every top-level list."""

from __future__ import annotations

import asyncio

import strawberry

from domain.errors import ValidationFailed
from domain.persistence.querying.spec import SortKey
from gql.context import Context
from gql.dataloaders import by_id
from gql.entity_filters import (
    CustomerFilter,
    InteractionFilter,
    OpportunityFilter,
    OrganizationFilter,
    PersonFilter,
    RelationshipFilter,
    TaskFilter,
    TeamFilter,
    TicketFilter,
    UserFilter,
)
from gql.ids import STORAGE_OF, decode_id
from gql.lists import list_field
from gql.ordering import (
    CustomerOrder,
    InteractionOrder,
    OpportunityOrder,
    RelationshipOrder,
    TaskOrder,
    TeamOrder,
    TicketOrder,
    UserOrder,
)
from gql.pagination import Connection
from gql.types.activities import Interaction, Task
from gql.types.customers import Customer, Organization, Person, Relationship
from gql.types.node import Node
from gql.types.sales import Opportunity, Pipeline
from gql.types.staff import Team, User
from gql.types.tickets import Ticket

Info = strawberry.Info[Context, None]
_BY_ID = (SortKey("id"),)
_KIND_OF = {"Person": "PERSON", "Organization": "ORGANIZATION"}
_NODE_TYPES = {
    "Person",
    "Organization",
    "User",
    "Team",
    "Pipeline",
    "Stage",
    "Opportunity",
    "Interaction",
    "Task",
    "Relationship",
    "StageChange",
    "Ticket",
    "TicketComment",
    "Workflow",
    "WorkflowVersion",
    "WorkflowRun",
}
MAX_NODES = 100


async def resolve_node(info: Info, global_id: str) -> Node | None:
    type_name, pk = decode_id(global_id)
    if type_name not in _NODE_TYPES:
        return None
    row = await by_id(info.context, STORAGE_OF.get(type_name, type_name)).load(pk)
    if row is None or (type_name in _KIND_OF and row.kind != _KIND_OF[type_name]):
        return None
    return row


@strawberry.type
class Query:
    @strawberry.field(description="Any record by its global id; null if it does not exist.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return await resolve_node(info, id)

    @strawberry.field(description="Records by global id, in the order asked (null where missing).")
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        if len(ids) > MAX_NODES:
            raise ValidationFailed("ids", f"at most {MAX_NODES} ids", "PAGE_SIZE_OUT_OF_RANGE")
        return list(await asyncio.gather(*(resolve_node(info, i) for i in ids)))

    customers: Connection[Customer] = list_field(
        "Customer",
        filter_type=CustomerFilter,
        order_type=CustomerOrder,
        default_order=_BY_ID,
        with_deleted=True,
        description="People and organizations together.",
    )
    people: Connection[Person] = list_field(
        "Person",
        filter_type=PersonFilter,
        order_type=CustomerOrder,
        default_order=_BY_ID,
        with_deleted=True,
    )
    organizations: Connection[Organization] = list_field(
        "Organization",
        filter_type=OrganizationFilter,
        order_type=CustomerOrder,
        default_order=_BY_ID,
        with_deleted=True,
    )
    opportunities: Connection[Opportunity] = list_field(
        "Opportunity",
        filter_type=OpportunityFilter,
        order_type=OpportunityOrder,
        default_order=_BY_ID,
    )
    tickets: Connection[Ticket] = list_field(
        "Ticket",
        filter_type=TicketFilter,
        order_type=TicketOrder,
        default_order=_BY_ID,
    )
    interactions: Connection[Interaction] = list_field(
        "Interaction",
        filter_type=InteractionFilter,
        order_type=InteractionOrder,
        default_order=(SortKey("occurredAt", descending=True),),
    )
    tasks: Connection[Task] = list_field(
        "Task",
        filter_type=TaskFilter,
        order_type=TaskOrder,
        default_order=_BY_ID,
    )
    relationships: Connection[Relationship] = list_field(
        "Relationship",
        filter_type=RelationshipFilter,
        order_type=RelationshipOrder,
        default_order=_BY_ID,
    )
    users: Connection[User] = list_field(
        "User",
        filter_type=UserFilter,
        order_type=UserOrder,
        default_order=_BY_ID,
    )
    teams: Connection[Team] = list_field(
        "Team",
        filter_type=TeamFilter,
        order_type=TeamOrder,
        default_order=_BY_ID,
    )

    @strawberry.field(description="Every pipeline with its stages.")
    async def pipelines(self) -> list[Pipeline]:
        from domain.persistence.models import Pipeline as PipelineRow

        return await PipelineRow.filter(deleted_at__isnull=True).order_by("id")  # type: ignore[return-value]
