"""Field factories whose resolvers also run on a fast path.

Strawberry wraps every custom resolver in argument conversion, ``Info`` construction and
extension chaining: about 30 µs a call, which dominates a page of 50 customers with their owners,
deals and interactions (hundreds of such calls). Fields built here declare their GraphQL type
and arguments through Strawberry as usual (so the schema is unchanged), and register a plain
``(root, info, **arguments)`` function that :func:`install_fast_resolvers` puts directly on the
built graphql-core schema. Both paths call the same code; tests exercise the fast one.

Arguments reach the fast path as graphql-core coerced them (input objects as dicts keyed by
GraphQL names, enums as members), which is what ``gql.filters.to_filter`` and
``gql.ordering.to_sort_keys`` accept.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import strawberry
from graphql import GraphQLObjectType, GraphQLResolveInfo
from strawberry.schema.schema_converter import GraphQLCoreConverter

from domain.persistence.querying.spec import SortKey
from gql.context import Context
from gql.dataloaders import by_id
from gql.nested import ChildRelation, child_connection

FastResolver = Callable[..., Any]
_FAST: dict[Callable[..., Any], FastResolver] = {}


def fast(implementation: FastResolver) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``implementation`` as the fast path of the decorated Strawberry resolver."""

    def register(resolver: Callable[..., Any]) -> Callable[..., Any]:
        _FAST[resolver] = implementation
        return resolver

    return register


def install_fast_resolvers(schema: strawberry.Schema) -> int:
    """Point every registered field of the built schema at its fast resolver; return the count."""
    installed = 0
    for graphql_type in schema._schema.type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType):
            continue
        for graphql_field in graphql_type.fields.values():
            definition = (graphql_field.extensions or {}).get(
                GraphQLCoreConverter.DEFINITION_BACKREF
            )
            base = getattr(definition, "base_resolver", None)
            implementation = _FAST.get(getattr(base, "wrapped_func", None))  # type: ignore[arg-type]
            if implementation is not None:
                graphql_field.resolve = implementation
                installed += 1
    return installed


def _load(context: Context, entity: str, pk: int | None) -> Any:
    """The row, synchronously when the loader already holds it (see gql.prefetch)."""
    if pk is None:
        return None
    pending = by_id(context, entity).load(pk)
    return pending.result() if pending.done() else pending  # type: ignore[attr-defined]


@dataclass(frozen=True)
class ParentRelation:
    """A to-one relation: the ``entity`` row whose id is in the root's ``column``."""

    entity: str
    column: str


def relation_of(resolve: Any) -> ParentRelation | ChildRelation | None:
    """The relation a fast resolver follows, for prefetching; None for other fields."""
    return getattr(resolve, "relation", None)


def to_one(entity: str, column: str, *, description: str | None = None) -> Any:
    """A field returning the ``entity`` row whose id is in ``root.<column>`` (batched)."""

    def fast_path(root: Any, info: GraphQLResolveInfo) -> Any:
        return _load(info.context, entity, getattr(root, column))

    fast_path.relation = ParentRelation(entity, column)  # type: ignore[attr-defined]

    @fast(fast_path)
    async def resolve(root: strawberry.Parent[Any], info: strawberry.Info[Context, None]) -> Any:
        return await _awaited(_load(info.context, entity, getattr(root, column)))

    return strawberry.field(resolver=resolve, description=description)


async def _awaited(value: Any) -> Any:
    return (await value) if inspect.isawaitable(value) else value


def computed(function: Callable[[Any], Any], *, description: str | None = None) -> Any:
    """A field computed from the row alone (no I/O)."""

    @fast(lambda root, _info: function(root))
    def resolve(root: strawberry.Parent[Any]) -> Any:
        return function(root)

    return strawberry.field(resolver=resolve, description=description)


def to_many(
    entity: str,
    parent_column: str,
    *,
    filter_type: Any,
    order_type: Any,
    default_order: tuple[SortKey, ...],
    description: str | None = None,
) -> Any:
    """A connection of ``entity`` rows whose ``parent_column`` is the root's id, with its own
    filter, ordering and paging arguments (one windowed statement for all parents)."""
    relation = ChildRelation(entity, parent_column, default_order)

    def fast_path(root: Any, info: GraphQLResolveInfo, **arguments: Any) -> Any:
        return child_connection(info.context, relation, root.id, arguments)

    fast_path.relation = relation  # type: ignore[attr-defined]

    @fast(fast_path)
    async def resolve(
        root: strawberry.Parent[Any],
        info: strawberry.Info[Context, None],
        filter: Any = None,
        order_by: Any = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Any:
        arguments = {
            "filter": filter,
            "orderBy": order_by,
            "first": first,
            "after": after,
            "last": last,
            "before": before,
        }
        return await _awaited(child_connection(info.context, relation, root.id, arguments))

    resolve.__annotations__ = {
        "root": strawberry.Parent[Any],  # type: ignore[misc]
        "info": strawberry.Info[Context, None],
        "filter": filter_type | None,
        "order_by": list[order_type] | None,
        "first": int | None,
        "after": str | None,
        "last": int | None,
        "before": str | None,
        "return": Any,
    }
    return strawberry.field(resolver=resolve, description=description)
