"""Keyset ("seek") pagination: sort keys, opaque cursors and the predicate after/before one.

Every ordering ends with the primary key, so positions are total and stable under concurrent
inserts; NULLs get an explicit flag key so that ``nulls: FIRST|LAST`` pages correctly too.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import decimal
import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from domain.errors import ValidationFailed
from domain.persistence.querying.compile import SqlParams
from domain.persistence.querying.entities import EntitySpec
from domain.persistence.querying.spec import SortKey


@dataclass(frozen=True)
class KeyColumn:
    expression: str  # SQL on the entity alias, "{a}" stands for the alias
    descending: bool
    kind: str = "id"  # the field kind, or "flag" for a NULL-ordering flag


def key_columns(entity: EntitySpec, order: list[SortKey]) -> list[KeyColumn]:
    columns: list[KeyColumn] = []
    for key in order:
        spec = entity.fields.get(key.field)
        if spec is None or spec.kind == "tags":
            raise ValidationFailed("orderBy", f"cannot order {entity.name} by {key.field!r}")
        column = spec.fold_column or spec.column
        field = entity.model._meta.fields_map.get(_field_name(entity, column))
        if field is None or field.null:
            nulls_first = key.nulls_first if key.nulls_first is not None else key.descending
            columns.append(
                KeyColumn(
                    f"CASE WHEN {{a}}.{column} IS NULL THEN 1 ELSE 0 END", nulls_first, "flag"
                )
            )
        columns.append(KeyColumn(spec.operand("{a}"), key.descending, spec.kind))
    if not order or order[-1].field != "id":
        columns.append(KeyColumn("{a}.id", order[-1].descending if order else False))
    return columns


def _field_name(entity: EntitySpec, column: str) -> str:
    for name, field in entity.model._meta.fields_map.items():
        if (getattr(field, "source_field", None) or name) == column:
            return name
    return column


def signature(columns: list[KeyColumn]) -> str:
    text = "|".join(f"{c.expression}:{int(c.descending)}" for c in columns)
    return hashlib.blake2s(text.encode(), digest_size=4).hexdigest()


def _encode_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"t": value.isoformat()}
    if isinstance(value, dt.date):
        return {"d": value.isoformat()}
    if isinstance(value, Decimal):
        return {"n": str(value)}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        if "t" in value:
            return dt.datetime.fromisoformat(value["t"])
        if "d" in value:
            return dt.date.fromisoformat(value["d"])
        if "n" in value:
            return Decimal(value["n"])
        raise ValueError("unknown cursor value")
    return value


def _canonical(column: KeyColumn, value: Any) -> Any:
    """The same Python type whatever the driver returned (SQLite hands back ISO text)."""
    if isinstance(value, str) and column.kind == "datetime":
        return dt.datetime.fromisoformat(value)
    if isinstance(value, str) and column.kind == "date":
        return dt.date.fromisoformat(value)
    return value


_ALLOWED: dict[str, tuple[type, ...]] = {
    "flag": (int,),
    "id": (int,),
    "number": (int, float, Decimal),
    "datetime": (dt.datetime,),
    "date": (dt.date,),
    "bool": (bool, int),
    "text": (str,),
    "exact": (str,),
    "enum": (str,),
}


def _well_typed(column: KeyColumn, value: Any) -> bool:
    """A forged cursor must not smuggle a list, or a string where a number sorts, to the driver."""
    if value is None:
        return column.kind != "flag"
    if isinstance(value, bool) and column.kind not in ("bool",):
        return False
    return isinstance(value, _ALLOWED.get(column.kind, ()))


def encode_cursor(columns: list[KeyColumn], values: list[Any]) -> str:
    canonical = [_canonical(c, v) for c, v in zip(columns, values, strict=True)]
    payload = json.dumps([signature(columns), [_encode_value(v) for v in canonical]])
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(columns: list[KeyColumn], cursor: str, *, argument: str) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        sig, values = json.loads(raw)
        decoded = [_decode_value(v) for v in values]
    except (
        binascii.Error,
        ValueError,
        TypeError,
        UnicodeDecodeError,
        decimal.InvalidOperation,
    ) as exc:
        raise ValidationFailed(argument, "malformed cursor", "INVALID_CURSOR") from exc
    if sig != signature(columns) or len(decoded) != len(columns):
        raise ValidationFailed(
            argument, "cursor was issued for a different ordering", "INVALID_CURSOR"
        )
    if not all(_well_typed(c, v) for c, v in zip(columns, decoded, strict=True)):
        raise ValidationFailed(argument, "malformed cursor", "INVALID_CURSOR")
    return decoded


def seek_predicate(
    columns: list[KeyColumn], alias: str, values: list[Any], params: SqlParams, *, after: bool
) -> str:
    """Rows strictly after (or before) the position ``values`` in the given order."""
    disjuncts = []
    for i, column in enumerate(columns):
        value = values[i]
        if value is None:
            continue  # nothing sorts strictly beside NULL in this key; the NULL flag orders it
        parts = []
        for prev, prev_value in zip(columns[:i], values[:i], strict=True):
            expr = prev.expression.format(a=alias)
            parts.append(
                f"{expr} IS NULL" if prev_value is None else f"{expr} = {params.add(prev_value)}"
            )
        op = ">" if after != column.descending else "<"  # after+ASC or before+DESC: ">"
        parts.append(f"{column.expression.format(a=alias)} {op} {params.add(value)}")
        disjuncts.append("(" + " AND ".join(parts) + ")")
    return "(" + " OR ".join(disjuncts) + ")" if disjuncts else "1=0"


def order_by(columns: list[KeyColumn], alias: str, *, reverse: bool = False) -> str:
    return ", ".join(
        f"{c.expression.format(a=alias)} {'DESC' if c.descending != reverse else 'ASC'}"
        for c in columns
    )
