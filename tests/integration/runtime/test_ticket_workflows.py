"""Workflows with ``subject: ticket`` on both databases, driven by a clock the test controls:
ticket events enroll ticket runs, CEL sees the ticket with its customer, assignee and team,
``escalate`` raises the level (audited, ``ticket.updated``), ``notify`` reaches the team lead and
the manager, ``send_email`` reaches the customer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from domain.persistence import models as m
from domain.staff.users import create_user
from domain.tickets.lifecycle import change_ticket_status, create_ticket
from tests.integration.runtime.ticket_escalation import TEXTS, build_desk
from tests.runtime_clock import FakeClock, fire_due, installed_clock
from workflows.runtime import relay
from workflows.runtime.deploy import deploy_texts
from workflows.runtime.ticket_recipients import ticket_staff

ICT = dt.timezone(dt.timedelta(hours=7))
MONDAY_10 = dt.datetime(2026, 12, 7, 10, 0, tzinfo=ICT)


@pytest.fixture
def clock() -> Iterator[FakeClock]:
    with installed_clock(MONDAY_10) as fake:
        yield fake


async def test_urgent_gold_ticket_escalates_twice(database: str, clock: FakeClock) -> None:
    assert not (await deploy_texts(TEXTS, actor="user:test")).problems
    desk = await build_desk()
    ticket = await create_ticket(
        subject="Mất kết nối",
        customer_id=desk.gold,
        priority="URGENT",
        assignee_id=desk.agent,
        actor="user:test",
    )
    await relay.relay_events()
    run = await m.WorkflowRun.get(subject_type="ticket", subject_id=ticket.id)
    assert run.state == "WAITING"
    stored = await m.Ticket.get(id=ticket.id)
    assert (stored.escalation_level, stored.team_id) == (1, desk.team)
    sent = await m.EmailMessage.filter(run_id=run.id).order_by("id")
    assert [e.to_address for e in sent] == ["vang@khach.vn", "lead@rapport.vn"]
    assert sent[0].subject == "Xin lỗi về yêu cầu: Mất kết nối"
    assert "Nhân Viên đang xử lý" in sent[0].text
    # the notify after the escalate step renders the escalated ticket
    assert sent[1].subject == "Escalated L1: Mất kết nối"
    assert "CSKH" in sent[1].text
    escalations = await m.AuditEntry.filter(action="ticket.escalate", target_id=ticket.id)
    assert [a.changes for a in escalations] == [{"escalation_level": [0, 1]}]
    assert escalations[0].actor == f"workflow:run:{run.id}:step:level-1"

    clock.now = MONDAY_10 + dt.timedelta(minutes=29)
    assert await fire_due(clock) == 0
    clock.now = MONDAY_10 + dt.timedelta(minutes=30, seconds=1)
    assert await fire_due(clock) == 1
    stored = await m.Ticket.get(id=ticket.id)
    # escalated to the manager: the lead's own manager, who now holds the ticket
    assert (stored.escalation_level, stored.assignee_id) == (2, desk.director)
    sent = await m.EmailMessage.filter(run_id=run.id).order_by("id")
    assert [e.to_address for e in sent][2:] == ["director@rapport.vn"]
    assert sent[2].subject == "Escalated L2: Mất kết nối"
    assert (await m.WorkflowRun.get(id=run.id)).state == "COMPLETED"
    updated = await m.DomainEvent.filter(type="ticket.updated", subject_id=ticket.id)
    assert [e.payload["changes"] for e in updated] == [
        {"escalation_level": [0, 1]},
        {"escalation_level": [1, 2], "assignee_id": [desk.agent, desk.director]},
    ]


async def test_solved_within_grace_stops_at_level_one(database: str, clock: FakeClock) -> None:
    await deploy_texts(TEXTS, actor="user:test")
    desk = await build_desk()
    ticket = await create_ticket(
        subject="Hóa đơn sai",
        customer_id=desk.gold,
        priority="URGENT",
        assignee_id=desk.agent,
        actor="user:test",
    )
    await relay.relay_events()
    clock.now = MONDAY_10 + dt.timedelta(minutes=10)
    await change_ticket_status(ticket.id, status="SOLVED", actor="user:test")
    await relay.relay_events()
    clock.now = MONDAY_10 + dt.timedelta(hours=1)
    assert await fire_due(clock) == 1
    run = await m.WorkflowRun.get(subject_type="ticket", subject_id=ticket.id)
    assert run.state == "COMPLETED"
    assert (await m.Ticket.get(id=ticket.id)).escalation_level == 1
    recipients = await m.EmailMessage.filter(run_id=run.id).values_list("to_address", flat=True)
    assert sorted(recipients) == ["lead@rapport.vn", "vang@khach.vn"]


async def test_conditions_on_customer_tags_and_priority(database: str, clock: FakeClock) -> None:
    await deploy_texts(TEXTS, actor="user:test")
    desk = await build_desk()
    plain = await create_ticket(
        subject="A", customer_id=desk.plain, priority="URGENT", assignee_id=desk.agent, actor="t"
    )
    normal = await create_ticket(subject="B", customer_id=desk.gold, actor="t")
    await relay.relay_events()
    # not gold: the run exits at its first step; NORMAL: the trigger does not enroll at all
    runs = await m.WorkflowRun.filter(subject_type="ticket").values_list("subject_id", "state")
    assert runs == [(plain.id, "EXITED")]
    assert not await m.WorkflowRun.filter(subject_type="ticket", subject_id=normal.id).exists()
    assert await m.EmailMessage.all().count() == 0
    assert (await m.Ticket.get(id=plain.id)).escalation_level == 0


async def test_manager_without_a_reporting_line_is_the_teams_manager(database: str) -> None:
    desk = await build_desk()
    # The lead loses their manager: the team's MANAGER member is the manager now.
    await m.User.filter(id=desk.lead).update(manager_id=None)
    floor = await create_user(
        name="Quản Lý Ca", email="floor@rapport.vn", role="MANAGER", team_id=desk.team, actor="t"
    )
    from domain.staff.teams import add_member

    await add_member(desk.team, floor.id, actor="t")
    ticket = await create_ticket(subject="S", customer_id=desk.gold, team_id=desk.team, actor="t")
    manager = await ticket_staff("manager", ticket.id)
    lead = await ticket_staff("team_lead", ticket.id)
    assert (manager and manager.id, lead and lead.id) == (floor.id, desk.lead)
    # no team and no assignee: nobody to reach
    lonely = await create_ticket(subject="S", customer_id=desk.gold, actor="t")
    assert await ticket_staff("team_lead", lonely.id) is None
    assert await ticket_staff("assignee", lonely.id) is None
