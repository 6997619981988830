"""Personal data requests and staff handover: ``exportCustomerData``, ``eraseCustomer`` and
``deactivateUser`` (administrators only, see ``gql/permissions.py``)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from domain.privacy.erase import erase_customer
from domain.privacy.export import export_customer_data
from domain.staff.handover import ROUND_ROBIN_IN_TEAM, hand_over_and_deactivate
from gql.context import Context
from gql.ids import decode_pk
from gql.mutations.customers import CUSTOMER_TYPES
from gql.mutations.results import MutationFailure, attempt
from gql.types.customers import Customer
from gql.types.staff import User

Info = strawberry.Info[Context, None]


@strawberry.type(description="How many records of one type an operation changed.")
class RecordCount:
    record_type: str
    count: int


def _counts(counts: dict[str, int]) -> list[RecordCount]:
    return [RecordCount(record_type=kind, count=n) for kind, n in counts.items()]


@strawberry.enum(description="How a departing user's records are spread.")
class HandoverStrategy(Enum):
    ROUND_ROBIN_IN_TEAM = ROUND_ROBIN_IN_TEAM


@strawberry.input(description="Give exactly one of reassignTo and strategy.")
class DeactivateUserInput:
    id: strawberry.ID
    reassign_to: strawberry.ID | None = strawberry.field(
        default=None, description="The active user who takes over everything."
    )
    strategy: HandoverStrategy | None = strawberry.field(
        default=None, description="Spread over the active members of the user's teams."
    )


@strawberry.type
class DeactivateUserSuccess:
    user: User
    reassigned: list[RecordCount] = strawberry.field(
        description="Customers, open deals and open tasks moved to new owners, by type."
    )
    redirected_emails: int = strawberry.field(
        description="Queued workflow e-mails to the user, sent to the new owner instead."
    )


@strawberry.input
class EraseCustomerInput:
    id: strawberry.ID


@strawberry.type
class EraseCustomerSuccess:
    customer: Customer
    changed: list[RecordCount] = strawberry.field(
        description="Records touched by the erasure, by type; cancelledEmails and endedRuns."
    )


DeactivateUserResult = Annotated[
    DeactivateUserSuccess | MutationFailure, strawberry.union("DeactivateUserResult")
]
EraseCustomerResult = Annotated[
    EraseCustomerSuccess | MutationFailure, strawberry.union("EraseCustomerResult")
]


@strawberry.type
class PrivacyQuery:
    @strawberry.field(
        description="Everything held about one customer, as JSON (a data access request). "
        "Recorded in the audit trail."
    )
    async def export_customer_data(self, info: Info, id: strawberry.ID) -> JSON:
        pk = decode_pk(id, *CUSTOMER_TYPES)
        return JSON(await export_customer_data(pk, actor=info.context.actor))


@strawberry.type
class PrivacyMutations:
    @strawberry.mutation(
        description="Erase what identifies a customer: names, e-mails, phones, address, the "
        "free text of their interactions; history and aggregates stay. Irreversible."
    )
    async def erase_customer(self, info: Info, input: EraseCustomerInput) -> EraseCustomerResult:
        async def run() -> EraseCustomerSuccess:
            erasure = await erase_customer(
                decode_pk(input.id, *CUSTOMER_TYPES), actor=info.context.actor
            )
            return EraseCustomerSuccess(
                customer=erasure.customer,  # type: ignore[arg-type]
                changed=_counts(erasure.counts),
            )

        return await attempt(info.context, run)

    @strawberry.mutation(
        description="Hand a departing user's customers, open deals and open tasks over, move "
        "their running workflows' queued e-mails, revoke their sessions and deactivate them."
    )
    async def deactivate_user(self, info: Info, input: DeactivateUserInput) -> DeactivateUserResult:
        async def run() -> DeactivateUserSuccess:
            result = await hand_over_and_deactivate(
                decode_pk(input.id, "User"),
                reassign_to=None
                if input.reassign_to is None
                else decode_pk(input.reassign_to, "User", field="reassignTo"),
                strategy=None if input.strategy is None else input.strategy.value,
                actor=info.context.actor,
            )
            return DeactivateUserSuccess(
                user=result.user,  # type: ignore[arg-type]
                reassigned=_counts(result.reassigned),
                redirected_emails=result.redirected_emails,
            )

        return await attempt(info.context, run)
