"""The computed cost of an operation: how many records it may make the server resolve.

Page sizes multiply nested costs: ``customers(first: 100) { opportunities(first: 10) }``
may load 100 customers and 10 deals for each, 1,100 records. Rules, per field:

- a connection (a type with ``edges`` and ``pageInfo``) costs its page size times (one for each
  record plus what is selected inside each record); the page size is ``first``/``last``
  (literal or variable), else the argument's default in the schema, else the server's cap
  (``MAX_PAGE_SIZE``: a connection without ``first`` returns a full page);
- a field with ``ids`` (``nodes``) costs one per id; any other list of objects costs
  ``UNPAGED_LIST_SIZE`` items; any other object costs one plus its selection;
- scalars, edges, ``pageInfo`` and introspection fields cost nothing of their own.

It needs the variables, so it runs as the operation starts executing (after validation, which
the ``ValidationCache`` shares between requests with different variables): over a valid
document, whose fragments are known to be acyclic. Each fragment is costed once.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLArgument,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
)
from graphql.utilities import get_operation_ast
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from domain.persistence.querying.fetch import MAX_PAGE_SIZE
from gql.security.limits import limit_error

#: Assumed length of lists that take no page size (stage history, pipelines, workflows).
UNPAGED_LIST_SIZE = 10


def _is_connection(named: GraphQLNamedType) -> bool:
    return isinstance(named, GraphQLObjectType) and {"edges", "pageInfo"} <= named.fields.keys()


def _is_structural(named: GraphQLNamedType) -> bool:
    """Edges and page info wrap records the connection already counted."""
    if not isinstance(named, GraphQLObjectType):
        return False
    fields = named.fields.keys()
    return {"cursor", "node"} <= fields or named.name == "PageInfo"


class _CostCounter:
    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = {
            definition.name.value: definition
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        }
        self.variables = dict(variables)
        for definition in operation.variable_definitions or ():
            name = definition.variable.name.value
            if name not in self.variables and isinstance(definition.default_value, IntValueNode):
                self.variables[name] = int(definition.default_value.value)
        self.fragment_costs: dict[str, int] = {}

    def selection_set(
        self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType | None
    ) -> int:
        if selection_set is None or parent is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selection_set(selection.selection_set, target)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value)
        return total

    def fragment(self, name: str) -> int:
        if name not in self.fragment_costs:
            self.fragment_costs[name] = 0  # a cycle (already rejected by validation) adds nothing
            definition = self.fragments.get(name)
            if definition is not None:
                target = self.schema.get_type(definition.type_condition.name.value)
                self.fragment_costs[name] = self.selection_set(definition.selection_set, target)
        return self.fragment_costs[name]

    def field(self, node: FieldNode, parent: GraphQLNamedType) -> int:
        name = node.name.value
        if name.startswith("__") or not isinstance(
            parent, GraphQLObjectType | GraphQLInterfaceType
        ):
            return 0
        definition = parent.fields.get(name)
        if definition is None:
            return 0
        if node.selection_set is None:
            return 0
        named = get_named_type(definition.type)
        inner = self.selection_set(node.selection_set, named)
        if _is_structural(named) or _is_structural(parent):
            return inner  # the connection counted each record once
        arguments = {argument.name.value: argument.value for argument in node.arguments or ()}
        if _is_connection(named):
            return self.page_size(arguments, definition.args) * (1 + inner)
        if "ids" in definition.args:
            return self.id_count(arguments.get("ids")) * (1 + inner)
        if isinstance(get_nullable_type(definition.type), GraphQLList):
            size = self.page_size(arguments, definition.args, unpaged=UNPAGED_LIST_SIZE)
            return size * (1 + inner)
        return 1 + inner

    def page_size(
        self,
        arguments: Mapping[str, ValueNode],
        declared: Mapping[str, GraphQLArgument],
        *,
        unpaged: int = MAX_PAGE_SIZE,
    ) -> int:
        if not ({"first", "last"} & declared.keys()):
            return unpaged
        for name in ("first", "last"):
            value = self.value(arguments.get(name))
            if value is not None:
                return _clamp(value)
        for name in ("first", "last"):
            default = declared[name].default_value if name in declared else None
            if isinstance(default, int):
                return _clamp(default)
        return MAX_PAGE_SIZE

    def id_count(self, node: ValueNode | None) -> int:
        if isinstance(node, ListValueNode):
            return len(node.values)
        value = self.value(node)
        return len(value) if isinstance(value, list) else UNPAGED_LIST_SIZE

    def value(self, node: ValueNode | None) -> Any:
        if isinstance(node, IntValueNode):
            return int(node.value)
        if isinstance(node, VariableNode):
            return self.variables.get(node.name.value)
        return None


def _clamp(value: object) -> int:
    """Page sizes outside 0..MAX_PAGE_SIZE are refused by the resolvers; cost them at the cap."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_PAGE_SIZE:
        return value
    return MAX_PAGE_SIZE


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None = None,
    variables: Mapping[str, Any] | None = None,
) -> int:
    """The cost of the operation ``operation_name`` of a validated ``document``."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 0
    root = schema.get_root_type(operation.operation)
    counter = _CostCounter(schema, document, operation, variables or {})
    return counter.selection_set(operation.selection_set, root)


class QueryCostLimiter(SchemaExtension):
    """Refuses, before any resolver runs, an operation costing more than ``max_cost``."""

    def __init__(self, max_cost: int) -> None:
        self.max_cost = max_cost

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.result is None and context.graphql_document is not None:
            cost = operation_cost(
                context.schema._schema,
                context.graphql_document,
                context.operation_name,
                context.variables,
            )
            if cost > self.max_cost:
                error = limit_error(
                    "QUERY_TOO_COMPLEX",
                    f"Query cost {cost} exceeds the limit of {self.max_cost}",
                    limit=self.max_cost,
                    actual=cost,
                )
                if context.operation_type is OperationType.SUBSCRIPTION:
                    # Strawberry subscribes regardless of a result set here; an error raised
                    # from this hook becomes the stream's only result, before subscribing.
                    raise error
                context.result = ExecutionResult(data=None, errors=[error])
        yield
