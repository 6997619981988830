"""Mutations on people and organizations."""

from __future__ import annotations

from typing import Annotated

import strawberry

from domain.customers import services
from domain.customers.commands import UNSET as DOMAIN_UNSET
from domain.identity.scope import default_owner
from gql.context import Context
from gql.ids import decode_pk
from gql.mutations.customer_inputs import (
    OrganizationFields,
    PersonFields,
    organization_command,
    person_command,
)
from gql.mutations.results import MutationFailure, attempt
from gql.types.customers import Customer, Organization, Person

Info = strawberry.Info[Context, None]
CUSTOMER_TYPES = ("Person", "Organization")


@strawberry.type
class PersonSuccess:
    person: Person
    created: bool = strawberry.field(description="False when an upsert updated a match.")


@strawberry.type
class OrganizationSuccess:
    organization: Organization
    created: bool


@strawberry.type
class CustomerSuccess:
    customer: Customer


@strawberry.input
class UpdatePersonInput:
    id: strawberry.ID
    patch: PersonFields


@strawberry.input
class UpdateOrganizationInput:
    id: strawberry.ID
    patch: OrganizationFields


@strawberry.input
class CustomerRefInput:
    id: strawberry.ID


PersonResult = Annotated[PersonSuccess | MutationFailure, strawberry.union("PersonResult")]
OrganizationResult = Annotated[
    OrganizationSuccess | MutationFailure, strawberry.union("OrganizationResult")
]
CustomerResult = Annotated[CustomerSuccess | MutationFailure, strawberry.union("CustomerResult")]


@strawberry.type
class CustomerMutations:
    @strawberry.mutation(description="Create a person.")
    async def create_person(self, info: Info, input: PersonFields) -> PersonResult:
        async def run() -> PersonSuccess:
            command = person_command(input)
            if command.owner_id is DOMAIN_UNSET:
                command.owner_id = default_owner(info.context.principal)
            row = await services.create_person(command, actor=info.context.actor)
            return PersonSuccess(person=row, created=True)  # type: ignore[arg-type]

        return await attempt(info.context, run, existing_type="Person")

    @strawberry.mutation(description="Change some fields of a person.")
    async def update_person(self, info: Info, input: UpdatePersonInput) -> PersonResult:
        async def run() -> PersonSuccess:
            pk = decode_pk(input.id, "Person")
            row = await services.update_person(
                pk, person_command(input.patch), actor=info.context.actor
            )
            return PersonSuccess(person=row, created=False)  # type: ignore[arg-type]

        return await attempt(info.context, run, existing_type="Person")

    @strawberry.mutation(description="Create, or update the person whose primary e-mail matches.")
    async def upsert_person(self, info: Info, input: PersonFields) -> PersonResult:
        async def run() -> PersonSuccess:
            row, created = await services.upsert_person(
                person_command(input), actor=info.context.actor
            )
            return PersonSuccess(person=row, created=created)  # type: ignore[arg-type]

        return await attempt(info.context, run, existing_type="Person")

    @strawberry.mutation(description="Create an organization; its domain must be unique.")
    async def create_organization(
        self, info: Info, input: OrganizationFields
    ) -> OrganizationResult:
        async def run() -> OrganizationSuccess:
            command = organization_command(input)
            if command.owner_id is DOMAIN_UNSET:
                command.owner_id = default_owner(info.context.principal)
            row = await services.create_organization(command, actor=info.context.actor)
            return OrganizationSuccess(organization=row, created=True)  # type: ignore[arg-type]

        return await attempt(info.context, run, existing_type="Organization")

    @strawberry.mutation
    async def update_organization(
        self, info: Info, input: UpdateOrganizationInput
    ) -> OrganizationResult:
        async def run() -> OrganizationSuccess:
            pk = decode_pk(input.id, "Organization")
            row = await services.update_organization(
                pk, organization_command(input.patch), actor=info.context.actor
            )
            return OrganizationSuccess(organization=row, created=False)  # type: ignore[arg-type]

        return await attempt(info.context, run, existing_type="Organization")

    @strawberry.mutation(description="Create, or update the organization with the same domain.")
    async def upsert_organization(
        self, info: Info, input: OrganizationFields
    ) -> OrganizationResult:
        async def run() -> OrganizationSuccess:
            row, created = await services.upsert_organization(
                organization_command(input), actor=info.context.actor
            )
            return OrganizationSuccess(organization=row, created=created)  # type: ignore[arg-type]

        return await attempt(info.context, run, existing_type="Organization")

    @strawberry.mutation(description="Soft-delete a customer (restorable).")
    async def delete_customer(self, info: Info, input: CustomerRefInput) -> CustomerResult:
        async def run() -> CustomerSuccess:
            pk = decode_pk(input.id, *CUSTOMER_TYPES)
            row = await services.delete_customer(pk, actor=info.context.actor)
            return CustomerSuccess(customer=row)  # type: ignore[arg-type]

        return await attempt(info.context, run)

    @strawberry.mutation(description="Bring back a soft-deleted customer.")
    async def restore_customer(self, info: Info, input: CustomerRefInput) -> CustomerResult:
        async def run() -> CustomerSuccess:
            pk = decode_pk(input.id, *CUSTOMER_TYPES)
            row = await services.restore_customer(pk, actor=info.context.actor)
            return CustomerSuccess(customer=row)  # type: ignore[arg-type]

        return await attempt(info.context, run)
