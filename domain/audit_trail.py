"""Reading the audit trail: entries by target, actor and time, newest first, keyset-paged by id.

Actors are ``kind:ident`` strings (see ``domain.persistence.models.base``); a filter on an actor
matches it and everything under it, so ``workflow:run:41`` finds every step of run 41 and
``import`` every import, while ``user:1`` does not match ``user:12``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from domain.errors import ValidationFailed
from domain.persistence.models import AuditEntry

MAX_PAGE = 100


@dataclass(frozen=True)
class AuditFilter:
    """Every given criterion must hold. ``since`` is inclusive, ``until`` exclusive."""

    target_type: str | None = None
    target_id: int | None = None
    actor: str | None = None
    action: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    has_next_page: bool


def _aware(value: dt.datetime, field: str) -> dt.datetime:
    if value.tzinfo is None:
        raise ValidationFailed(field, "give a time zone (e.g. 2026-11-22T10:00:00Z)", "NAIVE_TIME")
    return value


def matching(criteria: AuditFilter) -> QuerySet[AuditEntry]:
    query = AuditEntry.all()
    if criteria.target_type is not None:
        query = query.filter(target_type=criteria.target_type)
    if criteria.target_id is not None:
        query = query.filter(target_id=criteria.target_id)
    if criteria.actor:
        query = query.filter(Q(actor=criteria.actor) | Q(actor__startswith=f"{criteria.actor}:"))
    if criteria.action:
        query = query.filter(action=criteria.action)
    if criteria.since is not None:
        query = query.filter(at__gte=_aware(criteria.since, "filter.from"))
    if criteria.until is not None:
        query = query.filter(at__lt=_aware(criteria.until, "filter.to"))
    return query


async def audit_page(criteria: AuditFilter, *, first: int, before_id: int | None) -> AuditPage:
    """The ``first`` newest entries matching ``criteria`` older than entry ``before_id``.

    Ids grow with time, so paging by id is stable while new entries are written: they land
    before the first page, never inside a page a client is walking.
    """
    if not 0 <= first <= MAX_PAGE:
        raise ValidationFailed("first", f"first must be 0..{MAX_PAGE}", "PAGE_SIZE_OUT_OF_RANGE")
    query = matching(criteria)
    if before_id is not None:
        query = query.filter(id__lt=before_id)
    rows = await query.order_by("-id").limit(first + 1)
    return AuditPage(entries=list(rows[:first]), has_next_page=len(rows) > first)
