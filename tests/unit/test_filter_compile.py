"""Filter trees to SQL (no application database).

Compiled fragments are also run against an in-memory ``sqlite3`` schema holding every column the
entity registry names, which catches malformed SQL and placeholder/parameter mismatches.
"""

from __future__ import annotations

import datetime as dt
import functools
import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import ValidationFailed
from domain.persistence.querying.compile import (
    _OPS_BY_KIND,
    SqlParams,
    compile_filter,
    live_condition,
)
from domain.persistence.querying.entities import ENTITIES, EntitySpec, FieldSpec
from domain.persistence.querying.scope import EVERYTHING
from domain.persistence.querying.spec import (
    AllOf,
    AnyOf,
    Condition,
    Filter,
    Negation,
    Quantified,
    Related,
)

CUSTOMER = ENTITIES["Customer"]


def compile_(node: Filter, entity: EntitySpec = CUSTOMER) -> tuple[str, list[Any]]:
    params = SqlParams()
    alias = params.alias()
    sql = compile_filter(entity, alias, node, params, EVERYTHING)
    return sql, params.values


# --- an in-memory schema with every column the registry mentions -------------------------


def _schema() -> dict[str, set[str]]:
    tables: dict[str, set[str]] = {}
    for spec in ENTITIES.values():
        columns = tables.setdefault(spec.table, {"id", "deleted_at", "kind"})
        for f in spec.fields.values():
            columns.add(f.column)
            if f.fold_column:
                columns.add(f.fold_column)
        for name, rel in spec.relations.items():
            if rel.many:
                target = ENTITIES[rel.target].table
                tables.setdefault(target, {"id", "deleted_at", "kind"}).add(rel.column)
            else:
                columns.add(rel.column)
            del name
    return tables


@pytest.fixture(scope="module")
def memory_db() -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(":memory:")
    for table, columns in _schema().items():
        conn.execute(f"CREATE TABLE {table} ({', '.join(sorted(columns))})")
    conn.execute(
        "INSERT INTO customers (id, kind, display_name_fold, industry_fold, size, tags) "
        "VALUES (1, 'PERSON', '50%_off\\', NULL, NULL, '|vip|a_b|'), "
        "(2, 'PERSON', '50xxoff', 'ban le', 10, ''), "
        "(3, 'ORGANIZATION', 'nguyen duc thang', 'cong nghe', 20, '|ab|')"
    )
    yield conn
    conn.close()


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | Decimal):
        return str(value)
    return value


def run(conn: sqlite3.Connection, node: Filter, entity: EntitySpec = CUSTOMER) -> list[int]:
    sql, values = compile_(node, entity)
    rows = conn.execute(
        f"SELECT t0.id FROM {entity.table} t0 WHERE {sql} ORDER BY t0.id",
        [_plain(v) for v in values],
    ).fetchall()
    return [r[0] for r in rows]


# --- validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "node",
    [
        Condition("nope", "eq", 1),
        Condition("size", "contains", "1"),
        Condition("size", "has", 1),
        Condition("tags", "eq", "vip"),
        Condition("emailOptIn", "lt", True),
        Condition("kind", "startsWith", "P"),
        Condition("id", "gt", 3),
        Condition("displayName", "gt", "a"),
        Condition("displayName", "bogus", "a"),
        AllOf((Condition("size", "eq", 1), Condition("nope", "eq", 1))),
        AnyOf((Negation(Condition("nope", "isNull", True)),)),
        Related("nope", Condition("name", "eq", "x")),
        Related("opportunities", Condition("amount", "gt", 1)),  # to-many: needs some/none/every
        Quantified("owner", "some", Condition("name", "eq", "x")),  # to-one: filter directly
        Quantified("organization", "every", Condition("size", "gt", 1)),
        Quantified("nope", "some", Condition("size", "gt", 1)),
        Related("owner", Condition("displayName", "eq", "x")),  # a Customer field on User
        Quantified("opportunities", "some", Condition("size", "eq", 1)),
        Quantified("opportunities", "none", Related("customer", Condition("nope", "eq", 1))),
    ],
)
def test_invalid_filters_raise(node: Filter) -> None:
    with pytest.raises(ValidationFailed) as info:
        compile_(node)
    assert info.value.field == "filter"


def test_operators_per_kind_are_accepted() -> None:
    for name, spec in CUSTOMER.fields.items():
        for op in _OPS_BY_KIND[spec.kind]:
            value: Any = ["x"] if op in ("in", "notIn", "hasAny", "hasAll", "hasNone") else "x"
            if op in ("isNull", "isEmpty"):
                value = True
            compile_(Condition(name, op, value))


# --- SQL shape ----------------------------------------------------------------------------


def test_text_is_folded() -> None:
    assert compile_(Condition("displayName", "eq", "Nguyễn Đức  Thắng")) == (
        "t0.display_name_fold = ?",
        ["nguyen duc thang"],
    )
    assert compile_(Condition("industry", "in", ["Bán Lẻ", "Y tế"])) == (
        "t0.industry_fold IN (?, ?)",
        ["ban le", "y te"],
    )


def test_like_wildcards_escaped() -> None:
    sql, values = compile_(Condition("displayName", "contains", "50%_Off\\"))
    assert sql == "t0.display_name_fold LIKE ? ESCAPE '\\'"
    assert values == ["%50\\%\\_off\\\\%"]
    sql, values = compile_(Condition("phone", "startsWith", "+84_9%"))
    assert sql == "t0.primary_phone LIKE ? ESCAPE '\\'"
    assert values == ["+84\\_9\\%%"]
    _, values = compile_(Condition("tags", "has", "a_b"))
    assert values == ["%|a\\_b|%"]


def test_like_escape_semantics(memory_db: sqlite3.Connection) -> None:
    assert run(memory_db, Condition("displayName", "contains", "50%_")) == [1]
    assert run(memory_db, Condition("displayName", "startsWith", "50%_off\\")) == [1]
    assert run(memory_db, Condition("displayName", "contains", "NGUYỄN đức")) == [3]
    assert run(memory_db, Condition("tags", "has", "a_b")) == [1]
    assert run(memory_db, Condition("tags", "has", "a")) == []
    assert run(memory_db, Condition("tags", "hasNone", ["vip", "ab"])) == [2]
    assert run(memory_db, Condition("tags", "isEmpty", True)) == [2]


def test_ne_keeps_nulls(memory_db: sqlite3.Connection) -> None:
    assert compile_(Condition("industry", "ne", "Bán lẻ")) == (
        "(t0.industry_fold IS NULL OR t0.industry_fold <> ?)",
        ["ban le"],
    )
    assert run(memory_db, Condition("industry", "ne", "Bán lẻ")) == [1, 3]
    assert run(memory_db, Condition("size", "ne", 10)) == [1, 3]
    assert run(memory_db, Negation(Condition("size", "eq", 10))) == [3]  # SQL NOT drops NULLs


def test_empty_in_lists(memory_db: sqlite3.Connection) -> None:
    assert compile_(Condition("size", "in", [])) == ("1=0", [])
    assert compile_(Condition("size", "notIn", [])) == ("1=1", [])
    assert compile_(AnyOf(())) == ("1=0", [])
    assert compile_(AllOf(())) == ("1=1", [])
    assert run(memory_db, Condition("id", "in", [])) == []
    assert run(memory_db, Condition("id", "notIn", [])) == [1, 2, 3]
    assert compile_(Condition("tags", "hasAny", [])) == ("1=0", [])
    assert compile_(Condition("tags", "hasAll", [])) == ("1=1", [])
    assert compile_(Condition("tags", "hasNone", [])) == ("1=1", [])


def test_scalars_converted() -> None:
    _, values = compile_(Condition("size", "gte", 1.5))
    assert values == [Decimal("1.5")]
    naive = dt.datetime(2024, 5, 1, 12, 0)
    _, values = compile_(Condition("updatedAt", "lt", naive))
    assert values == [naive.replace(tzinfo=dt.UTC)]
    plus7 = dt.datetime(2024, 5, 1, 19, 0, tzinfo=dt.timezone(dt.timedelta(hours=7)))
    _, values = compile_(Condition("updatedAt", "lt", plus7))
    assert values == [naive.replace(tzinfo=dt.UTC)]
    assert values[0].utcoffset() == dt.timedelta(0)


def test_extreme_datetime_filter_value_is_a_validation_error() -> None:
    earliest = dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=7)))
    with pytest.raises(ValidationFailed):
        compile_(Condition("updatedAt", "gt", earliest))


def test_relations_become_subqueries() -> None:
    sql, values = compile_(Related("organization", Condition("industry", "eq", "Y tế")))
    assert sql == (
        "t0.organization_id IN (SELECT t1.id FROM customers t1 WHERE t1.deleted_at IS NULL AND "
        "t1.kind = 'ORGANIZATION' AND t1.industry_fold = ?)"
    )
    assert values == ["y te"]
    sql, _ = compile_(Quantified("opportunities", "every", Condition("status", "eq", "WON")))
    assert sql.startswith("t0.id NOT IN (SELECT t1.customer_id FROM opportunities t1 WHERE ")
    assert sql.endswith("AND t1.customer_id IS NOT NULL AND NOT (t1.status = ?))")
    sql, _ = compile_(Quantified("people", "none", Condition("size", "isNull", True)))
    assert sql.startswith("t0.id NOT IN (SELECT t1.organization_id FROM customers t1 WHERE ")
    assert "t1.kind = 'PERSON'" in sql


def test_live_condition() -> None:
    assert live_condition(CUSTOMER, "x", EVERYTHING) == "x.deleted_at IS NULL"
    assert (
        live_condition(ENTITIES["Person"], "x", EVERYTHING)
        == "x.deleted_at IS NULL AND x.kind = 'PERSON'"
    )


# --- random trees -------------------------------------------------------------------------

_scalars: dict[str, st.SearchStrategy[Any]] = {
    "text": st.text(max_size=8),
    "exact": st.text(max_size=8),
    "enum": st.sampled_from(["PERSON", "LEAD", "WON", "?", "a'b"]),
    "number": st.one_of(st.integers(-100, 100), st.floats(-1e6, 1e6, allow_nan=False)),
    # away from datetime.min/max: see test_extreme_datetime_filter_value_is_a_validation_error
    "datetime": st.datetimes(
        min_value=dt.datetime(1900, 1, 1),
        max_value=dt.datetime(9000, 1, 1),
        timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=7))]),
    ),
    "date": st.dates(),
    "bool": st.booleans(),
    "id": st.integers(1, 10**6),
    "tags": st.text(max_size=8),
}


def _value(spec: FieldSpec, op: str) -> st.SearchStrategy[Any]:
    if op in ("isNull", "isEmpty"):
        return st.booleans()
    if op in ("in", "notIn", "hasAny", "hasAll", "hasNone"):
        return st.lists(_scalars[spec.kind], max_size=3)
    return _scalars[spec.kind]


@functools.cache
def _conditions(entity_name: str) -> st.SearchStrategy[Filter]:
    entity = ENTITIES[entity_name]
    options = []
    for name, spec in entity.fields.items():
        for op in sorted(_OPS_BY_KIND[spec.kind]):
            options.append(st.builds(Condition, st.just(name), st.just(op), _value(spec, op)))
    return st.one_of(options)


@functools.cache
def filters(entity_name: str, depth: int) -> st.SearchStrategy[Filter]:
    leaf = _conditions(entity_name)
    if depth == 0:
        return leaf
    entity = ENTITIES[entity_name]
    sub = st.deferred(lambda: filters(entity_name, depth - 1))
    branches: list[st.SearchStrategy[Filter]] = [
        leaf,
        st.builds(AllOf, st.lists(sub, max_size=3).map(tuple)),
        st.builds(AnyOf, st.lists(sub, max_size=3).map(tuple)),
        st.builds(Negation, sub),
    ]
    for rel_name, rel in entity.relations.items():
        inner = st.deferred(lambda target=rel.target: filters(target, depth - 1))
        if rel.many:
            branches.append(
                st.builds(
                    Quantified,
                    st.just(rel_name),
                    st.sampled_from(["some", "none", "every"]),
                    inner,
                )
            )
        else:
            branches.append(st.builds(Related, st.just(rel_name), inner))
    # choose the branch first: st.one_of would flatten the (large) leaf one_of and drown the rest
    return st.sampled_from(branches).flatmap(lambda branch: branch)


@settings(max_examples=300, deadline=None)
@given(filters("Customer", 3))
def test_random_trees_placeholders_match_params(node: Filter) -> None:
    sql, values = compile_(node)
    assert sql.count("?") == len(values)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["Customer", "Person", "Organization"]), filters("Customer", 3))
def test_random_trees_execute(memory_db: sqlite3.Connection, entity: str, node: Filter) -> None:
    spec = ENTITIES[entity]
    params = SqlParams()
    params.add("first")  # the compiler must append after parameters already collected
    alias = params.alias()
    sql = compile_filter(spec, alias, node, params, EVERYTHING)
    assert params.values[0] == "first"
    assert sql.count("?") == len(params.values) - 1
    memory_db.execute(
        f"SELECT {alias}.id FROM {spec.table} {alias} WHERE ? IS NOT NULL AND {sql}",
        [_plain(v) for v in params.values],
    ).fetchall()
