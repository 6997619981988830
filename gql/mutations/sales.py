"""Mutations on deals and pipelines."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

import strawberry

from domain.identity.scope import default_owner
from domain.sales import opportunities as deals
from domain.sales.pipelines import create_pipeline
from gql.context import Context
from gql.ids import decode_pk
from gql.mutations.results import MutationFailure, attempt
from gql.types.sales import Opportunity, Pipeline

Info = strawberry.Info[Context, None]
CUSTOMER_TYPES = ("Person", "Organization")


def _optional_pk(value: strawberry.ID | None, type_name: str, field: str) -> int | None:
    return None if value is None else decode_pk(value, type_name, field=field)


@strawberry.type
class OpportunitySuccess:
    opportunity: Opportunity


@strawberry.type
class PipelineSuccess:
    pipeline: Pipeline


OpportunityResult = Annotated[
    OpportunitySuccess | MutationFailure, strawberry.union("OpportunityResult")
]
PipelineResult = Annotated[PipelineSuccess | MutationFailure, strawberry.union("PipelineResult")]


@strawberry.input
class CreateOpportunityInput:
    name: str
    customer_id: strawberry.ID
    pipeline_id: strawberry.ID | None = strawberry.field(
        default=None, description="Defaults to the default pipeline."
    )
    stage_id: strawberry.ID | None = strawberry.field(
        default=None, description="Defaults to the pipeline's first stage."
    )
    owner_id: strawberry.ID | None = None
    amount: Decimal = Decimal(0)
    currency: str | None = None
    expected_close_on: dt.date | None = None


@strawberry.input
class MoveOpportunityInput:
    id: strawberry.ID
    stage_id: strawberry.ID


@strawberry.input
class OpportunityRefInput:
    id: strawberry.ID


@strawberry.input
class LoseOpportunityInput:
    id: strawberry.ID
    reason: str


@strawberry.input
class StageInput:
    name: str
    probability: int


@strawberry.input
class CreatePipelineInput:
    name: str
    stages: list[StageInput]
    is_default: bool = False
    currency: str = "VND"


@strawberry.type
class SalesMutations:
    @strawberry.mutation(description="Open a deal for a customer.")
    async def create_opportunity(
        self, info: Info, input: CreateOpportunityInput
    ) -> OpportunityResult:
        async def run() -> OpportunitySuccess:
            row = await deals.create_opportunity(
                name=input.name,
                customer_id=decode_pk(input.customer_id, *CUSTOMER_TYPES, field="customerId"),
                pipeline_id=_optional_pk(input.pipeline_id, "Pipeline", "pipelineId"),
                stage_id=_optional_pk(input.stage_id, "Stage", "stageId"),
                owner_id=_optional_pk(input.owner_id, "User", "ownerId")
                or default_owner(info.context.principal),
                amount=input.amount,
                currency=input.currency,
                expected_close_on=input.expected_close_on,
                actor=info.context.actor,
            )
            return OpportunitySuccess(opportunity=row)  # type: ignore[arg-type]

        return await attempt(info.context, run)

    @strawberry.mutation(description="Move an open deal to another stage of its pipeline.")
    async def move_opportunity(self, info: Info, input: MoveOpportunityInput) -> OpportunityResult:
        async def run() -> OpportunitySuccess:
            row = await deals.move_opportunity(
                decode_pk(input.id, "Opportunity"),
                stage_id=decode_pk(input.stage_id, "Stage", field="stageId"),
                actor=info.context.actor,
            )
            return OpportunitySuccess(opportunity=row)  # type: ignore[arg-type]

        return await attempt(info.context, run)

    @strawberry.mutation(description="Mark a deal won; its customer becomes a CUSTOMER.")
    async def win_opportunity(self, info: Info, input: OpportunityRefInput) -> OpportunityResult:
        async def run() -> OpportunitySuccess:
            row = await deals.win_opportunity(
                decode_pk(input.id, "Opportunity"), actor=info.context.actor
            )
            return OpportunitySuccess(opportunity=row)  # type: ignore[arg-type]

        return await attempt(info.context, run)

    @strawberry.mutation(description="Mark a deal lost, with the reason.")
    async def lose_opportunity(self, info: Info, input: LoseOpportunityInput) -> OpportunityResult:
        async def run() -> OpportunitySuccess:
            row = await deals.lose_opportunity(
                decode_pk(input.id, "Opportunity"), reason=input.reason, actor=info.context.actor
            )
            return OpportunitySuccess(opportunity=row)  # type: ignore[arg-type]

        return await attempt(info.context, run)

    @strawberry.mutation(description="Reopen a won or lost deal.")
    async def reopen_opportunity(self, info: Info, input: OpportunityRefInput) -> OpportunityResult:
        async def run() -> OpportunitySuccess:
            row = await deals.reopen_opportunity(
                decode_pk(input.id, "Opportunity"), actor=info.context.actor
            )
            return OpportunitySuccess(opportunity=row)  # type: ignore[arg-type]

        return await attempt(info.context, run)

    @strawberry.mutation(description="Create a pipeline with its stages in order.")
    async def create_pipeline(self, info: Info, input: CreatePipelineInput) -> PipelineResult:
        async def run() -> PipelineSuccess:
            row = await create_pipeline(
                name=input.name,
                stages=[(s.name, s.probability) for s in input.stages],
                is_default=input.is_default,
                currency=input.currency,
                actor=info.context.actor,
            )
            return PipelineSuccess(pipeline=row)  # type: ignore[arg-type]

        return await attempt(info.context, run)
