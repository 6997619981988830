"""The ticket's conversation: agent replies, internal notes and the customer's messages.

A public comment by a user is a reply (``ticket.agent_replied``); a customer's message is
``ticket.customer_replied``. Each function is one transaction with its audit entry and events.
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.transactions import in_transaction

from domain.persistence.models import Ticket, TicketComment
from domain.recording import record, utcnow
from domain.sla import tracking as sla
from domain.text import decode_tags
from domain.tickets import rules
from domain.tickets.lifecycle import active_user, create_ticket, get_ticket, set_status


async def _comment(
    ticket: Ticket,
    body: str,
    *,
    public: bool,
    user_id: int | None,
    customer_id: int | None,
    actor: str,
) -> TicketComment:
    return await TicketComment.create(
        ticket_id=ticket.id,
        author_user_id=user_id,
        author_customer_id=customer_id,
        public=public,
        body=body,
        created_by=actor,
        updated_by=actor,
    )


async def reply_to_ticket(
    ticket_id: int, *, body: str, author_id: int, status: str | None = None, actor: str
) -> TicketComment:
    """A public reply by ``author_id``, optionally moving the ticket to ``status`` with it.

    A NEW ticket becomes OPEN on its first reply unless another status is asked for. Replies to
    SOLVED tickets are allowed (they keep the status); CLOSED tickets take no more comments.
    """
    text = rules.clean_text(body, "body")
    ticket = await get_ticket(ticket_id)
    rules.require_not_closed(ticket.id, ticket.status)
    await active_user(author_id, "authorId")
    target = status if status is not None else ("OPEN" if ticket.status == "NEW" else None)
    if target is not None and target != ticket.status:
        rules.check_transition(ticket.id, ticket.status, target)
    async with in_transaction():
        comment = await _comment(
            ticket, text, public=True, user_id=author_id, customer_id=None, actor=actor
        )
        await record(
            actor,
            "ticket.reply",
            "Ticket",
            ticket.id,
            {"comments": [None, comment.id]},
            "ticket.agent_replied",
            {"customerId": ticket.customer_id, "commentId": comment.id, "authorId": author_id},
        )
        await sla.agent_replied(ticket, comment.created_at)
        if target is not None and target != ticket.status:
            await set_status(ticket, target, actor=actor, at=comment.created_at)
    return comment


async def add_internal_note(
    ticket_id: int, *, body: str, author_id: int, actor: str
) -> TicketComment:
    """An internal note: audited, never shown to the customer, no event (no clock moves)."""
    text = rules.clean_text(body, "body")
    ticket = await get_ticket(ticket_id)
    await active_user(author_id, "authorId")
    async with in_transaction():
        comment = await _comment(
            ticket, text, public=False, user_id=author_id, customer_id=None, actor=actor
        )
        await record(actor, "ticket.note", "Ticket", ticket.id, {"notes": [None, comment.id]})
    return comment


@dataclass(frozen=True)
class CustomerMessage:
    """Where a customer's message landed: ``ticket`` is a new follow-up when ``follow_up``."""

    ticket: Ticket
    comment: TicketComment
    reopened: bool
    follow_up: bool


async def add_customer_message(ticket_id: int, *, body: str, actor: str) -> CustomerMessage:
    """A message from the ticket's customer (e.g. an inbound e-mail on the thread).

    PENDING goes back to OPEN (the customer answered); SOLVED is reopened when solved at most
    :data:`rules.REOPEN_WINDOW` ago. A message on a CLOSED ticket, or on one SOLVED longer ago,
    opens a follow-up ticket linked by ``follow_up_of`` with the message as its first comment
    (an inbound e-mail cannot be refused, and the solved conversation stays as it was).
    """
    text = rules.clean_text(body, "body")
    ticket = await get_ticket(ticket_id)
    now = utcnow()
    reopen = ticket.status == "SOLVED" and rules.can_reopen(ticket.solved_at, now)
    if ticket.status == "CLOSED" or (ticket.status == "SOLVED" and not reopen):
        follow_up = await create_ticket(
            subject=ticket.subject,
            customer_id=ticket.customer_id,
            body=text,
            priority=ticket.priority,
            channel=ticket.channel,
            assignee_id=ticket.assignee_id,
            team_id=ticket.team_id,
            tags=decode_tags(ticket.tags),
            follow_up_of_id=ticket.id,
            actor=actor,
        )
        first = await TicketComment.filter(ticket_id=follow_up.id).order_by("id").first()
        assert first is not None  # created with the body just above
        return CustomerMessage(follow_up, first, reopened=False, follow_up=True)
    async with in_transaction():
        comment = await _comment(
            ticket, text, public=True, user_id=None, customer_id=ticket.customer_id, actor=actor
        )
        await record(
            actor,
            "ticket.customer_message",
            "Ticket",
            ticket.id,
            {"comments": [None, comment.id]},
            "ticket.customer_replied",
            {"customerId": ticket.customer_id, "commentId": comment.id, "reopened": reopen},
        )
        if ticket.status in ("SOLVED", "PENDING"):
            await set_status(ticket, "OPEN", actor=actor, at=comment.created_at)
        # After the reopen, so the message starts a reply clock on the reopened ticket.
        await sla.customer_replied(ticket, comment.created_at)
    return CustomerMessage(ticket, comment, reopened=reopen, follow_up=False)
