"""Business-time arithmetic on exact instants worked out by hand (the arithmetic is in comments)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.calendars import (
    ALWAYS,
    VN_OFFICE,
    BusinessCalendar,
    CalendarError,
    add_business_time,
    business_minutes_between,
    business_time_between,
    end_of_business_day,
    is_open,
    next_local_time,
    next_opening,
)

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
BERLIN = ZoneInfo("Europe/Berlin")
H = 60

VN_WEEKDAYS = BusinessCalendar.from_data(
    "vn-weekdays",
    {
        "timezone": "Asia/Ho_Chi_Minh",
        "hours": {"mon-fri": ["08:00-12:00", "13:00-17:30"]},
        "holidays": {"country": "VN"},
    },
)
BERLIN_OFFICE = BusinessCalendar.from_data(
    "berlin", {"timezone": "Europe/Berlin", "hours": {"mon-fri": ["08:00-17:00"]}}
)
BERLIN_ALWAYS = BusinessCalendar.from_data(
    "berlin-24x7", {"timezone": "Europe/Berlin", "hours": {"mon-sun": ["00:00-24:00"]}}
)


def hcm(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=HCM)


def berlin(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, *, fold: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN, fold=fold)


def test_friday_afternoon_plus_4h_ends_saturday_morning_on_vn_office() -> None:
    # Fri 27 Nov 2026 16:00 -> 17:30 uses 1h30 (90 min); 240 - 90 = 150 min remain.
    # Sat 28 Nov opens 08:00; 08:00 + 150 min = 10:30, before the 12:00 closing.
    friday = hcm(2026, 11, 27, 16, 0)
    assert friday.strftime("%a") == "Fri"
    assert add_business_time(VN_OFFICE, friday, 4 * H) == hcm(2026, 11, 28, 10, 30)


def test_friday_afternoon_plus_4h_ends_monday_on_a_weekday_calendar() -> None:
    # Same 90 min on Friday; Saturday and Sunday have no hours; Mon 30 Nov 08:00 + 150 = 10:30.
    assert add_business_time(VN_WEEKDAYS, hcm(2026, 11, 27, 16, 0), 4 * H) == hcm(
        2026, 11, 30, 10, 30
    )


def test_lunch_break_in_the_middle() -> None:
    # Mon 30 Nov 10:00 -> 12:00 is 120 min; 180 - 120 = 60 remain; 13:00 + 60 = 14:00.
    monday = hcm(2026, 11, 30, 10, 0)
    assert add_business_time(VN_OFFICE, monday, 3 * H) == hcm(2026, 11, 30, 14, 0)
    # Starting inside the break, the clock starts at 13:00: 13:00 + 30 = 13:30.
    assert add_business_time(VN_OFFICE, hcm(2026, 11, 30, 12, 15), 30) == hcm(2026, 11, 30, 13, 30)
    # 10:00 -> 14:00 counts 120 + 60 minutes; the lunch hour does not count.
    assert business_minutes_between(VN_OFFICE, monday, hcm(2026, 11, 30, 14, 0)) == 180


def test_a_result_can_be_a_closing_but_zero_moves_to_the_next_opening() -> None:
    friday = hcm(2026, 11, 27, 16, 0)
    # 16:00 + 90 min = 17:30 exactly: the deadline is the closing, not Saturday's opening.
    assert add_business_time(VN_OFFICE, friday, 90) == hcm(2026, 11, 27, 17, 30)
    assert not is_open(VN_OFFICE, hcm(2026, 11, 27, 17, 30))
    # Adding nothing to a closed instant starts the clock: Saturday 08:00.
    assert add_business_time(VN_OFFICE, hcm(2026, 11, 27, 17, 30), 0) == hcm(2026, 11, 28, 8, 0)
    assert add_business_time(VN_OFFICE, friday, 0) == friday


def test_last_working_day_before_tet_2027() -> None:
    # The library's Tet 2027 runs Thu 4 Feb to Wed 10 Feb (Sat 6 Feb, vn-office's half day, is
    # Tet itself), so the last working day before it is Wed 3 Feb and the next is Thu 11 Feb.
    start = hcm(2027, 2, 3, 16, 0)
    # 16:00 -> 17:30 on Wed 3 Feb = 90 min; 150 remain; Thu 11 Feb 08:00 + 150 = 10:30.
    assert add_business_time(VN_OFFICE, start, 4 * H) == hcm(2027, 2, 11, 10, 30)
    # Wed 17:00 -> 17:30 = 30 min, then Thu 11 Feb 08:00 -> 09:00 = 60 min: 90 in all.
    assert business_minutes_between(VN_OFFICE, hcm(2027, 2, 3, 17, 0), hcm(2027, 2, 11, 9)) == 90
    assert end_of_business_day(VN_OFFICE, start, 0) == hcm(2027, 2, 3, 17, 30)
    assert end_of_business_day(VN_OFFICE, start, 1) == hcm(2027, 2, 11, 17, 30)
    assert next_opening(VN_OFFICE, hcm(2027, 2, 3, 17, 30)) == hcm(2027, 2, 11, 8, 0)


def test_business_days() -> None:
    friday = hcm(2026, 11, 27, 10, 0)
    # vn-office: Sat 28 Nov is working day 1 (closes 12:00); Mon 30 Nov is day 2 (closes 17:30).
    assert end_of_business_day(VN_OFFICE, friday, 1) == hcm(2026, 11, 28, 12, 0)
    assert end_of_business_day(VN_OFFICE, friday, 2) == hcm(2026, 11, 30, 17, 30)
    # Weekdays only: Mon 30 Nov is day 1, Tue 1 Dec day 2.
    assert end_of_business_day(VN_WEEKDAYS, friday, 1) == hcm(2026, 11, 30, 17, 30)
    assert end_of_business_day(VN_WEEKDAYS, friday, 2) == hcm(2026, 12, 1, 17, 30)
    # The start day never counts for n >= 1, even before its opening: Mon 07:00 + 1 = Tuesday.
    assert end_of_business_day(VN_WEEKDAYS, hcm(2026, 11, 30, 7, 0), 1) == hcm(2026, 12, 1, 17, 30)
    # n = 0 is the end of the business day in progress, or the next one once today's is over.
    assert end_of_business_day(VN_WEEKDAYS, friday, 0) == hcm(2026, 11, 27, 17, 30)
    assert end_of_business_day(VN_WEEKDAYS, hcm(2026, 11, 27, 18), 0) == hcm(2026, 11, 30, 17, 30)
    # Saturday on a weekday calendar: Monday is the first working day after it.
    assert end_of_business_day(VN_WEEKDAYS, hcm(2026, 11, 28, 9), 1) == hcm(2026, 11, 30, 17, 30)
    # Public holidays are not working days: Tue 1 and Wed 2 Sep 2026 are National Day, so
    # from Mon 31 Aug (itself a substituted day off) day 1 is Thu 3 Sep.
    assert end_of_business_day(VN_WEEKDAYS, hcm(2026, 8, 31, 9), 1) == hcm(2026, 9, 3, 17, 30)


def test_closed_dates_and_new_year() -> None:
    calendar = BusinessCalendar.from_data(
        "vn-office-2026",
        {
            "timezone": "Asia/Ho_Chi_Minh",
            "hours": {"mon-fri": ["08:00-12:00", "13:00-17:30"], "sat": ["08:00-12:00"]},
            "holidays": {"country": "VN"},
            "closed": ["2026-12-31"],
        },
    )
    # Wed 30 Dec 17:00 -> 17:30 = 30 min; Thu 31 Dec closed; Fri 1 Jan 2027 New Year's Day;
    # Sat 2 Jan 08:00 + 30 = 08:30.
    assert add_business_time(calendar, hcm(2026, 12, 30, 17, 0), H) == hcm(2027, 1, 2, 8, 30)


def test_24x7_across_midnight_and_new_year() -> None:
    late = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    # 23:30 + 60 min = 00:30 the next day (and year); midnight is not a closing that counts.
    assert add_business_time(ALWAYS, late, H) == datetime(2027, 1, 1, 0, 30, tzinfo=UTC)
    assert add_business_time(ALWAYS, late, 30) == datetime(2027, 1, 1, tzinfo=UTC)
    assert is_open(ALWAYS, datetime(2027, 1, 1, tzinfo=UTC))
    # Three days of 1440 minutes each.
    assert business_minutes_between(ALWAYS, late, late + timedelta(days=3)) == 3 * 1440
    assert end_of_business_day(ALWAYS, late, 0) == datetime(2027, 1, 1, tzinfo=UTC)
    assert end_of_business_day(ALWAYS, late, 2) == datetime(2027, 1, 3, tzinfo=UTC)


def test_dst_spring_forward_in_berlin() -> None:
    # Last Sunday of March 2027 is the 28th: at 02:00 CET (01:00 UTC) the clock jumps to 03:00.
    saturday = berlin(2027, 3, 27, 22, 0)  # 21:00 UTC
    # 24x7: six real hours later is 03:00 UTC, which reads 05:00 CEST (seven hours on the clock).
    assert add_business_time(BERLIN_ALWAYS, saturday, 6 * H) == berlin(2027, 3, 28, 5, 0)
    assert add_business_time(BERLIN_ALWAYS, saturday, 6 * H) == datetime(
        2027, 3, 28, 3, 0, tzinfo=UTC
    )
    # Sunday 28 March has 23 hours.
    sunday, monday = berlin(2027, 3, 28), berlin(2027, 3, 29)
    assert business_minutes_between(BERLIN_ALWAYS, sunday, monday) == 23 * H
    # Office hours: Fri 26 Mar 16:00 CET -> 17:00 = 60 min; Mon 29 Mar 08:00 CEST + 60 = 09:00.
    friday = berlin(2027, 3, 26, 16, 0)
    assert add_business_time(BERLIN_OFFICE, friday, 2 * H) == berlin(2027, 3, 29, 9, 0)
    assert business_minutes_between(BERLIN_OFFICE, friday, berlin(2027, 3, 29, 9, 0)) == 2 * H


def test_dst_hours_inside_the_skipped_hour() -> None:
    calendar = BusinessCalendar.from_data(
        "night", {"timezone": "Europe/Berlin", "hours": {"sun": ["02:30-05:00"]}}
    )
    # On 28 March 2027 no clock reads 02:30: the clock jumps from 02:00 CET to 03:00 CEST,
    # the first reading past 02:30, so the office opens at 03:00 CEST (01:00 UTC) and is
    # open two hours (to 05:00 CEST), not two and a half.
    assert next_opening(calendar, berlin(2027, 3, 28, 0, 0)) == datetime(
        2027, 3, 28, 1, 0, tzinfo=UTC
    )
    assert business_minutes_between(calendar, berlin(2027, 3, 28), berlin(2027, 3, 29)) == 2 * H
    # A normal Sunday (21 March) is open 2h30.
    assert business_minutes_between(calendar, berlin(2027, 3, 21), berlin(2027, 3, 22)) == 150


def test_dst_fall_back_in_berlin() -> None:
    # Last Sunday of October 2027 is the 31st: at 03:00 CEST the clock goes back to 02:00 CET.
    sunday, monday = berlin(2027, 10, 31), berlin(2027, 11, 1)
    assert business_minutes_between(BERLIN_ALWAYS, sunday, monday) == 25 * H
    calendar = BusinessCalendar.from_data(
        "early", {"timezone": "Europe/Berlin", "hours": {"sun": ["01:00-02:30"]}}
    )
    # 02:30 is read twice; a closing there is its first reading (02:30 CEST = 00:30 UTC),
    # so the day has the usual 90 minutes and the repeated half hour stays closed.
    assert business_minutes_between(calendar, sunday, monday) == 90
    assert is_open(calendar, berlin(2027, 10, 31, 2, 15, fold=0))
    assert not is_open(calendar, berlin(2027, 10, 31, 2, 15, fold=1))


def test_next_local_time() -> None:
    friday_ten = hcm(2026, 11, 27, 10, 0)
    # Strictly after the start: Friday 10:00 itself does not match, Monday 10:00 does.
    assert next_local_time(VN_OFFICE, friday_ten, "10:00", ["mon-fri"]) == hcm(2026, 11, 30, 10)
    assert next_local_time(HCM, hcm(2026, 11, 27, 9, 0), "10:00", ["mon-fri"]) == friday_ten
    assert next_local_time(HCM, friday_ten, "10:00") == hcm(2026, 11, 28, 10)
    # The calendar stands for its time zone only: Tet days still match.
    assert next_local_time(VN_OFFICE, hcm(2027, 2, 5, 12), "10:00", ["sat"]) == hcm(2027, 2, 6, 10)
    # In a skipped hour: the moment the clock jumps past 02:30, 03:00 CEST.
    assert next_local_time(BERLIN, berlin(2027, 3, 27, 12), "02:30") == berlin(2027, 3, 28, 3, 0)
    with pytest.raises(CalendarError):
        next_local_time(HCM, friday_ten, "25:00")
    with pytest.raises(CalendarError):
        next_local_time(HCM, friday_ten, "10:00", ["someday"])


def test_seconds_are_kept_and_minutes_round_toward_zero() -> None:
    start = hcm(2026, 11, 30, 10, 0, 30)
    assert add_business_time(VN_OFFICE, start, 1) == hcm(2026, 11, 30, 10, 1, 30)
    later = hcm(2026, 11, 30, 10, 2, 0)
    assert business_time_between(VN_OFFICE, start, later) == timedelta(seconds=90)
    assert business_minutes_between(VN_OFFICE, start, later) == 1
    assert business_minutes_between(VN_OFFICE, later, start) == -1


def test_between_is_negative_backwards() -> None:
    a, b = hcm(2026, 11, 27, 16, 0), hcm(2026, 11, 30, 9, 0)
    # Fri 16:00 -> 17:30 = 90, Sat 08:00 -> 12:00 = 240, Mon 08:00 -> 09:00 = 60: 390.
    assert business_minutes_between(VN_OFFICE, a, b) == 390
    assert business_minutes_between(VN_OFFICE, b, a) == -390


def test_results_are_in_the_calendars_zone_and_inputs_may_be_in_any() -> None:
    start_utc = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)  # 16:00 in Ho Chi Minh City
    result = add_business_time(VN_OFFICE, start_utc, 4 * H)
    assert result.tzinfo == HCM
    assert result == hcm(2026, 11, 28, 10, 30)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="aware"):
        add_business_time(VN_OFFICE, datetime(2026, 11, 27, 16), 60)
    with pytest.raises(ValueError, match="negative"):
        add_business_time(VN_OFFICE, hcm(2026, 11, 27, 16), -1)
    with pytest.raises(ValueError, match="negative"):
        end_of_business_day(VN_OFFICE, hcm(2026, 11, 27, 16), -1)


def test_a_long_add_is_linear_in_days() -> None:
    # 10,000 business hours on vn-office (46.5 hours a week, fewer with holidays) is about four
    # years; it must stay a day-by-day walk.
    start = hcm(2026, 11, 27, 16, 0)
    end = add_business_time(VN_OFFICE, start, 10_000 * H)
    assert business_minutes_between(VN_OFFICE, start, end) == 10_000 * H
    assert timedelta(days=4 * 365) < end - start < timedelta(days=5 * 365)
