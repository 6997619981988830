"""Compact and ISO-8601 durations; business durations in hours and minutes only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.calendars import DurationError, parse_business_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("4h", timedelta(hours=4)),
        ("2d", timedelta(days=2)),
        ("1w", timedelta(weeks=1)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1d 12h", timedelta(days=1, hours=12)),
        (" 0m ", timedelta()),
        ("PT36H", timedelta(hours=36)),
        ("P2D", timedelta(days=2)),
        ("P1W", timedelta(weeks=1)),
        ("P1DT12H", timedelta(days=1, hours=12)),
        ("PT1H30M", timedelta(hours=1, minutes=30)),
        ("PT90S", timedelta(seconds=90)),
        ("pt15m", timedelta(minutes=15)),
    ],
)
def test_calendar_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "cannot read"),
        ("4", "cannot read"),
        ("4x", "cannot read"),
        ("30m4h", "in that order"),
        ("1.5h", "cannot read"),
        ("-4h", "cannot read"),
        ("4H", "cannot read"),
        ("P", "ISO-8601"),
        ("PT", "ISO-8601"),
        ("P1DT", "ISO-8601"),
        ("PT1.5H", "ISO-8601"),
        ("P1M", "months and years"),
        ("P1Y", "months and years"),
        (30, "expected a duration"),
        ("999999999999w", "too long"),
    ],
)
def test_bad_durations(text: object, fragment: str) -> None:
    with pytest.raises(DurationError) as caught:
        parse_duration(text)
    assert fragment in caught.value.message


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("4h", 240), ("90m", 90), ("16h", 960), ("1h30m", 90), ("PT4H", 240), ("PT1H30M", 90)],
)
def test_business_durations(text: str, minutes: int) -> None:
    assert parse_business_duration(text) == timedelta(minutes=minutes)


@pytest.mark.parametrize("text", ["2d", "1w", "1d4h", "P1D", "P1W", "P1DT4H"])
def test_business_durations_refuse_days_and_weeks(text: str) -> None:
    with pytest.raises(DurationError) as caught:
        parse_business_duration(text)
    assert "a business day has no fixed length" in caught.value.message
    assert "{business_days: N}" in caught.value.message


def test_business_durations_refuse_seconds() -> None:
    with pytest.raises(DurationError, match="whole minutes"):
        parse_business_duration("PT90S")


@given(st.integers(0, 50), st.integers(0, 50), st.integers(0, 500), st.integers(0, 5000))
def test_compact_and_iso_agree(weeks: int, days: int, hours: int, minutes: int) -> None:
    compact = f"{weeks}w{days}d{hours}h{minutes}m"
    iso = f"P{weeks}W{days}DT{hours}H{minutes}M"
    expected = timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes)
    assert parse_duration(compact) == parse_duration(iso) == expected
    assert parse_business_duration(f"{hours}h{minutes}m") == timedelta(hours=hours, minutes=minutes)
