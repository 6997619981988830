"""Pipelines, stages and opportunities (deals)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from domain.persistence import models as m
from gql.context import Context
from gql.dataloaders import all_children
from gql.enums import OpportunityStatus
from gql.fields import to_one
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

    pipeline: Pipeline | None = to_one("Pipeline", "pipeline_id")


@strawberry.type(description="One move of a deal between stages.")
class StageChange(Node):
    changed_at: dt.datetime
    status: OpportunityStatus

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, m.StageChange)

    from_stage: Stage | None = to_one("Stage", "from_stage_id")

    to_stage: Stage | None = to_one("Stage", "to_stage_id")

    opportunity: Opportunity | None = to_one("Opportunity", "opportunity_id")


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

    customer: CustomerRef | None = to_one("Customer", "customer_id")

    owner: User | None = to_one("User", "owner_id")

    pipeline: Pipeline | None = to_one("Pipeline", "pipeline_id")

    stage: Stage | None = to_one("Stage", "stage_id")

    @strawberry.field(description="Stage moves, oldest first.")
    async def stage_history(
        self, root: strawberry.Parent[m.Opportunity], info: strawberry.Info[Context, None]
    ) -> list[StageChange]:
        loader = all_children(info.context, "StageChange", "opportunity_id", ("changed_at", "id"))
        return await loader.load(root.id)
