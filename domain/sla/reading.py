"""The SLA clocks of tickets as the agent sees them now: one view per metric (its latest
instance), with the business time run and left and the calendar time left."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from domain.persistence.models import SlaMetric
from domain.sla.book import current_book
from domain.sla.policies import METRICS
from domain.sla.tracking import clock_of


@dataclass(frozen=True)
class ClockView:
    metric: str
    cycle: int
    policy: str
    calendar: str
    target: dt.timedelta
    state: str
    started_at: dt.datetime
    due_at: dt.datetime | None
    elapsed: dt.timedelta  # business time run so far
    left: dt.timedelta  # business time left (negative once overdue)
    calendar_left: dt.timedelta | None  # until the due instant; None while paused or stopped
    breached: bool
    stopped_at: dt.datetime | None


async def ticket_clocks(ticket_ids: Sequence[int], now: dt.datetime) -> dict[int, list[ClockView]]:
    """For each ticket, its latest instance of each metric, in the order first reply, next
    reply, resolution; two statements whatever the number of tickets."""
    result: dict[int, list[ClockView]] = {ticket_id: [] for ticket_id in ticket_ids}
    if not ticket_ids:
        return result
    rows = await SlaMetric.filter(ticket_id__in=list(ticket_ids)).order_by("cycle")
    book = await current_book()
    latest: dict[tuple[int, str], SlaMetric] = {}
    for row in rows:
        latest[(row.ticket_id, row.metric)] = row  # ordered by cycle: the last one wins
    for (ticket_id, _), row in sorted(
        latest.items(), key=lambda item: (item[0][0], METRICS.index(item[0][1]))
    ):
        clock = clock_of(row, book)
        elapsed = clock.elapsed(now)
        running = clock.running and clock.due_at is not None
        result[ticket_id].append(
            ClockView(
                metric=clock.metric,
                cycle=clock.cycle,
                policy=clock.policy,
                calendar=row.calendar_key,
                target=clock.target.duration,
                state=clock.state.value,
                started_at=clock.started_at,
                due_at=clock.due_at,
                elapsed=elapsed,
                left=clock.target.duration - elapsed,
                calendar_left=(clock.due_at - now) if running and clock.due_at else None,
                breached=clock.breached_at is not None,
                stopped_at=clock.stopped_at,
            )
        )
    return result
