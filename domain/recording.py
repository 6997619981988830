"""The audit trail and the domain-event outbox, written inside the caller's transaction.

Every write use case calls :func:`record` from within its ``in_transaction()`` block, so the
change, its audit entry and its event commit or roll back together (the outbox pattern).
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from domain.persistence.models import AuditEntry, DomainEvent

Changes = dict[str, list[Any]]

#: The id of the request whose use case is writing, set by the HTTP layer so that every audit
#: entry names the request that caused it; None for work no request started (workers, the CLI).
current_request_id: ContextVar[str | None] = ContextVar("current_request_id", default=None)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def to_json(value: Any) -> Any:
    """Make before/after values storable in a JSON column (dates, decimals, enums)."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_json(v) for v in value]
    return value


@dataclass(frozen=True)
class Record:
    """One audit entry plus (optionally) one event, for :func:`record_many`."""

    actor: str
    action: str
    target_type: str
    target_id: int
    changes: Mapping[str, Any]
    event_type: str | None = None
    payload: Mapping[str, Any] | None = None
    extra_events: Sequence[tuple[str, Mapping[str, Any]]] = field(default_factory=tuple)


def _audit(item: Record) -> AuditEntry:
    return AuditEntry(
        actor=item.actor,
        action=item.action,
        target_type=item.target_type,
        target_id=item.target_id,
        changes=to_json(item.changes),
        request_id=current_request_id.get(),
    )


def _events(item: Record, at: dt.datetime) -> list[DomainEvent]:
    pairs: list[tuple[str, Mapping[str, Any]]] = []
    if item.event_type:
        pairs.append((item.event_type, item.payload or {"changes": item.changes}))
    pairs.extend(item.extra_events)
    return [
        DomainEvent(
            type=event_type,
            subject_type=item.target_type,
            subject_id=item.target_id,
            payload=to_json(payload),
            actor=item.actor,
            occurred_at=at,
        )
        for event_type, payload in pairs
    ]


async def record(
    actor: str,
    action: str,
    target_type: str,
    target_id: int,
    changes: Mapping[str, Any],
    event_type: str | None = None,
    payload: Mapping[str, Any] | None = None,
) -> None:
    """Write an audit entry and, when ``event_type`` is given, an outbox event.

    The event payload defaults to ``{"changes": changes}``. Call inside the use case's transaction.
    """
    await record_many([Record(actor, action, target_type, target_id, changes, event_type, payload)])


async def emit(
    actor: str,
    event_type: str,
    subject_type: str,
    subject_id: int,
    payload: Mapping[str, Any],
    *,
    occurred_at: dt.datetime | None = None,
) -> None:
    """Write an outbox event without an audit entry (for events derived from an audited change).

    ``occurred_at`` defaults to now; an SLA breach passes its due instant.
    """
    await DomainEvent.create(
        type=event_type,
        subject_type=subject_type,
        subject_id=subject_id,
        payload=to_json(payload),
        actor=actor,
        occurred_at=occurred_at or utcnow(),
    )


async def record_many(items: Sequence[Record], *, batch_size: int = 500) -> None:
    """Bulk form of :func:`record`, used by imports and merges (one INSERT per chunk)."""
    if not items:
        return
    at = utcnow()
    await AuditEntry.bulk_create([_audit(item) for item in items], batch_size=batch_size)
    events = [event for item in items for event in _events(item, at)]
    if events:
        await DomainEvent.bulk_create(events, batch_size=batch_size)
