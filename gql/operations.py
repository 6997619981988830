"""The administrators' view of the engine: timer lateness, overdue timers, runs by state (FAILED
ones are the dead letters to retry with ``retryWorkflowRun``), the outboxes, the relay's backlog
and the workers' queue."""

from __future__ import annotations

import datetime as dt

import strawberry

from domain.errors import ValidationFailed
from gql.context import Context
from workflows.runtime import health
from workflows.runtime.dispatch import utcnow

#: The longest lateness window one request may scan.
MAX_WINDOW_MINUTES = 24 * 60


@strawberry.type(description="A count per state or status.")
class StateCount:
    state: str
    count: int


@strawberry.type(description="How late timers fired (fired - due, seconds) in a recent window.")
class TimerLatenessReport:
    since: dt.datetime
    until: dt.datetime
    fired: int
    p50_seconds: float | None
    p99_seconds: float | None
    max_seconds: float | None


@strawberry.type(description="The workflow engine's health, read in one snapshot.")
class EngineHealth:
    at: dt.datetime
    timer_lateness: TimerLatenessReport
    timers_pending: int = strawberry.field(description="Timers not yet fired (pending or claimed).")
    timers_overdue: int = strawberry.field(
        description="Timers more than a second past due and not fired: should be 0."
    )
    oldest_overdue_due_at: dt.datetime | None
    runs_by_state: list[StateCount]
    emails_by_status: list[StateCount]
    webhooks_by_status: list[StateCount]
    undispatched_events: int = strawberry.field(
        description="Domain events committed but not yet relayed to workflows and subscribers."
    )
    oldest_undispatched_at: dt.datetime | None
    queued_messages: int | None = strawberry.field(
        description="Messages waiting in the workers' Redis queue; null without a reachable Redis."
    )


def _counts(by_state: dict[str, int]) -> list[StateCount]:
    return [StateCount(state=state, count=count) for state, count in sorted(by_state.items())]


@strawberry.type
class OperationsQuery:
    @strawberry.field(description="The workflow engine's health (administrators).")
    async def engine_health(
        self, info: strawberry.Info[Context, None], window_minutes: int = 15
    ) -> EngineHealth:
        if not 1 <= window_minutes <= MAX_WINDOW_MINUTES:
            raise ValidationFailed(
                "windowMinutes", f"windowMinutes must be 1..{MAX_WINDOW_MINUTES}", "OUT_OF_RANGE"
            )
        hub = info.context.live_events
        snapshot = await health.engine_health(
            now=utcnow(),
            window=dt.timedelta(minutes=window_minutes),
            redis_url=hub.redis_url if hub is not None else None,
        )
        late = snapshot.lateness
        return EngineHealth(
            at=snapshot.at,
            timer_lateness=TimerLatenessReport(
                since=late.since,
                until=late.until,
                fired=late.fired,
                p50_seconds=late.p50,
                p99_seconds=late.p99,
                max_seconds=late.max,
            ),
            timers_pending=snapshot.timers_pending,
            timers_overdue=snapshot.timers_overdue,
            oldest_overdue_due_at=snapshot.oldest_overdue_due_at,
            runs_by_state=_counts(snapshot.runs_by_state),
            emails_by_status=_counts(snapshot.emails_by_status),
            webhooks_by_status=_counts(snapshot.webhooks_by_status),
            undispatched_events=snapshot.undispatched_events,
            oldest_undispatched_at=snapshot.oldest_undispatched_at,
            queued_messages=snapshot.queued_messages,
        )
