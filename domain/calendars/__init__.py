"""Business calendars and business-time arithmetic: pure Python, no I/O.

A :class:`BusinessCalendar` says when a business is open (weekly hours in a time zone, public
holidays from the ``holidays`` package, extra closed and open dates); the functions of
:mod:`~domain.calendars.arithmetic` add and measure business time on it, to the minute and
across DST changes; :mod:`~domain.calendars.durations` reads the durations YAML is written in.
"""

from domain.calendars.arithmetic import (
    add_business_time,
    business_minutes_between,
    business_time_between,
    end_of_business_day,
    is_open,
    next_local_time,
    next_opening,
)
from domain.calendars.builtin import ALWAYS, BUILTIN_CALENDARS, VN_OFFICE
from domain.calendars.durations import DurationError, parse_business_duration, parse_duration
from domain.calendars.model import (
    WEEKDAYS,
    BusinessCalendar,
    CalendarError,
    OpenInterval,
    parse_time_of_day,
    parse_weekdays,
)

__all__ = [
    "ALWAYS",
    "BUILTIN_CALENDARS",
    "VN_OFFICE",
    "WEEKDAYS",
    "BusinessCalendar",
    "CalendarError",
    "DurationError",
    "OpenInterval",
    "add_business_time",
    "business_minutes_between",
    "business_time_between",
    "end_of_business_day",
    "is_open",
    "next_local_time",
    "next_opening",
    "parse_business_duration",
    "parse_duration",
    "parse_time_of_day",
    "parse_weekdays",
]
