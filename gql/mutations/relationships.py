"""Mutations on the typed edges between customers."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry

from domain.customers import relationships as edges
from gql.context import Context
from gql.ids import decode_pk
from gql.mutations.results import MutationFailure, attempt
from gql.types.customers import Relationship

Info = strawberry.Info[Context, None]
CUSTOMER_TYPES = ("Person", "Organization")


@strawberry.type
class RelationshipSuccess:
    relationship: Relationship


@strawberry.type
class DeletedSuccess:
    id: strawberry.ID


RelationshipResult = Annotated[
    RelationshipSuccess | MutationFailure, strawberry.union("RelationshipResult")
]
DeleteResult = Annotated[DeletedSuccess | MutationFailure, strawberry.union("DeleteResult")]


@strawberry.input
class CreateRelationshipInput:
    kind: str = strawberry.field(
        description="WORKS_AT, SUBSIDIARY_OF, REFERRED_BY, FAMILY_OF, PARTNER_OF or your own "
        "UPPER_SNAKE kind."
    )
    from_customer_id: strawberry.ID
    to_customer_id: strawberry.ID
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    notes: str | None = None


@strawberry.input
class EndRelationshipInput:
    id: strawberry.ID
    ends_on: dt.date | None = strawberry.field(default=None, description="Default: today.")


@strawberry.input
class RelationshipRefInput:
    id: strawberry.ID


@strawberry.type
class RelationshipMutations:
    @strawberry.mutation(description="Relate two customers: from --kind--> to.")
    async def create_relationship(
        self, info: Info, input: CreateRelationshipInput
    ) -> RelationshipResult:
        async def run() -> RelationshipSuccess:
            row = await edges.create_relationship(
                kind=input.kind,
                from_customer_id=decode_pk(
                    input.from_customer_id, *CUSTOMER_TYPES, field="fromCustomerId"
                ),
                to_customer_id=decode_pk(
                    input.to_customer_id, *CUSTOMER_TYPES, field="toCustomerId"
                ),
                starts_on=input.starts_on,
                ends_on=input.ends_on,
                notes=input.notes,
                actor=info.context.actor,
            )
            return RelationshipSuccess(relationship=row)  # type: ignore[arg-type]

        return await attempt(info.context, run)

    @strawberry.mutation(description="Close a relationship on a date; its history stays.")
    async def end_relationship(self, info: Info, input: EndRelationshipInput) -> RelationshipResult:
        async def run() -> RelationshipSuccess:
            row = await edges.end_relationship(
                decode_pk(input.id, "Relationship"), ends_on=input.ends_on, actor=info.context.actor
            )
            return RelationshipSuccess(relationship=row)  # type: ignore[arg-type]

        return await attempt(info.context, run)

    @strawberry.mutation
    async def delete_relationship(self, info: Info, input: RelationshipRefInput) -> DeleteResult:
        async def run() -> DeletedSuccess:
            await edges.delete_relationship(
                decode_pk(input.id, "Relationship"), actor=info.context.actor
            )
            return DeletedSuccess(id=input.id)

        return await attempt(info.context, run)
