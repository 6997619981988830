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
        scope=info.context.scope,
    )
    result = await fetch_page(query, Page(first=first, after=after, last=last, before=before))
    await prefetch_connection(info._raw_info, result.rows)

    async def total() -> int:
        return await count(query)

    return to_connection(result, total)


def list_field(
    entity: str,
    *,
    filter_type: Any,
    order_type: Any,
    default_order: tuple[SortKey, ...],
    with_deleted: bool = False,
    description: str | None = None,
) -> Any:
    """A top-level connection field of ``entity`` with filter, ordering and paging arguments,
    plus ``includeDeleted`` for the soft-deletable customer lists (``with_deleted``)."""

    async def page(info: Any, arguments: dict[str, Any]) -> Any:
        return await list_connection(info, entity=entity, default_order=default_order, **arguments)

    if with_deleted:

        async def resolve(
            info: Any,
            filter: Any = None,
            order_by: Any = None,
            first: Any = None,
            after: Any = None,
            last: Any = None,
            before: Any = None,
            include_deleted: Any = False,
        ) -> Any:
            return await page(
                info,
                {
                    "filter": filter,
                    "order_by": order_by,
                    "first": first,
                    "after": after,
                    "last": last,
                    "before": before,
                    "include_deleted": include_deleted,
                },
            )

    else:

        async def resolve(  # type: ignore[misc]
            info: Any,
            filter: Any = None,
            order_by: Any = None,
            first: Any = None,
            after: Any = None,
            last: Any = None,
            before: Any = None,
        ) -> Any:
            return await page(
                info,
                {
                    "filter": filter,
                    "order_by": order_by,
                    "first": first,
                    "after": after,
                    "last": last,
                    "before": before,
                },
            )

    resolve.__annotations__ = {
        "info": strawberry.Info[Any, Any],
        "filter": filter_type | None,
        "order_by": list[order_type] | None,
        "first": int | None,
        "after": str | None,
        "last": int | None,
        "before": str | None,
        "return": Any,
        **({"include_deleted": bool} if with_deleted else {}),
    }
    return strawberry.field(resolver=resolve, description=description)
