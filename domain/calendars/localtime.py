"""From a wall-clock reading in a time zone to the instant it names, DST included.

Opening hours are wall-clock times, but business-time arithmetic runs on instants. Two kinds of
wall-clock reading have no single instant, and this module is where they are decided:

- a reading the clock shows twice (the hour repeated when DST ends) names its *first*
  occurrence;
- a reading the clock skips (the hour lost when DST starts) names the moment the clock jumps
  past it, so an opening at 02:30 on a day the clock goes from 02:00 to 03:00 opens at 03:00.

Both rules keep the mapping monotonic: a later reading never names an earlier instant, so the
open intervals of a calendar stay ordered and non-overlapping once turned into instants.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo

MINUTES_PER_DAY = 24 * 60
_ONE_SECOND = timedelta(seconds=1)


def local_instant(day: date, minute: int, zone: tzinfo) -> datetime:
    """The UTC instant at which the clock in ``zone`` shows ``minute`` minutes past midnight of
    ``day``. ``minute`` runs from 0 to 1440; 1440 (24:00) is midnight at the end of the day."""
    if not 0 <= minute <= MINUTES_PER_DAY:
        raise ValueError(f"minute of the day out of range: {minute}")
    wall = datetime(day.year, day.month, day.day) + timedelta(minutes=minute)
    # fold=0: an ambiguous reading is its first occurrence.
    instant = wall.replace(tzinfo=zone).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == wall:
        return instant
    return _end_of_gap(wall, zone)


def _end_of_gap(wall: datetime, zone: tzinfo) -> datetime:
    """The instant the clock jumps past ``wall``, a reading inside a gap.

    In a gap, fold=1 reads the wall time with the offset after the transition (an instant before
    it) and fold=0 with the offset before (an instant after it); the transition lies between and
    is found by bisection on whole seconds.
    """
    before = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    after = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    low, high = 0, int((after - before) / _ONE_SECOND)
    while low < high:
        middle = (low + high) // 2
        candidate = before + middle * _ONE_SECOND
        if candidate.astimezone(zone).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle + 1
    return before + low * _ONE_SECOND
