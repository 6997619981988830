"""Ticket services against both databases: status machine, conversation, events, atomicity."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.customers.commands import PersonInput
from domain.customers.services import create_person
from domain.errors import Conflict, NotFound, ValidationFailed
from domain.persistence.models import AuditEntry, Customer, DomainEvent, Ticket, TicketComment
from domain.staff.teams import create_team
from domain.staff.users import create_user
from domain.tickets.conversation import add_customer_message, add_internal_note, reply_to_ticket
from domain.tickets.lifecycle import (
    assign_ticket,
    change_ticket_priority,
    change_ticket_status,
    create_ticket,
    escalate_ticket,
)

pytestmark = pytest.mark.usefixtures("database")


async def customer() -> Customer:
    return await create_person(PersonInput(first_name="Lan", last_name="Trần"), actor="t")


async def events(ticket_id: int) -> list[tuple[str, dict]]:
    rows = await DomainEvent.filter(subject_type="Ticket", subject_id=ticket_id).order_by("id")
    return [(e.type, e.payload) for e in rows]


async def test_create_ticket_with_first_message_and_team_from_assignee() -> None:
    lead = await create_user(name="Lead", email="lead@x.vn", role="SUPPORT", actor="t")
    team = await create_team(name="Support", lead_id=lead.id, actor="t")
    agent = await create_user(name="Agent", email="a@x.vn", team_id=team.id, actor="t")
    buyer = await customer()
    ticket = await create_ticket(
        subject="  Máy  hỏng ",
        customer_id=buyer.id,
        body="It does not start",
        priority="HIGH",
        channel="PHONE",
        assignee_id=agent.id,
        tags=["VIP", "hardware"],
        actor="user:1",
    )
    stored = await Ticket.get(id=ticket.id)
    assert (stored.subject, stored.subject_fold, stored.status) == ("Máy hỏng", "may hong", "NEW")
    assert (stored.team_id, stored.tags, stored.escalation_level) == (team.id, "|hardware|vip|", 0)
    comment = await TicketComment.get(ticket_id=ticket.id)
    assert (comment.author_customer_id, comment.public) == (buyer.id, True)
    [(kind, payload)] = await events(ticket.id)
    assert kind == "ticket.created"
    assert (payload["customerId"], payload["priority"], payload["teamId"]) == (
        buyer.id,
        "HIGH",
        team.id,
    )


async def test_create_ticket_validation_writes_nothing() -> None:
    buyer = await customer()
    for kwargs, code in [
        ({"subject": " "}, "REQUIRED"),
        ({"priority": "SOON"}, "INVALID_PRIORITY"),
        ({"channel": "FAX"}, "INVALID_CHANNEL"),
        ({"assignee_id": 999}, "NOT_FOUND"),
        ({"team_id": 999}, "NOT_FOUND"),
        ({"tags": ["!!"]}, "INVALID_TAG"),
    ]:
        with pytest.raises(ValidationFailed) as error:
            await create_ticket(**{"subject": "S", "customer_id": buyer.id, **kwargs}, actor="t")  # type: ignore[arg-type]
        assert error.value.code == code
    with pytest.raises(NotFound):
        await create_ticket(subject="S", customer_id=999, actor="t")
    assert await Ticket.all().count() == 0
    assert await DomainEvent.filter(subject_type="Ticket").count() == 0


async def test_reply_opens_a_new_ticket_and_can_set_pending() -> None:
    agent = await create_user(name="Agent", email="a@x.vn", actor="t")
    ticket = await create_ticket(subject="S", customer_id=(await customer()).id, actor="t")
    await reply_to_ticket(ticket.id, body="Looking", author_id=agent.id, actor="user:1")
    assert (await Ticket.get(id=ticket.id)).status == "OPEN"
    await reply_to_ticket(
        ticket.id, body="Try again?", author_id=agent.id, status="PENDING", actor="u"
    )
    assert (await Ticket.get(id=ticket.id)).status == "PENDING"
    kinds = [(k, p.get("from"), p.get("to")) for k, p in await events(ticket.id)]
    assert kinds == [
        ("ticket.created", None, None),
        ("ticket.agent_replied", None, None),
        ("ticket.status_changed", "NEW", "OPEN"),
        ("ticket.agent_replied", None, None),
        ("ticket.status_changed", "OPEN", "PENDING"),
    ]


async def test_internal_note_has_no_event_but_an_audit_entry() -> None:
    agent = await create_user(name="Agent", email="a@x.vn", actor="t")
    ticket = await create_ticket(subject="S", customer_id=(await customer()).id, actor="t")
    note = await add_internal_note(ticket.id, body="VIP, careful", author_id=agent.id, actor="u")
    assert note.public is False
    assert [k for k, _ in await events(ticket.id)] == ["ticket.created"]
    assert await AuditEntry.filter(action="ticket.note", target_id=ticket.id).count() == 1
    assert (await Ticket.get(id=ticket.id)).status == "NEW"


async def test_status_machine() -> None:
    ticket = await create_ticket(subject="S", customer_id=(await customer()).id, actor="t")
    with pytest.raises(ValidationFailed):
        await change_ticket_status(ticket.id, status="DONE", actor="t")
    await change_ticket_status(ticket.id, status="SOLVED", actor="t")
    solved = await Ticket.get(id=ticket.id)
    assert solved.solved_at is not None
    with pytest.raises(Conflict):
        await change_ticket_status(ticket.id, status="PENDING", actor="t")
    await change_ticket_status(ticket.id, status="OPEN", actor="t")
    assert (await Ticket.get(id=ticket.id)).solved_at is None
    await change_ticket_status(ticket.id, status="CLOSED", actor="t")
    closed = await Ticket.get(id=ticket.id)
    assert closed.closed_at is not None
    assert closed.solved_at == closed.closed_at
    for target in ("OPEN", "SOLVED", "NEW"):
        with pytest.raises(Conflict):
            await change_ticket_status(ticket.id, status=target, actor="t")
    with pytest.raises(Conflict):
        await change_ticket_priority(ticket.id, priority="HIGH", actor="t")
    reopened = [p["reopened"] for k, p in await events(ticket.id) if k == "ticket.status_changed"]
    assert reopened == [False, True, False]


async def test_customer_message_reopens_within_seven_days() -> None:
    ticket = await create_ticket(subject="S", customer_id=(await customer()).id, actor="t")
    await change_ticket_status(ticket.id, status="PENDING", actor="t")
    message = await add_customer_message(ticket.id, body="Here is the log", actor="email")
    assert (message.ticket.id, message.reopened, message.follow_up) == (ticket.id, False, False)
    assert (await Ticket.get(id=ticket.id)).status == "OPEN"  # the customer answered
    await change_ticket_status(ticket.id, status="SOLVED", actor="t")
    six_days_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=6, hours=23)
    await Ticket.filter(id=ticket.id).update(solved_at=six_days_ago)
    message = await add_customer_message(ticket.id, body="Broken again", actor="email")
    assert (message.reopened, message.follow_up) == (True, False)
    stored = await Ticket.get(id=ticket.id)
    assert (stored.status, stored.solved_at) == ("OPEN", None)
    replied = [p for k, p in await events(ticket.id) if k == "ticket.customer_replied"]
    assert [p["reopened"] for p in replied] == [False, True]


async def test_customer_message_after_the_window_opens_a_linked_follow_up() -> None:
    agent = await create_user(name="Agent", email="a@x.vn", actor="t")
    ticket = await create_ticket(
        subject="Router",
        customer_id=(await customer()).id,
        priority="HIGH",
        tags=["net"],
        assignee_id=agent.id,
        actor="t",
    )
    await change_ticket_status(ticket.id, status="SOLVED", actor="t")
    await Ticket.filter(id=ticket.id).update(
        solved_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=7, minutes=1)
    )
    message = await add_customer_message(ticket.id, body="Again", actor="email")
    assert message.follow_up
    assert message.ticket.id != ticket.id
    follow_up = await Ticket.get(id=message.ticket.id)
    assert (follow_up.follow_up_of_id, follow_up.status, follow_up.priority) == (
        ticket.id,
        "NEW",
        "HIGH",
    )
    assert (follow_up.assignee_id, follow_up.tags) == (agent.id, "|net|")
    assert message.comment.ticket_id == follow_up.id
    assert message.comment.body == "Again"
    assert (await Ticket.get(id=ticket.id)).status == "SOLVED"
    assert [k for k, _ in await events(follow_up.id)] == ["ticket.created"]


async def test_priority_assignment_and_escalation_emit_updated_with_changes() -> None:
    lead = await create_user(name="Lead", email="lead@x.vn", actor="t")
    team = await create_team(name="Support", lead_id=lead.id, actor="t")
    ticket = await create_ticket(subject="S", customer_id=(await customer()).id, actor="t")
    await change_ticket_priority(ticket.id, priority="URGENT", actor="t")
    await change_ticket_priority(ticket.id, priority="URGENT", actor="t")  # no change, no event
    await assign_ticket(ticket.id, assignee_id=lead.id, actor="t")  # takes the lead's team
    await assign_ticket(ticket.id, assignee_id=None, actor="t")
    with pytest.raises(ValidationFailed):
        await assign_ticket(ticket.id, actor="t")
    with pytest.raises(ValidationFailed):
        await assign_ticket(ticket.id, team_id=12345, actor="t")
    await escalate_ticket(ticket.id, level=2, actor="t")
    await escalate_ticket(ticket.id, level=1, actor="t")  # never lowered
    updates = [p["changes"] for k, p in await events(ticket.id) if k == "ticket.updated"]
    assert updates == [
        {"priority": ["NORMAL", "URGENT"]},
        {"assignee_id": [None, lead.id], "team_id": [None, team.id]},
        {"assignee_id": [lead.id, None]},
        {"escalation_level": [0, 2]},
    ]
    stored = await Ticket.get(id=ticket.id)
    assert (stored.priority, stored.assignee_id, stored.team_id) == ("URGENT", None, team.id)
    assert stored.escalation_level == 2


async def test_closed_ticket_takes_no_reply() -> None:
    agent = await create_user(name="Agent", email="a@x.vn", actor="t")
    ticket = await create_ticket(subject="S", customer_id=(await customer()).id, actor="t")
    await change_ticket_status(ticket.id, status="CLOSED", actor="t")
    with pytest.raises(Conflict):
        await reply_to_ticket(ticket.id, body="late", author_id=agent.id, actor="t")
    ticket2 = await create_ticket(subject="S2", customer_id=ticket.customer_id, actor="t")
    await change_ticket_status(ticket2.id, status="SOLVED", actor="t")
    with pytest.raises(Conflict):  # a reply cannot smuggle in an invalid transition
        await reply_to_ticket(ticket2.id, body="x", author_id=agent.id, status="PENDING", actor="t")
    assert await TicketComment.filter(ticket_id__in=[ticket.id, ticket2.id]).count() == 0
