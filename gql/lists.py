"""Top-level lists: one keyset page plus a lazily counted total."""

from __future__ import annotations

from typing import Any

import strawberry

from domain.persistence.querying.entities import ENTITIES
from domain.persistence.querying.fetch import Query, count, fetch_page
from domain.persistence.querying.spec import Page, SortKey
from gql.filters import to_filter
from gql.ordering import to_sort_keys
from gql.pagination import Connection, to_connection
from gql.prefetch import prefetch_connection


async def list_connection(
    info: strawberry.Info[Any, Any],
    *,
    entity: str,
    filter: Any,
    order_by: list[Any] | None,
    default_order: tuple[SortKey, ...],
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    include_deleted: bool = False,
) -> Connection[Any]:
    query = Query(
        ENTITIES[entity],
        to_filter(entity, filter),
        to_sort_keys(order_by, default_order),
        include_deleted=include_deleted,
    )
    result = await fetch_page(query, Page(first=first, after=after, last=last, before=before))
    await prefetch_connection(info._raw_info, result.rows)

    async def total() -> int:
        return await count(query)

    return to_connection(result, total)
