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
    UserFilter,
)
from gql.ids import STORAGE_OF, decode_id
from gql.lists import list_connection
from gql.ordering import (
    CustomerOrder,
    InteractionOrder,
    OpportunityOrder,
    RelationshipOrder,
    TaskOrder,
    TeamOrder,
    UserOrder,
)
from gql.pagination import Connection
from gql.types.activities import Interaction, Task
from gql.types.customers import Customer, Organization, Person, Relationship
from gql.types.node import Node
from gql.types.sales import Opportunity, Pipeline
from gql.types.staff import Team, User

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

    @strawberry.field(description="People and organizations together.")
    async def customers(
        self,
        info: Info,
        filter: CustomerFilter | None = None,
        order_by: list[CustomerOrder] | None = None,  # type: ignore[valid-type]
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        include_deleted: bool = False,
    ) -> Connection[Customer]:
        return await list_connection(
            info,
            entity="Customer",
            filter=filter,
            order_by=order_by,
            default_order=_BY_ID,
            first=first,
            after=after,
            last=last,
            before=before,
            include_deleted=include_deleted,
        )

    @strawberry.field
    async def people(
        self,
        info: Info,
        filter: PersonFilter | None = None,
        order_by: list[CustomerOrder] | None = None,  # type: ignore[valid-type]
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        include_deleted: bool = False,
    ) -> Connection[Person]:
        return await list_connection(
            info,
            entity="Person",
            filter=filter,
            order_by=order_by,
            default_order=_BY_ID,
            first=first,
            after=after,
            last=last,
            before=before,
            include_deleted=include_deleted,
        )

    @strawberry.field
    async def organizations(
        self,
        info: Info,
        filter: OrganizationFilter | None = None,
        order_by: list[CustomerOrder] | None = None,  # type: ignore[valid-type]
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        include_deleted: bool = False,
    ) -> Connection[Organization]:
        return await list_connection(
            info,
            entity="Organization",
            filter=filter,
            order_by=order_by,
            default_order=_BY_ID,
            first=first,
            after=after,
            last=last,
            before=before,
            include_deleted=include_deleted,
        )

    @strawberry.field
    async def opportunities(
        self,
        info: Info,
        filter: OpportunityFilter | None = None,
        order_by: list[OpportunityOrder] | None = None,  # type: ignore[valid-type]
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Opportunity]:
        return await list_connection(
            info,
            entity="Opportunity",
            filter=filter,
            order_by=order_by,
            default_order=_BY_ID,
            first=first,
            after=after,
            last=last,
            before=before,
        )

    @strawberry.field
    async def interactions(
        self,
        info: Info,
        filter: InteractionFilter | None = None,
        order_by: list[InteractionOrder] | None = None,  # type: ignore[valid-type]
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Interaction]:
        return await list_connection(
            info,
            entity="Interaction",
            filter=filter,
            order_by=order_by,
            default_order=(SortKey("occurredAt", descending=True),),
            first=first,
            after=after,
            last=last,
            before=before,
        )

    @strawberry.field
    async def tasks(
        self,
        info: Info,
        filter: TaskFilter | None = None,
        order_by: list[TaskOrder] | None = None,  # type: ignore[valid-type]
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Task]:
        return await list_connection(
            info,
            entity="Task",
            filter=filter,
            order_by=order_by,
            default_order=_BY_ID,
            first=first,
            after=after,
            last=last,
            before=before,
        )

    @strawberry.field
    async def relationships(
        self,
        info: Info,
        filter: RelationshipFilter | None = None,
        order_by: list[RelationshipOrder] | None = None,  # type: ignore[valid-type]
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Relationship]:
        return await list_connection(
            info,
            entity="Relationship",
            filter=filter,
            order_by=order_by,
            default_order=_BY_ID,
            first=first,
            after=after,
            last=last,
            before=before,
        )

    @strawberry.field
    async def users(
        self,
        info: Info,
        filter: UserFilter | None = None,
        order_by: list[UserOrder] | None = None,  # type: ignore[valid-type]
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[User]:
        return await list_connection(
            info,
            entity="User",
            filter=filter,
            order_by=order_by,
            default_order=_BY_ID,
            first=first,
            after=after,
            last=last,
            before=before,
        )

    @strawberry.field
    async def teams(
        self,
        info: Info,
        filter: TeamFilter | None = None,
        order_by: list[TeamOrder] | None = None,  # type: ignore[valid-type]
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Team]:
        return await list_connection(
            info,
            entity="Team",
            filter=filter,
            order_by=order_by,
            default_order=_BY_ID,
            first=first,
            after=after,
            last=last,
            before=before,
        )

    @strawberry.field(description="Every pipeline with its stages.")
    async def pipelines(self) -> list[Pipeline]:
        from domain.persistence.models import Pipeline as PipelineRow

        return await PipelineRow.filter(deleted_at__isnull=True).order_by("id")  # type: ignore[return-value]
