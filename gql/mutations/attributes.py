"""Defining custom attributes, and listing them."""

from __future__ import annotations

from typing import Annotated

import strawberry

from domain.customers.attributes import create_attribute_definition
from domain.persistence import models as m
from gql.context import Context
from gql.mutations.results import MutationFailure, attempt
from gql.types.attributes import AttributeDefinition, AttributeEntity, AttributeType

Info = strawberry.Info[Context, None]


@strawberry.input
class DefineAttributeInput:
    entity: AttributeEntity
    key: str = strawberry.field(description="lower_snake_case, unique per entity")
    label: str
    type: AttributeType
    choices: list[str] | None = None


@strawberry.type
class AttributeDefinitionSuccess:
    definition: AttributeDefinition


AttributeDefinitionResult = Annotated[
    AttributeDefinitionSuccess | MutationFailure, strawberry.union("AttributeDefinitionResult")
]


@strawberry.type
class AttributeMutations:
    @strawberry.mutation(description="Add a typed custom attribute to customers.")
    async def define_attribute(
        self, info: Info, input: DefineAttributeInput
    ) -> AttributeDefinitionResult:
        async def run() -> AttributeDefinitionSuccess:
            row = await create_attribute_definition(
                entity=input.entity.value,
                key=input.key,
                label=input.label,
                type=input.type.value,
                choices=input.choices,
                actor=info.context.actor,
            )
            return AttributeDefinitionSuccess(definition=row)  # type: ignore[arg-type]

        return await attempt(info.context, run, existing_type="AttributeDefinition")


@strawberry.type
class AttributeQuery:
    @strawberry.field(description="Custom attribute definitions, optionally for one entity.")
    async def attribute_definitions(
        self, entity: AttributeEntity | None = None
    ) -> list[AttributeDefinition]:
        query = m.AttributeDefinition.filter(deleted_at__isnull=True)
        if entity is not None:
            query = query.filter(entity=entity.value)
        return await query.order_by("entity", "key")  # type: ignore[return-value]
