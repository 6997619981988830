"""Pipelines, stages and opportunities (deals)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from domain.persistence import models as m
from gql.context import Context
from gql.dataloaders import all_children, load
from gql.enums import OpportunityStatus
from gql.types.node import Node, Record
from gql.types.staff import User

if TYPE_CHECKING:
    from gql.types.customers import Customer

CustomerRef = Annotated["Customer", strawberry.lazy("gql.types.customers")]


@strawberry.type(description="A sales pipeline: ordered stages a deal moves through.")
class Pipeline(Record):
    name: str
    is_default: bool
    currency: str

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, m.Pipeline)

    @strawberry.field(description="Stages in order.")
    async def stages(
        self, root: strawberry.Parent[m.Pipeline], info: strawberry.Info[Context, None]
    ) -> list[Stage]:
        loader = all_children(info.context, "Stage", "pipeline_id", ("position", "id"))
        return await loader.load(root.id)


@strawberry.type(description="A pipeline stage with its win probability (percent).")
class Stage(Record):
    name: str
    position: int
    probability: int

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, m.Stage)

    @strawberry.field
    async def pipeline(
        self, root: strawberry.Parent[m.Stage], info: strawberry.Info[Context, None]
    ) -> Pipeline | None:
        return await load(info.context, "Pipeline", root.pipeline_id)


@strawberry.type(description="One move of a deal between stages.")
class StageChange(Node):
    changed_at: dt.datetime
    status: OpportunityStatus

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, m.StageChange)

    @strawberry.field
    async def from_stage(
        self, root: strawberry.Parent[m.StageChange], info: strawberry.Info[Context, None]
    ) -> Stage | None:
        return await load(info.context, "Stage", root.from_stage_id)

    @strawberry.field
    async def to_stage(
        self, root: strawberry.Parent[m.StageChange], info: strawberry.Info[Context, None]
    ) -> Stage | None:
        return await load(info.context, "Stage", root.to_stage_id)

    @strawberry.field
    async def opportunity(
        self, root: strawberry.Parent[m.StageChange], info: strawberry.Info[Context, None]
    ) -> Opportunity | None:
        return await load(info.context, "Opportunity", root.opportunity_id)


@strawberry.type(description="A deal in a pipeline.")
class Opportunity(Record):
    name: str
    amount: Decimal
    currency: str
    expected_close_on: dt.date | None
    status: OpportunityStatus
    lost_reason: str | None
    closed_at: dt.datetime | None

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, m.Opportunity)

    @strawberry.field
    async def customer(
        self, root: strawberry.Parent[m.Opportunity], info: strawberry.Info[Context, None]
    ) -> CustomerRef | None:
        return await load(info.context, "Customer", root.customer_id)

    @strawberry.field
    async def owner(
        self, root: strawberry.Parent[m.Opportunity], info: strawberry.Info[Context, None]
    ) -> User | None:
        return await load(info.context, "User", root.owner_id)

    @strawberry.field
    async def pipeline(
        self, root: strawberry.Parent[m.Opportunity], info: strawberry.Info[Context, None]
    ) -> Pipeline | None:
        return await load(info.context, "Pipeline", root.pipeline_id)

    @strawberry.field
    async def stage(
        self, root: strawberry.Parent[m.Opportunity], info: strawberry.Info[Context, None]
    ) -> Stage | None:
        return await load(info.context, "Stage", root.stage_id)

    @strawberry.field(description="Stage moves, oldest first.")
    async def stage_history(
        self, root: strawberry.Parent[m.Opportunity], info: strawberry.Info[Context, None]
    ) -> list[StageChange]:
        loader = all_children(info.context, "StageChange", "opportunity_id", ("changed_at", "id"))
        return await loader.load(root.id)
