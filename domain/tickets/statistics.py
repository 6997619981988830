"""Resolution time of solved tickets: count, mean, median and 90th percentile of
``solved_at - created_at`` in calendar time, overall and per priority, team or agent.

A ticket counts when it is solved (``solved_at`` set: SOLVED, or CLOSED after solving) and its
``solved_at`` falls in ``[start, end)``; a reopened ticket has no ``solved_at`` until it is solved
again. Percentiles interpolate linearly between the two nearest ranks (``statistics.quantiles``
with the ``inclusive`` method, as spreadsheets' PERCENTILE.INC), so the median of an even count is
the mean of its two middle values. The durations are read in one statement and reduced here: the
same arithmetic on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from tortoise.expressions import RawSQL

from domain.errors import ValidationFailed
from domain.persistence.models import Ticket
from domain.persistence.querying.scope import Scope

#: groupBy name -> the ticket column it groups on.
GROUP_COLUMNS = {"priority": "priority", "team": "team_id", "agent": "assignee_id"}


@dataclass(frozen=True)
class ResolutionGroup:
    key: dict[str, Any]  # only the grouped-by names, e.g. {"priority": "HIGH", "team": 3}
    count: int
    mean_seconds: float | None
    median_seconds: float | None
    p90_seconds: float | None


def summarize(key: dict[str, Any], seconds: list[float]) -> ResolutionGroup:
    if not seconds:
        return ResolutionGroup(key, 0, None, None, None)
    ordered = sorted(seconds)
    p90 = (
        ordered[0]
        if len(ordered) == 1
        else statistics.quantiles(ordered, n=10, method="inclusive")[8]
    )
    return ResolutionGroup(
        key,
        len(ordered),
        statistics.fmean(ordered),
        statistics.median(ordered),
        p90,
    )


def _aware(value: dt.datetime | None, field: str) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValidationFailed(field, "a time zone is required", "NAIVE_DATETIME")
    return value


async def resolution_times(
    *,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    group_by: list[str] | None = None,
    scope: Scope,
) -> tuple[ResolutionGroup, list[ResolutionGroup]]:
    """The overall figures and one per group (groups ordered by their key, nulls first), over
    the tickets ``scope`` shows."""
    _aware(start, "from")
    _aware(end, "to")
    if start is not None and end is not None and end <= start:
        raise ValidationFailed("to", "`to` must be after `from`", "INVALID_RANGE")
    names = list(dict.fromkeys(group_by or []))
    unknown = [n for n in names if n not in GROUP_COLUMNS]
    if unknown:
        raise ValidationFailed("groupBy", f"cannot group by {unknown[0]!r}", "INVALID")
    query = Ticket.filter(deleted_at=None, solved_at__isnull=False)
    in_scope = scope.condition("Ticket", Ticket._meta.db_table)
    if in_scope is not None:
        query = query.annotate(_in_scope=RawSQL(f"CASE WHEN {in_scope} THEN 1 ELSE 0 END"))
        query = query.filter(_in_scope=1)
    if start is not None:
        query = query.filter(solved_at__gte=start)
    if end is not None:
        query = query.filter(solved_at__lt=end)
    columns = [GROUP_COLUMNS[n] for n in names]
    rows = await query.values("created_at", "solved_at", *columns)
    everything: list[float] = []
    grouped: dict[tuple[Any, ...], list[float]] = defaultdict(list)
    for row in rows:
        seconds = (row["solved_at"] - row["created_at"]).total_seconds()
        everything.append(seconds)
        grouped[tuple(row[c] for c in columns)].append(seconds)
    total = summarize({}, everything)
    if not names:
        return total, []
    keys = sorted(grouped, key=lambda k: tuple((v is not None, v) for v in k))
    return total, [summarize(dict(zip(names, k, strict=True)), grouped[k]) for k in keys]
