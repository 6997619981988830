"""A customer's timeline: interactions, deal stage moves, tasks, tickets and audited changes merged
newest first, paged with a keyset cursor on (time, kind, id), batched across customers."""

from __future__ import annotations

import base64
import binascii
import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from domain.errors import ValidationFailed
from domain.persistence.querying.compile import SqlParams
from domain.persistence.querying.entities import ENTITIES
from domain.persistence.querying.fetch import run
from domain.persistence.querying.keyset import _decode_value, _encode_value
from domain.persistence.querying.scope import Scope

#: kind -> (entity, SQL selecting (customer, at, id) from one source on alias ``x``); "{ids}"
#: is the customer id list. Each source is limited to what the reader's scope shows of it.
_SOURCES = {
    "INTERACTION": (
        "Interaction",
        "SELECT x.customer_id AS c, x.occurred_at AS at, x.id FROM interactions x "
        "WHERE x.deleted_at IS NULL AND x.customer_id IN ({ids})",
    ),
    "STAGE_CHANGE": (
        "StageChange",
        "SELECT x.customer_id AS c, x.changed_at AS at, x.id FROM stage_changes x "
        "WHERE x.deleted_at IS NULL AND x.customer_id IN ({ids})",
    ),
    "TASK": (
        "Task",
        "SELECT x.customer_id AS c, x.created_at AS at, x.id FROM tasks x "
        "WHERE x.deleted_at IS NULL AND x.customer_id IN ({ids})",
    ),
    "TICKET": (
        "Ticket",
        "SELECT x.customer_id AS c, x.created_at AS at, x.id FROM tickets x "
        "WHERE x.deleted_at IS NULL AND x.customer_id IN ({ids})",
    ),
    "CHANGE": (
        "Customer",
        "SELECT x.target_id AS c, x.at, x.id FROM audit_entries x "
        "WHERE x.target_type = 'Customer' AND x.target_id IN ({ids})",
    ),
}


@dataclass(frozen=True)
class TimelineEntry:
    kind: str
    id: int
    cursor: str


@dataclass
class TimelinePage:
    entries: list[TimelineEntry]
    has_next_page: bool


def _encode(values: list[Any]) -> str:
    raw = json.dumps(["tl", [_encode_value(v) for v in values]]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> list[Any]:
    try:
        tag, values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if tag != "tl" or len(values) != 3:
            raise ValueError(tag)
        return [_decode_value(v) for v in values]
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise ValidationFailed("after", "malformed cursor", "INVALID_CURSOR") from exc


async def fetch_timelines(
    customer_ids: list[int], first: int, after: str | None, scope: Scope
) -> dict[int, TimelinePage]:
    """The newest ``first`` entries after ``after`` of each customer, as ``scope`` shows them
    (a customer's audited changes follow the customer's own visibility)."""
    params = SqlParams()
    parts = []
    for kind, (entity, source) in _SOURCES.items():
        marks = ", ".join(params.add(int(i)) for i in customer_ids)
        sql = source.format(ids=marks)
        restriction = scope.condition(entity, "x")
        if kind == "CHANGE" and restriction is not None:
            restriction = scope.condition(entity, "cx")
            sql += f" AND x.target_id IN (SELECT cx.id FROM customers cx WHERE {restriction})"
        elif restriction is not None:
            sql += f" AND {restriction}"
        parts.append(f"SELECT '{kind}' AS kind, s.* FROM ({sql}) s")
    seek = ""
    if after:
        at, kind, pk = _decode(after)
        p = params.add
        seek = (
            f" WHERE (u.at < {p(at)}) OR (u.at = {p(at)} AND u.kind > {p(kind)})"
            f" OR (u.at = {p(at)} AND u.kind = {p(kind)} AND u.id < {p(pk)})"
        )
    sql = (
        "SELECT * FROM (SELECT u.*, ROW_NUMBER() OVER (PARTITION BY u.c "
        "ORDER BY u.at DESC, u.kind ASC, u.id DESC) AS rn FROM ("
        + " UNION ALL ".join(parts)
        + f") u{seek}) r WHERE r.rn <= {int(first) + 1} ORDER BY r.c, r.rn"
    )
    rows = await run(ENTITIES["Customer"], sql, params)
    grouped: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[int(row["c"])].append(row)
    pages = {}
    for cid in customer_ids:
        found = grouped.get(cid, [])
        pages[cid] = TimelinePage(
            entries=[
                TimelineEntry(r["kind"], int(r["id"]), _encode([r["at"], r["kind"], r["id"]]))
                for r in found[:first]
            ],
            has_next_page=len(found) > first,
        )
    return pages
