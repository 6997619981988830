"""A ticket as CEL and templates see it (``subject.status``, ``subject.customer.tags``,
``subject.assignee.email``, ``subject.team.lead.name``, ``subject.escalationLevel`` ...)."""

from __future__ import annotations

from typing import Any

from domain.persistence import models as m
from domain.text import decode_tags
from workflows.runtime.subjects import customer_subject, user_map


async def ticket_subject(ticket: m.Ticket) -> dict[str, Any]:
    """The ticket with its customer (as a customer subject), assignee and team with its lead."""
    customer = await m.Customer.get_or_none(id=ticket.customer_id)
    assignee = await m.User.get_or_none(id=ticket.assignee_id) if ticket.assignee_id else None
    team = await m.Team.get_or_none(id=ticket.team_id) if ticket.team_id else None
    lead = await m.User.get_or_none(id=team.lead_id) if team and team.lead_id else None
    customer_map = None if customer is None else await customer_subject(customer)
    return {
        "id": ticket.id,
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "channel": ticket.channel,
        "escalationLevel": ticket.escalation_level,
        "tags": decode_tags(ticket.tags),
        "createdAt": ticket.created_at,
        "updatedAt": ticket.updated_at,
        "solvedAt": ticket.solved_at,
        "closedAt": ticket.closed_at,
        "followUpOf": ticket.follow_up_of_id,
        # Waits written against "the subject's time zone" follow the customer's.
        "timezone": None if customer is None else customer.timezone,
        "customer": customer_map,
        "assignee": user_map(assignee),
        "team": None
        if team is None
        else {
            "id": team.id,
            "name": team.name,
            "calendarKey": team.calendar_key,
            "lead": user_map(lead),
        },
    }


async def load_ticket_subject(ticket_id: int) -> dict[str, Any] | None:
    ticket = await m.Ticket.get_or_none(id=ticket_id, deleted_at=None)
    return None if ticket is None else await ticket_subject(ticket)
