"""The SLA policy set in force: the latest deployed version, read from SQL and cached by number."""

from __future__ import annotations

from functools import lru_cache

from domain.calendars import ALWAYS, BUILTIN_CALENDARS, BusinessCalendar
from domain.persistence.models import SlaPolicySet
from domain.sla.policies import PolicyBook

EMPTY = PolicyBook()


async def current_book() -> PolicyBook:
    """The policies in force; an empty book (no clocks) before any set is deployed."""
    row = await SlaPolicySet.all().order_by("-number").first()
    if row is None:
        return EMPTY
    cached = _cache.get(row.content_hash)
    if cached is None:
        cached = _cache[row.content_hash] = PolicyBook.from_data(row.definition, row.number)
    return cached


# By content hash: ids and numbers repeat across test databases, contents do not lie.
_cache: dict[str, PolicyBook] = {}


def calendar_of(book: PolicyBook, key: str) -> BusinessCalendar:
    """The calendar ``key`` as the book knows it (built-ins included); 24x7 if it is gone."""
    return book.calendars.get(key) or _builtin(key)


@lru_cache(maxsize=16)
def _builtin(key: str) -> BusinessCalendar:
    return BUILTIN_CALENDARS.get(key, ALWAYS)
