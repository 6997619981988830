"""The vocabulary of a read query, independent of GraphQL: filters, ordering, paging."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Quantifier = Literal["some", "none", "every"]


@dataclass(frozen=True)
class Condition:
    """``field <op> value`` on one of the entity's own fields."""

    field: str
    op: str
    value: Any


@dataclass(frozen=True)
class AllOf:
    items: tuple[Filter, ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Filter, ...]


@dataclass(frozen=True)
class Negation:
    item: Filter


@dataclass(frozen=True)
class Related:
    """A condition on the record a to-one relation points to (``organization: {...}``)."""

    relation: str
    filter: Filter


@dataclass(frozen=True)
class Quantified:
    """A condition on the records of a to-many relation (``opportunities: {some: {...}}``)."""

    relation: str
    quantifier: Quantifier
    filter: Filter


Filter = Condition | AllOf | AnyOf | Negation | Related | Quantified


@dataclass(frozen=True)
class SortKey:
    field: str
    descending: bool = False
    nulls_first: bool | None = None  # None: NULLs sort as the larger value (PostgreSQL's default)


@dataclass(frozen=True)
class Page:
    """Relay paging arguments, already validated (``first`` xor ``last``, capped)."""

    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None


@dataclass
class PageResult:
    rows: list[Any]
    cursors: Sequence[str]
    has_next_page: bool
    has_previous_page: bool
    total_count: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
