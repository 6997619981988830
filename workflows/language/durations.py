"""Duration text as workflows write it: compact (``30m``, ``4h``, ``2d``, ``1w``, ``1h30m``) or
ISO-8601 (``PT36H``, ``P2D``, ``P1DT2H``).

Business durations count business time on a calendar, whose days have no fixed length, so they
take hours and minutes only; "by the end of the Nth working day" is ``{business_days: N}``.
"""

from __future__ import annotations

import datetime as dt
import re

__all__ = ["DurationError", "parse_business_duration", "parse_duration", "parse_signed_duration"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_COMPACT = re.compile(r"\s*(\d+)\s*([smhdw])\s*")
_ISO = re.compile(
    r"P(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?"
    r"(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+)S)?)?"
)

BUSINESS_DAYS_REFUSED = (
    "business durations take hours and minutes only (a business day has no fixed length); "
    "use {business_days: N} for 'by the end of the Nth working day'"
)


class DurationError(ValueError):
    """A duration that cannot be read, or that is not allowed where it is written."""


def _units(text: str) -> dict[str, int]:
    if not isinstance(text, str) or not text.strip():
        raise DurationError(f"invalid duration {text!r}: expected e.g. 30m, 4h, 2d, 1w or PT36H")
    source = text.strip()
    iso = _ISO.fullmatch(source.upper())
    if iso is not None and source.upper() not in ("P", "PT") and not source.upper().endswith("T"):
        return {unit: int(value) for unit, value in iso.groupdict().items() if value is not None}
    units: dict[str, int] = {}
    position = 0
    for match in _COMPACT.finditer(source):
        if match.start() != position or match.group(2) in units:
            break
        units[match.group(2)] = int(match.group(1))
        position = match.end()
    if position != len(source) or not units:
        raise DurationError(f"invalid duration {text!r}: expected e.g. 30m, 4h, 2d, 1w or PT36H")
    return units


def parse_duration(text: str) -> dt.timedelta:
    """A positive calendar duration; zero and negative durations are refused."""
    units = _units(text)
    seconds = sum(_UNITS[unit] * value for unit, value in units.items())
    if seconds <= 0:
        raise DurationError(f"duration {text!r} must be longer than zero")
    return dt.timedelta(seconds=seconds)


def parse_signed_duration(text: str) -> dt.timedelta:
    """A calendar duration that may be negative or zero (``-7d``), e.g. an offset from a date."""
    if not isinstance(text, str):
        raise DurationError(f"invalid duration {text!r}")
    stripped = text.strip()
    sign = -1 if stripped.startswith("-") else 1
    units = _units(stripped.lstrip("+-"))
    return sign * dt.timedelta(seconds=sum(_UNITS[unit] * value for unit, value in units.items()))


def parse_business_duration(text: str) -> dt.timedelta:
    """A positive business duration in hours and minutes; days and weeks are refused."""
    units = _units(text)
    if units.keys() & {"d", "w"}:
        raise DurationError(f"{text!r}: {BUSINESS_DAYS_REFUSED}")
    seconds = sum(_UNITS[unit] * value for unit, value in units.items())
    if seconds <= 0:
        raise DurationError(f"business duration {text!r} must be longer than zero")
    return dt.timedelta(seconds=seconds)
