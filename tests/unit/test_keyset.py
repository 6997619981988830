"""Keyset paging internals: key columns, opaque cursors and the seek predicate (no database).

The seek predicate is also checked semantically against an in-memory ``sqlite3`` table: the rows
it selects after/before any row must be exactly the rows after/before it in ``order_by``.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import sqlite3
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import ValidationFailed
from domain.persistence.querying.compile import SqlParams
from domain.persistence.querying.entities import ENTITIES
from domain.persistence.querying.keyset import (
    KeyColumn,
    decode_cursor,
    encode_cursor,
    key_columns,
    order_by,
    seek_predicate,
    signature,
)
from domain.persistence.querying.spec import SortKey

CUSTOMER = ENTITIES["Customer"]

# --- key columns ----------------------------------------------------------------------------


def _exprs(order: list[SortKey]) -> list[tuple[str, bool]]:
    return [(c.expression, c.descending) for c in key_columns(CUSTOMER, order)]


def test_key_columns_nullable_gets_flag_and_id_tiebreak() -> None:
    assert _exprs([SortKey("size")]) == [
        ("CASE WHEN {a}.size IS NULL THEN 1 ELSE 0 END", False),  # NULLs last
        ("{a}.size", False),
        ("{a}.id", False),
    ]
    # DESC defaults to NULLs first (PostgreSQL's "NULL is largest"), explicit LAST overrides.
    assert _exprs([SortKey("size", descending=True)])[0][1] is True
    assert _exprs([SortKey("size", descending=True, nulls_first=False)])[0][1] is False
    assert _exprs([SortKey("size", nulls_first=True)])[0][1] is True


def test_key_columns_text_uses_fold_column_without_flag_when_not_null() -> None:
    assert _exprs([SortKey("displayName", descending=True)]) == [
        ("{a}.display_name_fold", True),
        ("{a}.id", True),
    ]
    assert _exprs([SortKey("industry")])[1] == ("{a}.industry_fold", False)


def test_key_columns_explicit_id_not_duplicated() -> None:
    assert _exprs([SortKey("id", descending=True)]) == [("{a}.id", True)]
    assert _exprs([]) == [("{a}.id", False)]


@pytest.mark.parametrize("field", ["tags", "nope"])
def test_key_columns_rejects_unsortable(field: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        key_columns(CUSTOMER, [SortKey(field)])
    assert info.value.field == "orderBy"


# --- cursors --------------------------------------------------------------------------------

_offsets = st.timedeltas(
    min_value=dt.timedelta(hours=-23, minutes=-59), max_value=dt.timedelta(hours=23, minutes=59)
).map(lambda d: dt.timezone(dt.timedelta(minutes=int(d.total_seconds() // 60))))
_key_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.text(),
    st.floats(allow_nan=False),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.dates(),
    st.datetimes(),
    st.datetimes(timezones=_offsets),
)


_URLSAFE = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _columns(n: int) -> list[KeyColumn]:
    return [KeyColumn(f"{{a}}.c{i}", i % 2 == 1) for i in range(n)]


def _same(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, dt.datetime):
        return a.isoformat() == b.isoformat()
    if isinstance(a, Decimal):
        return a.as_tuple() == b.as_tuple()
    return bool(a == b)


def _kind_of(value: Any) -> str:
    if value is None or isinstance(value, float | Decimal):
        return "number"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "id"
    if isinstance(value, str):
        return "text"
    return "datetime" if isinstance(value, dt.datetime) else "date"


@given(st.lists(_key_values, min_size=1, max_size=6))
def test_cursor_round_trip(values: list[Any]) -> None:
    columns = [KeyColumn(f"{{a}}.c{i}", i % 2 == 1, _kind_of(v)) for i, v in enumerate(values)]
    cursor = encode_cursor(columns, values)
    assert set(cursor) <= _URLSAFE
    decoded = decode_cursor(columns, cursor, argument="after")
    assert len(decoded) == len(values)
    for original, back in zip(values, decoded, strict=True):
        assert _same(original, back), (original, back)


def test_cursor_values_of_the_wrong_type_are_rejected() -> None:
    by_size = key_columns(CUSTOMER, [SortKey("size")])
    for forged in ([0, "10", 7], [0, 10, [7]], ["x", 10, 7], [0, 10, True], [None, 10, 7]):
        forged_cursor = json.dumps([signature(by_size), forged])
        token = base64.urlsafe_b64encode(forged_cursor.encode()).decode().rstrip("=")
        with pytest.raises(ValidationFailed) as info:
            decode_cursor(by_size, token, argument="after")
        assert info.value.code == "INVALID_CURSOR"


def test_cursor_for_other_ordering_rejected() -> None:
    by_size = key_columns(CUSTOMER, [SortKey("size")])
    cursor = encode_cursor(by_size, [0, 10, 7])
    assert decode_cursor(by_size, cursor, argument="after") == [0, 10, 7]
    for other in (
        [SortKey("size", descending=True)],
        [SortKey("size", nulls_first=True)],
        [SortKey("industry")],
        [SortKey("size"), SortKey("displayName")],
        [SortKey("id")],
    ):
        columns = key_columns(CUSTOMER, other)
        with pytest.raises(ValidationFailed) as info:
            decode_cursor(columns, cursor, argument="before")
        assert info.value.code == "INVALID_CURSOR"
        assert info.value.field == "before"


def test_equivalent_orderings_share_cursors() -> None:
    implicit = key_columns(CUSTOMER, [SortKey("size")])
    explicit = key_columns(CUSTOMER, [SortKey("size", nulls_first=False), SortKey("id")])
    assert signature(implicit) == signature(explicit)


def test_cursor_with_wrong_arity_rejected() -> None:
    columns = _columns(2)
    forged = encode_cursor(_columns(3), [1, 2, 3])
    payload = json.loads(base64.urlsafe_b64decode(forged + "=" * (-len(forged) % 4)))
    payload[0] = signature(columns)
    cursor = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()
    with pytest.raises(ValidationFailed) as info:
        decode_cursor(columns, cursor, argument="after")
    assert info.value.code == "INVALID_CURSOR"


def _forge(payload: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


_SIG = signature(_columns(1))


_GARBAGE = {
    "empty": "",
    "not-json": "garbage",
    "not-base64": "!!!!",
    "truncated": "a",
    "truncated-json": "eyJ",
    "binary": base64.urlsafe_b64encode(b"\xff\xfe\x00\x01").decode(),
    "number": _forge(5),
    "string": _forge("ab"),
    "no-values": _forge([_SIG]),
    "values-not-list": _forge([_SIG, 5]),
    "extra-item": _forge([_SIG, [1], 3]),
    "object": _forge({"sig": _SIG}),
    "unknown-tag": _forge([_SIG, [{"x": 1}]]),
    "bad-datetime": _forge([_SIG, [{"t": "yesterday"}]]),
    "datetime-not-text": _forge([_SIG, [{"t": 5}]]),
    "bad-date": _forge([_SIG, [{"d": "2024-13-45"}]]),
    "bad-decimal": _forge([_SIG, [{"n": "abc"}]]),  # once escaped as decimal.InvalidOperation
}


@pytest.mark.parametrize("cursor", list(_GARBAGE.values()), ids=list(_GARBAGE))
def test_garbage_cursor_rejected(cursor: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        decode_cursor(_columns(1), cursor, argument="after")
    assert info.value.code == "INVALID_CURSOR"


@given(st.one_of(st.text(), st.binary().map(lambda b: base64.urlsafe_b64encode(b).decode())))
def test_random_cursor_never_crashes(cursor: str) -> None:
    columns = _columns(2)
    code = None
    try:
        decode_cursor(columns, cursor, argument="after")
    except ValidationFailed as exc:
        code = exc.code
    assert code in (None, "INVALID_CURSOR")


# --- seek predicate: placeholders --------------------------------------------------------

_seek_values = st.one_of(st.none(), st.integers(-5, 5), st.text(max_size=3))


@st.composite
def _keys_and_values(draw: st.DrawFn) -> tuple[list[KeyColumn], list[Any]]:
    n = draw(st.integers(1, 7))
    columns = [KeyColumn(f"{{a}}.c{i}", draw(st.booleans())) for i in range(n)]
    values = draw(st.lists(_seek_values, min_size=n, max_size=n))
    return columns, values


@given(_keys_and_values(), st.booleans(), st.integers(0, 5))
def test_seek_placeholders_match_params(
    keys: tuple[list[KeyColumn], list[Any]], after: bool, preexisting: int
) -> None:
    columns, values = keys
    params = SqlParams()
    for i in range(preexisting):  # parameters already collected by the WHERE clause
        params.add(f"pre{i}")
    sql = seek_predicate(columns, "t0", values, params, after=after)
    assert sql.count("?") == len(params.values) - preexisting
    assert params.values[:preexisting] == [f"pre{i}" for i in range(preexisting)]
    # and they are the non-NULL values, in the order the placeholders appear
    assert all(v is not None for v in params.values[preexisting:])
    if all(v is None for v in values):
        assert sql == "1=0"


def test_seek_predicate_with_null_prefix() -> None:
    columns = key_columns(CUSTOMER, [SortKey("size")])
    params = SqlParams()
    sql = seek_predicate(columns, "t0", [1, None, 42], params, after=True)
    assert sql == (
        "((CASE WHEN t0.size IS NULL THEN 1 ELSE 0 END > ?) OR "
        "(CASE WHEN t0.size IS NULL THEN 1 ELSE 0 END = ? AND t0.size IS NULL AND t0.id > ?))"
    )
    assert params.values == [1, 1, 42]


# --- seek predicate: semantics against sqlite3 -------------------------------------------

_ORDER_FIELDS = ["size", "industry", "displayName", "kind", "id"]


@st.composite
def _orders(draw: st.DrawFn) -> list[SortKey]:
    fields = draw(st.lists(st.sampled_from(_ORDER_FIELDS), min_size=1, max_size=3, unique=True))
    return [
        SortKey(f, draw(st.booleans()), draw(st.sampled_from([None, True, False]))) for f in fields
    ]


_rows = st.lists(
    st.tuples(
        st.one_of(st.none(), st.integers(0, 3)),
        st.one_of(st.none(), st.sampled_from(["ban le", "cong nghe", "y te"])),
        st.sampled_from(["an", "binh", "chi"]),
        st.sampled_from(["PERSON", "ORGANIZATION"]),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(_orders(), _rows, st.booleans())
def test_seek_predicate_selects_exactly_the_rows_beyond(
    order: list[SortKey], rows: list[tuple[Any, ...]], after: bool
) -> None:
    columns = key_columns(CUSTOMER, order)
    with sqlite3.connect(":memory:") as conn:
        conn.execute(
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, size INTEGER, industry_fold TEXT, "
            "display_name_fold TEXT, kind TEXT)"
        )
        conn.executemany(
            "INSERT INTO customers VALUES (?, ?, ?, ?, ?)",
            [(i + 1, *r) for i, r in enumerate(rows)],
        )
        keys = ", ".join(f"{c.expression.format(a='t0')}" for c in columns)
        ordered = conn.execute(
            f"SELECT t0.id, {keys} FROM customers t0 ORDER BY {order_by(columns, 't0')}"
        ).fetchall()
        ids = [r[0] for r in ordered]
        for position, row in enumerate(ordered):
            cursor = encode_cursor(columns, list(row[1:]))
            values = decode_cursor(columns, cursor, argument="after")
            params = SqlParams()
            predicate = seek_predicate(columns, "t0", values, params, after=after)
            got = conn.execute(
                f"SELECT t0.id FROM customers t0 WHERE {predicate} "
                f"ORDER BY {order_by(columns, 't0')}",
                params.values,
            ).fetchall()
            expected = ids[position + 1 :] if after else ids[:position]
            assert [r[0] for r in got] == expected, (predicate, params.values)
