"""End to end with real processes: a ticket opened over GraphQL (uvicorn) is escalated by a
``subject: ticket`` workflow run in ``crm worker``, its 30-minute wait fired by ``crm scheduler``
through Redis; the apology reaches the customer and the notifications the team lead, then the
manager, through a real SMTP server. Time moves through ``RAPPORT_CLOCK_FILE``."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from domain.persistence import models as m
from gql.ids import encode_id
from tests.integration.runtime.conftest import Mailbox
from tests.integration.runtime.test_e2e_welcome import SharedClock, _start, _stop, _wait_for
from tests.integration.runtime.ticket_escalation import TEXTS, build_desk
from workflows.runtime.clock import CLOCK_FILE_VARIABLE
from workflows.runtime.deploy import deploy_texts

T0 = dt.datetime(2026, 12, 7, 3, 0, tzinfo=dt.UTC)  # Monday 10:00 in Hanoi

CREATE = """mutation($i: CreateTicketInput!) { createTicket(input: $i) {
  __typename ... on TicketSuccess { ticket { id } } } }"""


@pytest.fixture
def shared_clock(tmp_path: Path) -> SharedClock:
    shared = SharedClock(tmp_path / "clock")
    shared.set(T0)
    return shared


@pytest.fixture
def desk_processes(
    database: str,
    redis_url: str,
    mailbox: Mailbox,
    shared_clock: SharedClock,
    live_server: str,
    tmp_path: Path,
) -> Iterator[str]:
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "REDIS_URL": redis_url,
        "SMTP_URL": f"smtp://127.0.0.1:{mailbox.port}",
        CLOCK_FILE_VARIABLE: str(shared_clock.path),
        "LOG_LEVEL": "info",
    }
    worker = _start(["worker", "--threads", "2"], env, tmp_path / "worker.log", "worker started")
    scheduler = _start(
        ["scheduler", "--interval", "0.1"], env, tmp_path / "scheduler.log", "scheduler started"
    )
    try:
        yield live_server
    finally:
        _stop(scheduler)
        _stop(worker)


@pytest.mark.slow
async def test_urgent_ticket_escalates_to_lead_then_manager(
    desk_processes: str, mailbox: Mailbox, shared_clock: SharedClock
) -> None:
    assert (await deploy_texts(TEXTS, actor="user:test")).deployed
    desk = await build_desk()
    async with httpx.AsyncClient(base_url=desk_processes, timeout=10) as client:
        response = await client.post(
            "/graphql",
            json={
                "query": CREATE,
                "variables": {
                    "i": {
                        "subject": "Mất điện toàn hệ thống",
                        "customerId": encode_id("Person", desk.gold),
                        "priority": "URGENT",
                        "assigneeId": encode_id("User", desk.agent),
                    }
                },
            },
        )
    assert response.json()["data"]["createTicket"]["__typename"] == "TicketSuccess"

    async def two_messages() -> bool:
        return len(mailbox.messages) >= 2

    await _wait_for(two_messages)
    assert sorted(str(msg["To"]) for msg in mailbox.messages) == [
        "lead@rapport.vn",
        "vang@khach.vn",
    ]
    ticket = await m.Ticket.get(customer_id=desk.gold)
    assert ticket.escalation_level == 1

    shared_clock.set(T0 + dt.timedelta(minutes=31))

    async def manager_told() -> bool:
        return len(mailbox.messages) >= 3

    await _wait_for(manager_told)
    await asyncio.sleep(1.0)  # nothing else may arrive
    last = mailbox.messages[-1]
    assert (str(last["To"]), str(last["Subject"])) == (
        "director@rapport.vn",
        "Escalated L2: Mất điện toàn hệ thống",
    )
    assert len(mailbox.messages) == 3
    ticket = await m.Ticket.get(id=ticket.id)
    assert (ticket.escalation_level, ticket.assignee_id) == (2, desk.director)
    run = await m.WorkflowRun.get(subject_type="ticket", subject_id=ticket.id)
    assert run.state == "COMPLETED"
