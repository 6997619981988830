"""Building calendars from plain data, the errors and their paths, holidays, built-ins."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.calendars import (
    ALWAYS,
    BUILTIN_CALENDARS,
    VN_OFFICE,
    BusinessCalendar,
    CalendarError,
    OpenInterval,
    parse_time_of_day,
    parse_weekdays,
)

H = 60  # minutes in an hour, to write intervals readably


def test_vn_office_hours_by_weekday() -> None:
    weekday = (OpenInterval(8 * H, 12 * H), OpenInterval(13 * H, 17 * H + 30))
    assert VN_OFFICE.weekly_hours == (*[weekday] * 5, (OpenInterval(8 * H, 12 * H),), ())
    assert VN_OFFICE.timezone == ZoneInfo("Asia/Ho_Chi_Minh")
    assert VN_OFFICE.holiday_country == "VN"
    assert str(VN_OFFICE.weekly_hours[0][1]) == "13:00-17:30"


def test_always_is_open_all_day_every_day() -> None:
    assert ALWAYS.weekly_hours == ((OpenInterval(0, 24 * H),),) * 7
    assert str(ALWAYS.weekly_hours[6][0]) == "00:00-24:00"
    assert ALWAYS.timezone == ZoneInfo("UTC")
    assert set(BUILTIN_CALENDARS) == {"vn-office", "always"}


def test_tet_2027_as_the_holidays_library_gives_it() -> None:
    # holidays 0.108+: Thu 4 Feb (29th of the 12th lunar month) to Wed 10 Feb 2027 (5th day of
    # Tet); Tet itself (1st day) is Sat 6 Feb. Nothing else in early 2027 besides New Year's Day.
    tet = [date(2027, 2, 4) + timedelta(days=i) for i in range(7)]
    assert [VN_OFFICE.holiday_name(day) for day in tet] == [
        "29 of Lunar New Year",
        "Lunar New Year's Eve",
        "Lunar New Year",
        "Second Day of Lunar New Year",
        "Third Day of Lunar New Year",
        "Fourth Day of Lunar New Year",
        "Fifth Day of Lunar New Year",
    ]
    assert all(VN_OFFICE.hours_on(day) == () for day in tet)
    assert VN_OFFICE.holiday_name(date(2027, 2, 3)) is None
    assert VN_OFFICE.holiday_name(date(2027, 2, 11)) is None
    assert VN_OFFICE.hours_on(date(2027, 2, 3)) == VN_OFFICE.weekly_hours[2]


def test_tet_2026_covers_the_weekdays_of_the_break() -> None:
    # Tet 2026 is Tue 17 Feb; the library gives Mon 16 (eve) to Fri 20 Feb.
    days = [date(2026, 2, 16) + timedelta(days=i) for i in range(5)]
    assert all(VN_OFFICE.holiday_name(day) for day in days)
    assert VN_OFFICE.holiday_name(date(2026, 2, 13)) is None
    assert VN_OFFICE.holiday_name(date(2026, 2, 23)) is None


def test_closed_and_open_dates() -> None:
    calendar = BusinessCalendar.from_data(
        "office",
        {
            "timezone": "Asia/Ho_Chi_Minh",
            "hours": {"mon-fri": ["08:00-17:00"]},
            "holidays": {"country": "vn"},
            "closed": ["2026-12-31", date(2026, 12, 30)],
            # A make-up working Saturday, and a holiday opened for a morning.
            "open": {"2026-08-22": ["08:00-12:00"], date(2026, 9, 2): ["09:00-11:00"]},
        },
    )
    assert calendar.holiday_country == "VN"
    assert calendar.hours_on(date(2026, 12, 31)) == ()
    assert calendar.hours_on(date(2026, 12, 30)) == ()
    assert calendar.hours_on(date(2026, 12, 29)) == (OpenInterval(8 * H, 17 * H),)
    assert calendar.hours_on(date(2026, 8, 22)) == (OpenInterval(8 * H, 12 * H),)
    assert calendar.holiday_name(date(2026, 9, 2)) == "National Day"
    assert calendar.hours_on(date(2026, 9, 2)) == (OpenInterval(9 * H, 11 * H),)
    assert calendar.hours_on(date(2026, 9, 1)) == ()


def test_touching_intervals_merge_and_order_does_not_matter() -> None:
    calendar = BusinessCalendar.from_data(
        "c", {"timezone": "UTC", "hours": {"mon": ["13:00-17:00", "08:00-12:00", "12:00-13:00"]}}
    )
    assert calendar.weekly_hours[0] == (OpenInterval(8 * H, 17 * H),)
    assert calendar.weekly_hours[1:] == ((),) * 6


def test_calendars_are_hashable_values() -> None:
    data = {"timezone": "UTC", "hours": {"mon-fri": ["09:00-17:00"]}, "closed": ["2027-01-04"]}
    first = BusinessCalendar.from_data("c", data)
    second = BusinessCalendar.from_data("c", data)
    assert first == second
    assert hash(first) == hash(second)


def _calendar(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {"timezone": "UTC", "hours": {"mon-fri": ["08:00-17:00"]}}
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("data", "path", "fragment"),
    [
        (["not", "a", "mapping"], (), "mapping"),
        (_calendar(colour="red"), ("colour",), "unknown field"),
        ({"hours": {"mon": ["08:00-09:00"]}}, (), "missing field 'timezone'"),
        (_calendar(timezone="Mars/Olympus"), ("timezone",), "unknown time zone"),
        (_calendar(timezone=7), ("timezone",), "IANA"),
        (_calendar(hours={"mon-fro": ["08:00-12:00"]}), ("hours", "mon-fro"), "unknown day 'fro'"),
        (_calendar(hours={"fri-mon": ["08:00-12:00"]}), ("hours", "fri-mon"), "backwards"),
        (_calendar(hours={"mon": ["08:00-12:00"], "mon-tue": []}), ("hours", "mon-tue"), "already"),
        (_calendar(hours={"mon": "08:00-12:00"}), ("hours", "mon"), "list of intervals"),
        (_calendar(hours={"mon": ["8-12"]}), ("hours", "mon", 0), "08:00-12:00"),
        (_calendar(hours={"mon": ["08:00-12:60"]}), ("hours", "mon", 0), "not a time of day"),
        (_calendar(hours={"mon": ["24:00-24:00"]}), ("hours", "mon", 0), "not a time of day"),
        (_calendar(hours={"mon": ["08:00-25:00"]}), ("hours", "mon", 0), "not a time of day"),
        (_calendar(hours={"mon": ["17:00-08:00"]}), ("hours", "mon", 0), "cannot cross midnight"),
        (_calendar(hours={"mon": ["08:00-08:00"]}), ("hours", "mon", 0), "not after"),
        (
            _calendar(hours={"mon": ["08:00-12:00", "13:00-14:00", "11:00-12:30"]}),
            ("hours", "mon", 2),
            "overlaps 08:00-12:00",
        ),
        (_calendar(hours={"sat-sun": []}), ("hours",), "never open"),
        (_calendar(hours={}), ("hours",), "mapping"),
        (_calendar(holidays={"country": "XX"}), ("holidays", "country"), "no public holidays"),
        (_calendar(holidays={"country": "VN", "region": "HN"}), ("holidays", "region"), "unknown"),
        (_calendar(holidays="VN"), ("holidays",), "{country: VN}"),
        (_calendar(closed=["2026-12-31", "31/12/2026"]), ("closed", 1), "YYYY-MM-DD"),
        (_calendar(closed="2026-12-31"), ("closed",), "list of dates"),
        (_calendar(open={"2026-08-22": []}), ("open", "2026-08-22"), "at least one interval"),
        (_calendar(open={"2026-08-22": ["9-12"]}), ("open", "2026-08-22", 0), "08:00-12:00"),
        (
            _calendar(closed=["2026-08-22"], open={"2026-08-22": ["08:00-12:00"]}),
            ("open", "2026-08-22"),
            "also in 'closed'",
        ),
    ],
)
def test_bad_calendars_are_refused_with_a_path(
    data: object, path: tuple[object, ...], fragment: str
) -> None:
    with pytest.raises(CalendarError) as caught:
        BusinessCalendar.from_data("bad", data)
    assert caught.value.path == path
    assert fragment in caught.value.message


def test_calendar_error_text_and_prefix() -> None:
    error = CalendarError(("hours", "mon-fri", 0), "expected an interval")
    assert str(error) == "hours.mon-fri[0]: expected an interval"
    assert error.within("calendars", "vn-office").path == (
        "calendars",
        "vn-office",
        "hours",
        "mon-fri",
        0,
    )


def test_time_of_day_and_weekdays() -> None:
    assert parse_time_of_day("10:00") == 10 * H
    assert parse_time_of_day("07:05") == 7 * H + 5
    assert parse_weekdays(["mon-wed", "sun", "tue"]) == frozenset({0, 1, 2, 6})
    with pytest.raises(CalendarError, match="23:59"):
        parse_time_of_day("24:00")
    with pytest.raises(CalendarError) as caught:
        parse_weekdays(["mon", "funday"])
    assert caught.value.path == (1,)
    with pytest.raises(CalendarError, match="list of weekdays"):
        parse_weekdays("mon")
    with pytest.raises(CalendarError, match="empty"):
        parse_weekdays([])
