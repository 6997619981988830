"""The calendars every installation has before anyone writes YAML."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from domain.calendars.model import BusinessCalendar

VN_OFFICE = BusinessCalendar.from_data(
    "vn-office",
    {
        "timezone": "Asia/Ho_Chi_Minh",
        "hours": {"mon-fri": ["08:00-12:00", "13:00-17:30"], "sat": ["08:00-12:00"]},
        "holidays": {"country": "VN"},
    },
)

ALWAYS = BusinessCalendar.from_data(
    "always", {"timezone": "UTC", "hours": {"mon-sun": ["00:00-24:00"]}}
)

BUILTIN_CALENDARS: Mapping[str, BusinessCalendar] = MappingProxyType(
    {calendar.key: calendar for calendar in (VN_OFFICE, ALWAYS)}
)
