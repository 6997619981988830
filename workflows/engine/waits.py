"""The instant a wait form ends, computed from the input's `now` (never a clock read).

- ``2d`` / ``PT36H``: elapsed time (``now + duration``, in absolute time);
- ``{business: 4h}``: `add_business_time` on the step's calendar, else the workflow's, else the
  workspace's default;
- ``{business_days: N}``: `end_of_business_day` (the closing of the Nth working day after now);
- ``{until: CEL}``: the timestamp the expression gives (an ISO-8601 text is accepted). When it
  reads a field that is unset (null, or a missing attribute) the wait has no end yet
  (`UNSET`): the run holds at the step until the field is set, and a wait whose field changes
  moves (see `advance`);
- ``{until_time: "10:00", days, timezone}``: `next_local_time` in that zone (``subject``: the
  subject's ``timezone``, else the workspace's).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from domain.calendars import add_business_time, end_of_business_day, next_local_time
from workflows.language.durations import parse_business_duration, parse_duration
from workflows.language.expressions import ExpressionError, compile_expression, evaluate
from workflows.language.steps import BusinessDaysWait, BusinessWait, UntilTimeWait, UntilWait

from .context import Context

__all__ = ["describe_wait", "follows_subject", "until_due", "wait_until"]


def follows_subject(form: UntilWait) -> bool:
    """Whether ``{until: CEL}`` is a moment of the subject that moves when the subject changes:
    it reads ``subject`` and not ``now``."""
    names = set(compile_expression(form.until).variables())
    return "subject" in names and "now" not in names


def until_due(ctx: Context, form: UntilWait) -> dt.datetime | None:
    """When ``{until: CEL}`` ends, or None while the date it reads is unset. Raises
    ``ExpressionError`` for a value that is set but not a timestamp."""
    try:
        value = evaluate(form.until, ctx.variables())
    except ExpressionError as error:
        if isinstance(error.__cause__, KeyError):
            return None  # a map key that is absent: an attribute never set, or cleared
        raise
    if value is None:
        return None
    return _timestamp(value, form.until, ctx)


def wait_until(ctx: Context, form: Any) -> dt.datetime:
    """When the wait `form` started at ``ctx.now`` ends (may be in the past for ``until``).
    Raises ``ExpressionError`` for an ``until`` that does not evaluate to a timestamp (an
    unset date included: callers that hold for it use `until_due`)."""
    now = ctx.now
    if isinstance(form, str):
        return (now.astimezone(dt.UTC) + parse_duration(form)).astimezone(now.tzinfo)
    if isinstance(form, BusinessWait):
        minutes = int(parse_business_duration(form.business).total_seconds() // 60)
        return add_business_time(ctx.calendar(form.calendar), now, minutes)
    if isinstance(form, BusinessDaysWait):
        return end_of_business_day(ctx.calendar(form.calendar), now, form.business_days)
    if isinstance(form, UntilWait):
        return _timestamp(evaluate(form.until, ctx.variables()), form.until, ctx)
    if isinstance(form, UntilTimeWait):
        return next_local_time(ctx.zone(form.timezone), now, form.until_time, form.days)
    raise TypeError(f"not a wait form: {form!r}")


def _timestamp(value: Any, source: str, ctx: Context) -> dt.datetime:
    """A CEL result as a moment; a date (``"2026-12-10"``) or a time without an offset is
    local to the subject (its time zone, else the workspace's)."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError as error:
            raise ExpressionError(f"{source!r} gave {value!r}, not a timestamp") from error
    if not isinstance(value, dt.datetime):
        raise ExpressionError(f"{source!r} gave {value!r}, not a timestamp")
    if value.tzinfo is None:
        value = value.replace(tzinfo=ctx.zone("subject"))
    return value


def describe_wait(form: Any) -> Any:
    """The wait form as plain data, for a step's record."""
    if isinstance(form, str):
        return form
    return form.model_dump(exclude_none=True)
