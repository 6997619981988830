"""Opening tickets and changing their status, priority, assignment and escalation level.

Every function runs one transaction that writes the change, its audit entry and its domain event
(``ticket.created``, ``ticket.status_changed`` or ``ticket.updated`` with ``changes``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tortoise.transactions import in_transaction

from domain.customers.services import get_customer
from domain.errors import NotFound, ValidationFailed
from domain.persistence.models import Team, Ticket, TicketComment, User
from domain.recording import Changes, record, to_json, utcnow
from domain.sla import tracking as sla
from domain.text import encode_tags, fold_required, normalize_tag
from domain.tickets import rules

#: Marks "leave as it is" in :func:`assign_ticket`, where None means "unassign".
UNCHANGED: Any = object()


async def get_ticket(ticket_id: int) -> Ticket:
    ticket = await Ticket.filter(id=ticket_id, deleted_at=None).first()
    if ticket is None:
        raise NotFound("Ticket", ticket_id)
    return ticket


async def active_user(user_id: int, field: str) -> User:
    user = await User.filter(id=user_id, deleted_at=None, active=True).first()
    if user is None:
        raise ValidationFailed(field, f"user {user_id} not found or inactive", "NOT_FOUND")
    return user


async def _team(team_id: int, field: str = "teamId") -> Team:
    team = await Team.filter(id=team_id, deleted_at=None).first()
    if team is None:
        raise ValidationFailed(field, f"team {team_id} not found", "NOT_FOUND")
    return team


def _tags(tags: list[str]) -> str:
    clean = []
    for tag in tags:
        slug = normalize_tag(tag)
        if slug is None:
            raise ValidationFailed("tags", f"{tag!r} cannot be a tag", "INVALID_TAG")
        clean.append(slug)
    return encode_tags(clean)


def _subject(subject: str) -> str:
    clean = " ".join(subject.split())
    if not clean:
        raise ValidationFailed("subject", "a subject is required", "REQUIRED")
    if len(clean) > 500:
        raise ValidationFailed("subject", "at most 500 characters", "TOO_LONG")
    return clean


async def create_ticket(
    *,
    subject: str,
    customer_id: int,
    body: str | None = None,
    priority: str = "NORMAL",
    channel: str = "EMAIL",
    assignee_id: int | None = None,
    team_id: int | None = None,
    tags: list[str] | None = None,
    follow_up_of_id: int | None = None,
    actor: str,
) -> Ticket:
    """Open a NEW ticket; ``body``, when given, is the customer's first (public) message.

    Without a team, an assignee's primary team is taken, so that team-lead escalation works.
    """
    clean_subject = _subject(subject)
    rules.check_priority(priority)
    rules.check_channel(channel)
    encoded_tags = _tags(tags or [])
    clean_body = rules.clean_text(body, "body") if body is not None else None
    customer = await get_customer(customer_id)
    assignee = await active_user(assignee_id, "assigneeId") if assignee_id is not None else None
    if team_id is not None:
        await _team(team_id)
    elif assignee is not None:
        team_id = assignee.team_id
    async with in_transaction():
        ticket = await Ticket.create(
            subject=clean_subject,
            subject_fold=fold_required(clean_subject),
            priority=priority,
            channel=channel,
            customer_id=customer.id,
            assignee_id=assignee_id,
            team_id=team_id,
            tags=encoded_tags,
            follow_up_of_id=follow_up_of_id,
            created_by=actor,
            updated_by=actor,
        )
        if clean_body is not None:
            await TicketComment.create(
                ticket_id=ticket.id,
                author_customer_id=customer.id,
                public=True,
                body=clean_body,
                created_by=actor,
                updated_by=actor,
            )
        await sla.ticket_opened(ticket, ticket.created_at)
        changes: Changes = {
            "subject": [None, clean_subject],
            "status": [None, "NEW"],
            "priority": [None, priority],
            "channel": [None, channel],
            "customer_id": [None, customer.id],
            "assignee_id": [None, assignee_id],
            "team_id": [None, team_id],
        }
        await record(
            actor,
            "ticket.create",
            "Ticket",
            ticket.id,
            changes,
            "ticket.created",
            {
                "customerId": customer.id,
                "priority": priority,
                "channel": channel,
                "assigneeId": assignee_id,
                "teamId": team_id,
                "followUpOf": follow_up_of_id,
                "changes": changes,
            },
        )
    return ticket


async def set_status(ticket: Ticket, target: str, *, actor: str, at: dt.datetime) -> None:
    """Move ``ticket`` to ``target`` (already checked) and record ``ticket.status_changed``.

    Call inside the caller's transaction. SOLVED stamps ``solved_at``; leaving SOLVED (a reopen)
    clears it; CLOSED stamps ``closed_at`` and keeps ``solved_at``.
    """
    before = {
        "status": ticket.status,
        "solved_at": to_json(ticket.solved_at),
        "closed_at": to_json(ticket.closed_at),
    }
    reopened = ticket.status == "SOLVED" and target == "OPEN"
    ticket.status = target
    if target == "SOLVED":
        ticket.solved_at = at
    elif target == "CLOSED":
        ticket.closed_at = at
        ticket.solved_at = ticket.solved_at or at
    else:
        ticket.solved_at = None
    ticket.updated_by = actor
    await ticket.save(
        update_fields=["status", "solved_at", "closed_at", "updated_by", "updated_at"]
    )
    await sla.status_changed(ticket, at)
    after = {
        "status": target,
        "solved_at": to_json(ticket.solved_at),
        "closed_at": to_json(ticket.closed_at),
    }
    await record(
        actor,
        "ticket.status",
        "Ticket",
        ticket.id,
        {k: [before[k], after[k]] for k in after if before[k] != after[k]},
        "ticket.status_changed",
        {
            "customerId": ticket.customer_id,
            "from": before["status"],
            "to": target,
            "reopened": reopened,
        },
    )


async def change_ticket_status(ticket_id: int, *, status: str, actor: str) -> Ticket:
    """Move a ticket along :data:`rules.TRANSITIONS`; the same status again is a no-op."""
    ticket = await get_ticket(ticket_id)
    rules.check_status(status)
    if status == ticket.status:
        return ticket
    rules.check_transition(ticket.id, ticket.status, status)
    async with in_transaction():
        await set_status(ticket, status, actor=actor, at=utcnow())
    return ticket


async def _update(ticket: Ticket, values: dict[str, Any], *, action: str, actor: str) -> None:
    """Save changed columns and record ``ticket.updated``; call inside a transaction."""
    changes = {k: [getattr(ticket, k), v] for k, v in values.items() if getattr(ticket, k) != v}
    if not changes:
        return
    for key, value in values.items():
        setattr(ticket, key, value)
    ticket.updated_by = actor
    await ticket.save(update_fields=[*changes, "updated_by", "updated_at"])
    if changes.keys() & {"priority", "tags", "customer_id"}:
        await sla.reevaluate(ticket, utcnow())  # the policy may change; elapsed time is kept
    await record(
        actor,
        action,
        "Ticket",
        ticket.id,
        changes,
        "ticket.updated",
        {"customerId": ticket.customer_id, "changes": changes},
    )


def _require_not_closed(ticket: Ticket) -> None:
    rules.require_not_closed(ticket.id, ticket.status)


async def change_ticket_priority(ticket_id: int, *, priority: str, actor: str) -> Ticket:
    ticket = await get_ticket(ticket_id)
    rules.check_priority(priority)
    _require_not_closed(ticket)
    async with in_transaction():
        await _update(ticket, {"priority": priority}, action="ticket.priority", actor=actor)
    return ticket


async def assign_ticket(
    ticket_id: int,
    *,
    assignee_id: int | None = UNCHANGED,
    team_id: int | None = UNCHANGED,
    actor: str,
) -> Ticket:
    """Set the assignee and/or the team (None clears one; an omitted argument is kept).

    Assigning a user to a ticket without a team gives the ticket that user's primary team.
    """
    ticket = await get_ticket(ticket_id)
    _require_not_closed(ticket)
    values: dict[str, Any] = {}
    if assignee_id is not UNCHANGED:
        values["assignee_id"] = assignee_id
        if assignee_id is not None:
            assignee = await active_user(assignee_id, "assigneeId")
            if team_id is UNCHANGED and ticket.team_id is None and assignee.team_id is not None:
                values["team_id"] = assignee.team_id
    if team_id is not UNCHANGED:
        if team_id is not None:
            await _team(team_id)
        values["team_id"] = team_id
    if not values:
        raise ValidationFailed("assigneeId", "give an assignee, a team or both", "REQUIRED")
    async with in_transaction():
        await _update(ticket, values, action="ticket.assign", actor=actor)
    return ticket


async def set_ticket_tags(ticket_id: int, tags: list[str], *, actor: str) -> Ticket:
    """Replace the ticket's tags (SLA policies may select on them)."""
    ticket = await get_ticket(ticket_id)
    _require_not_closed(ticket)
    encoded = _tags(tags)
    async with in_transaction():
        await _update(ticket, {"tags": encoded}, action="ticket.tags", actor=actor)
    return ticket


async def escalate_ticket(
    ticket_id: int, *, level: int, assignee_id: int | None = None, actor: str
) -> Ticket:
    """Raise the escalation level to ``level`` and, when given, hand the ticket to
    ``assignee_id`` (who it is escalated to). The level is never lowered, so a replayed or
    out-of-order escalation step changes nothing."""
    if level < 1:
        raise ValidationFailed("level", "the escalation level starts at 1", "OUT_OF_RANGE")
    ticket = await get_ticket(ticket_id)
    values: dict[str, Any] = {"escalation_level": max(level, ticket.escalation_level)}
    if assignee_id is not None:
        await active_user(assignee_id, "assigneeId")
        values["assignee_id"] = assignee_id
    async with in_transaction():
        await _update(ticket, values, action="ticket.escalate", actor=actor)
    return ticket
