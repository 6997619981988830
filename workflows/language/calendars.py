"""Business calendars for validation: the model is `domain.calendars.BusinessCalendar`; this
module turns its `CalendarError` into a (path-inside-the-calendar, message) pair."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.calendars import BUILTIN_CALENDARS, BusinessCalendar, CalendarError

from .source import YamlPath

__all__ = ["BUILTIN_CALENDAR_KEYS", "calendar_problems", "is_time_zone"]

BUILTIN_CALENDAR_KEYS = frozenset(BUILTIN_CALENDARS)


def is_time_zone(name: object) -> bool:
    """True for an IANA time zone name such as ``Asia/Ho_Chi_Minh``."""
    if not isinstance(name, str) or not name or name.startswith("/") or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def calendar_problems(key: str, spec: Any) -> list[tuple[YamlPath, str]]:
    """The problem (at most one: the model stops at the first) of calendar `key` declared as
    `spec`, with its path relative to `spec`."""
    try:
        BusinessCalendar.from_data(key, spec)
    except CalendarError as error:
        path = tuple(part if isinstance(part, str | int) else str(part) for part in error.path)
        return [(path, error.message)]
    return []
