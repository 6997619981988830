"""To-many relations as connections, batched across parents by one DataLoader per argument set."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

from strawberry.dataloader import DataLoader

from domain.persistence.querying.entities import ENTITIES
from domain.persistence.querying.fetch import Query, validate_page
from domain.persistence.querying.spec import Page, PageResult, SortKey
from gql.context import Context
from gql.dataloaders import children
from gql.filters import to_filter
from gql.ordering import to_sort_keys
from gql.pagination import Connection, to_connection


@dataclass(frozen=True)
class ChildRelation:
    """``entity`` rows whose ``parent_column`` holds the parent's id."""

    entity: str
    parent_column: str
    default_order: tuple[SortKey, ...]


def child_loader(
    context: Context, relation: ChildRelation, arguments: dict[str, Any]
) -> DataLoader[int, PageResult]:
    """The loader of one relation with one set of arguments (``filter``, ``orderBy``, paging).

    Remembered per request by the raw arguments, so the 50 customers of a page share one loader
    without rebuilding its query 50 times.
    """
    memo_key = ("child", relation, repr(sorted(arguments.items())))
    loader = context.loaders.recall(memo_key)
    if loader is None:
        query = Query(
            ENTITIES[relation.entity],
            to_filter(relation.entity, arguments.get("filter")),
            to_sort_keys(arguments.get("orderBy"), relation.default_order),
            scope=context.scope,
        )
        page = validate_page(
            Page(
                first=arguments.get("first"),
                after=arguments.get("after"),
                last=arguments.get("last"),
                before=arguments.get("before"),
            )
        )
        loader = children(context, query, relation.parent_column, page)
        context.loaders.remember(memo_key, loader)
    return loader


async def _later(pending: Awaitable[PageResult]) -> Connection[Any]:
    return to_connection(await pending)


def child_connection(
    context: Context, relation: ChildRelation, parent_id: int, arguments: dict[str, Any]
) -> Connection[Any] | Awaitable[Connection[Any]]:
    """The parent's page; synchronous when the loader already has it (see gql.prefetch)."""
    pending = child_loader(context, relation, arguments).load(parent_id)
    if getattr(pending, "done", lambda: False)():
        return to_connection(pending.result())  # type: ignore[attr-defined]
    return _later(pending)
