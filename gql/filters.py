"""Filter inputs (operators per field kind, ``and``/``or``/``not``, relations) and their
translation to the domain's filter tree."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from enum import Enum
from typing import Any, Generic, TypeVar

import strawberry

from domain.persistence.querying.entities import ENTITIES
from domain.persistence.querying.spec import (
    AllOf,
    AnyOf,
    Condition,
    Filter,
    Negation,
    Quantified,
    Related,
)
from gql import enums
from gql.ids import decode_pk

E = TypeVar("E")

#: GraphQL types whose ids a filter on an entity accepts.
ID_TYPES = {"Customer": ("Person", "Organization")}


@strawberry.input(description="Text operators; matching ignores case and accents.")
class StringFilter:
    eq: str | None = strawberry.UNSET
    ne: str | None = strawberry.UNSET
    in_: list[str] | None = strawberry.field(name="in", default=strawberry.UNSET)
    not_in: list[str] | None = strawberry.UNSET
    contains: str | None = strawberry.UNSET
    starts_with: str | None = strawberry.UNSET
    is_null: bool | None = strawberry.UNSET


@strawberry.input
class IDFilter:
    eq: strawberry.ID | None = strawberry.UNSET
    ne: strawberry.ID | None = strawberry.UNSET
    in_: list[strawberry.ID] | None = strawberry.field(name="in", default=strawberry.UNSET)
    not_in: list[strawberry.ID] | None = strawberry.UNSET
    is_null: bool | None = strawberry.UNSET


@strawberry.input
class IntFilter:
    eq: int | None = strawberry.UNSET
    ne: int | None = strawberry.UNSET
    in_: list[int] | None = strawberry.field(name="in", default=strawberry.UNSET)
    not_in: list[int] | None = strawberry.UNSET
    lt: int | None = strawberry.UNSET
    lte: int | None = strawberry.UNSET
    gt: int | None = strawberry.UNSET
    gte: int | None = strawberry.UNSET
    is_null: bool | None = strawberry.UNSET


@strawberry.input
class DecimalFilter:
    eq: Decimal | None = strawberry.UNSET
    ne: Decimal | None = strawberry.UNSET
    in_: list[Decimal] | None = strawberry.field(name="in", default=strawberry.UNSET)
    not_in: list[Decimal] | None = strawberry.UNSET
    lt: Decimal | None = strawberry.UNSET
    lte: Decimal | None = strawberry.UNSET
    gt: Decimal | None = strawberry.UNSET
    gte: Decimal | None = strawberry.UNSET
    is_null: bool | None = strawberry.UNSET


@strawberry.input
class DateTimeFilter:
    eq: dt.datetime | None = strawberry.UNSET
    ne: dt.datetime | None = strawberry.UNSET
    in_: list[dt.datetime] | None = strawberry.field(name="in", default=strawberry.UNSET)
    not_in: list[dt.datetime] | None = strawberry.UNSET
    lt: dt.datetime | None = strawberry.UNSET
    lte: dt.datetime | None = strawberry.UNSET
    gt: dt.datetime | None = strawberry.UNSET
    gte: dt.datetime | None = strawberry.UNSET
    is_null: bool | None = strawberry.UNSET


@strawberry.input
class DateFilter:
    eq: dt.date | None = strawberry.UNSET
    ne: dt.date | None = strawberry.UNSET
    in_: list[dt.date] | None = strawberry.field(name="in", default=strawberry.UNSET)
    not_in: list[dt.date] | None = strawberry.UNSET
    lt: dt.date | None = strawberry.UNSET
    lte: dt.date | None = strawberry.UNSET
    gt: dt.date | None = strawberry.UNSET
    gte: dt.date | None = strawberry.UNSET
    is_null: bool | None = strawberry.UNSET


@strawberry.input
class BooleanFilter:
    eq: bool | None = strawberry.UNSET
    ne: bool | None = strawberry.UNSET
    is_null: bool | None = strawberry.UNSET


@strawberry.input(description="Tag operators: has one tag, any of, all of, none of.")
class TagFilter:
    has: str | None = strawberry.UNSET
    has_any: list[str] | None = strawberry.UNSET
    has_all: list[str] | None = strawberry.UNSET
    has_none: list[str] | None = strawberry.UNSET
    is_empty: bool | None = strawberry.UNSET


@strawberry.input
class EnumFilter(Generic[E]):
    eq: E | None = strawberry.UNSET
    ne: E | None = strawberry.UNSET
    in_: list[E] | None = strawberry.field(name="in", default=strawberry.UNSET)
    not_in: list[E] | None = strawberry.UNSET
    is_null: bool | None = strawberry.UNSET


def _camel(name: str) -> str:
    head, *rest = name.rstrip("_").split("_")
    return head + "".join(part.title() for part in rest)


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return tuple(_plain(v) for v in value)
    return value


def _given(obj: Any) -> list[tuple[str, Any]]:
    """``(GraphQL name, value)`` of the fields a client set, from a Strawberry input object or
    from the dict graphql-core coerced it to (the fast resolver path)."""
    if isinstance(obj, dict):
        return [(k, v) for k, v in obj.items() if v is not None and v is not strawberry.UNSET]
    out = []
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if value is not strawberry.UNSET and value is not None:
            out.append((_camel(f.name), value))
    return out


def _operator_conditions(entity: str, field: str, ops: Any) -> list[Filter]:
    kind = ENTITIES[entity].fields[field].kind
    types = ID_TYPES.get(entity, (entity,))
    out: list[Filter] = []
    for op, value in _given(ops):
        if kind == "id" and op != "isNull":
            if isinstance(value, list):
                value = tuple(decode_pk(v, *types, field=f"filter.{field}") for v in value)
            else:
                value = decode_pk(value, *types, field=f"filter.{field}")
        out.append(Condition(field, op, _plain(value)))
    return out


def to_filter(entity: str, value: Any) -> Filter | None:
    """Translate a filter input object into the domain's filter tree (None when empty)."""
    if value is None or value is strawberry.UNSET:
        return None
    spec = ENTITIES[entity]
    parts: list[Filter] = []
    for name, given in _given(value):
        if name == "and":
            parts.append(AllOf(tuple(f for f in (to_filter(entity, v) for v in given) if f)))
        elif name == "or":
            parts.append(AnyOf(tuple(f for f in (to_filter(entity, v) for v in given) if f)))
        elif name == "not":
            inner = to_filter(entity, given)
            if inner is not None:
                parts.append(Negation(inner))
        elif name in spec.relations:
            relation = spec.relations[name]
            if relation.many:
                for quantifier, sub in _given(given):
                    inner = to_filter(relation.target, sub) or AllOf(())
                    parts.append(Quantified(name, quantifier, inner))  # type: ignore[arg-type]
            else:
                inner = to_filter(relation.target, given)
                if inner is not None:
                    parts.append(Related(name, inner))
        else:
            parts.extend(_operator_conditions(entity, name, given))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else AllOf(tuple(parts))


__all__ = [
    "BooleanFilter",
    "DateFilter",
    "DateTimeFilter",
    "DecimalFilter",
    "EnumFilter",
    "IDFilter",
    "IntFilter",
    "StringFilter",
    "TagFilter",
    "enums",
    "to_filter",
]
