"""The audit trail for administrators: ``auditEntries(filter, first, after)``, newest first."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Any

import strawberry
from strawberry.scalars import JSON

from domain.audit_trail import AuditFilter, audit_page, matching
from domain.errors import ValidationFailed
from domain.persistence import models as m
from gql.context import Context
from gql.ids import STORAGE_OF, decode_id, encode_id
from gql.pagination import Connection, Edge, PageInfo
from gql.types.node import Actor, actor_of

Info = strawberry.Info[Context, None]
DEFAULT_PAGE = 50
#: Global id types of principals -> the actor kind they are stored as.
_ACTOR_KIND = {"User": "user", "ApiKey": "apikey", "WorkflowRun": "workflow:run"}


@strawberry.type(description="One audited change: who changed what, when, before and after.")
class AuditEntry:
    at: dt.datetime
    action: str
    target_type: str = strawberry.field(description="The changed record's type (storage name).")
    request_id: str | None
    changes: JSON = strawberry.field(description='{"field": [before, after]} per changed field.')

    @strawberry.field
    def id(self, root: strawberry.Parent[m.AuditEntry]) -> strawberry.ID:
        return strawberry.ID(encode_id("AuditEntry", root.id))

    @strawberry.field(description="The changed record's global id.")
    def target_id(self, root: strawberry.Parent[m.AuditEntry]) -> strawberry.ID:
        return strawberry.ID(encode_id(_target_type_name(root), root.target_id))

    @strawberry.field
    def actor(self, root: strawberry.Parent[m.AuditEntry]) -> Actor:
        return actor_of(root.actor)

    @strawberry.field(description="The actor as stored: user:12, apikey:3, workflow:run:41:step:x.")
    def actor_ref(self, root: strawberry.Parent[m.AuditEntry]) -> str:
        return root.actor


def _target_type_name(entry: m.AuditEntry) -> str:
    """Customers are people or organizations in the API: the page loads which (see below)."""
    return getattr(entry, "graphql_type", None) or entry.target_type


@strawberry.input(description="Every given criterion must hold.")
class AuditEntryFilter:
    target: strawberry.ID | None = strawberry.field(
        default=None, description="Entries about this record (a global id)."
    )
    target_type: str | None = None
    actor: str | None = strawberry.field(
        default=None,
        description="A user's, API key's or workflow run's global id, or a stored actor "
        "(user:12, import, workflow:run:41); matches the actor and everything under it.",
    )
    action: str | None = None
    from_: dt.datetime | None = strawberry.field(
        default=None, name="from", description="Inclusive."
    )
    to: dt.datetime | None = strawberry.field(default=None, description="Exclusive.")


def _actor(value: str) -> str:
    try:
        type_name, pk = decode_id(value, expected=set(_ACTOR_KIND), field="filter.actor")
    except ValidationFailed:
        return value  # not a global id: a stored actor string
    return f"{_ACTOR_KIND[type_name]}:{pk}"


def _criteria(given: AuditEntryFilter | None) -> AuditFilter:
    if given is None:
        return AuditFilter()
    target_type, target_id = given.target_type, None
    if given.target is not None:
        type_name, target_id = decode_id(given.target, field="filter.target")
        target_type = STORAGE_OF.get(type_name, type_name)
    return AuditFilter(
        target_type=target_type,
        target_id=target_id,
        actor=_actor(given.actor) if given.actor else None,
        action=given.action,
        since=given.from_,
        until=given.to,
    )


def _cursor(pk: int) -> str:
    return base64.b64encode(f"audit:{pk}".encode()).decode()


def _before(cursor: str) -> int:
    try:
        kind, _, raw = base64.b64decode(cursor, validate=True).decode().partition(":")
        if kind != "audit":
            raise ValueError(kind)
        return int(raw)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ValidationFailed("after", f"malformed cursor {cursor!r}", "INVALID_CURSOR") from exc


async def _name_customer_targets(entries: list[m.AuditEntry]) -> None:
    """One statement per page: whether each customer target is a Person or an Organization."""
    ids = {e.target_id for e in entries if e.target_type == "Customer"}
    if not ids:
        return
    kinds: dict[Any, Any] = dict(
        await m.Customer.filter(id__in=list(ids)).values_list("id", "kind")
    )
    for entry in entries:
        if entry.target_type == "Customer" and entry.target_id in kinds:
            entry.graphql_type = kinds[entry.target_id].title()


@strawberry.type
class AuditQuery:
    @strawberry.field(description="The audit trail, newest first (keyset paging by id).")
    async def audit_entries(
        self,
        info: Info,
        filter: AuditEntryFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[AuditEntry]:
        criteria = _criteria(filter)
        page = await audit_page(
            criteria,
            first=DEFAULT_PAGE if first is None else first,
            before_id=None if after is None else _before(after),
        )
        await _name_customer_targets(page.entries)
        cursors = [_cursor(entry.id) for entry in page.entries]

        async def total() -> int:
            return await matching(criteria).count()

        return Connection(
            edges=[Edge(cursor=c, node=e) for c, e in zip(cursors, page.entries, strict=True)],  # type: ignore[arg-type]
            page_info=PageInfo(
                has_next_page=page.has_next_page,
                has_previous_page=after is not None,
                start_cursor=cursors[0] if cursors else None,
                end_cursor=cursors[-1] if cursors else None,
            ),
            known_total=None,
            count_total=total,
        )
