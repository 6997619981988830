"""Sums, averages and counts over a filtered set, optionally grouped (dashboards, forecasts)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from domain.errors import ValidationFailed
from domain.persistence.querying.compile import SqlParams
from domain.persistence.querying.fetch import Query, run


@dataclass
class AggregateRow:
    group: dict[str, Any]
    count: int
    sum: Decimal | None
    avg: Decimal | None
    min: Decimal | None
    max: Decimal | None


def _decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal("0.01"))


async def aggregate(
    query: Query, measure_column: str, group_columns: dict[str, str]
) -> list[AggregateRow]:
    """One row per group (or a single row when ``group_columns`` is empty).

    ``group_columns`` maps output names to trusted column names of the entity.
    """
    measure = next((f for f in query.entity.fields.values() if f.column == measure_column), None)
    if measure is None:
        raise ValidationFailed("measure", f"cannot aggregate {measure_column}")
    params = SqlParams()
    a = params.alias()
    value = measure.operand(a)
    groups = [f"{a}.{column} AS g_{name}" for name, column in group_columns.items()]
    select = ", ".join(
        [
            *groups,
            "COUNT(*) AS n",
            f"SUM({value}) AS s",
            f"AVG({value}) AS av",
            f"MIN({value}) AS mn",
            f"MAX({value}) AS mx",
        ]
    )
    sql = f"SELECT {select} FROM {query.entity.table} {a} WHERE {query.where(a, params)}"
    if group_columns:
        keys = ", ".join(f"{a}.{c}" for c in group_columns.values())
        sql += f" GROUP BY {keys} ORDER BY {keys}"
    rows = await run(query.entity, sql, params)
    return [
        AggregateRow(
            group={name: r[f"g_{name}"] for name in group_columns},
            count=int(r["n"]),
            sum=_decimal(r["s"]) if r["n"] else None,
            avg=_decimal(r["av"]),
            min=_decimal(r["mn"]),
            max=_decimal(r["mx"]),
        )
        for r in rows
    ]
