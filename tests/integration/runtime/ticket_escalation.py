"""A ticket escalation workflow and the staff it reaches, shared by the ticket runtime tests."""

from __future__ import annotations

from dataclasses import dataclass

from domain.customers import services
from domain.customers.commands import PersonInput
from domain.staff.teams import add_member, create_team
from domain.staff.users import create_user

WORKFLOW = """\
key: urgent-ticket-escalation
subject: ticket
trigger:
  event: ticket.created
  when: 'event.ticket.priority == "URGENT"'
enrollment: {reenroll: always}
steps:
  - id: gold-only
    if: '!subject.customer.tags.exists(t, t == "gold") || subject.assignee == null'
    then:
      - end: exited
  - id: apology
    send_email: {template: ticket-apology, to: subject.customer}
  - id: level-1
    escalate: {level: 1}
  - id: tell-lead
    notify: {to: team_lead, template: ticket-escalated}
  - id: grace
    wait: 30m
  - id: still-open
    if: 'subject.status != "SOLVED" && subject.status != "CLOSED"'
    then:
      - id: level-2
        escalate: {level: 2, to: manager}
      - id: tell-manager
        notify: {to: manager, template: ticket-escalated}
"""

TEMPLATES = """\
templates:
  ticket-apology:
    subject: "Xin lỗi về yêu cầu: {{ subject.subject }}"
    text: |
      Kính gửi {{ subject.customer.displayName }},
      chúng tôi xin lỗi vì sự chậm trễ. {{ subject.assignee.name }} đang xử lý.
  ticket-escalated:
    subject: "Escalated L{{ subject.escalationLevel }}: {{ subject.subject }}"
    text: |
      Ticket {{ subject.id }} ({{ subject.priority }}, {{ subject.status }}) for
      {{ subject.customer.displayName }}, team {{ subject.team.name }}.
"""

TEXTS = {"ticket-escalation.yaml": WORKFLOW, "ticket-templates.yaml": TEMPLATES}


@dataclass
class Desk:
    director: int
    lead: int
    agent: int
    team: int
    gold: int
    plain: int


async def build_desk(actor: str = "user:test") -> Desk:
    """A support team whose lead reports to a director, an agent, and two customers."""
    director = await create_user(
        name="Giám Đốc", email="director@rapport.vn", role="MANAGER", actor=actor
    )
    lead = await create_user(
        name="Trưởng CSKH",
        email="lead@rapport.vn",
        role="SUPPORT",
        manager_id=director.id,
        actor=actor,
    )
    team = await create_team(name="CSKH", lead_id=lead.id, actor=actor)
    agent = await create_user(
        name="Nhân Viên", email="agent@rapport.vn", role="SUPPORT", actor=actor
    )
    await add_member(team.id, agent.id, actor=actor)
    gold = await services.create_person(
        PersonInput(first_name="Vàng", last_name="Khách", emails=["vang@khach.vn"], tags=["gold"]),
        actor=actor,
    )
    plain = await services.create_person(
        PersonInput(first_name="Thường", last_name="Khách", emails=["thuong@khach.vn"]),
        actor=actor,
    )
    return Desk(director.id, lead.id, agent.id, team.id, gold.id, plain.id)
