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
    if measure_column not in {f.column for f in query.entity.fields.values()}:
        raise ValidationFailed("measure", f"cannot aggregate {measure_column}")
    params = SqlParams()
    a = params.alias()
    groups = [f"{a}.{column} AS g_{name}" for name, column in group_columns.items()]
    select = ", ".join(
        [
            *groups,
            "COUNT(*) AS n",
            f"SUM({a}.{measure_column}) AS s",
            f"AVG({a}.{measure_column}) AS av",
            f"MIN({a}.{measure_column}) AS mn",
            f"MAX({a}.{measure_column}) AS mx",
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
