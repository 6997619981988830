"""Duration text as workflows write it, read by `domain.calendars.durations`: compact (``30m``,
``4h``, ``2d``, ``1w``, ``1h30m``) or ISO-8601 (``PT36H``, ``P2D``, ``P1DT2H``).

On top of the domain's parsing, workflows need a sign rule: a wait, a timeout or a back-off must
be longer than zero, while an offset from a date may be negative (``-7d``) or zero.
"""

from __future__ import annotations

import datetime as dt

from domain.calendars import durations as domain_durations
from domain.calendars.durations import DurationError

__all__ = ["DurationError", "parse_business_duration", "parse_duration", "parse_signed_duration"]


def _refuse_negative(text: object) -> None:
    if isinstance(text, str) and text.strip().startswith("-"):
        raise DurationError(f"duration {text!r} must not be negative")


def parse_duration(text: object) -> dt.timedelta:
    """A calendar duration longer than zero."""
    _refuse_negative(text)
    value = domain_durations.parse_duration(text)
    if value <= dt.timedelta(0):
        raise DurationError(f"duration {text!r} must be longer than zero")
    return value


def parse_business_duration(text: object) -> dt.timedelta:
    """A business duration (hours and minutes only) longer than zero."""
    _refuse_negative(text)
    value = domain_durations.parse_business_duration(text)
    if value <= dt.timedelta(0):
        raise DurationError(f"business duration {text!r} must be longer than zero")
    return value


def parse_signed_duration(text: object) -> dt.timedelta:
    """A calendar duration that may be negative or zero, e.g. ``-7d`` before a date."""
    if not isinstance(text, str):
        return domain_durations.parse_duration(text)
    stripped = text.strip()
    sign = -1 if stripped.startswith("-") else 1
    return sign * domain_durations.parse_duration(stripped.lstrip("+-"))
