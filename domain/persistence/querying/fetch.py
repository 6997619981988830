"""Running read queries: one page of a list, a count, and pages of children per parent."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, overload

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model

from domain.errors import ValidationFailed
from domain.persistence.querying.compile import SqlParams, compile_filter, live_condition
from domain.persistence.querying.entities import EntitySpec
from domain.persistence.querying.keyset import (
    KeyColumn,
    decode_cursor,
    encode_cursor,
    key_columns,
    order_by,
    seek_predicate,
)
from domain.persistence.querying.rows import instance_from_row
from domain.persistence.querying.scope import Scope
from domain.persistence.querying.spec import Filter, Page, PageResult, SortKey

log = logging.getLogger(__name__)

MAX_PAGE_SIZE = 100


def _sql_for(db: BaseDBAsyncClient, sql: str) -> str:
    """Our SQL uses ``?`` placeholders; asyncpg wants ``$1, $2, ...``."""
    if db.capabilities.dialect != "postgres":
        return sql
    parts = sql.split("?")
    out = [parts[0]]
    for n, part in enumerate(parts[1:], start=1):
        out.append(f"${n}{part}")
    return "".join(out)


async def run(entity: EntitySpec, sql: str, params: SqlParams) -> list[dict[str, Any]]:
    return await run_sql(entity.model, sql, params)


async def run_sql(model: type[Model], sql: str, params: SqlParams) -> list[dict[str, Any]]:
    """Run our ``?``-placeholder SQL on ``model``'s connection; rows as dicts."""
    db = model._meta.db
    return await db.execute_query_dict(_sql_for(db, sql), params.values)


def validate_page(page: Page) -> Page:
    if page.first is not None and page.last is not None:
        raise ValidationFailed("first", "pass either first or last, not both", "INVALID_PAGING")
    for name, size in (("first", page.first), ("last", page.last)):
        if size is not None and not 0 <= size <= MAX_PAGE_SIZE:
            raise ValidationFailed(
                name, f"{name} must be between 0 and {MAX_PAGE_SIZE}", "PAGE_SIZE_OUT_OF_RANGE"
            )
    if page.first is None and page.last is None:
        return Page(
            first=MAX_PAGE_SIZE if page.before is None else None,
            last=MAX_PAGE_SIZE if page.before is not None else None,
            after=page.after,
            before=page.before,
        )
    return page


@dataclass
class Query:
    """A filtered, ordered view of one entity as seen by a principal (``scope``: required, so
    no statement is built without one; :data:`~.scope.EVERYTHING` for trusted callers)."""

    entity: EntitySpec
    filter: Filter | None = None
    order: tuple[SortKey, ...] = ()
    restriction: str | None = None  # trusted SQL on alias "{a}"
    include_deleted: bool = False
    scope: Scope = field(kw_only=True)

    def where(self, alias: str, params: SqlParams) -> str:
        parts = [live_condition(self.entity, alias, self.scope)]
        if self.include_deleted:
            parts = [f"{alias}.{self.entity.base_condition}"] if self.entity.base_condition else []
            restriction = self.scope.condition(self.entity.name, alias)
            if restriction is not None:
                parts.append(restriction)
        if self.restriction:
            parts.append(self.restriction.format(a=alias))
        if self.filter is not None:
            parts.append(compile_filter(self.entity, alias, self.filter, params, self.scope))
        return " AND ".join(parts) or "1=1"

    def keys(self) -> list[KeyColumn]:
        for key in self.order:
            self.scope.check_field(self.entity.name, key.field)
        return key_columns(self.entity, list(self.order))


def _key_select(columns: list[KeyColumn], alias: str) -> str:
    return ", ".join(f"{c.expression.format(a=alias)} AS _k{i}" for i, c in enumerate(columns))


class LazyCursors(Sequence[str]):
    """The cursors of a page, encoded only when a client asks for one (most never do for
    nested lists, and encoding is a JSON dump plus base64 per row)."""

    def __init__(self, columns: list[KeyColumn], rows: list[dict[str, Any]]) -> None:
        self._columns = columns
        self._keys = [[row[f"_k{i}"] for i in range(len(columns))] for row in rows]

    def __len__(self) -> int:
        return len(self._keys)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [encode_cursor(self._columns, k) for k in self._keys[index]]
        return encode_cursor(self._columns, self._keys[index])


async def fetch_page(query: Query, page: Page) -> PageResult:
    """One page of a top-level list (``first``/``after`` or ``last``/``before``)."""
    page = validate_page(page)
    columns = query.keys()
    params = SqlParams()
    alias = params.alias()
    conditions = [query.where(alias, params)]
    if page.after:
        values = decode_cursor(columns, page.after, argument="after")
        conditions.append(seek_predicate(columns, alias, values, params, after=True))
    if page.before:
        values = decode_cursor(columns, page.before, argument="before")
        conditions.append(seek_predicate(columns, alias, values, params, after=False))
    backward = page.first is None
    limit = page.last if backward else page.first
    assert limit is not None
    table = query.entity.table
    sql = (
        f"SELECT {alias}.*, {_key_select(columns, alias)} FROM {table} {alias} "
        f"WHERE {' AND '.join(conditions)} "
        f"ORDER BY {order_by(columns, alias, reverse=backward)} LIMIT {int(limit) + 1}"
    )
    rows = await run(query.entity, sql, params)
    more = len(rows) > limit
    rows = rows[:limit]
    if backward:
        rows.reverse()
    return PageResult(
        rows=[instance_from_row(query.entity.model, r) for r in rows],
        cursors=LazyCursors(columns, rows),
        has_next_page=more if not backward else bool(page.before),
        has_previous_page=more if backward else bool(page.after),
    )


async def count(query: Query) -> int:
    params = SqlParams()
    alias = params.alias()
    sql = (
        f"SELECT COUNT(*) AS n FROM {query.entity.table} {alias} WHERE {query.where(alias, params)}"
    )
    rows = await run(query.entity, sql, params)
    return int(rows[0]["n"])


async def fetch_pages_per_parent(
    query: Query, parent_column: str, parent_ids: list[int], page: Page
) -> dict[int, PageResult]:
    """The same page of children for many parents in one statement (a window per parent).

    ``interactions(last: 5)`` on 100 customers is one query returning at most 600 rows, not a
    global LIMIT and not 100 queries. ``totalCount`` rides along as a windowed COUNT.
    """
    page = validate_page(page)
    if not parent_ids:
        return {}
    columns = query.keys()
    params = SqlParams()
    alias = params.alias()
    marks = ", ".join(params.add(int(i)) for i in parent_ids)
    conditions = [f"{alias}.{parent_column} IN ({marks})", query.where(alias, params)]
    has_cursor = bool(page.after or page.before)
    if page.after:
        values = decode_cursor(columns, page.after, argument="after")
        conditions.append(seek_predicate(columns, alias, values, params, after=True))
    if page.before:
        values = decode_cursor(columns, page.before, argument="before")
        conditions.append(seek_predicate(columns, alias, values, params, after=False))
    backward = page.first is None
    limit = page.last if backward else page.first
    assert limit is not None
    window_order = ", ".join(
        f"_k{i} {'DESC' if c.descending != backward else 'ASC'}" for i, c in enumerate(columns)
    )
    sql = (
        "SELECT * FROM (SELECT w.*, "
        f"ROW_NUMBER() OVER (PARTITION BY w._parent ORDER BY {window_order}) AS _rn, "
        "COUNT(*) OVER (PARTITION BY w._parent) AS _total FROM ("
        f"SELECT {alias}.*, {alias}.{parent_column} AS _parent, {_key_select(columns, alias)} "
        f"FROM {query.entity.table} {alias} WHERE {' AND '.join(conditions)}"
        f") w) r WHERE r._rn <= {int(limit) + 1} ORDER BY r._parent, r._rn"
    )
    rows = await run(query.entity, sql, params)
    grouped: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[row["_parent"]].append(row)
    totals: dict[int, int] = {}
    if has_cursor:
        totals = await count_per_parent(query, parent_column, parent_ids)
    results: dict[int, PageResult] = {}
    for parent_id in parent_ids:
        children = grouped.get(parent_id, [])
        total = (
            totals.get(parent_id, 0)
            if has_cursor
            else (int(children[0]["_total"]) if children else 0)
        )
        more = len(children) > limit
        children = children[:limit]
        if backward:
            children.reverse()
        results[parent_id] = PageResult(
            rows=[instance_from_row(query.entity.model, r) for r in children],
            cursors=LazyCursors(columns, children),
            has_next_page=more if not backward else bool(page.before),
            has_previous_page=more if backward else bool(page.after),
            total_count=total,
        )
    return results


async def count_per_parent(
    query: Query, parent_column: str, parent_ids: list[int]
) -> dict[int, int]:
    params = SqlParams()
    alias = params.alias()
    marks = ", ".join(params.add(int(i)) for i in parent_ids)
    sql = (
        f"SELECT {alias}.{parent_column} AS parent, COUNT(*) AS n "
        f"FROM {query.entity.table} {alias} "
        f"WHERE {alias}.{parent_column} IN ({marks}) AND {query.where(alias, params)} "
        f"GROUP BY {alias}.{parent_column}"
    )
    return {int(r["parent"]): int(r["n"]) for r in await run(query.entity, sql, params)}
