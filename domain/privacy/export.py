"""Everything the CRM holds about one customer, as JSON (a data subject's access request).

The export is the customer's row (consent, e-mails and phones included) and one section per
kind of related record in :data:`SECTIONS` (tickets with their whole conversation: what the
customer wrote, the replies and the internal notes about them, which are personal data about
them too). Rows are
exported column by column under their storage names, minus the derived search columns
(``*_fold``, ``search_text``), which only repeat other values. Exporting is itself audited.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.transactions import in_transaction

from domain.customers.services import get_customer
from domain.persistence.models import (
    AuditEntry,
    Customer,
    EmailMessage,
    Interaction,
    Opportunity,
    Relationship,
    StageChange,
    Task,
    Ticket,
    TicketComment,
    WorkflowRun,
    WorkflowRunStep,
)
from domain.privacy.merged import with_merged
from domain.recording import record, to_json, utcnow

FORMAT = "rapport.customer-export/1"


def plain(row: Model) -> dict[str, Any]:
    """A row's stored columns as JSON values, without the derived search columns."""
    return {
        name: to_json(getattr(row, name))
        for name in row._meta.fields_db_projection
        if not name.endswith("_fold") and name != "search_text"
    }


@dataclass
class Subject:
    """The exported customer and what sections share: the ids of the records about them."""

    customer_ids: list[int]
    addresses: list[str]
    ids: dict[str, list[int]]


Section = Callable[[Subject], Awaitable[list[dict[str, Any]]]]


async def _rows(subject: Subject, kind: str, query: Any) -> list[dict[str, Any]]:
    rows = await query.order_by("id")
    subject.ids[kind] = [row.id for row in rows]
    return [plain(row) for row in rows]


async def _relationships(subject: Subject) -> list[dict[str, Any]]:
    ids = subject.customer_ids
    query = Relationship.filter(Q(from_customer_id__in=ids) | Q(to_customer_id__in=ids))
    return await _rows(subject, "Relationship", query)


async def _interactions(subject: Subject) -> list[dict[str, Any]]:
    return await _rows(
        subject, "Interaction", Interaction.filter(customer_id__in=subject.customer_ids)
    )


async def _tasks(subject: Subject) -> list[dict[str, Any]]:
    return await _rows(subject, "Task", Task.filter(customer_id__in=subject.customer_ids))


async def _opportunities(subject: Subject) -> list[dict[str, Any]]:
    deals = await _rows(
        subject, "Opportunity", Opportunity.filter(customer_id__in=subject.customer_ids)
    )
    changes = await StageChange.filter(opportunity_id__in=subject.ids["Opportunity"]).order_by("id")
    for deal in deals:
        deal["stage_changes"] = [plain(c) for c in changes if c.opportunity_id == deal["id"]]
    return deals


async def _tickets(subject: Subject) -> list[dict[str, Any]]:
    tickets = await _rows(subject, "Ticket", Ticket.filter(customer_id__in=subject.customer_ids))
    # A customer writes on their own tickets only (domain.tickets.conversation).
    comments = await TicketComment.filter(ticket_id__in=subject.ids["Ticket"] or [0]).order_by("id")
    subject.ids["TicketComment"] = [c.id for c in comments]
    for ticket in tickets:
        ticket["comments"] = [plain(c) for c in comments if c.ticket_id == ticket["id"]]
    return tickets


async def _workflow_runs(subject: Subject) -> list[dict[str, Any]]:
    query = WorkflowRun.filter(
        Q(subject_type="customer", subject_id__in=subject.customer_ids)
        | Q(subject_type="opportunity", subject_id__in=subject.ids.get("Opportunity") or [0])
        | Q(subject_type="ticket", subject_id__in=subject.ids.get("Ticket") or [0])
    )
    runs = await _rows(subject, "WorkflowRun", query)
    steps = await WorkflowRunStep.filter(run_id__in=subject.ids["WorkflowRun"]).order_by("id")
    for run in runs:
        run["steps"] = [plain(s) for s in steps if s.run_id == run["id"]]
    return runs


async def _emails(subject: Subject) -> list[dict[str, Any]]:
    """E-mails sent (or to be sent) to the customer's addresses."""
    query = EmailMessage.filter(to_address__in=subject.addresses or [""])
    return await _rows(subject, "EmailMessage", query)


async def _audit_entries(subject: Subject) -> list[dict[str, Any]]:
    """Changes to the customer and to every record exported above."""
    about = Q(target_type="Customer", target_id__in=subject.customer_ids)
    for kind, ids in subject.ids.items():
        if ids:
            about |= Q(target_type=kind, target_id__in=ids)
    return [plain(row) for row in await AuditEntry.filter(about).order_by("id")]


#: Section name -> loader, in export order (audit entries last: they cover the others).
SECTIONS: dict[str, Section] = {
    "relationships": _relationships,
    "interactions": _interactions,
    "tasks": _tasks,
    "opportunities": _opportunities,
    "tickets": _tickets,
    "workflowRuns": _workflow_runs,
    "emails": _emails,
    "auditEntries": _audit_entries,
}


def _consent(customer: Customer) -> dict[str, Any]:
    return {
        "emailOptIn": customer.email_opt_in,
        "smsOptIn": customer.sms_opt_in,
        "unsubscribedAt": to_json(customer.unsubscribed_at),
    }


async def export_customer_data(customer_id: int, *, actor: str) -> dict[str, Any]:
    """Everything about customer ``customer_id`` (deleted or not) and the customers merged
    into it (at any depth). The export is recorded in the audit trail (who exported whom, when)."""
    customer = await get_customer(customer_id, include_deleted=True)
    customers = await with_merged(customer)
    merged = customers[1:]
    subject = Subject(
        customer_ids=[c.id for c in customers],
        addresses=sorted(
            {
                a.lower()
                for c in customers
                for a in [c.primary_email, *(e.get("address") for e in c.emails or [])]
                if a
            }
        ),
        ids={},
    )
    data: dict[str, Any] = {
        "format": FORMAT,
        "exportedAt": to_json(utcnow()),
        "customer": plain(customer),
        "consent": _consent(customer),
        "mergedCustomers": [plain(c) for c in merged],
    }
    for name, section in SECTIONS.items():
        data[name] = await section(subject)
    async with in_transaction():
        counts = {name: len(data[name]) for name in SECTIONS}
        await record(
            actor, "customer.export", "Customer", customer.id, {"exported": [None, counts]}
        )
    return data
