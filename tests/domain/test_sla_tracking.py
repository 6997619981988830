"""SLA clocks in SQL, moved by the ticket services in their own transactions (both databases)."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from tortoise.transactions import in_transaction

from domain.customers.commands import PersonInput
from domain.customers.services import add_tags, create_person
from domain.persistence.config import is_sqlite
from domain.persistence.models import (
    Customer,
    DomainEvent,
    SlaEvent,
    SlaMetric,
    SlaPolicySet,
    SlaSheet,
    Timer,
)
from domain.sla import tracking
from domain.staff.users import create_user
from domain.tickets.conversation import add_customer_message, reply_to_ticket
from domain.tickets.lifecycle import (
    change_ticket_priority,
    change_ticket_status,
    create_ticket,
)

pytestmark = pytest.mark.usefixtures("database")

MIN = dt.timedelta(minutes=1)
US_PER_MIN = 60_000_000
POLICIES = {
    "policies": [
        {
            "key": "gold",
            "applies_when": 'ticket.customer.tags.exists(t, t == "gold")',
            "calendar": "vn-office",
            "targets": {
                "URGENT": {"first_reply": 60, "resolution": 480, "calendar": "always"},
                "HIGH": {"first_reply": 240, "resolution": 960},
            },
            "pause_when_status": ["PENDING", "ON_HOLD"],
            "warn_at": 75,
        },
        {
            "key": "standard",
            "applies_when": "true",
            "calendar": "always",
            "targets": {
                "URGENT": {"first_reply": 120, "next_reply": 240, "resolution": 960},
                "NORMAL": {"first_reply": 480, "next_reply": 480, "resolution": 2400},
            },
            "pause_when_status": ["PENDING"],
            "warn_at": 50,
        },
    ]
}


async def deploy() -> None:
    await SlaPolicySet.create(number=1, content_hash="test-policies", definition=POLICIES)


async def person(*tags: str) -> Customer:
    return await create_person(
        PersonInput(first_name="Lan", last_name="Trần", tags=list(tags)), actor="t"
    )


async def metrics(ticket_id: int) -> dict[tuple[str, int], SlaMetric]:
    rows = await SlaMetric.filter(ticket_id=ticket_id)
    return {(row.metric, row.cycle): row for row in rows}


async def kinds(ticket_id: int) -> list[tuple[str, str]]:
    rows = await SlaEvent.filter(ticket_id=ticket_id).order_by("id")
    return [(row.metric, row.kind) for row in rows]


async def pending_timers(ticket_id: int) -> dict[str, dt.datetime]:
    rows = await Timer.filter(key__startswith=f"sla:{ticket_id}:", status="PENDING")
    return {row.key.split(":", 2)[2]: row.due_at for row in rows}


async def test_no_policy_set_means_no_clocks() -> None:
    ticket = await create_ticket(subject="Hi", customer_id=(await person()).id, actor="t")
    assert not await SlaSheet.filter(ticket_id=ticket.id).exists()
    assert await SlaMetric.filter(ticket_id=ticket.id).count() == 0


async def test_gold_urgent_ticket_warns_breaches_once_and_is_fulfilled() -> None:
    await deploy()
    gold = await person("gold")
    agent = await create_user(name="Agent", email="a@x.vn", actor="t")
    ticket = await create_ticket(
        subject="Down", customer_id=gold.id, priority="URGENT", assignee_id=agent.id, actor="t"
    )
    opened = ticket.created_at
    rows = await metrics(ticket.id)
    assert set(rows) == {("first_reply", 1), ("resolution", 1)}
    first = rows[("first_reply", 1)]
    # URGENT runs on the 24x7 calendar: due 1h after opening, warned at 75% = 45 min.
    assert (first.policy_key, first.state, first.calendar_key) == ("gold", "ACTIVE", "always")
    assert first.due_at == opened + 60 * MIN
    assert first.warn_due_at == opened + 45 * MIN
    assert await pending_timers(ticket.id) == {
        "first_reply:1:warn": opened + 45 * MIN,
        "first_reply:1:due": opened + 60 * MIN,
        "resolution:1:warn": opened + 360 * MIN,
        "resolution:1:due": opened + 480 * MIN,
    }

    await tracking.tick(ticket.id, opened + 50 * MIN)
    await tracking.tick(ticket.id, opened + 61 * MIN)
    await tracking.tick(ticket.id, opened + 62 * MIN)  # a duplicate timer: nothing new
    assert await kinds(ticket.id) == [
        ("first_reply", "ACTIVATED"),
        ("resolution", "ACTIVATED"),
        ("first_reply", "WARNED"),
        ("first_reply", "BREACHED"),
    ]
    breach = await SlaEvent.get(ticket_id=ticket.id, kind="BREACHED")
    assert breach.at == opened + 60 * MIN  # the due instant, not the tick's
    assert breach.margin_seconds == 0
    events = await DomainEvent.filter(
        subject_id=ticket.id, type__in=("sla.warning", "sla.breached")
    ).order_by("id")
    assert [(e.type, e.payload["sla"]["policy"], e.payload["sla"]["metric"]) for e in events] == [
        ("sla.warning", "gold", "first_reply"),
        ("sla.breached", "gold", "first_reply"),
    ]
    assert events[1].payload["sla"]["dueAt"] == (opened + 60 * MIN).isoformat()
    assert [e.occurred_at for e in events] == [opened + 45 * MIN, opened + 60 * MIN]

    await reply_to_ticket(ticket.id, body="On it", author_id=agent.id, actor="t")
    rows = await metrics(ticket.id)
    assert rows[("first_reply", 1)].state == "BREACHED"
    assert rows[("first_reply", 1)].stopped_at is not None
    assert "first_reply:1:due" not in await pending_timers(ticket.id)


async def test_pending_pauses_resolution_and_its_timers() -> None:
    await deploy()
    ticket = await create_ticket(
        subject="Invoice", customer_id=(await person()).id, priority="NORMAL", actor="t"
    )
    assert (await SlaSheet.get(ticket_id=ticket.id)).policy_key == "standard"
    await change_ticket_status(ticket.id, status="OPEN", actor="t")
    await change_ticket_status(ticket.id, status="PENDING", actor="t")
    resolution = (await metrics(ticket.id))[("resolution", 1)]
    assert resolution.state == "PAUSED"
    assert resolution.due_at is None
    timers = await pending_timers(ticket.id)
    assert "resolution:1:due" not in timers
    assert "first_reply:1:due" in timers  # never paused
    # The customer answers: PENDING -> OPEN resumes the clock with a new due instant.
    await add_customer_message(ticket.id, body="Here it is", actor="t")
    resolution = (await metrics(ticket.id))[("resolution", 1)]
    assert resolution.state == "ACTIVE"
    assert resolution.due_at is not None
    assert "resolution:1:due" in await pending_timers(ticket.id)
    assert [k for m, k in await kinds(ticket.id) if m == "resolution"] == [
        "ACTIVATED", "PAUSED", "RESUMED",
    ]  # fmt: skip


async def test_next_reply_and_reopen() -> None:
    await deploy()
    agent = await create_user(name="Agent", email="a@x.vn", actor="t")
    ticket = await create_ticket(subject="Q", customer_id=(await person()).id, actor="t")
    await reply_to_ticket(ticket.id, body="Hello", author_id=agent.id, actor="t")
    await add_customer_message(ticket.id, body="And?", actor="t")
    assert (await metrics(ticket.id))[("next_reply", 1)].state == "ACTIVE"
    await reply_to_ticket(ticket.id, body="Done", author_id=agent.id, status="SOLVED", actor="t")
    rows = await metrics(ticket.id)
    assert rows[("next_reply", 1)].state == "FULFILLED"
    assert rows[("resolution", 1)].state == "FULFILLED"
    # A customer message within 7 days reopens: a second resolution clock, and a reply clock.
    await add_customer_message(ticket.id, body="Still broken", actor="t")
    rows = await metrics(ticket.id)
    assert rows[("resolution", 2)].state == "ACTIVE"
    assert rows[("next_reply", 2)].state == "ACTIVE"


async def test_priority_and_customer_tags_reselect_the_policy_keeping_elapsed_time() -> None:
    await deploy()
    buyer = await person()
    ticket = await create_ticket(subject="Q", customer_id=buyer.id, priority="URGENT", actor="t")
    first = (await metrics(ticket.id))[("first_reply", 1)]
    assert (first.policy_key, first.target_microseconds) == ("standard", 120 * US_PER_MIN)
    await add_tags(buyer.id, ["gold"], actor="t")
    first = (await metrics(ticket.id))[("first_reply", 1)]
    assert (first.policy_key, first.target_microseconds) == ("gold", 60 * US_PER_MIN)
    assert first.due_at is not None
    # Re-targeted, not restarted: still due about an hour after the ticket was opened.
    assert abs(first.due_at - (ticket.created_at + 60 * MIN)) < dt.timedelta(seconds=5)
    # HIGH on gold runs on vn-office (4h); LOW has no targets: the clocks stop being tracked.
    await change_ticket_priority(ticket.id, priority="HIGH", actor="t")
    first = (await metrics(ticket.id))[("first_reply", 1)]
    assert (first.target_microseconds, first.calendar_key) == (240 * US_PER_MIN, "vn-office")
    await change_ticket_priority(ticket.id, priority="LOW", actor="t")
    assert await metrics(ticket.id) == {}
    assert await pending_timers(ticket.id) == {}


async def test_a_stale_sheet_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    await deploy()
    ticket = await create_ticket(subject="Q", customer_id=(await person()).id, actor="t")
    sheet = await SlaSheet.get(ticket_id=ticket.id)
    # Another writer moved the clocks after this one read the sheet.
    await SlaSheet.filter(id=sheet.id).update(lock_version=sheet.lock_version + 1)

    async def stale(ticket_id: int) -> SlaSheet:
        return sheet

    monkeypatch.setattr(tracking, "_load_sheet", stale)
    with pytest.raises(tracking.SheetChanged):
        await tracking.tick(ticket.id, ticket.created_at + dt.timedelta(days=30))
    assert await SlaEvent.filter(ticket_id=ticket.id, kind="BREACHED").count() == 0


async def test_business_days_target_is_resolved_when_the_clock_starts() -> None:
    days = {
        "policies": [
            {
                "key": "by-tomorrow",
                "applies_when": "true",
                "calendar": "always",
                "targets": {"NORMAL": {"resolution": {"business_days": 1}}},
            }
        ]
    }
    await SlaPolicySet.create(number=1, content_hash="days", definition=days)
    ticket = await create_ticket(subject="Q", customer_id=(await person()).id, actor="t")
    opened = ticket.created_at
    # 24x7 in UTC: the closing of the first working day after today is tomorrow's midnight.
    tomorrow_end = dt.datetime.combine(
        opened.astimezone(dt.UTC).date() + dt.timedelta(days=2), dt.time(), dt.UTC
    )
    resolution = (await metrics(ticket.id))[("resolution", 1)]
    assert resolution.due_at == tomorrow_end
    allowed = tomorrow_end - opened
    assert resolution.target_microseconds == allowed // dt.timedelta(microseconds=1)
    # Read back from SQL the clock keeps its resolved target: a tick changes nothing.
    await tracking.tick(ticket.id, opened + dt.timedelta(minutes=1))
    assert (await metrics(ticket.id))[("resolution", 1)].due_at == tomorrow_end


async def test_a_reply_racing_the_breach_timer_waits_on_postgresql(database: str) -> None:
    if is_sqlite(database):
        pytest.skip("SQLite has one writer at a time: no race to arbitrate")
    await deploy()
    agent = await create_user(name="Agent", email="a@x.vn", actor="t")
    gold = await person("gold")

    async def breach(ticket_id: int, due: dt.datetime) -> None:
        async with in_transaction():
            await tracking.tick(ticket_id, due + dt.timedelta(seconds=1))
            await asyncio.sleep(0.05)  # hold the sheet while the reply arrives

    breached_first = [
        ("first_reply", "ACTIVATED"),
        ("resolution", "ACTIVATED"),
        ("first_reply", "WARNED"),
        ("first_reply", "BREACHED"),
        ("first_reply", "FULFILLED"),
    ]
    replied_first = [
        ("first_reply", "ACTIVATED"),
        ("resolution", "ACTIVATED"),
        ("first_reply", "FULFILLED"),
    ]
    outcomes = []
    for n in range(5):
        ticket = await create_ticket(
            subject=f"Race {n}", customer_id=gold.id, priority="URGENT", actor="t"
        )
        # Both commit: without the row lock the reply, having read the sheet before the breach
        # committed, would fail its lock_version check (SheetChanged).
        await asyncio.gather(
            breach(ticket.id, ticket.created_at + 60 * MIN),
            reply_to_ticket(ticket.id, body="Xin chào", author_id=agent.id, actor="t"),
        )
        outcomes.append(await kinds(ticket.id))
    assert all(outcome in (breached_first, replied_first) for outcome in outcomes), outcomes
    assert breached_first in outcomes  # the race did happen
