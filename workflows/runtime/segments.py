"""Segment membership: who is in each segment a deployed workflow refers to, since when, and
the ``segment.entered`` / ``segment.exited`` events that ``segment: KEY`` triggers enroll on.

Tracked segments are those named by a ``segment: KEY`` trigger of a deployed workflow, with the
``when`` of the version deployed last (a schedule's ``for_each: {segment}`` evaluates the
segment at its own ticks and needs no membership).
Membership is a row per stay (``entered_at``, ``exited_at`` null while inside) and changes:

- for one customer, whenever an event about it is relayed (it was created, changed, logged an
  interaction...), in the relay's transaction;
- for every customer at each segment tick, a durable timer (``segments:tick``, hourly) like a
  schedule trigger's, so conditions on time (``now - subject.lastInteractionAt > ...``) are
  seen even when nothing happens to the customer.

Each entry or exit writes its domain event in the same transaction, through the outbox, so the
relay hands it to workflows after the commit. When a segment starts being tracked, the
customers already in it are recorded without events: deploying a ``segment:`` workflow does not
enroll the whole existing segment at once, only those who enter it from then on (an admin can
still enroll the others by hand or with a schedule).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from domain.persistence import models as m
from domain.recording import to_json
from workflows.engine.conditions import SUPPRESSION_SEGMENT
from workflows.language.spec import SegmentTrigger, Workflow
from workflows.language.validate import Definitions
from workflows.runtime import schedules
from workflows.runtime.subjects import subject_pages
from workflows.runtime.timers import schedule_timer

__all__ = [
    "ENTERED",
    "EXITED",
    "PURPOSE",
    "TICK_EVERY",
    "TICK_KEY",
    "evaluate_customer",
    "referenced_segment",
    "suppression_condition",
    "tick",
    "track",
    "track_suppression",
]

ENTERED, EXITED = "segment.entered", "segment.exited"
PURPOSE = "segments"
TICK_KEY = "segments:tick"
TICK_EVERY = dt.timedelta(hours=1)
ACTOR = "workflow:segments"


def referenced_segment(definition: Workflow) -> str | None:
    """The segment a workflow's ``segment:`` trigger names, if any."""
    trigger = definition.trigger
    return trigger.segment if isinstance(trigger, SegmentTrigger) else None


async def track(definition: Workflow, definitions: Definitions, now: dt.datetime) -> None:
    """After a deploy: keep the segment the workflow's trigger names (new: record who is in it
    already, without events; changed: take the new condition) and make sure the tick runs."""
    key = referenced_segment(definition)
    if key is not None:
        await _track_key(key, definitions, now)


async def track_suppression(definitions: Definitions, now: dt.datetime) -> None:
    """After a deploy whose files define the suppression segment: keep it (its condition is
    what every later send checks)."""
    if SUPPRESSION_SEGMENT in definitions.segments:
        await _track_key(SUPPRESSION_SEGMENT, definitions, now)


async def suppression_condition() -> str | None:
    """The deployed suppression segment's CEL condition, or None when there is none."""
    rows = await m.Segment.filter(key=SUPPRESSION_SEGMENT).values_list("condition", flat=True)
    return str(rows[0]) if rows else None


async def _track_key(key: str, definitions: Definitions, now: dt.datetime) -> None:
    if key not in definitions.segments:
        return
    declared = definitions.segments[key]
    if declared.subject != "customer":
        return
    row = await m.Segment.get_or_none(key=key)
    if row is None:
        row = await m.Segment.create(
            key=key, name=declared.name or key, subject="customer", condition=declared.when
        )
        await _baseline(row, now)
    elif (row.condition, row.name) != (declared.when, declared.name or key):
        row.condition, row.name = declared.when, declared.name or key
        await row.save(update_fields=["condition", "name", "updated_at"])
    await _arm_tick(now, replace=False)


async def _baseline(segment: m.Segment, now: dt.datetime) -> None:
    async for page in subject_pages("customer"):
        inside = [
            cid for cid, subject in page if schedules.matches(segment.condition, subject, now)
        ]
        await m.SegmentMembership.bulk_create(
            [
                m.SegmentMembership(segment_id=segment.id, customer_id=cid, entered_at=now)
                for cid in inside
            ]
        )


def _within(segment: m.Segment, subject: Mapping[str, Any] | None, now: dt.datetime) -> bool:
    return subject is not None and schedules.matches(segment.condition, dict(subject), now)


async def _arm_tick(now: dt.datetime, *, replace: bool) -> None:
    live = m.Timer.filter(run_id=None, key=TICK_KEY, status__in=("PENDING", "CLAIMED"))
    if not replace and await live.exists():
        return
    await live.update(status="CANCELLED", claim_token=None, claimed_until=None)
    await schedule_timer(run_id=None, key=TICK_KEY, due_at=now + TICK_EVERY, purpose=PURPOSE)


def _event(kind: str, segment: m.Segment, customer_id: int, now: dt.datetime) -> m.DomainEvent:
    return m.DomainEvent(
        type=kind,
        subject_type="Customer",
        subject_id=customer_id,
        payload=to_json({"segment": {"key": segment.key, "name": segment.name}}),
        actor=ACTOR,
        occurred_at=now,
    )


async def _apply(
    segments: list[m.Segment],
    page: Iterable[tuple[int, Mapping[str, Any] | None]],
    now: dt.datetime,
) -> tuple[int, int]:
    """Re-evaluate every segment for the customers of `page` (a None subject: deleted, so
    outside everything) with a constant number of statements; returns (entered, exited)."""
    subjects = dict(page)
    open_rows = await m.SegmentMembership.filter(
        customer_id__in=list(subjects), exited_at=None
    ).values_list("id", "segment_id", "customer_id")
    inside = {(segment_id, customer_id): row_id for row_id, segment_id, customer_id in open_rows}
    entries: list[m.SegmentMembership] = []
    exits: list[int] = []
    events: list[m.DomainEvent] = []
    for customer_id, subject in subjects.items():
        for segment in segments:
            now_in = subject is not None and schedules.matches(
                segment.condition, dict(subject), now
            )
            row_id = inside.get((segment.id, customer_id))
            if now_in and row_id is None:
                entries.append(
                    m.SegmentMembership(
                        segment_id=segment.id, customer_id=customer_id, entered_at=now
                    )
                )
                events.append(_event(ENTERED, segment, customer_id, now))
            elif not now_in and row_id is not None:
                exits.append(row_id)
                events.append(_event(EXITED, segment, customer_id, now))
    if entries:
        await m.SegmentMembership.bulk_create(entries)
    if exits:
        await m.SegmentMembership.filter(id__in=exits).update(exited_at=now)
    if events:
        await m.DomainEvent.bulk_create(events)
    return len(entries), len(exits)


async def evaluate_customer(
    customer_id: int,
    load: Callable[[], Awaitable[Mapping[str, Any] | None]],
    now: dt.datetime,
) -> tuple[int, int]:
    """The customer changed (or was deleted: `load` gives None): enter and exit segments.
    The subject is loaded only when some segment is tracked (one statement otherwise)."""
    segments = await m.Segment.filter(subject="customer").order_by("id")
    if not segments:
        return 0, 0
    return await _apply(segments, [(customer_id, await load())], now)


async def tick(now: dt.datetime) -> tuple[int, int]:
    """Every customer against every tracked segment (time passes for conditions on ``now``),
    then the next tick. Returns (entered, exited)."""
    segments = await m.Segment.filter(subject="customer").order_by("id")
    entered = exited = 0
    if segments:
        async for page in subject_pages("customer"):
            came, left = await _apply(segments, page, now)
            entered, exited = entered + came, exited + left
        # Members deleted since are outside every segment.
        gone = await m.SegmentMembership.filter(
            exited_at=None, customer__deleted_at__not_isnull=True
        ).values_list("customer_id", flat=True)
        if gone:
            _, left = await _apply(segments, [(int(str(cid)), None) for cid in set(gone)], now)
            exited += left
    await _arm_tick(now, replace=True)
    return entered, exited
