"""Bulk mutations: merging duplicates and importing up to 10,000 customers at once."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

import strawberry

from domain.customers.importing import MAX_IMPORT_ROWS, RowError, RowResult, import_customers
from domain.customers.merge import merge_customers
from domain.errors import DomainError, ValidationFailed
from gql.context import Context
from gql.dataloaders import load
from gql.ids import decode_pk
from gql.mutations.customer_inputs import (
    OrganizationFields,
    PersonFields,
    organization_command,
    person_command,
)
from gql.mutations.customers import CUSTOMER_TYPES, CustomerSuccess
from gql.mutations.results import MutationFailure, attempt
from gql.types.customers import Customer

Info = strawberry.Info[Context, None]


@strawberry.input
class MergeCustomersInput:
    target_id: strawberry.ID = strawberry.field(description="The customer that remains.")
    source_ids: list[strawberry.ID] = strawberry.field(
        description="Duplicates folded into the target, then soft-deleted (merged into it)."
    )


MergeResult = Annotated[CustomerSuccess | MutationFailure, strawberry.union("MergeResult")]


@strawberry.input(description="One row: exactly one of `person` or `organization`.")
class ImportRowInput:
    person: PersonFields | None = None
    organization: OrganizationFields | None = None


@strawberry.input
class ImportCustomersInput:
    rows: list[ImportRowInput]


@strawberry.enum
class ImportRowStatus(Enum):
    CREATED = "CREATED"
    UPDATED = "UPDATED"
    REJECTED = "REJECTED"


@strawberry.type
class ImportRowError:
    field: str | None
    message: str
    code: str


@strawberry.type
class ImportRowResult:
    index: int
    status: ImportRowStatus
    errors: list[ImportRowError]
    customer_id: strawberry.Private[int | None]

    @strawberry.field(description="The created or updated customer (null when rejected).")
    async def customer(self, info: Info) -> Customer | None:
        return await load(info.context, "Customer", self.customer_id)


@strawberry.type(
    description="Per-row outcome of an import; valid rows are written even when "
    "others are rejected."
)
class ImportCustomersSuccess:
    created: int
    updated: int
    rejected: int
    rows: list[ImportRowResult]


ImportResult = Annotated[
    ImportCustomersSuccess | MutationFailure, strawberry.union("ImportCustomersResult")
]


def _command(row: ImportRowInput) -> Any:
    if (row.person is None) == (row.organization is None):
        raise ValidationFailed("person", "give exactly one of person or organization", "INVALID")
    if row.person is not None:
        return person_command(row.person)
    assert row.organization is not None
    return organization_command(row.organization)


def _row_result(index: int, result: RowResult) -> ImportRowResult:
    return ImportRowResult(
        index=index,
        status=ImportRowStatus(result.status),
        errors=[
            ImportRowError(field=e.field, message=e.message, code=e.code) for e in result.errors
        ],
        customer_id=result.customer_id,
    )


def import_actor(context: Context) -> str:
    """Rows written by an import are audited as ``import:<batch>:<principal>``: the audit
    query's actor filter finds every import (``import``) or this batch, and who ran it."""
    return f"import:{context.request_id[:16]}:{context.actor}"[:120]


async def _import(rows: list[ImportRowInput], actor: str) -> ImportCustomersSuccess:
    if len(rows) > MAX_IMPORT_ROWS:
        raise ValidationFailed("rows", f"at most {MAX_IMPORT_ROWS} rows per import", "OUT_OF_RANGE")
    results: list[ImportRowResult | None] = [None] * len(rows)
    commands: list[Any] = []
    positions: list[int] = []
    for index, row in enumerate(rows):
        try:
            commands.append(_command(row))
            positions.append(index)
        except DomainError as exc:  # e.g. a malformed owner id: this row only
            error = RowError(getattr(exc, "field", None) or "", exc.message, exc.code)
            results[index] = _row_result(index, RowResult(index, "REJECTED", errors=[error]))
    for position, result in zip(
        positions, await import_customers(commands, actor=actor), strict=True
    ):
        results[position] = _row_result(position, result)
    done = [r for r in results if r is not None]
    count = {s: sum(1 for r in done if r.status is s) for s in ImportRowStatus}
    return ImportCustomersSuccess(
        created=count[ImportRowStatus.CREATED],
        updated=count[ImportRowStatus.UPDATED],
        rejected=count[ImportRowStatus.REJECTED],
        rows=done,
    )


@strawberry.type
class BulkMutations:
    @strawberry.mutation(
        description="Merge duplicates into one customer: interactions, tasks, "
        "deals, relationships and contact data move to the target."
    )
    async def merge_customers(self, info: Info, input: MergeCustomersInput) -> MergeResult:
        async def run() -> CustomerSuccess:
            target = decode_pk(input.target_id, *CUSTOMER_TYPES, field="targetId")
            sources = [
                decode_pk(s, *CUSTOMER_TYPES, field=f"sourceIds[{i}]")
                for i, s in enumerate(input.source_ids)
            ]
            row = await merge_customers(target, sources, actor=info.context.actor)
            return CustomerSuccess(customer=row)  # type: ignore[arg-type]

        return await attempt(info.context, run)

    @strawberry.mutation(
        description=f"Upsert up to {MAX_IMPORT_ROWS} customers (people by "
        "primary e-mail, organizations by domain), with a result per row."
    )
    async def import_customers(self, info: Info, input: ImportCustomersInput) -> ImportResult:
        return await attempt(info.context, lambda: _import(input.rows, import_actor(info.context)))
