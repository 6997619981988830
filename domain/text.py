"""Text normalization shared by storage, filters and search.

Folding is done in Python and stored in ``*_fold`` shadow columns, so that case- and
accent-insensitive matching ("nguyen" finds "Nguyễn") behaves identically on SQLite and
PostgreSQL and can use ordinary indexes.
"""

from __future__ import annotations

import re

from unidecode import unidecode

_SPACES = re.compile(r"\s+")


def fold(value: str | None) -> str | None:
    """Lower-case, strip accents (đ -> d included) and collapse whitespace."""
    if value is None:
        return None
    return _SPACES.sub(" ", unidecode(value).lower()).strip()


def fold_required(value: str) -> str:
    return _SPACES.sub(" ", unidecode(value).lower()).strip()


_TAG_OK = re.compile(r"^[a-z0-9][a-z0-9_\-:.]{0,63}$")


def normalize_tag(tag: str) -> str | None:
    """Tags are lower-case slugs; return None when the tag cannot be one."""
    slug = _SPACES.sub("-", fold_required(tag))
    return slug if _TAG_OK.match(slug) else None


def encode_tags(tags: list[str]) -> str:
    """Store tags as ``|a|b|`` so that "has tag" is a plain LIKE on any database."""
    unique = sorted(dict.fromkeys(tags))
    return "|" + "|".join(unique) + "|" if unique else ""


def decode_tags(stored: str | None) -> list[str]:
    if not stored:
        return []
    return [t for t in stored.split("|") if t]
