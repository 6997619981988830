"""Relay connections over keyset pages (see domain.persistence.querying.keyset)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

import strawberry

from domain.persistence.querying.spec import PageResult

T = TypeVar("T")


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type(description="A page of records with keyset cursors; totalCount ignores paging.")
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    known_total: strawberry.Private[int | None]
    count_total: strawberry.Private[Callable[[], Awaitable[int]] | None]

    @strawberry.field(description="Number of records matching the filter, across all pages.")
    async def total_count(self) -> int:
        if self.known_total is not None:
            return self.known_total
        assert self.count_total is not None
        return await self.count_total()


class LazyEdge:
    """An edge whose cursor is encoded on first access (served as ``Edge`` by GraphQL)."""

    __slots__ = ("_cursors", "_index", "node")

    def __init__(self, cursors: Sequence[str], index: int, node: Any) -> None:
        self._cursors = cursors
        self._index = index
        self.node = node

    @property
    def cursor(self) -> str:
        return self._cursors[self._index]


def to_connection(
    result: PageResult, count_total: Callable[[], Awaitable[int]] | None = None
) -> Connection[T]:
    return Connection(
        edges=[LazyEdge(result.cursors, i, row) for i, row in enumerate(result.rows)],  # type: ignore[misc]
        page_info=PageInfo(
            has_next_page=result.has_next_page,
            has_previous_page=result.has_previous_page,
            start_cursor=result.cursors[0] if result.cursors else None,
            end_cursor=result.cursors[-1] if result.cursors else None,
        ),
        known_total=result.total_count,
        count_total=count_total,
    )
