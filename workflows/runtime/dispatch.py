"""What fired timers and relayed domain events do: the engine glue the worker installs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from domain.persistence import models as m
from domain.sla import tracking as sla
from workflows.engine import EventArrived, TimerFired
from workflows.language.spec import DateTrigger, EventTrigger, ScheduleTrigger, SegmentTrigger
from workflows.runtime import clock, dates, relay, schedules, segments, timers
from workflows.runtime.deploy import version_definitions
from workflows.runtime.runs import apply_input, apply_inputs, enroll, live_runs
from workflows.runtime.subjects import customer_subject, load_subject, subject_pages

# The runtime's one injectable clock lives in clock.py (the e-mail outbox reads it too).
set_clock = clock.set_clock
utcnow = clock.utcnow


async def on_timers(fired: list[m.Timer]) -> None:
    """Several timers fired together: the runs' transitions are applied as one batch (see
    :func:`~workflows.runtime.runs.apply_inputs`), the other timers one by one."""
    now = utcnow()
    await apply_inputs(
        [(t.run_id, TimerFired(key=t.key, now=now)) for t in fired if t.run_id is not None], now
    )
    for timer in fired:
        if timer.run_id is None:
            await on_timer(timer)


async def on_timer(timer: m.Timer) -> None:
    """A run's timer fired: the run takes its next steps (in the timer's transaction).
    A schedule's timer fired: its workflow's tick."""
    if timer.run_id is None:
        if timer.purpose == "schedule":
            await scheduled_tick(str((timer.payload or {}).get("workflow")), utcnow())
        elif timer.purpose == sla.TIMER_PURPOSE:
            # Never before the due instant, whatever this process's clock says.
            await sla.tick(int(timer.payload["ticketId"]), max(utcnow(), timer.due_at))
        elif timer.purpose == dates.PURPOSE:
            await date_reached(timer.payload or {}, utcnow())
        elif timer.purpose == segments.PURPOSE:
            await segments.tick(utcnow())
        return
    now = utcnow()
    await apply_input(timer.run_id, TimerFired(key=timer.key, now=now), now)


async def _event_data(event: m.DomainEvent) -> tuple[dict[str, Any], dict[str, int]]:
    """The event as CEL sees it, and the subjects it is about (customer, opportunity, ticket)."""
    data: dict[str, Any] = {
        "type": event.type,
        "occurredAt": event.occurred_at,
        **(event.payload or {}),
    }
    subjects: dict[str, int] = {}
    kind = event.subject_type.lower()
    if kind == "customer":
        subjects["customer"] = event.subject_id
    elif kind == "interaction":
        row = await m.Interaction.get_or_none(id=event.subject_id)
        if row is not None:
            subjects["customer"] = row.customer_id
            data["interaction"] = {
                "id": row.id,
                "kind": row.kind,
                "direction": row.direction,
                "subject": row.subject,
                "userId": row.user_id,
                "occurredAt": row.occurred_at,
            }
    elif kind == "task":
        row_task = await m.Task.get_or_none(id=event.subject_id)
        if row_task is not None:
            if row_task.customer_id:
                subjects["customer"] = row_task.customer_id
            run_id = None
            if row_task.created_by.startswith("workflow:run:"):
                # A string, as ``run.id`` is in CEL: ``event.task.workflowRunId == run.id``.
                run_id = row_task.created_by.split(":")[2]
            data["task"] = {
                "id": row_task.id,
                "title": row_task.title,
                "status": row_task.status,
                "workflowRunId": run_id,
            }
    elif kind == "opportunity":
        deal = await m.Opportunity.get_or_none(id=event.subject_id)
        if deal is not None:
            subjects["customer"] = deal.customer_id
            subjects["opportunity"] = deal.id
            data["opportunity"] = {
                "id": deal.id,
                "name": deal.name,
                "status": deal.status,
                "amount": str(deal.amount),
            }
    elif kind == "ticket":
        ticket = await m.Ticket.get_or_none(id=event.subject_id)
        if ticket is not None:
            subjects["customer"] = ticket.customer_id
            subjects["ticket"] = ticket.id
            data["ticket"] = {
                "id": ticket.id,
                "subject": ticket.subject,
                "status": ticket.status,
                "priority": ticket.priority,
                "escalationLevel": ticket.escalation_level,
            }
    if "customer" in subjects and kind != "customer":
        customer = await m.Customer.get_or_none(id=subjects["customer"])
        if customer is not None:
            data["customer"] = await customer_subject(customer)
    return data, subjects


async def on_event(event: m.DomainEvent) -> None:
    """A domain event: delivered to the subject's live runs, then enrolls where it triggers."""
    now = utcnow()
    data, subjects = await _event_data(event)
    for subject_type, subject_id in subjects.items():
        for run in await live_runs(subject_type, subject_id):
            await apply_input(run, EventArrived(name=event.type, data=data, now=now), now)
    loaded: dict[str, dict[str, Any] | None] = {}

    async def subject_of(subject_type: str) -> dict[str, Any] | None:
        if subject_type not in loaded:
            loaded[subject_type] = await load_subject(subject_type, subjects[subject_type])
        return loaded[subject_type]

    entered = (data.get("segment") or {}).get("key") if event.type == segments.ENTERED else None
    for workflow_row in await m.Workflow.filter(status="ACTIVE").order_by("id"):
        if workflow_row.subject not in subjects or workflow_row.current_version_id is None:
            continue
        subject_id = subjects[workflow_row.subject]
        version = await m.WorkflowVersion.get(id=workflow_row.current_version_id)
        definition, _ = version_definitions(version)
        trigger = definition.trigger
        triggered = (isinstance(trigger, EventTrigger) and trigger.event == event.type) or (
            isinstance(trigger, SegmentTrigger) and trigger.segment == entered
        )
        if triggered:
            await enroll(
                workflow_row,
                workflow_row.subject,
                subject_id,
                now,
                data,
                trigger=f"event:{event.type}:{event.id}",
            )
        elif isinstance(trigger, DateTrigger):
            # The subject may have changed: its date timer follows, in this transaction.
            subject = await subject_of(workflow_row.subject)
            await dates.arm_subject(
                workflow_row, trigger.date, workflow_row.subject, subject_id, subject, now
            )
    if "customer" in subjects and event.type not in (segments.ENTERED, segments.EXITED):
        # Likewise its segment memberships (their events are relayed after this one).
        await segments.evaluate_customer(subjects["customer"], lambda: subject_of("customer"), now)


async def date_reached(payload: dict[str, Any], now: dt.datetime) -> None:
    """A ``date:`` trigger's timer fired: enroll its subject (enrollment rules apply)."""
    workflow_row = await m.Workflow.get_or_none(key=str(payload.get("workflow")))
    if workflow_row is None or workflow_row.current_version_id is None:
        return
    version = await m.WorkflowVersion.get(id=workflow_row.current_version_id)
    definition, _ = version_definitions(version)
    if not isinstance(definition.trigger, DateTrigger):
        return
    event = {
        "type": "date.reached",
        "field": definition.trigger.date.field,
        "moment": payload.get("moment"),
        "occurredAt": now,
    }
    subject_type, subject_id = str(payload["subjectType"]), int(payload["subjectId"])
    await enroll(workflow_row, subject_type, subject_id, now, event, trigger="date")


def install() -> None:
    """Make fired timers and relayed events drive workflow runs in this process."""
    timers.set_timer_handler(on_timer, batch=on_timers)
    relay.set_event_handler(on_event)


#: Subjects are scanned in pages of this many.
SCHEDULE_BATCH = 500


async def scheduled_tick(workflow_key: str, now: dt.datetime) -> int:
    """One tick of a scheduled workflow: enroll the matching subjects, arm the next tick."""
    workflow_row = await m.Workflow.get_or_none(key=workflow_key)
    if workflow_row is None or workflow_row.current_version_id is None:
        return 0
    version = await m.WorkflowVersion.get(id=workflow_row.current_version_id)
    definition, definitions = version_definitions(version)
    trigger = definition.trigger
    if not isinstance(trigger, ScheduleTrigger) or workflow_row.status != "ACTIVE":
        return 0
    condition = schedules.condition_of(trigger, definitions)
    enrolled = 0
    subject_type = workflow_row.subject
    async for page in subject_pages(subject_type, SCHEDULE_BATCH):
        for subject_id, subject in page:
            if schedules.matches(condition, subject, now):
                run = await enroll(workflow_row, subject_type, subject_id, now, trigger="schedule")
                enrolled += run is not None
    await schedules.arm(workflow_row, definition, now)
    return enrolled
