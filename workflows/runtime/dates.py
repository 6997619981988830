"""``date:`` triggers in the database: one timer per (workflow, subject), due when the subject's
date field says, moved whenever the subject changes.

A timer's key is ``date:<workflow>:<subject type>:<subject id>`` (``run_id`` NULL, purpose
``date``); its payload keeps the moment it was computed for (``moment``, before a late moment is
brought forward to now). The timer is recomputed:

- for every subject when a version of the workflow is deployed (a scan in keyset pages);
- for one subject whenever an event about it is relayed, in the relay's transaction, so a
  changed date and its moved timer commit together.

A moment fires once: when a FIRED timer already exists for the same moment, nothing is armed
again (an unrelated change of the subject a minute after it fired must not enroll it twice);
a new date is a new moment. The rules for late, past and cleared dates are in
:mod:`workflows.engine.dates`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from domain.persistence import models as m
from workflows.engine.dates import date_trigger_moment
from workflows.language.spec import DateTrigger, Workflow
from workflows.runtime.subjects import subject_pages
from workflows.runtime.timers import schedule_timer

__all__ = ["PURPOSE", "arm_subject", "arm_workflow", "timer_key"]

PURPOSE = "date"
LIVE = ("PENDING", "CLAIMED")


def timer_key(workflow_key: str, subject_type: str, subject_id: int) -> str:
    return f"date:{workflow_key}:{subject_type}:{subject_id}"


def _due(
    spec: DateTrigger.Date, subject: Mapping[str, Any] | None, now: dt.datetime
) -> tuple[dt.datetime | None, str | None]:
    """(when to fire, the moment's ISO text): a late moment whose date is still ahead fires
    now; a moment whose date is over, or no date, fires never."""
    moment = date_trigger_moment(spec, subject) if subject else None
    if moment is None:
        return None, None
    at, over = moment
    due = at if at > now else now if over > now else None
    return due, at.isoformat()


def _payload(workflow_row: m.Workflow, subject_type: str, subject_id: int, stamp: str) -> Any:
    return {
        "workflow": workflow_row.key,
        "subjectType": subject_type,
        "subjectId": subject_id,
        "moment": stamp,
    }


async def arm_subject(
    workflow_row: m.Workflow,
    spec: DateTrigger.Date,
    subject_type: str,
    subject_id: int,
    subject: Mapping[str, Any] | None,
    now: dt.datetime,
) -> dt.datetime | None:
    """Make the subject's pending timer for this workflow match its date now (create, move or
    cancel it); returns its due time, or None when none is pending."""
    key = timer_key(workflow_row.key, subject_type, subject_id)
    due, stamp = _due(spec, subject, now)
    pending = await m.Timer.filter(run_id=None, key=key, status__in=LIVE).order_by("-id")
    if due is not None and len(pending) == 1 and (pending[0].payload or {}).get("moment") == stamp:
        return pending[0].due_at  # unchanged (a late one keeps its first due time)
    if pending:
        await m.Timer.filter(id__in=[t.id for t in pending]).update(
            status="CANCELLED", claim_token=None, claimed_until=None
        )
    if due is None or stamp is None:
        return None
    fired = await m.Timer.filter(run_id=None, key=key, status="FIRED").order_by("-id").first()
    if fired is not None and (fired.payload or {}).get("moment") == stamp:
        return None  # this moment has enrolled (or tried to) already
    payload = _payload(workflow_row, subject_type, subject_id, stamp)
    await schedule_timer(run_id=None, key=key, due_at=due, purpose=PURPOSE, payload=payload)
    return due


async def arm_workflow(workflow_row: m.Workflow, definition: Workflow, now: dt.datetime) -> int:
    """After a deploy: cancel the workflow's pending date timers and, for a ``date:`` trigger
    of an active workflow, arm one per subject whose date is ahead (a constant number of
    statements per page of subjects). Returns how many."""
    prefix = f"date:{workflow_row.key}:"
    await m.Timer.filter(run_id=None, key__startswith=prefix, status__in=LIVE).update(
        status="CANCELLED", claim_token=None, claimed_until=None
    )
    trigger = definition.trigger
    if not isinstance(trigger, DateTrigger) or workflow_row.status != "ACTIVE":
        return 0
    subject_type = definition.subject
    armed = 0
    async for page in subject_pages(subject_type):
        keys = {timer_key(workflow_row.key, subject_type, sid): sid for sid, _ in page}
        fired_rows = await m.Timer.filter(
            run_id=None, key__in=list(keys), status="FIRED"
        ).values_list("key", "payload")
        fired = {(key, (payload or {}).get("moment")) for key, payload in fired_rows}
        new: list[m.Timer] = []
        for subject_id, subject in page:
            due, stamp = _due(trigger.date, subject, now)
            key = timer_key(workflow_row.key, subject_type, subject_id)
            if due is None or stamp is None or (key, stamp) in fired:
                continue
            new.append(
                m.Timer(
                    run_id=None,
                    key=key,
                    due_at=due.astimezone(dt.UTC),
                    purpose=PURPOSE,
                    payload=_payload(workflow_row, subject_type, subject_id, stamp),
                    status="PENDING",
                )
            )
        if new:
            await m.Timer.bulk_create(new)
        armed += len(new)
    return armed
