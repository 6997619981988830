"""The SLA policy set in force: the latest deployed version, read from SQL and cached by number."""

from __future__ import annotations

import hashlib
import json
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


async def store_policy_set(
    definition: dict[str, object], source: dict[str, str], *, actor: str
) -> tuple[int, bool]:
    """Store ``definition`` as the policy set in force, unless it already is; returns its
    version number and whether it is new. Call inside the deploy's transaction."""
    digest = hashlib.sha256(json.dumps(definition, sort_keys=True).encode()).hexdigest()
    latest = await SlaPolicySet.all().order_by("-number").first()
    if latest is not None and latest.content_hash == digest:
        return latest.number, False
    number = (latest.number if latest is not None else 0) + 1
    await SlaPolicySet.create(
        number=number, content_hash=digest, definition=definition, source=source, created_by=actor
    )
    return number, True


async def policy_set_in_force() -> SlaPolicySet | None:
    """The stored policy set in force (its definition as deployed), or None before any."""
    return await SlaPolicySet.all().order_by("-number").first()
