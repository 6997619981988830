"""A ticket's SLA clocks (``ticket.sla``), loaded for every ticket of a page at once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from enum import Enum

import strawberry

from domain.recording import utcnow
from domain.sla.reading import ClockView, ticket_clocks
from gql.context import Context


@strawberry.enum(description="What an SLA target promises.")
class SlaMetricKind(Enum):
    FIRST_REPLY = "first_reply"
    NEXT_REPLY = "next_reply"
    RESOLUTION = "resolution"


@strawberry.enum
class SlaClockState(Enum):
    ACTIVE = "ACTIVE"
    PAUSED = "PAUSED"
    FULFILLED = "FULFILLED"
    BREACHED = "BREACHED"


@strawberry.type(
    description="One SLA clock of a ticket: the latest instance of a metric. Durations are in "
    "seconds; business time counts only the opening hours of the target's calendar."
)
class SlaClock:
    metric: SlaMetricKind
    cycle: int = strawberry.field(
        description="1 for the first instance; next reply and resolution (after a reopen) count up."
    )
    policy: str = strawberry.field(description="The key of the SLA policy that set the target.")
    calendar: str = strawberry.field(description="The business calendar the clock runs on.")
    target_seconds: int
    state: SlaClockState
    started_at: dt.datetime
    due_at: dt.datetime | None = strawberry.field(
        description="When the target is missed; null while paused (the rest is owed on resume)."
    )
    business_time_elapsed_seconds: int
    business_time_left_seconds: int = strawberry.field(description="Negative once overdue.")
    calendar_time_left_seconds: int | None = strawberry.field(
        description="Wall-clock time until dueAt (negative once overdue); null unless running."
    )
    breached: bool
    fulfilled_at: dt.datetime | None


def _clock(view: ClockView) -> SlaClock:
    left = view.calendar_left
    # Whole seconds, elapsed rounded down; left is target minus elapsed so the two add up.
    target = int(view.target.total_seconds())
    elapsed = int(view.elapsed.total_seconds())
    return SlaClock(
        metric=SlaMetricKind(view.metric),
        cycle=view.cycle,
        policy=view.policy,
        calendar=view.calendar,
        target_seconds=target,
        state=SlaClockState(view.state),
        started_at=view.started_at,
        due_at=view.due_at,
        business_time_elapsed_seconds=elapsed,
        business_time_left_seconds=target - elapsed,
        calendar_time_left_seconds=None if left is None else int(left.total_seconds()),
        breached=view.breached,
        fulfilled_at=view.stopped_at,
    )


async def ticket_sla(context: Context, ticket_id: int) -> list[SlaClock]:
    """The clocks of one ticket through the request's loader (one batch for a whole page)."""

    async def batch(keys: Sequence[int]) -> list[list[SlaClock]]:
        views = await ticket_clocks(keys, utcnow())
        return [[_clock(view) for view in views[key]] for key in keys]

    result: list[SlaClock] = await context.loaders.get(("ticket_sla",), batch).load(ticket_id)
    return result
