"""Dashboard queries: ranked search and opportunity aggregates."""

from __future__ import annotations

from decimal import Decimal
from enum import Enum

import strawberry

from domain.errors import ValidationFailed
from domain.persistence.querying.aggregates import aggregate
from domain.persistence.querying.entities import ENTITIES
from domain.persistence.querying.fetch import MAX_PAGE_SIZE, Query
from domain.persistence.querying.search import search_customers
from gql.context import Context
from gql.dataloaders import load
from gql.entity_filters import OpportunityFilter
from gql.enums import OpportunityStatus
from gql.filters import to_filter
from gql.types.customers import Customer
from gql.types.sales import Pipeline, Stage
from gql.types.staff import User

Info = strawberry.Info[Context, None]


@strawberry.type
class SearchHit:
    score: float
    customer: Customer


@strawberry.enum
class OpportunityGroupBy(Enum):
    STAGE = "stage_id"
    OWNER = "owner_id"
    PIPELINE = "pipeline_id"
    STATUS = "status"
    CURRENCY = "currency"


@strawberry.type(description="The values a group shares (only the grouped-by ones are set).")
class OpportunityGroupKey:
    stage_id: strawberry.Private[int | None]
    owner_id: strawberry.Private[int | None]
    pipeline_id: strawberry.Private[int | None]
    status: OpportunityStatus | None
    currency: str | None

    @strawberry.field
    async def stage(self, info: Info) -> Stage | None:
        return await load(info.context, "Stage", self.stage_id)

    @strawberry.field
    async def owner(self, info: Info) -> User | None:
        return await load(info.context, "User", self.owner_id)

    @strawberry.field
    async def pipeline(self, info: Info) -> Pipeline | None:
        return await load(info.context, "Pipeline", self.pipeline_id)


@strawberry.type(description="Count and amount statistics of a set of opportunities.")
class OpportunityAggregate:
    key: OpportunityGroupKey | None
    count: int
    sum: Decimal | None
    avg: Decimal | None
    min: Decimal | None
    max: Decimal | None


@strawberry.type
class OpportunityStats:
    total: OpportunityAggregate
    groups: list[OpportunityAggregate]


def _key(group: dict[str, object]) -> OpportunityGroupKey:
    status = group.get("status")
    return OpportunityGroupKey(
        stage_id=group.get("stage_id"),  # type: ignore[arg-type]
        owner_id=group.get("owner_id"),  # type: ignore[arg-type]
        pipeline_id=group.get("pipeline_id"),  # type: ignore[arg-type]
        status=OpportunityStatus(status) if status else None,
        currency=group.get("currency"),  # type: ignore[arg-type]
    )


@strawberry.type
class AnalyticsQuery:
    @strawberry.field(description="Customers ranked by how well they match (accent-insensitive).")
    async def search(self, info: Info, query: str, first: int = 20) -> list[SearchHit]:
        if not 1 <= first <= MAX_PAGE_SIZE:
            raise ValidationFailed(
                "first", f"first must be between 1 and {MAX_PAGE_SIZE}", "PAGE_SIZE_OUT_OF_RANGE"
            )
        hits = await search_customers(query, first, info.context.scope)
        return [SearchHit(score=h.score, customer=h.customer) for h in hits]  # type: ignore[arg-type]

    @strawberry.field(description="Sum/avg/min/max of amount, overall and per group.")
    async def opportunity_stats(
        self,
        info: Info,
        filter: OpportunityFilter | None = None,
        group_by: list[OpportunityGroupBy] | None = None,
    ) -> OpportunityStats:
        query = Query(
            ENTITIES["Opportunity"], to_filter("Opportunity", filter), scope=info.context.scope
        )
        total = (await aggregate(query, "amount", {}))[0]
        groups = []
        if group_by:
            columns = {g.value: g.value for g in dict.fromkeys(group_by)}
            groups = await aggregate(query, "amount", columns)
        return OpportunityStats(
            total=OpportunityAggregate(
                key=None,
                count=total.count,
                sum=total.sum,
                avg=total.avg,
                min=total.min,
                max=total.max,
            ),
            groups=[
                OpportunityAggregate(
                    key=_key(g.group), count=g.count, sum=g.sum, avg=g.avg, min=g.min, max=g.max
                )
                for g in groups
            ],
        )
