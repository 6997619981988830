"""Filter trees to SQL ``WHERE`` fragments with ``?`` placeholders.

Relations become ``IN (SELECT ...)`` subqueries rather than joins, so a filter never multiplies
rows and any depth of nesting is one statement.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from itertools import count
from typing import Any

from domain.errors import ValidationFailed
from domain.persistence.querying.entities import ENTITIES, EntitySpec, FieldSpec
from domain.persistence.querying.scope import Scope
from domain.persistence.querying.spec import (
    AllOf,
    AnyOf,
    Condition,
    Filter,
    Negation,
    Quantified,
    Related,
)
from domain.text import fold, normalize_tag

_OPS_BY_KIND: dict[str, set[str]] = {
    "text": {"eq", "ne", "in", "notIn", "contains", "startsWith", "isNull"},
    "exact": {"eq", "ne", "in", "notIn", "contains", "startsWith", "isNull"},
    "enum": {"eq", "ne", "in", "notIn", "isNull"},
    "number": {"eq", "ne", "in", "notIn", "lt", "lte", "gt", "gte", "isNull"},
    "datetime": {"eq", "ne", "in", "notIn", "lt", "lte", "gt", "gte", "isNull"},
    "date": {"eq", "ne", "in", "notIn", "lt", "lte", "gt", "gte", "isNull"},
    "bool": {"eq", "ne", "isNull"},
    "id": {"eq", "ne", "in", "notIn", "isNull"},
    "tags": {"has", "hasAny", "hasAll", "hasNone", "isEmpty"},
}
_COMPARE = {"eq": "=", "ne": "<>", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}


class SqlParams:
    """Collects parameters in order and hands out fresh table aliases."""

    def __init__(self) -> None:
        self.values: list[Any] = []
        self._aliases = count()

    def add(self, value: Any) -> str:
        self.values.append(value)
        return "?"

    def alias(self) -> str:
        return f"t{next(self._aliases)}"


def db_value(value: Any) -> Any:
    """Parameters in the form both drivers compare correctly against stored values.

    Datetimes are stored in UTC (SQLite keeps ISO text, so the zone must match to compare).
    """
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        try:
            return value.astimezone(dt.UTC)
        except OverflowError as exc:  # year 1 at +07:00 has no UTC representation
            raise ValidationFailed("filter", f"datetime out of range: {value}") from exc
    return value


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _scalar(spec: FieldSpec, value: Any) -> Any:
    if spec.kind == "text":
        return fold(str(value))
    if spec.kind == "number" and isinstance(value, float):
        return Decimal(str(value))
    return db_value(value)


def _condition_sql(
    entity: EntitySpec, alias: str, cond: Condition, params: SqlParams, scope: Scope
) -> str:
    spec = entity.fields.get(cond.field)
    if spec is None:
        raise ValidationFailed("filter", f"{entity.name} has no filterable field {cond.field!r}")
    scope.check_field(entity.name, cond.field)
    if cond.op not in _OPS_BY_KIND[spec.kind]:
        raise ValidationFailed(
            "filter", f"operator {cond.op!r} does not apply to {entity.name}.{cond.field}"
        )
    column = spec.operand(alias)
    op, value = cond.op, cond.value
    if spec.kind == "tags":
        return _tags_sql(column, op, value, params)
    if op == "isNull":
        return f"{column} IS NULL" if value else f"{column} IS NOT NULL"
    if op in ("in", "notIn"):
        values = [_scalar(spec, v) for v in value]
        if not values:
            return "1=0" if op == "in" else "1=1"
        marks = ", ".join(params.add(v) for v in values)
        return f"{column} {'IN' if op == 'in' else 'NOT IN'} ({marks})"
    if op in ("contains", "startsWith"):
        needle = _like_escape(_scalar(spec, value) if spec.kind == "text" else str(value))
        pattern = f"%{needle}%" if op == "contains" else f"{needle}%"
        return f"{column} LIKE {params.add(pattern)} ESCAPE '\\'"
    if op == "ne":
        # SQL's "<>" drops NULLs; "not equal to X" should keep records with no value.
        return f"({column} IS NULL OR {column} <> {params.add(_scalar(spec, value))})"
    return f"{column} {_COMPARE[op]} {params.add(_scalar(spec, value))}"


def _tags_sql(column: str, op: str, value: Any, params: SqlParams) -> str:
    if op == "isEmpty":
        return f"{column} = ''" if value else f"{column} <> ''"
    tags = [value] if op == "has" else list(value)
    parts = []
    for tag in tags:
        slug = normalize_tag(str(tag)) or str(tag)
        parts.append(f"{column} LIKE {params.add('%|' + _like_escape(slug) + '|%')} ESCAPE '\\'")
    if not parts:
        return "1=1" if op in ("hasAll", "hasNone") else "1=0"
    if op == "hasNone":
        return "NOT (" + " OR ".join(parts) + ")"
    return "(" + (" OR " if op == "hasAny" else " AND ").join(parts) + ")"


def live_condition(entity: EntitySpec, alias: str, scope: Scope) -> str:
    """Rows a query sees by default: not soft-deleted, of the entity's kind, and in scope."""
    parts = []
    if entity.soft_delete:
        parts.append(f"{alias}.deleted_at IS NULL")
    if entity.base_condition:
        parts.append(f"{alias}.{entity.base_condition}")
    restriction = scope.condition(entity.name, alias)
    if restriction is not None:
        parts.append(restriction)
    return " AND ".join(parts) or "1=1"


def compile_filter(
    entity: EntitySpec, alias: str, node: Filter, params: SqlParams, scope: Scope
) -> str:
    """``node`` as SQL on ``alias``; relation filters only see related rows in ``scope``."""
    if isinstance(node, Condition):
        return _condition_sql(entity, alias, node, params, scope)
    if isinstance(node, AllOf):
        if not node.items:
            return "1=1"
        return (
            "("
            + " AND ".join(compile_filter(entity, alias, i, params, scope) for i in node.items)
            + ")"
        )
    if isinstance(node, AnyOf):
        if not node.items:
            return "1=0"
        return (
            "("
            + " OR ".join(compile_filter(entity, alias, i, params, scope) for i in node.items)
            + ")"
        )
    if isinstance(node, Negation):
        return f"NOT ({compile_filter(entity, alias, node.item, params, scope)})"
    relation = entity.relations.get(node.relation)
    if relation is None:
        raise ValidationFailed("filter", f"{entity.name} has no relation {node.relation!r}")
    target = ENTITIES[relation.target]
    sub = params.alias()
    if isinstance(node, Related):
        if relation.many:
            raise ValidationFailed("filter", f"{node.relation} is a list: use some/none/every")
        inner = compile_filter(target, sub, node.filter, params, scope)
        return (
            f"{alias}.{relation.column} IN (SELECT {sub}.id FROM {target.table} {sub} "
            f"WHERE {live_condition(target, sub, scope)} AND {inner})"
        )
    assert isinstance(node, Quantified)
    if not relation.many:
        raise ValidationFailed("filter", f"{node.relation} is a single record: filter it directly")
    inner = compile_filter(target, sub, node.filter, params, scope)
    if node.quantifier == "every":
        inner = f"NOT ({inner})"
    subquery = (
        f"SELECT {sub}.{relation.column} FROM {target.table} {sub} "
        f"WHERE {live_condition(target, sub, scope)} AND {sub}.{relation.column} IS NOT NULL "
        f"AND {inner}"
    )
    negate = node.quantifier in ("none", "every")
    return f"{alias}.id {'NOT IN' if negate else 'IN'} ({subquery})"
