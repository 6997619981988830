"""Schedule triggers: ``schedule: {cron, timezone}`` + ``for_each`` enrolls every matching subject
at each tick.

Each scheduled workflow has one timer in SQL (``run_id`` NULL, key ``schedule:<workflow key>``)
due at its next cron instant, so ticks survive restarts like every other timer. Firing it scans
the subjects in keyset batches, evaluates the segment (or ``for_each.when``) on each subject as
CEL sees it, enrolls the matches (enrollment rules apply), and schedules the next tick, all in
the timer's transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from croniter import croniter

from domain.persistence import models as m
from workflows.engine.context import cel_ready
from workflows.language.expressions import ExpressionError, evaluate
from workflows.language.spec import ForEachSegment, ScheduleTrigger, Workflow
from workflows.language.validate import Definitions
from workflows.runtime.timers import schedule_timer


def timer_key(workflow_key: str) -> str:
    return f"schedule:{workflow_key}"


def next_tick(trigger: ScheduleTrigger, after: dt.datetime) -> dt.datetime:
    """The first cron instant strictly after ``after``, in the schedule's time zone."""
    zone = ZoneInfo(trigger.schedule.timezone)
    local = croniter(trigger.schedule.cron, after.astimezone(zone)).get_next(dt.datetime)
    return local.astimezone(dt.UTC)


async def arm(workflow_row: m.Workflow, definition: Workflow, now: dt.datetime) -> None:
    """Make sure a scheduled workflow has exactly one pending tick (after a deploy or resume)."""
    key = timer_key(workflow_row.key)
    await m.Timer.filter(run_id=None, key=key, status__in=("PENDING", "CLAIMED")).update(
        status="CANCELLED", claim_token=None, claimed_until=None
    )
    if isinstance(definition.trigger, ScheduleTrigger) and workflow_row.status == "ACTIVE":
        await schedule_timer(
            run_id=None,
            key=key,
            due_at=next_tick(definition.trigger, now),
            purpose="schedule",
            payload={"workflow": workflow_row.key},
        )


def condition_of(trigger: ScheduleTrigger, definitions: Definitions) -> str:
    if isinstance(trigger.for_each, ForEachSegment):
        return definitions.segments[trigger.for_each.segment].when
    return trigger.for_each.when


def matches(condition: str, subject: dict[str, Any], now: dt.datetime) -> bool:
    variables = cel_ready(
        {
            "subject": subject,
            "event": {},
            "now": now,
            "run": {"id": "", "startedAt": now, "vars": {}},
        }
    )
    try:
        return evaluate(condition, variables) is True
    except ExpressionError:
        return False
