"""`should_enroll`: whether a subject starts a run of a workflow now."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from workflows.language.durations import parse_duration
from workflows.language.spec import (
    EventTrigger,
    ForEachFilter,
    ReenrollAfter,
    ScheduleTrigger,
    Workflow,
)

from .conditions import condition_holds, is_marketing, unsubscribed
from .context import cel_ready

__all__ = ["EnrollmentHistory", "should_enroll"]


@dataclass(frozen=True)
class EnrollmentHistory:
    """The subject's earlier runs of this workflow (any version) and the current instant."""

    now: dt.datetime
    started_at: tuple[dt.datetime, ...] = ()
    active: bool = False


def should_enroll(
    definition: Workflow,
    subject: Mapping[str, Any],
    event: Mapping[str, Any] | None,
    history: EnrollmentHistory,
) -> tuple[bool, str]:
    """Whether to enroll `subject` (the record as CEL sees it) on `event` (the triggering event's
    data, None for schedule, segment and manual enrollments), and why (or why not).

    In order: an active run blocks; an unsubscribed customer is not enrolled in a marketing
    workflow (one that e-mails the subject); ``reenroll: never`` blocks after any earlier run;
    ``reenroll: {after: D}`` blocks within D of the latest start; the trigger's ``when`` (or the
    schedule's ``for_each: {when}``) must hold; a subject already meeting the goal is not enrolled.
    """
    if history.active:
        return False, "already has an active run"
    if is_marketing(definition) and unsubscribed(subject):
        return False, "unsubscribed (a marketing workflow)"
    reenroll = definition.enrollment.reenroll
    if history.started_at:
        if reenroll == "never":
            return False, "already ran (reenroll: never)"
        if isinstance(reenroll, ReenrollAfter):
            earliest = max(history.started_at) + parse_duration(reenroll.after)
            if history.now < earliest:
                return False, f"started within {reenroll.after} (reenroll after)"
    variables = cel_ready(
        {
            "subject": dict(subject),
            "event": dict(event or {}),
            "run": {"id": "", "startedAt": history.now, "vars": {}},
            "now": history.now,
        }
    )
    trigger = definition.trigger
    condition = None
    if isinstance(trigger, EventTrigger):
        condition = trigger.when
    elif isinstance(trigger, ScheduleTrigger) and isinstance(trigger.for_each, ForEachFilter):
        condition = trigger.for_each.when
    if condition is not None:
        holds, error = condition_holds(condition, variables)
        if not holds:
            return False, "trigger condition not met" + (f" ({error})" if error else "")
    if definition.goal is not None and condition_holds(definition.goal, variables)[0]:
        return False, "goal already met"
    return True, "enrolled"
