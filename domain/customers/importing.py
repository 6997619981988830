"""Bulk upsert of customers (CSV/JSON/API imports), up to 10,000 rows per call.

The import is built for throughput: rows are validated in memory, existing customers are looked
up in batches (primary e-mails, domains, referenced ids), and the writes are chunked
``bulk_create``/``bulk_update`` calls plus bulk audit/outbox inserts, all in one transaction.
A rejected row carries its errors in the result and does not stop the others.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from domain.customers.attributes import load_definitions, validate_attributes
from domain.customers.commands import (
    ORGANIZATION,
    PERSON,
    OrganizationInput,
    PersonInput,
    input_from_mapping,
)
from domain.customers.normalize import (
    TRACKED_COLUMNS,
    apply_values,
    new_customer,
    normalize_input,
)
from domain.customers.services import customer_record, domain_conflict
from domain.errors import Conflict, ValidationFailed
from domain.persistence.constraints import check_lengths
from domain.persistence.models import AttributeDefinition, Customer, User
from domain.persistence.params import placeholders
from domain.recording import Record, record_many, utcnow

MAX_IMPORT_ROWS = 10_000
# Keeps every IN (...) list and multi-row statement under SQLite's bound-parameter limit.
CHUNK = 500
CREATED, UPDATED, REJECTED = "CREATED", "UPDATED", "REJECTED"

ImportRow = PersonInput | OrganizationInput | Mapping[str, Any]


@dataclass(frozen=True)
class RowError:
    field: str
    message: str
    code: str


@dataclass
class RowResult:
    index: int
    status: str  # CREATED | UPDATED | REJECTED
    customer_id: int | None = None
    errors: list[RowError] = field(default_factory=list)


@dataclass
class _Pending:
    """A validated row waiting for the database: the customer it writes and its changes."""

    index: int
    customer: Customer
    changes: dict[str, list[Any]]
    created: bool


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


async def _fetch_in(query_field: str, values: set[Any], **filters: Any) -> list[Customer]:
    found: list[Customer] = []
    ordered = sorted(values)
    for part in _chunks(ordered):
        found += await Customer.filter(**filters, **{f"{query_field}__in": list(part)})
    return found


class _Lookups:
    """Everything the rows refer to, loaded in a handful of batched queries."""

    def __init__(self) -> None:
        self.people_by_email: dict[str, Customer] = {}
        self.orgs_by_domain: dict[str, Customer] = {}
        self.active_users: set[int] = set()
        self.known_users: set[int] = set()
        self.organizations: set[int] = set()
        self.definitions: dict[str, dict[str, AttributeDefinition]] = {}

    async def load(self, parsed: list[tuple[int, str, dict[str, Any]]]) -> None:
        emails = {
            v["primary_email"] for _, k, v in parsed if k == PERSON and v.get("primary_email")
        }
        domains = {v["domain"] for _, k, v in parsed if k == ORGANIZATION and v.get("domain")}
        owners = {v["owner_id"] for _, _, v in parsed if v.get("owner_id") is not None}
        org_refs = {
            v[key]
            for _, _, v in parsed
            for key in ("organization_id", "parent_id")
            if v.get(key) is not None
        }
        people = await _fetch_in("primary_email", emails, kind=PERSON, deleted_at=None)
        for person in sorted(people, key=lambda c: c.id, reverse=True):
            self.people_by_email[person.primary_email or ""] = person  # lowest id wins
        for org in await _fetch_in("domain", domains):
            self.orgs_by_domain[org.domain or ""] = org
        for part in _chunks(sorted(owners)):
            for user_id, active in await User.filter(
                id__in=list(part), deleted_at=None
            ).values_list("id", "active"):
                self.known_users.add(user_id)
                if active:
                    self.active_users.add(user_id)
        orgs = await _fetch_in("id", org_refs, kind=ORGANIZATION, deleted_at=None)
        self.organizations = {org.id for org in orgs}
        for kind in (PERSON, ORGANIZATION):
            self.definitions[kind] = await load_definitions(kind)

    def check(self, kind: str, values: dict[str, Any], customer_id: int | None) -> None:
        owner_id = values.get("owner_id")
        if owner_id is not None and owner_id not in self.active_users:
            code = "INACTIVE" if owner_id in self.known_users else "NOT_FOUND"
            raise ValidationFailed("ownerId", f"user {owner_id} is not an active user", code)
        for key, name in (("organization_id", "organizationId"), ("parent_id", "parentId")):
            ref = values.get(key)
            if ref is not None and ref not in self.organizations:
                raise ValidationFailed(name, f"organization {ref} not found", "NOT_FOUND")
        if values.get("parent_id") is not None and values["parent_id"] == customer_id:
            raise ValidationFailed("parentId", "an organization cannot be its own parent", "CYCLE")
        if values.get("attributes"):
            values["attributes"] = validate_attributes(values["attributes"], self.definitions[kind])


def _parse(index: int, row: ImportRow) -> PersonInput | OrganizationInput:
    if isinstance(row, PersonInput | OrganizationInput):
        return row
    try:
        return input_from_mapping(dict(row))
    except ValueError as exc:
        name = str(exc)
        if name == "kind":
            raise ValidationFailed(
                "kind", "kind must be PERSON or ORGANIZATION", "INVALID_KIND"
            ) from None
        raise ValidationFailed(name, f"unknown field {name!r}", "UNKNOWN_FIELD") from exc
    except TypeError as exc:
        raise ValidationFailed("row", str(exc), "INVALID") from exc


async def _allocate_ids(conn: BaseDBAsyncClient, count: int) -> list[int]:
    """Reserve primary keys up front so bulk inserts need no read-back.

    PostgreSQL hands them out from the table's sequence. On SQLite the transaction first takes the
    write lock (a no-op UPDATE), so no other writer can claim ids past the current maximum.
    """
    if count == 0:
        return []
    if conn.capabilities.dialect == "postgres":
        rows = await conn.execute_query_dict(
            "SELECT nextval(pg_get_serial_sequence('customers', 'id')) AS id "
            "FROM generate_series(1, $1)",
            [count],
        )
        return [int(row["id"]) for row in rows]
    await conn.execute_query("UPDATE customers SET id = id WHERE id < 0")
    rows = await conn.execute_query_dict("SELECT COALESCE(MAX(id), 0) AS top FROM customers")
    top = int(rows[0]["top"])
    return list(range(top + 1, top + 1 + count))


# What an import may change: the tracked columns plus everything refresh_derived() recomputes.
_WRITTEN_COLUMNS = [
    *TRACKED_COLUMNS,
    "display_name_fold",
    "first_name_fold",
    "last_name_fold",
    "job_title_fold",
    "legal_name_fold",
    "industry_fold",
    "city_fold",
    "search_text",
    "updated_at",
    "updated_by",
]


async def _update_rows(conn: BaseDBAsyncClient, customers: list[Customer]) -> None:
    """One prepared ``UPDATE ... WHERE id = ?`` run with executemany.

    Tortoise's ``bulk_update`` builds a CASE expression per column and row, which for ~50 columns
    is several times slower than re-running a single prepared statement.
    """
    if not customers:
        return
    fields_map = Customer._meta.fields_map
    columns = [Customer._meta.fields_db_projection[name] for name in _WRITTEN_COLUMNS]
    marks = placeholders(conn, len(columns) + 1)
    assignments = ", ".join(f'"{col}" = {mark}' for col, mark in zip(columns, marks, strict=False))
    sql = f'UPDATE "customers" SET {assignments} WHERE "id" = {marks[-1]}'
    for part in _chunks(customers):
        await conn.execute_many(
            sql,
            [
                [fields_map[name].to_db_value(getattr(c, name), c) for name in _WRITTEN_COLUMNS]
                + [c.id]
                for c in part
            ],
        )


async def import_customers(rows: Sequence[ImportRow], *, actor: str) -> list[RowResult]:
    """Upsert ``rows`` (people match on primary e-mail, organizations on domain).

    Returns one result per row, in order. Rows that repeat an e-mail or domain of an earlier row
    update the customer that row created or matched.
    """
    if len(rows) > MAX_IMPORT_ROWS:
        raise ValidationFailed("rows", f"at most {MAX_IMPORT_ROWS} rows per import", "OUT_OF_RANGE")
    results = [RowResult(index=i, status=REJECTED) for i in range(len(rows))]
    parsed: list[tuple[int, str, dict[str, Any]]] = []
    for index, row in enumerate(rows):
        try:
            data = _parse(index, row)
            parsed.append((index, data.kind, normalize_input(data)))
        except ValidationFailed as exc:
            results[index].errors.append(RowError(exc.field, exc.message, exc.code))
    lookups = _Lookups()
    await lookups.load(parsed)
    pending = _plan(parsed, lookups, results, actor)
    if pending:
        await _write(pending, actor)
    for item in pending:
        result = results[item.index]
        result.status = CREATED if item.created else UPDATED
        result.customer_id = item.customer.id
    return results


def _plan(
    parsed: list[tuple[int, str, dict[str, Any]]],
    lookups: _Lookups,
    results: list[RowResult],
    actor: str,
) -> list[_Pending]:
    now = utcnow()
    pending: list[_Pending] = []
    for index, kind, values in parsed:
        key = values.get("primary_email") if kind == PERSON else values.get("domain")
        index_map = lookups.people_by_email if kind == PERSON else lookups.orgs_by_domain
        existing = index_map.get(key) if key else None
        try:
            if existing is not None and existing.deleted_at is not None:
                raise domain_conflict(existing)
            lookups.check(kind, values, existing.id if existing else None)
            if existing is None:
                blank = PersonInput() if kind == PERSON else OrganizationInput()
                customer = new_customer(blank, actor=actor)
                changes = apply_values(customer, values, now=now)
                check_lengths(customer)
                if key:
                    index_map[key] = customer
                pending.append(_Pending(index, customer, changes, created=True))
                continue
            saved = dict(existing.__dict__)
            try:
                changes = apply_values(existing, values, now=now)
                check_lengths(existing)
            except ValidationFailed:
                existing.__dict__.update(saved)  # leave the matched customer as it was
                raise
            existing.updated_by = actor
            pending.append(_Pending(index, existing, changes, created=False))
        except ValidationFailed as exc:
            results[index].errors.append(RowError(exc.field, exc.message, exc.code))
        except Conflict as exc:
            results[index].errors.append(RowError(exc.field or "row", exc.message, "CONFLICT"))
    return pending


async def _write(pending: list[_Pending], actor: str) -> None:
    creates = list({id(p.customer): p.customer for p in pending if p.created}.values())
    created_ids = {id(c) for c in creates}
    updates = list(
        {id(p.customer): p.customer for p in pending if id(p.customer) not in created_ids}.values()
    )
    now = utcnow()
    async with in_transaction() as conn:
        for customer, new_id in zip(creates, await _allocate_ids(conn, len(creates)), strict=True):
            customer.id = new_id
            # Tortoise only inserts a preset primary key when told it was set on purpose.
            customer._custom_generated_pk = True
        for part in _chunks(creates):
            await Customer.bulk_create(list(part))
        for customer in updates:
            customer.updated_at = now
        await _update_rows(conn, updates)
        records: list[Record] = [
            customer_record(p.customer, p.changes, actor=actor, created=p.created)
            for p in pending
            if p.created or p.changes
        ]
        await record_many(records)


__all__ = [
    "CREATED",
    "MAX_IMPORT_ROWS",
    "REJECTED",
    "UPDATED",
    "ImportRow",
    "RowError",
    "RowResult",
    "import_customers",
]
