"""Resolving to-many relations as connections, batched across parents by a DataLoader."""

from __future__ import annotations

from typing import Any

from domain.persistence.querying.entities import ENTITIES
from domain.persistence.querying.fetch import Query, validate_page
from domain.persistence.querying.spec import Page, SortKey
from gql.context import Context
from gql.dataloaders import children
from gql.filters import to_filter
from gql.ordering import to_sort_keys
from gql.pagination import Connection, to_connection


async def child_connection(
    context: Context,
    *,
    entity: str,
    parent_column: str,
    parent_id: int,
    filter: Any,
    order_by: list[Any] | None,
    default_order: tuple[SortKey, ...],
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> Connection[Any]:
    query = Query(
        ENTITIES[entity],
        to_filter(entity, filter),
        to_sort_keys(order_by, default_order),
    )
    page = validate_page(Page(first=first, after=after, last=last, before=before))
    result = await children(context, query, parent_column, page).load(parent_id)
    return to_connection(result)
