"""Moments derived from a subject's date fields: when a ``date:`` trigger enrolls a subject,
and when a ``wait: {until: CEL}`` ends once the subject has changed. Pure: `now` is passed in.

``date: {field, offset, at, timezone}``: the field's day (a date, or the local day of a moment)
plus ``offset`` in local wall time, at ``at`` o'clock when given (else the moment itself, or
midnight for a date). The zone is the trigger's ``timezone``; ``subject`` means the subject's
time zone, else the workspace's.

What a marketer expects when the date moves (the README's Workflows section says the same):

- a due time still ahead moves with the field;
- a due time that is now behind us but whose date has not passed yet fires at once (the
  renewal was moved to the day after tomorrow: the "7 days before" reminder goes out now);
- once the date itself is over, nothing fires: an imported customer whose renewal was last
  year is not reminded of it, and a deploy does not replay history;
- a cleared field cancels the pending enrollment; setting it again arms it again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from workflows.language.durations import parse_signed_duration
from workflows.language.spec import DateTrigger

from .environment import WORKSPACE_TIMEZONE

__all__ = ["date_trigger_due", "date_trigger_moment", "field_value", "subject_zone", "to_anchor"]


def subject_zone(name: str, subject: Mapping[str, Any], workspace_timezone: str) -> ZoneInfo:
    """``subject`` -> the subject's ``timezone`` (else the workspace's); else the zone named."""
    if name == "subject":
        name = str(subject.get("timezone") or workspace_timezone)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(workspace_timezone)


def field_value(subject: Mapping[str, Any], field: str) -> Any:
    """The value at ``subject.a.b`` in the subject map; None when any part is missing."""
    value: Any = subject
    for part in field.removeprefix("subject.").split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def to_anchor(value: Any, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime] | None:
    """A date or moment (objects or ISO-8601 text) as (its local start, when it is over: the
    next midnight for a date); None when the value is not one (unset, or not a date)."""
    if isinstance(value, str):
        try:
            parse = dt.date.fromisoformat if len(value) == 10 else dt.datetime.fromisoformat
            value = parse(value)
        except ValueError:
            return None
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=zone)
        local = moment.astimezone(zone)
        return local, local
    if isinstance(value, dt.date):
        start = dt.datetime.combine(value, dt.time(0), tzinfo=zone)
        over = dt.datetime.combine(value + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
        return start, over
    return None


def _wall(moment: dt.datetime, delta: dt.timedelta, zone: ZoneInfo) -> dt.datetime:
    """`moment` + `delta` on the local wall clock (a day is a calendar day across DST)."""
    return (moment.astimezone(zone).replace(tzinfo=None) + delta).replace(tzinfo=zone)


def date_trigger_moment(
    spec: DateTrigger.Date,
    subject: Mapping[str, Any],
    workspace_timezone: str = WORKSPACE_TIMEZONE,
) -> tuple[dt.datetime, dt.datetime] | None:
    """(when the trigger is due, when the field's date is over), both in UTC; None when the
    field is unset or not a date."""
    zone = subject_zone(spec.timezone, subject, workspace_timezone)
    anchor = to_anchor(field_value(subject, spec.field), zone)
    if anchor is None:
        return None
    start, over = anchor
    if spec.at is not None:
        hour, minute = (int(part) for part in spec.at.split(":"))
        start = start.replace(hour=hour, minute=minute, second=0, microsecond=0)
    due = _wall(start, parse_signed_duration(spec.offset), zone)
    return due.astimezone(dt.UTC), over.astimezone(dt.UTC)


def date_trigger_due(
    spec: DateTrigger.Date,
    subject: Mapping[str, Any],
    now: dt.datetime,
    workspace_timezone: str = WORKSPACE_TIMEZONE,
) -> dt.datetime | None:
    """When the trigger enrolls `subject`, seen at `now`; None when it never will (the field is
    unset or not a date, or its date is over). A due time already past fires at once (`now`)."""
    moment = date_trigger_moment(spec, subject, workspace_timezone)
    if moment is None:
        return None
    due, over = moment
    if due > now:
        return due
    return now.astimezone(dt.UTC) if over > now else None
