"""SLA compliance: of the metric instances started in ``[start, end)``, the share that met its
target, the median and 90th percentile of the business time achieved, and the breaches —
overall and per policy, team, agent, priority or metric.

An instance counts as *met* once it is fulfilled without having been breached, and as
*breached* once its due instant passed (fulfilled late, or still running); instances still
running within their target are not decided and count in neither, so ``share met`` is
``met / (met + breached)``. Achieved time is the business time an instance ran until it was
fulfilled (late ones included); percentiles are those of the resolution-time report
(:func:`domain.tickets.statistics.summarize`). Team, agent and priority are the ticket's now.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from tortoise.expressions import RawSQL

from domain.errors import ValidationFailed
from domain.persistence.models import SlaMetric
from domain.persistence.querying.scope import Scope
from domain.sla.policies import METRICS
from domain.tickets.statistics import summarize

#: groupBy name -> the column it groups on (``ticket__`` ones through the ticket).
GROUP_COLUMNS = {
    "policy": "policy_key",
    "team": "ticket__team_id",
    "agent": "ticket__assignee_id",
    "priority": "ticket__priority",
    "metric": "metric",
}


@dataclass(frozen=True)
class ComplianceGroup:
    key: dict[str, Any]  # only the grouped-by names, e.g. {"policy": "gold"}
    instances: int
    met: int
    breached: int
    share_met: float | None  # met / (met + breached); None when nothing is decided
    median_achieved_seconds: float | None
    p90_achieved_seconds: float | None


@dataclass
class _Tally:
    instances: int = 0
    met: int = 0
    breached: int = 0

    def __post_init__(self) -> None:
        self.achieved: list[float] = []

    def add(self, row: dict[str, Any]) -> None:
        self.instances += 1
        if row["breached_at"] is not None:
            self.breached += 1
        elif row["stopped_at"] is not None:
            self.met += 1
        if row["stopped_at"] is not None:
            self.achieved.append(row["elapsed_microseconds"] / 1_000_000)

    def result(self, key: dict[str, Any]) -> ComplianceGroup:
        decided = self.met + self.breached
        times = summarize(key, self.achieved)
        return ComplianceGroup(
            key=key,
            instances=self.instances,
            met=self.met,
            breached=self.breached,
            share_met=self.met / decided if decided else None,
            median_achieved_seconds=times.median_seconds,
            p90_achieved_seconds=times.p90_seconds,
        )


async def sla_compliance(
    *,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    group_by: list[str] | None = None,
    metric: str | None = None,
    scope: Scope,
) -> tuple[ComplianceGroup, list[ComplianceGroup]]:
    """The overall figures and one per group (ordered by key, nulls first); one statement.
    Only the clocks of the tickets ``scope`` shows count."""
    for value, field in ((start, "from"), (end, "to")):
        if value is not None and value.tzinfo is None:
            raise ValidationFailed(field, "a time zone is required", "NAIVE_DATETIME")
    if start is not None and end is not None and end <= start:
        raise ValidationFailed("to", "`to` must be after `from`", "INVALID_RANGE")
    if metric is not None and metric not in METRICS:
        raise ValidationFailed("metric", f"unknown metric {metric!r}", "INVALID")
    names = list(dict.fromkeys(group_by or []))
    unknown = [n for n in names if n not in GROUP_COLUMNS]
    if unknown:
        raise ValidationFailed("groupBy", f"cannot group by {unknown[0]!r}", "INVALID")
    query = SlaMetric.filter(ticket__deleted_at=None)
    in_scope = scope.condition("Ticket", "st")
    if in_scope is not None:
        visible = (
            f"{SlaMetric._meta.db_table}.ticket_id IN "
            f"(SELECT st.id FROM tickets st WHERE {in_scope})"
        )
        query = query.annotate(_in_scope=RawSQL(f"CASE WHEN {visible} THEN 1 ELSE 0 END"))
        query = query.filter(_in_scope=1)
    if start is not None:
        query = query.filter(started_at__gte=start)
    if end is not None:
        query = query.filter(started_at__lt=end)
    if metric is not None:
        query = query.filter(metric=metric)
    columns = [GROUP_COLUMNS[n] for n in names]
    rows = await query.values(
        "breached_at", "stopped_at", "elapsed_microseconds", *dict.fromkeys(columns)
    )
    total = _Tally()
    grouped: dict[tuple[Any, ...], _Tally] = defaultdict(_Tally)
    for row in rows:
        total.add(row)
        grouped[tuple(row[c] for c in columns)].add(row)
    if not names:
        return total.result({}), []
    keys = sorted(grouped, key=lambda k: tuple((v is not None, v) for v in k))
    return total.result({}), [grouped[k].result(dict(zip(names, k, strict=True))) for k in keys]
