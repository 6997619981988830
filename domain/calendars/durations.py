"""Durations as written in YAML: compact (``30m``, ``4h``, ``2d``, ``1w``, ``1h30m``) or ISO-8601
(``PT36H``, ``P2D``, ``P1DT12H``).

Calendar durations (:func:`parse_duration`) may use weeks and days; business durations
(:func:`parse_business_duration`) only hours and minutes, because a business day has no fixed
length. Months and years are refused everywhere for the same reason.
"""

from __future__ import annotations

import re
from datetime import timedelta

from domain.errors import DomainError

_COMPACT = re.compile(
    r"(?:(?P<w>\d+)w)?\s*(?:(?P<d>\d+)d)?\s*(?:(?P<h>\d+)h)?\s*(?:(?P<m>\d+)m)?", re.ASCII
)
_ISO = re.compile(
    r"P(?:(?P<y>\d+)Y)?(?:(?P<mo>\d+)M)?(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?"
    r"(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+)S)?)?",
    re.ASCII,
)
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
_NO_BUSINESS_DAYS = (
    "business durations take hours and minutes only (e.g. 4h, 90m, 1h30m): a business day has "
    "no fixed length; for the end of the Nth working day use {business_days: N}"
)


class DurationError(DomainError):
    """A duration that cannot be read; ``message`` says what was expected."""

    code = "INVALID_DURATION"


def parse_duration(text: object) -> timedelta:
    """A calendar duration: ``30m``, ``4h``, ``2d``, ``1w``, ``1d12h``, ``PT36H``, ``P2D``."""
    return _to_timedelta(_parts(text))


def parse_business_duration(text: object) -> timedelta:
    """A business duration, whole hours and minutes: ``4h``, ``90m``, ``1h30m``, ``PT4H``.

    Days and weeks are refused with a message pointing to ``{business_days: N}``; the result is
    always a whole number of minutes.
    """
    parts = _parts(text)
    if "w" in parts or "d" in parts:
        raise DurationError(_NO_BUSINESS_DAYS)
    if "s" in parts:
        raise DurationError("business durations are whole minutes: write PT1H30M, not seconds")
    return _to_timedelta(parts)


def _parts(text: object) -> dict[str, int]:
    if not isinstance(text, str):
        raise DurationError(f"expected a duration such as 30m, 4h, 2d, 1w or PT36H, got {text!r}")
    stripped = text.strip()
    if stripped[:1] in ("P", "p"):
        return _iso_parts(stripped.upper(), text)
    match = _COMPACT.fullmatch(stripped)
    if match is None or not stripped:
        raise DurationError(
            f"cannot read the duration {text!r}: use whole numbers with units w, d, h, m in that "
            "order (30m, 4h, 2d, 1w, 1h30m) or ISO-8601 (PT36H, P2D)"
        )
    return {unit: int(value) for unit, value in match.groupdict().items() if value is not None}


def _iso_parts(iso: str, text: str) -> dict[str, int]:
    match = _ISO.fullmatch(iso)
    if match is None or iso in ("P", "PT") or iso.endswith("T"):
        raise DurationError(
            f"cannot read the ISO-8601 duration {text!r}: use whole numbers, e.g. PT36H, P2D, "
            "P1DT12H, PT1H30M"
        )
    found = {unit: value for unit, value in match.groupdict().items() if value is not None}
    if "y" in found or "mo" in found:
        raise DurationError(
            f"{text!r}: months and years have no fixed length; write days or weeks (P30D, P4W)"
        )
    return {unit: int(value) for unit, value in found.items()}


def _to_timedelta(parts: dict[str, int]) -> timedelta:
    try:
        return timedelta(**{_UNITS[unit]: value for unit, value in parts.items()})
    except OverflowError:
        raise DurationError("the duration is too long") from None
