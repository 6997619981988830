"""Look-ahead loading: fetch every relation a query selects, level by level, before GraphQL
walks the result.

DataLoaders already make a request cost one statement per relation and level; what they cannot
avoid is graphql-core resolving each of hundreds of relation fields asynchronously (a future,
a task and a callback per field). Prefetching fills the same per-request loaders up front, with
the same batched statements, so that the relation fields of :mod:`gql.fields` find their values
ready and resolve synchronously. Fields it does not know are left to their resolvers.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLIncludeDirective,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSkipDirective,
    GraphQLUnionType,
    InlineFragmentNode,
    SelectionSetNode,
    get_named_type,
)
from graphql.execution.values import (
    VariableValues,
    get_argument_values,
    get_directive_values,
)

from gql.context import Context
from gql.dataloaders import by_id
from gql.fields import ParentRelation, relation_of
from gql.nested import ChildRelation, child_loader

#: Prefetching stops this deep; anything below is still loaded, just by the resolvers.
MAX_DEPTH = 6


def _variables(info: GraphQLResolveInfo) -> VariableValues:
    """Strawberry hands resolvers the coerced dict; graphql-core's helpers want the container."""
    values: Any = info.variable_values
    return values if isinstance(values, VariableValues) else VariableValues({}, dict(values))


def _included(node: Any, info: GraphQLResolveInfo) -> bool:
    variables = _variables(info)
    skip = get_directive_values(GraphQLSkipDirective, node, variables)
    if skip and skip.get("if") is True:
        return False
    include = get_directive_values(GraphQLIncludeDirective, node, variables)
    return not (include and include.get("if") is False)


def _applies(type_condition: Any, object_type: GraphQLObjectType) -> bool:
    if type_condition is None:
        return True
    name = type_condition.name.value
    return name == object_type.name or any(i.name == name for i in object_type.interfaces)


def collect_fields(
    info: GraphQLResolveInfo, object_type: GraphQLObjectType, nodes: Iterable[FieldNode]
) -> dict[str, list[FieldNode]]:
    """The sub-fields selected on ``object_type`` under ``nodes``, by response key."""
    fields: dict[str, list[FieldNode]] = defaultdict(list)

    def visit(selection_set: SelectionSetNode | None) -> None:
        if selection_set is None:
            return
        for selection in selection_set.selections:
            if not _included(selection, info):
                continue
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                fields[key].append(selection)
            elif isinstance(selection, InlineFragmentNode):
                if _applies(selection.type_condition, object_type):
                    visit(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = info.fragments.get(selection.name.value)
                if fragment is not None and _applies(fragment.type_condition, object_type):
                    visit(fragment.selection_set)

    for node in nodes:
        visit(node.selection_set)
    return fields


def _concrete_types(info: GraphQLResolveInfo, named: Any) -> list[GraphQLObjectType]:
    if isinstance(named, GraphQLObjectType):
        return [named]
    if isinstance(named, GraphQLInterfaceType | GraphQLUnionType):
        return list(info.schema.get_possible_types(named))
    return []


def _by_type(
    info: GraphQLResolveInfo, rows: Sequence[Any], named: Any
) -> dict[str, tuple[GraphQLObjectType, list[Any]]]:
    types = _concrete_types(info, named)
    grouped: dict[str, tuple[GraphQLObjectType, list[Any]]] = {}
    for row in rows:
        for object_type in types:
            if len(types) == 1 or (object_type.is_type_of and object_type.is_type_of(row, info)):
                grouped.setdefault(object_type.name, (object_type, []))[1].append(row)
                break
    return grouped


async def prefetch(
    info: GraphQLResolveInfo,
    rows: Sequence[Any],
    named_type: Any,
    nodes: Sequence[FieldNode],
    depth: int = 0,
) -> None:
    """Load what ``nodes`` select on ``rows`` (of GraphQL type ``named_type``), recursively."""
    if not rows or depth >= MAX_DEPTH:
        return
    work = []
    for object_type, typed_rows in _by_type(info, rows, named_type).values():
        for field_nodes in collect_fields(info, object_type, nodes).values():
            definition = object_type.fields.get(field_nodes[0].name.value)
            relation = relation_of(definition.resolve) if definition else None
            if definition is None or relation is None:
                continue
            arguments = get_argument_values(definition, field_nodes[0], _variables(info))
            target = get_named_type(definition.type)
            work.append(_follow(info, relation, arguments, typed_rows, target, field_nodes, depth))
    if work:
        # A failure here (a bad page size, say) is left for the field's own resolver to raise
        # where it belongs in the response.
        await asyncio.gather(*work, return_exceptions=True)


async def _follow(
    info: GraphQLResolveInfo,
    relation: ParentRelation | ChildRelation,
    arguments: dict[str, Any],
    rows: list[Any],
    target: Any,
    nodes: list[FieldNode],
    depth: int,
) -> None:
    context: Context = info.context
    if isinstance(relation, ParentRelation):
        keys = sorted({pk for r in rows if (pk := getattr(r, relation.column)) is not None})
        found = await by_id(context, relation.entity).load_many(keys)
        await prefetch(info, [f for f in found if f is not None], target, nodes, depth + 1)
        return
    pages = await child_loader(context, relation, arguments).load_many([r.id for r in rows])
    children = [row for page in pages for row in page.rows]
    # Connection -> edges -> node
    edges_nodes = [
        n
        for group in collect_fields(info, target, nodes).values()
        for n in group
        if n.name.value == "edges"
    ]
    edge_type = get_named_type(target.fields["edges"].type)
    node_nodes = [
        n
        for group in collect_fields(info, edge_type, edges_nodes).values()
        for n in group
        if n.name.value == "node"
    ]
    node_type = get_named_type(edge_type.fields["node"].type)
    await prefetch(info, children, node_type, node_nodes, depth + 1)


async def prefetch_connection(info: GraphQLResolveInfo, rows: Sequence[Any]) -> None:
    """Prefetch for a top-level connection field being resolved (``info`` is its own)."""
    connection_type = get_named_type(info.return_type)
    if not isinstance(connection_type, GraphQLObjectType) or "edges" not in connection_type.fields:
        return
    edges_nodes = [
        n
        for group in collect_fields(info, connection_type, info.field_nodes).values()
        for n in group
        if n.name.value == "edges"
    ]
    edge_type = get_named_type(connection_type.fields["edges"].type)
    node_nodes = [
        n
        for group in collect_fields(info, edge_type, edges_nodes).values()
        for n in group
        if n.name.value == "node"
    ]
    await prefetch(info, rows, get_named_type(edge_type.fields["node"].type), node_nodes)
