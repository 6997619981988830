"""Erasing a customer on request: what identifies them is gone, history and aggregates stay.

Erased (irreversibly, in one transaction):

- the customer's identifying columns (:data:`PERSONAL_COLUMNS`): names, job title, legal name,
  domain, tax code, e-mails, phones, address, custom attributes; the display name becomes
  "Erased customer"; the search shadow columns (``*_fold``, ``search_text``) are cleared;
  consent is withdrawn, so nothing is ever sent to them again;
- the free text of their interactions (subject and body) and tasks (notes), relationship notes,
  and any task title, deal name or lost reason that mentions them;
- the subjects of their tickets (usually the subject line of their own e-mail), the bodies of
  the ticket comments they wrote, and staff replies and notes on their tickets that mention
  them; the tickets themselves, their statuses, times and SLA clocks stay;
- their e-mails in the outbox (recipient, subject, bodies); unsent ones are CANCELLED, as are
  unsent webhook calls of their runs (bodies redacted);
- their workflow runs end (EXITED, reason ``erased``), pending timers cancelled, the event a run
  remembered reduced to its type, step details redacted;
- personal values in the audit trail and event outbox about any of these records.

Kept: every record and its dates, kinds, owners, statuses, stage history, deal amounts,
lifecycle stage, source and tags, country: counts, funnels, revenue and CLV do not change.
Customers merged into the erased one are erased with it (they are the same person).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from domain.customers.services import follow_merges, get_customer
from domain.persistence.models import (
    AuditEntry,
    Customer,
    DomainEvent,
    EmailMessage,
    Interaction,
    Opportunity,
    Relationship,
    Task,
    Ticket,
    TicketComment,
    Timer,
    WebhookDelivery,
    WorkflowRun,
    WorkflowRunStep,
)
from domain.privacy.merged import with_merged
from domain.privacy.redaction import ERASED, PERSONAL_COLUMNS, Identifiers
from domain.recording import record, utcnow
from domain.text import fold_required

ERASED_NAME = "Erased customer"
ERASED_TITLE = "(about an erased customer)"
#: Run states that may still act (``workflows.runtime.runs.LIVE_STATES``).
LIVE_RUN_STATES = ("ACTIVE", "WAITING")
#: Per audited target type, the columns whose values are erased wholesale in its history;
#: other values are erased where they mention the customer.
ERASED_COLUMNS: dict[str, tuple[str, ...]] = {
    "Customer": PERSONAL_COLUMNS,
    "Interaction": ("subject", "body"),
    "Task": ("notes",),
    "Relationship": ("notes",),
    "EmailMessage": ("to_address", "subject", "text", "html"),
    "Ticket": ("subject",),
    # Staff comments are erased where they mention the customer; the audit of a comment the
    # customer wrote carries its body.
    "TicketComment": ("body",),
}


@dataclass(frozen=True)
class Erasure:
    customer: Customer
    #: Counts of changed rows by kind ("Interaction", "EmailMessage", "cancelledEmails", ...).
    counts: dict[str, int]


async def _ids(query: QuerySet[Any]) -> list[int]:
    return [int(row["id"]) for row in await query.values("id")]


def _anonymize(customer: Customer, actor: str, now: dt.datetime) -> None:
    for column in PERSONAL_COLUMNS:
        setattr(customer, column, {"emails": [], "phones": [], "attributes": {}}.get(column))
    customer.display_name = ERASED_NAME
    customer.display_name_fold = fold_required(ERASED_NAME)
    for shadow in ("first_name_fold", "last_name_fold", "job_title_fold", "legal_name_fold"):
        setattr(customer, shadow, None)
    customer.city_fold = None
    customer.search_text = ""
    customer.email_opt_in = False
    customer.sms_opt_in = False
    customer.unsubscribed_at = customer.unsubscribed_at or now
    customer.updated_by = actor


async def _rewrite_mentions(
    model: type[Model], ids: Sequence[int], columns: Sequence[str], who: Identifiers, new: Any
) -> list[int]:
    """Replace ``columns`` that mention the customer with ``new``; the ids of rows changed."""
    changed = []
    for row in await model.filter(id__in=list(ids)).values("id", *columns):
        values = {c: new for c in columns if who.mentioned_in(row[c])}
        if "title" in values:
            values["title_fold"] = fold_required(ERASED_TITLE)
        if "name" in values:
            values["name_fold"] = fold_required(ERASED_TITLE)
        if values:
            await model.filter(id=row["id"]).update(**values)
            changed.append(row["id"])
    return changed


def _erase_values(target_type: str, changes: Any, who: Identifiers) -> Any:
    if not isinstance(changes, dict):
        return who.redact(changes)
    wholesale = ERASED_COLUMNS.get(target_type, ())
    erased: dict[str, Any] = {}
    for key, value in changes.items():
        if key in wholesale and isinstance(value, list):
            erased[key] = [v if v in (None, "", [], {}) else ERASED for v in value]
        elif key == "changes":  # event payloads nest the audit diff
            erased[key] = _erase_values(target_type, value, who)
        else:
            erased[key] = who.redact(value)
    return erased


async def _redact_history(targets: dict[str, list[int]], who: Identifiers) -> int:
    """Erase personal values from audit entries and outbox events about ``targets``."""
    changed = 0
    for target_type, ids in targets.items():
        if not ids:
            continue
        for entry in await AuditEntry.filter(target_type=target_type, target_id__in=ids):
            erased = _erase_values(target_type, entry.changes, who)
            if erased != entry.changes:
                await AuditEntry.filter(id=entry.id).update(changes=erased)
                changed += 1
        for event in await DomainEvent.filter(subject_type=target_type, subject_id__in=ids):
            erased = _erase_values(target_type, event.payload, who)
            if erased != event.payload:
                await DomainEvent.filter(id=event.id).update(payload=erased)
                changed += 1
    return changed


async def _end_runs(runs: list[WorkflowRun], who: Identifiers, actor: str, now: dt.datetime) -> int:
    """End live runs as the runtime's cancel does; redact what every run remembered."""
    ended = 0
    for run in runs:
        state = who.redact(run.state_json or {})
        remembered = state.get("vars", {}).get("event")
        if isinstance(remembered, dict):
            # The event a run remembers embeds the whole subject: keep only what it was.
            state["vars"]["event"] = {"type": remembered.get("type"), "erased": True}
        if run.state in LIVE_RUN_STATES:
            state.update(status="EXITED", ended_reason="erased", waiting=None, position=None)
            await Timer.filter(run_id=run.id, status__in=("PENDING", "CLAIMED")).update(
                status="CANCELLED", claim_token=None, claimed_until=None
            )
            await WorkflowRunStep.create(
                run_id=run.id,
                step_id="run",
                kind="cancel",
                outcome="DONE",
                detail={"reason": "erased", "actor": actor},
                at=now,
                input_key=f"{run.id}:erase",
            )
            await WorkflowRun.filter(id=run.id).update(
                state="EXITED", state_json=state, ended_at=now, lock_version=run.lock_version + 1
            )
            ended += 1
        elif state != run.state_json:
            await WorkflowRun.filter(id=run.id).update(state_json=state)
    for step in await WorkflowRunStep.filter(run_id__in=[r.id for r in runs]):
        detail = who.redact(step.detail)
        if detail != step.detail:
            await WorkflowRunStep.filter(id=step.id).update(detail=detail)
    return ended


async def _erase_emails(
    addresses: set[str], run_ids: list[int], who: Identifiers
) -> tuple[list[int], int]:
    """Their outbox e-mails, and staff notifications their runs wrote: contents erased, the
    recipient too when it is them; unsent ones cancelled. Returns (ids, cancelled)."""
    rows = await EmailMessage.filter(to_address__in=list(addresses)) if addresses else []
    by_run = await EmailMessage.filter(run_id__in=run_ids) if run_ids else []
    messages = {row.id: row for row in [*rows, *by_run]}
    cancelled = 0
    for message in messages.values():
        values: dict[str, Any] = {"subject": ERASED, "text": ERASED, "html": None}
        if message.to_address.lower() in addresses:
            values["to_address"] = f"erased-{message.id}@invalid"
        if message.status in ("PENDING", "SENDING"):
            values.update(status="CANCELLED", next_attempt_at=None, sending_since=None)
            values["last_error"] = "cancelled: the recipient's personal data was erased"
            cancelled += 1
        elif message.last_error:
            values["last_error"] = who.redact(message.last_error)
        await EmailMessage.filter(id=message.id).update(**values)
    return list(messages), cancelled


async def _erase_webhooks(run_ids: list[int], who: Identifiers) -> tuple[list[int], int]:
    """Webhook calls their runs made: bodies redacted; unsent ones cancelled, since what they
    would post is about someone who asked to be forgotten. Returns (ids, cancelled)."""
    deliveries = await WebhookDelivery.filter(run_id__in=run_ids) if run_ids else []
    cancelled = 0
    for delivery in deliveries:
        values: dict[str, Any] = {
            "body": who.redact(delivery.body),
            "url": who.redact(delivery.url),
        }
        if delivery.status in ("PENDING", "SENDING"):
            values.update(status="CANCELLED", next_attempt_at=None, sending_since=None)
            values["last_error"] = "cancelled: the customer's personal data was erased"
            cancelled += 1
        await WebhookDelivery.filter(id=delivery.id).update(**values)
    return [d.id for d in deliveries], cancelled


async def _erase_tickets(
    customer_ids: list[int], who: Identifiers, actor: str, now: dt.datetime
) -> tuple[list[int], list[int]]:
    """Their tickets' subjects, the comments they wrote, and the staff comments on their
    tickets that mention them. Returns (ticket ids, ids of the comments changed)."""
    tickets = await _ids(Ticket.filter(customer_id__in=customer_ids))
    await Ticket.filter(id__in=tickets).update(
        subject=ERASED_TITLE,
        subject_fold=fold_required(ERASED_TITLE),
        updated_by=actor,
        updated_at=now,
    )
    theirs = await _ids(TicketComment.filter(author_customer_id__in=customer_ids))
    await TicketComment.filter(id__in=theirs).update(body=ERASED, updated_by=actor, updated_at=now)
    staff = await _ids(
        TicketComment.filter(ticket_id__in=tickets or [0], author_customer_id__isnull=True)
    )
    mentioning = await _rewrite_mentions(TicketComment, staff, ("body",), who, ERASED)
    return tickets, sorted([*theirs, *mentioning])


async def erase_customer(customer_id: int, *, actor: str) -> Erasure:
    """Erase what identifies customer ``customer_id`` (deleted or not; a merged one is followed
    to the customer it was merged into). Irreversible; audited without the erased values."""
    customer = await follow_merges(await get_customer(customer_id, include_deleted=True))
    customers = await with_merged(customer)
    ids = [c.id for c in customers]
    who = Identifiers.of(customers)
    addresses = {
        address.lower()
        for c in customers
        for address in [c.primary_email, *(e.get("address") for e in c.emails or [])]
        if address
    }
    now = utcnow()
    counts: dict[str, int] = {}
    async with in_transaction():
        erased_columns = sorted(
            {col for c in customers for col in PERSONAL_COLUMNS if getattr(c, col)}
        )
        for row in customers:
            _anonymize(row, actor, now)
            await row.save()
        interactions = await _ids(Interaction.filter(customer_id__in=ids))
        await Interaction.filter(customer_id__in=ids).update(
            subject=None, subject_fold=None, body=None, updated_by=actor, updated_at=now
        )
        tasks = await _ids(Task.filter(customer_id__in=ids))
        await Task.filter(customer_id__in=ids).update(notes=None, updated_by=actor, updated_at=now)
        await _rewrite_mentions(Task, tasks, ("title",), who, ERASED_TITLE)
        deals = await _ids(Opportunity.filter(customer_id__in=ids))
        await _rewrite_mentions(Opportunity, deals, ("name",), who, ERASED_TITLE)
        await _rewrite_mentions(Opportunity, deals, ("lost_reason",), who, ERASED)
        relationships = await _ids(
            Relationship.filter(Q(from_customer_id__in=ids) | Q(to_customer_id__in=ids))
        )
        await Relationship.filter(id__in=relationships).update(notes=None)
        tickets, comments = await _erase_tickets(ids, who, actor, now)
        runs = (
            await WorkflowRun.filter(subject_type="customer", subject_id__in=ids)
            + await WorkflowRun.filter(subject_type="opportunity", subject_id__in=deals)
            + await WorkflowRun.filter(subject_type="ticket", subject_id__in=tickets)
        )
        counts["endedRuns"] = await _end_runs(runs, who, actor, now)
        emails, counts["cancelledEmails"] = await _erase_emails(
            addresses, [r.id for r in runs], who
        )
        webhooks, counts["cancelledWebhooks"] = await _erase_webhooks([r.id for r in runs], who)
        targets: dict[str, list[int]] = {
            "Customer": ids,
            "Interaction": interactions,
            "Task": tasks,
            "Opportunity": deals,
            "Relationship": relationships,
            "Ticket": tickets,
            "TicketComment": comments,
            "EmailMessage": emails,
            "WebhookDelivery": webhooks,
            "WorkflowRun": [r.id for r in runs],
        }
        counts["redactedHistory"] = await _redact_history(targets, who)
        counts.update({kind: len(rows) for kind, rows in targets.items()})
        await record(
            actor,
            "customer.erase",
            "Customer",
            customer.id,
            {column: [ERASED, None] for column in erased_columns},
            "customer.erased",
            {"customers": ids, "counts": counts},
        )
    return Erasure(customer=customer, counts=counts)
