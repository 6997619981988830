"""SLA clocks driving workflows on both databases, with a clock the test controls: the shipped
policies and workflows deployed as on a fresh installation, timers claimed and fired through the
timer table, events relayed to ``sla-warning`` and ``gold-breach-escalation``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from domain.persistence import models as m
from domain.tickets.conversation import reply_to_ticket
from domain.tickets.lifecycle import create_ticket
from tests.integration.runtime.sla_desk import SHIPPED
from tests.integration.runtime.ticket_escalation import build_desk
from tests.runtime_clock import FakeClock, installed_clock
from workflows.runtime import relay, timers
from workflows.runtime.deploy import deploy_texts

MIN = dt.timedelta(minutes=1)


@pytest.fixture
def clock() -> Iterator[FakeClock]:
    # Tickets are stamped by the database's clock: the test's clock starts there.
    with installed_clock(dt.datetime.now(dt.UTC)) as fake:
        yield fake


async def _run_until(clock: FakeClock, moment: dt.datetime) -> None:
    """Fire every timer due by ``moment`` and relay the events, as scheduler and worker do."""
    clock.now = moment
    for _ in range(5):
        for timer in await timers.claim_due_timers(moment):
            await timers.fire_timer(timer.id, timer.claim_token, moment)
        await relay.relay_events()


async def _mail(ticket_id: int) -> list[tuple[str, str]]:
    runs = await m.WorkflowRun.filter(subject_type="ticket", subject_id=ticket_id)
    rows = await m.EmailMessage.filter(run_id__in=[r.id for r in runs]).order_by("id")
    return [(row.to_address, row.subject.split(":")[0]) for row in rows]


async def test_fresh_installation_deploys_the_shipped_sla(database: str) -> None:
    result = await deploy_texts(SHIPPED, actor="system")
    assert not result.problems
    assert result.sla_policies == (1, True)
    assert {"gold-breach-escalation", "sla-warning"} <= {d.key for d in result.deployed}
    again = await deploy_texts(SHIPPED, actor="system")
    assert again.sla_policies == (1, False)
    stored = await m.SlaPolicySet.get(number=1)
    assert [p["key"] for p in stored.definition["policies"]] == ["gold", "standard"]
    gold = stored.definition["policies"][0]
    assert gold["targets"]["URGENT"] == {
        "first_reply": 60, "next_reply": 120, "resolution": 480, "calendar": "always",
    }  # fmt: skip
    assert gold["warn_at"] == 75


async def test_gold_urgent_ticket_warned_apologised_and_escalated_twice(
    database: str, clock: FakeClock
) -> None:
    assert not (await deploy_texts(SHIPPED, actor="system")).problems
    desk = await build_desk()
    ticket = await create_ticket(
        subject="Mất điện", customer_id=desk.gold, priority="URGENT",
        assignee_id=desk.agent, actor="user:test",
    )  # fmt: skip
    opened = ticket.created_at
    await relay.relay_events()
    # 44 minutes: nothing yet. 45 minutes (75% of 1h): the assignee is warned.
    await _run_until(clock, opened + 44 * MIN)
    assert await _mail(ticket.id) == []
    await _run_until(clock, opened + 45 * MIN)
    assert await _mail(ticket.id) == [("agent@rapport.vn", "Sắp trễ SLA")]
    # The due instant: the apology to the customer, level 1, the team lead.
    await _run_until(clock, opened + 60 * MIN)
    assert await _mail(ticket.id) == [
        ("agent@rapport.vn", "Sắp trễ SLA"),
        ("vang@khach.vn", "Xin lỗi vì sự chậm trễ"),
        ("lead@rapport.vn", "Trễ SLA (cấp 1)"),
    ]
    apology = await m.EmailMessage.get(to_address="vang@khach.vn")
    assert "một tháng dịch vụ miễn phí" in apology.text  # the remedy is named
    assert "one month of service free of charge" in apology.text
    assert (await m.Ticket.get(id=ticket.id)).escalation_level == 1
    breach = await m.DomainEvent.get(type="sla.breached", subject_id=ticket.id)
    assert breach.payload["sla"]["dueAt"] == (opened + 60 * MIN).isoformat()
    # Fired again (a redelivered message, a late duplicate): nothing new.
    await _run_until(clock, opened + 61 * MIN)
    assert len(await _mail(ticket.id)) == 3
    # 30 minutes later: level 2 and the manager.
    await _run_until(clock, opened + 90 * MIN)
    assert (await _mail(ticket.id))[3:] == [("director@rapport.vn", "Trễ SLA (cấp 2)")]
    assert (await m.Ticket.get(id=ticket.id)).escalation_level == 2
    events = await m.SlaEvent.filter(ticket_id=ticket.id).order_by("id")
    assert [(e.metric, e.kind) for e in events] == [
        ("first_reply", "ACTIVATED"),
        ("resolution", "ACTIVATED"),
        ("first_reply", "WARNED"),
        ("first_reply", "BREACHED"),
    ]


async def test_a_reply_before_the_breach_cancels_what_was_pending(
    database: str, clock: FakeClock
) -> None:
    assert not (await deploy_texts(SHIPPED, actor="system")).problems
    desk = await build_desk()
    ticket = await create_ticket(
        subject="Hỏi giá", customer_id=desk.gold, priority="URGENT",
        assignee_id=desk.agent, actor="user:test",
    )  # fmt: skip
    opened = ticket.created_at
    await reply_to_ticket(ticket.id, body="Chào anh", author_id=desk.agent, actor="user:test")
    pending = await m.Timer.filter(key__startswith=f"sla:{ticket.id}:first_reply", status="PENDING")
    assert pending == []
    await _run_until(clock, opened + 120 * MIN)
    assert await _mail(ticket.id) == []
    assert await m.DomainEvent.filter(type="sla.breached", subject_id=ticket.id).count() == 0
    assert (await m.Ticket.get(id=ticket.id)).escalation_level == 0
    first = await m.SlaMetric.get(ticket_id=ticket.id, metric="first_reply")
    assert first.state == "FULFILLED"


async def test_a_standard_ticket_is_warned_but_not_apologised(
    database: str, clock: FakeClock
) -> None:
    assert not (await deploy_texts(SHIPPED, actor="system")).problems
    desk = await build_desk()
    ticket = await create_ticket(
        subject="Hỏi", customer_id=desk.plain, priority="URGENT",
        assignee_id=desk.agent, actor="user:test",
    )  # fmt: skip
    # standard URGENT: first reply 2h on the 24x7 calendar, warned at 80% = 96 min.
    await _run_until(clock, ticket.created_at + 125 * MIN)
    assert await _mail(ticket.id) == [("agent@rapport.vn", "Sắp trễ SLA")]
    assert await m.DomainEvent.filter(type="sla.breached", subject_id=ticket.id).count() == 1
