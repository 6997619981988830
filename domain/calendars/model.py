"""Business calendars: opening hours per weekday in a time zone, public holidays, closed days.

A calendar is declared as plain data (the YAML shape of ``sla.md``)::

    timezone: Asia/Ho_Chi_Minh
    hours:
      mon-fri: ["08:00-12:00", "13:00-17:30"]
      sat: ["08:00-12:00"]
    holidays: {country: VN}
    closed: ["2026-12-31"]
    open: {"2027-02-20": ["08:00-12:00"]}

and :meth:`BusinessCalendar.from_data` turns it into a frozen, hashable object or raises a
:class:`CalendarError` whose ``path`` points at the offending entry.

The hours of a date are decided in this order: an ``open`` entry for the date gives its hours
(even on a holiday or a weekend); otherwise a ``closed`` date or a public holiday has none;
otherwise the weekday's hours apply.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from types import MappingProxyType
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from domain.calendars.localtime import MINUTES_PER_DAY, local_instant
from domain.errors import DomainError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FIELDS = ("timezone", "hours", "holidays", "closed", "open")
_TIME = re.compile(r"(\d{1,2}):(\d{2})")
_INTERVAL = re.compile(r"\s*(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})\s*")
# Bounds the per-calendar cache of open periods (one entry per local date asked about).
_PERIOD_CACHE_SIZE = 4096

Path = tuple[object, ...]
Period = tuple[datetime, datetime]


class CalendarError(DomainError):
    """A calendar, or a time of day or weekday list, that cannot be used.

    ``path`` locates the problem inside the data given: mapping keys as they appear there, list
    positions as ints, e.g. ``("hours", "mon-fri", 0)``. It is relative to the calendar's own
    mapping (or to the list or string passed to a parsing function); callers prefix their own.
    """

    code = "INVALID_CALENDAR"

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(message)
        self.path = path

    def __str__(self) -> str:
        if not self.path:
            return self.message
        location = "".join(
            f"[{part}]" if isinstance(part, int) else f".{part}" for part in self.path
        )
        return f"{location.lstrip('.')}: {self.message}"

    def within(self, *prefix: object) -> CalendarError:
        """The same error with ``prefix`` put in front of its path."""
        return CalendarError((*prefix, *self.path), self.message)


class OpenInterval(NamedTuple):
    """Open from ``start`` to ``end``, in minutes past local midnight; ``end`` may be 1440."""

    start: int
    end: int

    def __str__(self) -> str:
        return f"{_format_minute(self.start)}-{_format_minute(self.end)}"


DayHours = tuple[OpenInterval, ...]


@dataclass(frozen=True)
class BusinessCalendar:
    """When a business is open.

    ``weekly_hours`` has seven entries, Monday first, each a sorted tuple of non-overlapping,
    non-touching intervals (touching ones are merged when built from data). ``open_dates`` gives
    a date its own hours, overriding weekday, holidays and ``closed_dates``.
    """

    key: str
    timezone: ZoneInfo
    weekly_hours: tuple[DayHours, ...]
    holiday_country: str | None = None
    closed_dates: frozenset[date] = frozenset()
    open_dates: tuple[tuple[date, DayHours], ...] = ()
    _open_by_date: Mapping[date, DayHours] = field(init=False, repr=False, compare=False)
    _periods: dict[date, tuple[Period, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.weekly_hours) != len(WEEKDAYS):
            raise CalendarError(("hours",), "weekly hours must give all seven weekdays")
        for weekday, day_hours in enumerate(self.weekly_hours):
            _check_day_hours(day_hours, ("hours", WEEKDAYS[weekday]))
        if not any(self.weekly_hours):
            raise CalendarError(("hours",), "the calendar is never open: give some weekly hours")
        for day, day_hours in self.open_dates:
            _check_day_hours(day_hours, ("open", day.isoformat()))
        object.__setattr__(self, "_open_by_date", MappingProxyType(dict(self.open_dates)))
        object.__setattr__(self, "_periods", {})

    @classmethod
    def from_data(cls, key: str, data: object) -> BusinessCalendar:
        """Build a calendar from its plain-data (YAML) form; see the module docstring."""
        if not isinstance(data, Mapping):
            raise CalendarError((), "a calendar must be a mapping")
        for name in data:
            if name not in _FIELDS:
                raise CalendarError((name,), f"unknown field; expected one of {', '.join(_FIELDS)}")
        for required in ("timezone", "hours"):
            if required not in data:
                raise CalendarError((), f"missing field '{required}'")
        open_dates = _parse_open_dates(data.get("open"))
        closed_dates = _parse_closed_dates(data.get("closed"))
        for day, _ in open_dates:
            if day in closed_dates:
                raise CalendarError(("open", day.isoformat()), "this date is also in 'closed'")
        return cls(
            key=key,
            timezone=_parse_timezone(data["timezone"]),
            weekly_hours=_parse_weekly_hours(data["hours"]),
            holiday_country=_parse_holidays(data.get("holidays")),
            closed_dates=closed_dates,
            open_dates=open_dates,
        )

    def holiday_name(self, day: date) -> str | None:
        """The public holiday on ``day`` in the calendar's country, if any."""
        if self.holiday_country is None:
            return None
        return _holidays_of(self.holiday_country, day.year).get(day)

    def hours_on(self, day: date) -> DayHours:
        """The opening hours of a local date, holidays and exceptions applied."""
        special = self._open_by_date.get(day)
        if special is not None:
            return special
        if day in self.closed_dates or self.holiday_name(day) is not None:
            return ()
        return self.weekly_hours[day.weekday()]

    def open_periods(self, day: date) -> tuple[Period, ...]:
        """The opening hours of a local date as UTC instants, in order, DST applied.

        An interval the clock skips entirely (inside a DST gap) disappears; intervals that come
        to touch are merged, so every period end is a real closing.
        """
        cached = self._periods.get(day)
        if cached is not None:
            return cached
        periods: list[Period] = []
        for interval in self.hours_on(day):
            start = local_instant(day, interval.start, self.timezone)
            end = local_instant(day, interval.end, self.timezone)
            if start >= end:
                continue
            if periods and periods[-1][1] >= start:
                periods[-1] = (periods[-1][0], end)
            else:
                periods.append((start, end))
        if len(self._periods) >= _PERIOD_CACHE_SIZE:
            self._periods.clear()
        result = self._periods[day] = tuple(periods)
        return result


def parse_time_of_day(text: object) -> int:
    """``"HH:MM"`` (00:00 to 23:59) as minutes past midnight; errors have an empty path."""
    return _parse_minute(text, (), allow_midnight_end=False)


def parse_weekdays(days: object) -> frozenset[int]:
    """Weekday names and ranges (``["mon-fri", "sun"]``) as weekday numbers, Monday = 0.

    Errors carry the list position as their path.
    """
    if isinstance(days, str) or not isinstance(days, Iterable):
        raise CalendarError((), "expected a list of weekdays, e.g. [mon, tue] or [mon-fri]")
    result: set[int] = set()
    for position, spec in enumerate(days):
        result.update(_parse_day_spec(spec, (position,)))
    if not result:
        raise CalendarError((), "the list of weekdays is empty")
    return frozenset(result)


@lru_cache(maxsize=256)
def _holidays_of(country: str, year: int) -> Mapping[date, str]:
    # Names in English whatever the process locale, so they read the same everywhere.
    found = holidays.country_holidays(country, years=year, language="en_US")
    return MappingProxyType(dict(found.items()))


def _parse_timezone(value: object) -> ZoneInfo:
    if not isinstance(value, str) or not value:
        raise CalendarError(("timezone",), "expected an IANA time zone name, e.g. Asia/Ho_Chi_Minh")
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise CalendarError(("timezone",), f"unknown time zone '{value}'") from None


def _parse_holidays(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise CalendarError(("holidays",), "expected a mapping such as {country: VN}")
    for name in value:
        if name != "country":
            raise CalendarError(("holidays", name), "unknown field; expected 'country'")
    country = value.get("country")
    if not isinstance(country, str) or not country:
        raise CalendarError(("holidays", "country"), "expected an ISO 3166 country code, e.g. VN")
    code = country.upper()
    try:
        holidays.country_holidays(code, years=2000)
    except NotImplementedError:
        raise CalendarError(
            ("holidays", "country"), f"no public holidays are known for country '{country}'"
        ) from None
    return code


def _parse_weekly_hours(value: object) -> tuple[DayHours, ...]:
    if not isinstance(value, Mapping) or not value:
        raise CalendarError(("hours",), "expected a mapping of days to hours, e.g. mon-fri: [...]")
    weekly: list[DayHours | None] = [None] * len(WEEKDAYS)
    given_by: dict[int, object] = {}
    for spec, intervals in value.items():
        for weekday in _parse_day_spec(spec, ("hours", spec)):
            if weekday in given_by:
                earlier = given_by[weekday]
                raise CalendarError(
                    ("hours", spec), f"{WEEKDAYS[weekday]} is already given by '{earlier}'"
                )
            given_by[weekday] = spec
            weekly[weekday] = _parse_day_hours(intervals, ("hours", spec))
    return tuple(day_hours or () for day_hours in weekly)


def _parse_day_spec(spec: object, path: Path) -> range:
    if not isinstance(spec, str):
        raise CalendarError(path, "expected a weekday (mon..sun) or a range such as mon-fri")
    first, dash, last = spec.strip().lower().partition("-")
    names = [first, last] if dash else [first]
    for name in names:
        if name not in WEEKDAYS:
            raise CalendarError(path, f"unknown day '{name}'; use {', '.join(WEEKDAYS)}")
    start, end = WEEKDAYS.index(names[0]), WEEKDAYS.index(names[-1])
    if end < start:
        raise CalendarError(path, f"'{spec}' runs backwards; weeks run from mon to sun")
    return range(start, end + 1)


def _parse_day_hours(value: object, path: Path) -> DayHours:
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise CalendarError(path, 'expected a list of intervals, e.g. ["08:00-12:00"]')
    parsed: list[tuple[OpenInterval, int]] = []
    for position, text in enumerate(value):
        parsed.append((_parse_interval(text, (*path, position)), position))
    parsed.sort()
    merged: list[OpenInterval] = []
    for interval, position in parsed:
        if merged and interval.start < merged[-1].end:
            raise CalendarError(
                (*path, position), f"{interval} overlaps {merged[-1]} on the same day"
            )
        if merged and interval.start == merged[-1].end:
            merged[-1] = OpenInterval(merged[-1].start, interval.end)
        else:
            merged.append(interval)
    return tuple(merged)


def _parse_interval(text: object, path: Path) -> OpenInterval:
    match = _INTERVAL.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise CalendarError(path, "expected an interval such as 08:00-12:00")
    start = _parse_minute(match[1], path, allow_midnight_end=False)
    end = _parse_minute(match[2], path, allow_midnight_end=True)
    if end <= start:
        raise CalendarError(
            path,
            f"ends at {match[2]}, not after it starts at {match[1]}; an interval cannot cross "
            "midnight: end it at 24:00 and start the next day at 00:00",
        )
    return OpenInterval(start, end)


def _parse_minute(text: object, path: Path, *, allow_midnight_end: bool) -> int:
    match = _TIME.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise CalendarError(path, f"expected a time of day as HH:MM, got {text!r}")
    hours, minutes = int(match[1]), int(match[2])
    if allow_midnight_end and (hours, minutes) == (24, 0):
        return MINUTES_PER_DAY
    if hours > 23 or minutes > 59:
        latest = "24:00" if allow_midnight_end else "23:59"
        raise CalendarError(path, f"{text} is not a time of day (00:00 to {latest})")
    return hours * 60 + minutes


def _parse_date(value: object, path: Path) -> date:
    # A YAML loader may already have turned an unquoted 2026-12-31 into a date.
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise CalendarError(path, f"expected a date as YYYY-MM-DD, got {value!r}")


def _parse_closed_dates(value: object) -> frozenset[date]:
    if value is None:
        return frozenset()
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise CalendarError(("closed",), 'expected a list of dates, e.g. ["2026-12-31"]')
    return frozenset(_parse_date(item, ("closed", position)) for position, item in enumerate(value))


def _parse_open_dates(value: object) -> tuple[tuple[date, DayHours], ...]:
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        raise CalendarError(("open",), "expected a mapping of dates to lists of intervals")
    result: dict[date, DayHours] = {}
    for key, intervals in value.items():
        day = _parse_date(key, ("open", key))
        if day in result:
            raise CalendarError(("open", key), "this date is given twice")
        day_hours = _parse_day_hours(intervals, ("open", key))
        if not day_hours:
            raise CalendarError(("open", key), "give at least one interval, or use 'closed'")
        result[day] = day_hours
    return tuple(sorted(result.items()))


def _check_day_hours(day_hours: DayHours, path: Path) -> None:
    previous_end = -1
    for position, (start, end) in enumerate(day_hours):
        if not 0 <= start < end <= MINUTES_PER_DAY or start <= previous_end:
            raise CalendarError(
                (*path, position), "intervals must be sorted, within the day, and not touch"
            )
        previous_end = end


def _format_minute(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"
