"""Laws of business-time arithmetic, on generated calendars and instants near DST changes.

Instants are whole minutes (opening hours and every zone offset used here are whole minutes, so
every opening and closing is too), which lets two brute-force oracles check the day-by-day code:
a wall-clock reading of the hours for ``is_open``, and a minute-by-minute count for ``between``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from domain.calendars import (
    ALWAYS,
    VN_OFFICE,
    WEEKDAYS,
    BusinessCalendar,
    add_business_time,
    business_minutes_between,
    business_time_between,
    end_of_business_day,
    is_open,
    next_opening,
)

ZONES = [
    "UTC",
    "Asia/Ho_Chi_Minh",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",  # a 30-minute DST shift
    "America/Santiago",  # DST changes at midnight
    "Asia/Kathmandu",  # a +05:45 offset
]
# UTC instants of DST changes in 2027 for the zones above, to generate instants near them.
TRANSITIONS = [
    datetime(2027, 3, 28, 1, 0, tzinfo=UTC),  # Berlin, spring forward
    datetime(2027, 10, 31, 1, 0, tzinfo=UTC),  # Berlin, fall back
    datetime(2027, 3, 14, 7, 0, tzinfo=UTC),  # New York, spring forward
    datetime(2027, 11, 7, 6, 0, tzinfo=UTC),  # New York, fall back
    datetime(2027, 4, 3, 15, 0, tzinfo=UTC),  # Lord Howe, fall back (02:00 -> 01:30)
    datetime(2027, 10, 2, 15, 30, tzinfo=UTC),  # Lord Howe, spring forward
    datetime(2027, 4, 4, 3, 0, tzinfo=UTC),  # Santiago, fall back
    datetime(2027, 9, 5, 4, 0, tzinfo=UTC),  # Santiago, spring forward
]
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
ONE_MINUTE = timedelta(minutes=1)
TINY = timedelta(microseconds=1)
LAWS = settings(max_examples=150, deadline=None)


def _format(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


@st.composite
def day_hours(draw: st.DrawFn) -> list[str]:
    # Boundaries on the half hour hit DST changes and 24:00 often; any minute is allowed too.
    boundary = st.one_of(
        st.integers(0, 48).map(lambda half_hours: half_hours * 30), st.integers(0, 1440)
    )
    edges = sorted(draw(st.sets(boundary, max_size=6)))
    if len(edges) % 2:
        edges.pop()
    return [
        f"{_format(start)}-{_format(end)}"
        for start, end in zip(edges[::2], edges[1::2], strict=True)
    ]


@st.composite
def calendars(draw: st.DrawFn) -> BusinessCalendar:
    hours = {day: draw(day_hours()) for day in WEEKDAYS}
    weekly_minutes = sum(
        int(end[:2]) * 60 + int(end[3:]) - int(start[:2]) * 60 - int(start[3:])
        for intervals in hours.values()
        for start, _, end in (interval.partition("-") for interval in intervals)
    )
    # At least an hour a week keeps a long add within a few hundred days.
    assume(weekly_minutes >= 60)
    data: dict[str, object] = {"timezone": draw(st.sampled_from(ZONES)), "hours": hours}
    country = draw(st.sampled_from([None, "VN", "DE"]))
    if country is not None:
        data["holidays"] = {"country": country}
    near = st.integers(0, 3 * 365).map(lambda days: (EPOCH + timedelta(days=days)).date())
    closed = draw(st.sets(near, max_size=3))
    data["closed"] = [day.isoformat() for day in closed]
    opened = draw(st.sets(near, max_size=2)) - closed
    data["open"] = {day.isoformat(): draw(day_hours().filter(bool)) for day in opened}
    return BusinessCalendar.from_data("generated", data)


any_calendar = st.one_of(st.sampled_from([VN_OFFICE, ALWAYS]), calendars())
instants = st.one_of(
    st.integers(0, 3 * 365 * 1440).map(lambda minutes: EPOCH + minutes * ONE_MINUTE),
    st.builds(
        lambda transition, minutes: transition + minutes * ONE_MINUTE,
        st.sampled_from(TRANSITIONS),
        st.integers(-3 * 1440, 3 * 1440),
    ),
)
durations = st.integers(0, 3000)


@LAWS
@given(any_calendar, instants, durations, durations)
def test_adding_in_two_steps_is_adding_the_sum(
    calendar: BusinessCalendar, start: datetime, a: int, b: int
) -> None:
    in_two = add_business_time(calendar, add_business_time(calendar, start, a), b)
    if b > 0:
        assert in_two == add_business_time(calendar, start, a + b)
    else:
        # Adding 0 moves a closing result on to the next opening.
        assert in_two == next_opening(calendar, add_business_time(calendar, start, a))


@LAWS
@given(any_calendar, instants, durations)
def test_between_measures_what_add_added(
    calendar: BusinessCalendar, start: datetime, minutes: int
) -> None:
    end = add_business_time(calendar, start, minutes)
    assert business_time_between(calendar, start, end) == minutes * ONE_MINUTE
    assert business_minutes_between(calendar, start, end) == minutes
    assert business_minutes_between(calendar, end, start) == -minutes


@LAWS
@given(any_calendar, instants, durations.filter(bool))
def test_a_positive_add_ends_just_after_business_time(
    calendar: BusinessCalendar, start: datetime, minutes: int
) -> None:
    end = add_business_time(calendar, start, minutes)
    # The result is open, or the closing of the period in which the last minute ran: never
    # strictly inside closed time.
    assert is_open(calendar, end - TINY)
    assert end > start
    assert end >= next_opening(calendar, start)


@LAWS
@given(any_calendar, instants, durations, durations)
def test_add_is_monotonic(calendar: BusinessCalendar, start: datetime, a: int, b: int) -> None:
    shorter, longer = sorted((a, b))
    if shorter < longer:
        assert add_business_time(calendar, start, shorter) < add_business_time(
            calendar, start, longer
        )
    later_start = start + abs(a - b) * ONE_MINUTE
    assert add_business_time(calendar, start, a) <= add_business_time(calendar, later_start, a)


@LAWS
@given(any_calendar, instants, instants, instants)
def test_between_is_additive_over_any_middle_point(
    calendar: BusinessCalendar, a: datetime, middle: datetime, b: datetime
) -> None:
    whole = business_time_between(calendar, a, b)
    assert whole == business_time_between(calendar, a, middle) + business_time_between(
        calendar, middle, b
    )
    assert business_time_between(calendar, b, a) == -whole


@LAWS
@given(any_calendar, instants, st.integers(1, 3 * 1440))
def test_between_counts_open_minutes_one_by_one(
    calendar: BusinessCalendar, start: datetime, span: int
) -> None:
    counted = sum(is_open(calendar, start + i * ONE_MINUTE) for i in range(span))
    assert business_minutes_between(calendar, start, start + span * ONE_MINUTE) == counted


@LAWS
@given(any_calendar, instants)
def test_is_open_reads_the_wall_clock(calendar: BusinessCalendar, instant: datetime) -> None:
    local = instant.astimezone(calendar.timezone)
    # A reading the clock shows a second time (fold=1) follows the first-occurrence rule
    # instead; every other instant is open exactly when its reading is inside the day's hours.
    assume(local.fold == 0)
    minute = local.hour * 60 + local.minute
    by_the_wall_clock = any(start <= minute < end for start, end in calendar.hours_on(local.date()))
    assert is_open(calendar, instant) == by_the_wall_clock
    assert (next_opening(calendar, instant) == instant) == by_the_wall_clock


@LAWS
@given(any_calendar, instants, st.integers(0, 20))
def test_business_days_end_at_closings_in_order(
    calendar: BusinessCalendar, start: datetime, n: int
) -> None:
    end = end_of_business_day(calendar, start, n)
    following = end_of_business_day(calendar, start, n + 1)
    assert start < end <= following
    # Day 0 (the business day in progress, or the next) may be day 1: only n >= 1 is strict.
    if n > 0:
        assert end < following
        start_date = start.astimezone(calendar.timezone).date()
        assert (end - TINY).astimezone(calendar.timezone).date() > start_date
    assert is_open(calendar, end - TINY)
    assert end.tzinfo == ZoneInfo(calendar.timezone.key)
