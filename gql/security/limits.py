"""Static limits on a GraphQL document: nesting depth and number of aliases.

Strawberry ships ``QueryDepthLimiter`` and ``MaxAliasesLimiter``, but their errors carry no
code and the depth limiter never says how deep the query was; clients (and the security
suite) need both. One validation rule measures both in a single walk, expanding each fragment
once (memoised), so a document of many small fragments costs linear time. Fragment cycles are
left to graphql-core's ``NoFragmentCyclesRule``; this walk only refuses to loop on them.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)


@dataclass(frozen=True)
class QueryLimits:
    """What one request may ask for; see ``app.settings.Settings`` for the defaults."""

    max_depth: int
    max_aliases: int
    max_tokens: int
    max_cost: int


@dataclass(frozen=True)
class _Shape:
    depth: int
    aliases: int


_EMPTY = _Shape(depth=0, aliases=0)


class _ShapeMeasurer:
    def __init__(self, document: DocumentNode) -> None:
        self.fragments = {
            definition.name.value: definition
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        }
        self.measured: dict[str, _Shape] = {}
        self.in_progress: set[str] = set()

    def selection_set(self, selection_set: SelectionSetNode | None) -> _Shape:
        if selection_set is None:
            return _EMPTY
        depth = aliases = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                inner = self.selection_set(selection.selection_set)
                depth = max(depth, 1 + inner.depth)
                aliases += inner.aliases + (1 if selection.alias else 0)
            elif isinstance(selection, InlineFragmentNode):
                inner = self.selection_set(selection.selection_set)
                depth = max(depth, inner.depth)
                aliases += inner.aliases
            elif isinstance(selection, FragmentSpreadNode):
                inner = self.fragment(selection.name.value)
                depth = max(depth, inner.depth)
                aliases += inner.aliases
        return _Shape(depth=depth, aliases=aliases)

    def fragment(self, name: str) -> _Shape:
        if name in self.measured:
            return self.measured[name]
        definition = self.fragments.get(name)
        if definition is None or name in self.in_progress:
            return _EMPTY  # unknown or cyclic: other validation rules report it
        self.in_progress.add(name)
        shape = self.selection_set(definition.selection_set)
        self.in_progress.discard(name)
        self.measured[name] = shape
        return shape


def limit_error(code: str, message: str, *, limit: int, actual: int | None) -> GraphQLError:
    extensions: dict[str, object] = {"code": code, "limit": limit}
    if actual is not None:
        extensions["actual"] = actual
    return GraphQLError(message, extensions=extensions)


def shape_rule(limits: QueryLimits) -> type[ValidationRule]:
    """A validation rule rejecting operations deeper or with more aliases than ``limits``."""

    class DocumentShapeRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            measurer = _ShapeMeasurer(context.document)
            for definition in context.document.definitions:
                if isinstance(definition, OperationDefinitionNode):
                    self.check(measurer.selection_set(definition.selection_set))

        def check(self, shape: _Shape) -> None:
            if shape.depth > limits.max_depth:
                self.report_error(
                    limit_error(
                        "QUERY_TOO_DEEP",
                        f"Query depth {shape.depth} exceeds the limit of {limits.max_depth}",
                        limit=limits.max_depth,
                        actual=shape.depth,
                    )
                )
            if shape.aliases > limits.max_aliases:
                self.report_error(
                    limit_error(
                        "TOO_MANY_ALIASES",
                        f"{shape.aliases} aliases exceed the limit of {limits.max_aliases}",
                        limit=limits.max_aliases,
                        actual=shape.aliases,
                    )
                )

    return DocumentShapeRule
