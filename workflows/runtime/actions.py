"""Carrying out the engine's commands inside the run's transaction.

Internal actions (tasks, field updates, tags, owner changes, enrolments) call the domain
services, so they commit with the run's new state or not at all, audited under the run and
step as actor. Messages go to the e-mail outbox and webhook calls to the webhook outbox (each
audited here), under the command's idempotency key, with the step's id and ``retry`` policy;
the worker sends them after the commit (``new_messages`` and ``new_webhooks`` collect their
ids for it).
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
from contextvars import ContextVar
from typing import Any

from tortoise.functions import Count
from tortoise.transactions import in_transaction

from domain.activities.tasks import TaskInput, create_task
from domain.customers import services
from domain.customers.commands import OrganizationInput, PersonInput
from domain.errors import DomainError
from domain.persistence import models as m
from domain.recording import record
from domain.text import decode_tags
from domain.tickets.lifecycle import escalate_ticket, set_ticket_tags
from workflows.engine import model as cmd
from workflows.engine.actions import set_path
from workflows.engine.context import json_safe
from workflows.language.templates import TemplateRenderError, render
from workflows.language.validate import Definitions
from workflows.runtime.email import enqueue_email
from workflows.runtime.run_writes import RunWrites
from workflows.runtime.subjects import user_map
from workflows.runtime.teams import find_team
from workflows.runtime.ticket_recipients import ticket_staff, ticket_staff_address
from workflows.runtime.webhooks import enqueue_webhook

logger = logging.getLogger(__name__)

#: Outbox messages written by the current transaction, to hand to the worker after it commits.
new_messages: ContextVar[list[int] | None] = ContextVar("new_messages", default=None)
#: Webhook deliveries written by the current transaction, likewise.
new_webhooks: ContextVar[list[int] | None] = ContextVar("new_webhooks", default=None)

_UPDATABLE = {
    "lifecycleStage": "lifecycle_stage",
    "jobTitle": "job_title",
    "country": "country",
    "timezone": "timezone",
    "emailOptIn": "email_opt_in",
    "smsOptIn": "sms_opt_in",
    "attributes": "attributes",
    "displayName": "display_name",
    "industry": "industry",
}


def actor_of(run: m.WorkflowRun, step_id: str) -> str:
    return f"workflow:run:{run.id}:step:{step_id}"


async def _user_by_email(address: str) -> m.User | None:
    return await m.User.get_or_none(email=address.strip().lower(), deleted_at=None)


async def _staff_address(to: str, subject: dict[str, Any]) -> str | None:
    """owner | team_lead | manager | assignee | an address -> an e-mail address."""
    if "@" in to:
        return to
    owner = await m.User.get_or_none(id=(subject.get("owner") or {}).get("id") or 0)
    if owner is None:
        return None
    if to in ("owner", "assignee"):
        return owner.email
    if to == "team_lead" and owner.team_id:
        team = await m.Team.get_or_none(id=owner.team_id)
        lead = await m.User.get_or_none(id=team.lead_id) if team and team.lead_id else None
        return lead.email if lead else None
    if to == "manager" and owner.manager_id:
        manager = await m.User.get_or_none(id=owner.manager_id)
        return manager.email if manager else None
    return None


def _for_subject(run: m.WorkflowRun, to: str) -> str:
    """A ticket's ``subject``/``owner`` mean its customer and the customer's owner; a deal's
    ``subject`` means its customer (a deal has an owner of its own)."""
    if run.subject_type == "ticket" and to in ("subject", "owner"):
        return "subject.customer" if to == "subject" else "subject.customer.owner"
    if run.subject_type == "opportunity" and to == "subject":
        return "subject.customer"
    return to


def _subject_address(to: str, subject: dict[str, Any]) -> str | None:
    if "@" in to:
        return to
    if to == "subject":
        return subject.get("primaryEmail")
    if to == "owner":
        return (subject.get("owner") or {}).get("email")
    value: Any = subject
    for part in to.removeprefix("subject.").split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if isinstance(value, dict):
        value = value.get("primaryEmail") or value.get("email")
    return value if isinstance(value, str) else None


async def _message(
    run: m.WorkflowRun,
    key: str,
    template_key: str,
    to_address: str,
    definitions: Definitions,
    variables: dict[str, Any],
    step_id: str,
    retry: dict[str, Any] | None = None,
) -> None:
    template = definitions.templates[template_key]
    subject = render(template.subject, variables)
    message = await enqueue_email(
        idempotency_key=key,
        to_address=to_address,
        subject=subject,
        text=render(template.text, variables),
        html=render(template.html, variables, html=True) if template.html else None,
        run_id=run.id,
        step_id=step_id,
        retry=retry,
    )
    changes = {"to_address": [None, to_address], "subject": [None, subject]}
    await record(actor_of(run, step_id), "email.enqueue", "EmailMessage", message.id, changes)
    pending = new_messages.get()
    if pending is not None:
        pending.append(message.id)


async def _owner_for(spec: Any, subject: dict[str, Any]) -> int | None:
    """owner | an e-mail | {round_robin: team} | {least_loaded: team} -> a user id."""
    if spec == "owner":
        return (subject.get("owner") or {}).get("id")
    if isinstance(spec, str):
        user = await _user_by_email(spec)
        return user.id if user else None
    team = await find_team(str(spec.get("round_robin") or spec.get("least_loaded")))
    if team is None:
        return None
    members = await m.User.filter(teams__id=team.id, active=True, deleted_at=None).order_by("id")
    if not members:
        return None
    open_tasks = (
        await m.Task.filter(assignee_id__in=[u.id for u in members], status="OPEN")
        .annotate(n=Count("id"))
        .group_by("assignee_id")
        .values("assignee_id", "n")
    )
    loads = {u.id: 0 for u in members} | {row["assignee_id"]: row["n"] for row in open_tasks}
    return min(loads, key=lambda uid: (loads[uid], uid))


async def _save_customer(customer_id: int, values: dict[str, Any], actor: str) -> None:
    """Change fields of a customer through the person or organization use case."""
    customer = await m.Customer.get(id=customer_id)
    if customer.kind == "PERSON":
        await services.update_person(customer.id, PersonInput(**values), actor=actor)
    else:
        await services.update_organization(customer.id, OrganizationInput(**values), actor=actor)


async def _update_subject(run: m.WorkflowRun, values: dict[str, Any], actor: str) -> None:
    """Set customer fields; ``attributes.KEY`` (nested: ``attributes.a.b``) changes one custom
    attribute and keeps the others. Validation refuses other fields and other subjects."""
    given: dict[str, Any] = {}
    attributes: dict[str, Any] | None = None
    for key, value in values.items():
        if key.startswith("attributes."):
            if attributes is None:
                customer = await m.Customer.get(id=run.subject_id)
                attributes = copy.deepcopy(customer.attributes or {})
            set_path(attributes, key.removeprefix("attributes."), value)
        elif key in _UPDATABLE:
            given[_UPDATABLE[key]] = value
        else:
            logger.warning("run %s: update of unsupported field %s ignored", run.id, key)
    if attributes is not None:
        given["attributes"] = {**given.get("attributes", {}), **attributes}
    await _save_customer(run.subject_id, given, actor)


async def carry_out(
    run: m.WorkflowRun,
    commands: list[cmd.Command],
    definitions: Definitions,
    subject: dict[str, Any],
    now: dt.datetime,
    enroll: Any,
    writes: RunWrites,
    event: dict[str, Any] | None = None,
) -> bool:
    """Apply ``commands`` in order, inside the caller's transaction; templates see ``event``,
    the run's triggering (or last awaited) event, e.g. ``event.sla.dueAt``.

    History lines and the run's timers go to ``writes`` (flushed by the caller); any other
    effect flushes ``writes`` first. True when an effect reached beyond the run's own rows
    (a subject loaded before may now be stale)."""
    variables = {
        "subject": subject,
        "event": event or {},
        "run": {"id": run.id, "startedAt": run.started_at},
        "now": now,
    }
    effects = False
    for command in commands:
        actor = actor_of(run, command.step_id)
        if isinstance(command, cmd.RecordStep):
            writes.record_step(
                run.id,
                step_id=command.step_id,
                kind=command.kind,
                outcome=command.outcome,
                detail=json_safe(command.detail),
                at=command.at,
                input_key=command.key,
            )
            continue
        if isinstance(command, cmd.ScheduleTimer):
            writes.schedule_timer(run.id, command.key, command.due_at, command.purpose)
            continue
        if isinstance(command, cmd.CancelTimer):
            writes.cancel_timer(run.id, command.key)
            continue
        if isinstance(command, cmd.EndRun):
            run.ended_at = now
            continue
        await writes.flush()
        effects = True
        if isinstance(command, cmd.SendEmail | cmd.Notify):
            if isinstance(command, cmd.SendEmail):
                address = _subject_address(_for_subject(run, command.to), subject)
                retry = command.retry
            else:
                address = (
                    await ticket_staff_address(command.to, run.subject_id)
                    if run.subject_type == "ticket"
                    else await _staff_address(command.to, subject)
                )
                retry = None
            if not address:
                continue
            try:
                await _message(
                    run,
                    command.key,
                    command.template,
                    address,
                    definitions,
                    variables,
                    command.step_id,
                    retry,
                )
            except TemplateRenderError as error:
                # This subject's data does not fit the template (a field it lacks): the step
                # fails (its on_failure, else the run is a dead letter); it must not block the
                # timer or the event relay that carried the input, for every other run.
                kind = "send_email" if isinstance(command, cmd.SendEmail) else "notify"
                writes.failed.append((run.id, command.step_id, kind, command.key, str(error)))
        elif isinstance(command, cmd.CallWebhook):
            delivery = await enqueue_webhook(
                idempotency_key=command.key,
                url=command.url,
                body=json_safe(command.body),
                headers=command.headers,
                run_id=run.id,
                step_id=command.step_id,
                retry=command.retry,
            )
            await record(
                actor,
                "webhook.enqueue",
                "WebhookDelivery",
                delivery.id,
                {"url": [None, command.url]},
            )
            hooks = new_webhooks.get()
            if hooks is not None:
                hooks.append(delivery.id)
        elif isinstance(command, _RECORD_CHANGES):
            try:
                # A savepoint: a change the domain refuses (an attribute nobody defined, a
                # deactivated owner) fails this step alone, not the batch or the event relay.
                async with in_transaction():
                    handled = await _change_records(run, command, subject, actor)
            except DomainError as error:
                kind = _KINDS.get(type(command).__name__, type(command).__name__)
                writes.failed.append((run.id, command.step_id, kind, command.key, str(error)))
                continue
            if not handled:
                _not_supported(writes, run, command, now)
        elif isinstance(command, cmd.EnrollOther):
            await enroll(command.workflow, run.subject_type, run.subject_id, now, actor=actor)
        elif isinstance(command, cmd.Escalate) and run.subject_type == "ticket":
            target = await ticket_staff(command.to, run.subject_id) if command.to else None
            ticket = await escalate_ticket(
                run.subject_id,
                level=command.level,
                assignee_id=target.id if target else None,
                actor=actor,
            )
            # Later steps of this transition (a notify) render the escalated ticket.
            subject["escalationLevel"] = ticket.escalation_level
            if target is not None:
                subject["assignee"] = user_map(target)
        else:
            _not_supported(writes, run, command, now)
    return effects


#: Effects on records through the domain services (each in a savepoint of its own).
_RECORD_CHANGES = (cmd.CreateTask, cmd.UpdateSubject, cmd.ChangeTags, cmd.AssignOwner)
_KINDS = {
    "CreateTask": "create_task",
    "UpdateSubject": "update",
    "ChangeTags": "tags",
    "AssignOwner": "assign",
}


def _not_supported(
    writes: RunWrites, run: m.WorkflowRun, command: cmd.Command, now: dt.datetime
) -> None:
    # A step this subject has no meaning for (validation refuses most; a definition deployed
    # before it did): in the run's history with this note rather than silently dropped.
    writes.record_step(
        run.id,
        step_id=command.step_id,
        kind=type(command).__name__,
        outcome="NOT_SUPPORTED",
        detail={},
        at=now,
        input_key=f"{command.key}:unsupported",
    )


async def _change_records(
    run: m.WorkflowRun, command: cmd.Command, subject: dict[str, Any], actor: str
) -> bool:
    """Carry out a task, field, tag or owner change; False when the subject has no such
    thing (tags or an owner on a deal)."""
    if isinstance(command, cmd.CreateTask):
        await create_task(
            TaskInput(
                title=command.title,
                due_at=command.due_at,
                assignee_id=await _owner_for(command.assignee, subject),
                customer_id=run.subject_id if run.subject_type == "customer" else None,
            ),
            actor=actor,
        )
    elif isinstance(command, cmd.UpdateSubject) and run.subject_type == "customer":
        await _update_subject(run, command.values, actor)
    elif isinstance(command, cmd.ChangeTags) and run.subject_type == "ticket":
        # The stored tags, not the subject loaded before this transition: an earlier tag step
        # of the same transition has changed them.
        ticket = await m.Ticket.get(id=run.subject_id)
        kept = [t for t in decode_tags(ticket.tags) if t not in command.remove]
        await set_ticket_tags(
            run.subject_id, kept + [t for t in command.add if t not in kept], actor=actor
        )
    elif isinstance(command, cmd.ChangeTags) and run.subject_type == "customer":
        if command.add:
            await services.add_tags(run.subject_id, list(command.add), actor=actor)
        if command.remove:
            customer = await m.Customer.get(id=run.subject_id)
            kept = [t for t in decode_tags(customer.tags) if t not in command.remove]
            await _save_customer(run.subject_id, {"tags": kept}, actor)
    elif isinstance(command, cmd.AssignOwner) and run.subject_type == "customer":
        owner_id = await _owner_for(command.owner, subject)
        if owner_id is not None:
            await _save_customer(run.subject_id, {"owner_id": owner_id}, actor)
    else:
        return False
    return True
