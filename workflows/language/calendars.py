"""Checking a business calendar declared in YAML (sla.md) for validation.

The calendar model lives in `domain.calendars` (`BusinessCalendar`, which raises
`CalendarError(path, message)`); this module asks it and turns its errors into
(path-inside-the-calendar, message) pairs. Until that module is importable, a structural check of
the same YAML shape stands in for it.
"""

from __future__ import annotations

import datetime as dt
import importlib
import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .source import YamlPath

__all__ = ["calendar_problems", "is_time_zone"]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_INTERVAL = re.compile(r"(\d{2}):(\d{2})-(\d{2}):(\d{2})")
_CALENDAR_KEYS = {"timezone", "hours", "holidays", "closed"}


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
    """Problems of the calendar `key` declared as `spec`, with paths relative to `spec`."""
    try:
        module = importlib.import_module("domain.calendars")
    except ModuleNotFoundError:
        return _structural_problems(spec)
    build = _builder(module.BusinessCalendar)
    if build is None:
        return _structural_problems(spec)
    try:
        build(key, spec)
    except module.CalendarError as error:
        path = tuple(getattr(error, "path", ()) or ())
        return [(path, str(getattr(error, "message", error)))]
    return []


def _builder(cls: Any) -> Any:
    for name in ("from_yaml", "from_spec", "from_mapping", "from_dict", "parse"):
        method = getattr(cls, name, None)
        if method is not None:
            return lambda key, spec, method=method: _call(method, key, spec)
    return None


def _call(method: Any, key: str, spec: Any) -> Any:
    try:
        return method(key, spec)
    except TypeError:
        return method(spec)


def _structural_problems(spec: Any) -> list[tuple[YamlPath, str]]:
    if not isinstance(spec, dict):
        return [((), "a calendar is a mapping with timezone and hours")]
    problems: list[tuple[YamlPath, str]] = []
    for unknown in sorted(set(spec) - _CALENDAR_KEYS, key=str):
        problems.append(((unknown,), f"unknown key {unknown!r}"))
    if "timezone" not in spec:
        problems.append(((), "missing required key 'timezone'"))
    elif not is_time_zone(spec["timezone"]):
        problems.append((("timezone",), f"unknown time zone {spec['timezone']!r}"))
    hours = spec.get("hours")
    if not isinstance(hours, dict) or not hours:
        problems.append(
            ((("hours",) if "hours" in spec else ()), "hours: a map of days to intervals")
        )
    else:
        for days, intervals in hours.items():
            problems += _hours_problems(str(days), intervals)
    holidays = spec.get("holidays")
    if holidays is not None and not (isinstance(holidays, dict) and set(holidays) <= {"country"}):
        problems.append((("holidays",), "holidays: expected {country: CODE}"))
    for index, day in enumerate(spec.get("closed") or []):
        try:
            dt.date.fromisoformat(str(day))
        except ValueError:
            problems.append((("closed", index), f"invalid date {day!r} (expected YYYY-MM-DD)"))
    return problems


def _hours_problems(days: str, intervals: Any) -> list[tuple[YamlPath, str]]:
    problems: list[tuple[YamlPath, str]] = []
    first, _, last = days.partition("-")
    if first not in DAYS or (last and last not in DAYS):
        problems.append((("hours", days), f"invalid days {days!r} (e.g. mon-fri, sat)"))
    if not isinstance(intervals, list):
        return [*problems, (("hours", days), "expected a list of intervals like 08:00-12:00")]
    for index, interval in enumerate(intervals):
        match = _INTERVAL.fullmatch(str(interval))
        start = int(match.group(1)) * 60 + int(match.group(2)) if match else 0
        end = int(match.group(3)) * 60 + int(match.group(4)) if match else 0
        if match is None or not 0 <= start < end <= 24 * 60:
            problems.append(
                (("hours", days, index), f"invalid interval {interval!r} (e.g. 08:00-12:00)")
            )
    return problems
