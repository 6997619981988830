"""Business-time arithmetic on a :class:`BusinessCalendar`.

Business time is the set of instants inside a calendar's open periods; each period is half-open,
``[opening, closing)``, so an instant at a closing is closed (unless the next period opens right
then, as at midnight on a 24x7 calendar).

All functions take aware datetimes (naive ones are refused with ``ValueError``), work in whole
open periods one local day at a time (cost grows with the days spanned, not the minutes), and
return aware datetimes in the calendar's time zone.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from domain.calendars.localtime import local_instant
from domain.calendars.model import BusinessCalendar, Period, parse_time_of_day, parse_weekdays

_ONE_DAY = timedelta(days=1)
_ONE_MINUTE = timedelta(minutes=1)


def is_open(calendar: BusinessCalendar, instant: datetime) -> bool:
    """Whether ``instant`` is business time: inside an open period, closings excluded."""
    moment = _as_utc(instant)
    periods = calendar.open_periods(_local_date(calendar, moment))
    return any(start <= moment < end for start, end in periods)


def next_opening(calendar: BusinessCalendar, instant: datetime) -> datetime:
    """``instant`` itself if the calendar is open then, else the next opening after it."""
    moment = _as_utc(instant)
    start, _ = next(_periods_from(calendar, moment))
    return start.astimezone(calendar.timezone)


def add_business_time(
    calendar: BusinessCalendar, start: datetime, minutes: int | timedelta
) -> datetime:
    """The instant at which ``minutes`` of business time have passed since ``start``.

    ``minutes`` may also be a ``timedelta`` (an SLA clock resumed with seconds already run).

    The clock starts at ``next_opening(start)`` and the result is the earliest instant at or
    after it with exactly ``minutes`` of business time since ``start``. Consequences:

    - ``minutes == 0`` gives ``next_opening(start)``: the clock has started but not run;
    - for ``minutes > 0`` the minute just before the result is business time, so a result can
      be a closing (Friday 16:00 + 1h30m on a calendar that closes at 17:30 is Friday 17:30, not
      the next opening), but never lies strictly inside closed time;
    - ``add(t, a + b) == add(add(t, a), b)`` whenever ``b > 0``.

    ``start`` may carry seconds; they are kept. Negative ``minutes`` raise ``ValueError``.
    """
    remaining = minutes if isinstance(minutes, timedelta) else timedelta(minutes=minutes)
    if remaining < timedelta():
        raise ValueError(f"business minutes to add must not be negative, got {minutes}")
    if not remaining:
        return next_opening(calendar, start)
    for opening, closing in _periods_from(calendar, _as_utc(start)):
        available = closing - opening
        if remaining <= available:
            return (opening + remaining).astimezone(calendar.timezone)
        remaining -= available
    raise AssertionError("unreachable: a calendar is open every week")


def business_time_between(calendar: BusinessCalendar, a: datetime, b: datetime) -> timedelta:
    """The business time from ``a`` to ``b``, exactly; negative when ``b`` is before ``a``.

    Antisymmetric (``between(b, a) == -between(a, b)``) so that "business time left until a due
    instant" turns negative once it is overdue.
    """
    begin, finish = _as_utc(a), _as_utc(b)
    if finish < begin:
        return -business_time_between(calendar, b, a)
    total = timedelta()
    for opening, closing in _periods_from(calendar, begin):
        if opening >= finish:
            break
        total += min(closing, finish) - opening
    return total


def business_minutes_between(calendar: BusinessCalendar, a: datetime, b: datetime) -> int:
    """:func:`business_time_between` in whole minutes, rounded toward zero (seconds dropped)."""
    elapsed = business_time_between(calendar, a, b)
    whole = abs(elapsed) // _ONE_MINUTE
    return whole if elapsed >= timedelta() else -whole


def end_of_business_day(calendar: BusinessCalendar, start: datetime, n: int) -> datetime:
    """The closing time (last closing) of the ``n``-th working day after ``start``.

    A working day is a local date with some open period. Counting starts on the local date
    after ``start``'s: the start day never counts for ``n >= 1``, even when ``start`` is before
    its opening (``{business_days: 1}`` on Monday 07:00 is Tuesday's closing). ``n == 0`` is
    "the end of the current business day": the first closing of a working day's last period
    that is after ``start`` (today's, or the next working day's once today's has passed).
    """
    if n < 0:
        raise ValueError(f"the number of working days must not be negative, got {n}")
    moment = _as_utc(start)
    day = _local_date(calendar, moment)
    if n == 0:
        while True:
            periods = calendar.open_periods(day)
            if periods and periods[-1][1] > moment:
                return periods[-1][1].astimezone(calendar.timezone)
            day += _ONE_DAY
    counted = 0
    while True:
        day += _ONE_DAY
        periods = calendar.open_periods(day)
        if periods:
            counted += 1
            if counted == n:
                return periods[-1][1].astimezone(calendar.timezone)


def next_local_time(
    zone: BusinessCalendar | tzinfo,
    start: datetime,
    at: str | time,
    days: Iterable[str] | None = None,
) -> datetime:
    """The first instant strictly after ``start`` when the clock in ``zone`` shows ``at`` on one
    of ``days`` (weekday names or ranges, e.g. ``["mon-fri"]``; every day when ``None``).

    A calendar stands for its time zone only: its hours and holidays are not consulted. A time
    the clock skips that day (DST gap) is the moment the clock jumps past it; a time it shows
    twice is the first occurrence. Bad ``at`` or ``days`` raise :class:`CalendarError`.
    """
    local_zone = zone.timezone if isinstance(zone, BusinessCalendar) else zone
    minute = at.hour * 60 + at.minute if isinstance(at, time) else parse_time_of_day(at)
    weekdays = frozenset(range(7)) if days is None else parse_weekdays(days)
    moment = _as_utc(start)
    day = moment.astimezone(local_zone).date()
    while True:
        if day.weekday() in weekdays:
            candidate = local_instant(day, minute, local_zone)
            if candidate > moment:
                return candidate.astimezone(local_zone)
        day += _ONE_DAY


def _periods_from(calendar: BusinessCalendar, moment: datetime) -> Iterator[Period]:
    """The open periods that end after ``moment``, the first clipped to start no earlier than it.

    Every period of a local date lies between that date's midnight and the next, so none of an
    earlier date can still be open at ``moment``. Endless: a calendar is open every week.
    """
    day = _local_date(calendar, moment)
    while True:
        for opening, closing in calendar.open_periods(day):
            if closing > moment:
                yield max(opening, moment), closing
        day += _ONE_DAY


def _local_date(calendar: BusinessCalendar, moment: datetime) -> date:
    return moment.astimezone(calendar.timezone).date()


def _as_utc(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"an aware datetime is required, got naive {instant.isoformat()}")
    return instant.astimezone(UTC)
