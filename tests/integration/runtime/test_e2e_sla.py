"""End to end with real processes: SLA clocks of tickets opened over GraphQL (uvicorn) fire in
``crm scheduler`` / ``crm worker`` through Redis, and the shipped SLA workflows mail the
assignee, the gold customer, the team lead and the manager through a real SMTP server. The
processes' time moves through ``RAPPORT_CLOCK_FILE`` (the API stamps tickets with real time,
so the shared clock starts at real time and moves forward from there).

The worker is killed with SIGKILL before the due instant and the breach timer is claimed twice
(its lease expires with no worker alive, so two ``fire_timer`` messages wait in Redis): the
customer still gets exactly one apology."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain.customers import services
from domain.customers.commands import PersonInput
from domain.persistence import models as m
from gql.ids import encode_id
from tests.integration.runtime.conftest import Mailbox
from tests.integration.runtime.sla_desk import SHIPPED
from tests.integration.runtime.test_e2e_welcome import SharedClock, _start, _stop, _wait_for
from tests.integration.runtime.ticket_escalation import build_desk
from workflows.runtime.clock import CLOCK_FILE_VARIABLE
from workflows.runtime.deploy import deploy_texts

MIN = dt.timedelta(minutes=1)
CREATE = """mutation($i: CreateTicketInput!) { createTicket(input: $i) {
  __typename ... on TicketSuccess { ticket { id } } } }"""
REPLY = """mutation($i: ReplyToTicketInput!) { replyToTicket(input: $i) { __typename } }"""


class Processes:
    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs, self.starts = env, logs, 0
        self.worker: subprocess.Popen[str] | None = None

    def start_worker(self) -> None:
        self.starts += 1
        log = self.logs / f"worker-{self.starts}.log"
        self.worker = _start(["worker", "--threads", "2"], self.env, log, "worker started")

    def kill_worker(self) -> None:
        assert self.worker is not None
        os.kill(self.worker.pid, signal.SIGKILL)
        self.worker.wait(timeout=10)
        self.worker = None


@pytest.fixture
def shared_clock(tmp_path: Path) -> SharedClock:
    shared = SharedClock(tmp_path / "clock")
    shared.set(dt.datetime.now(dt.UTC))
    return shared


@pytest.fixture
def desk(
    database: str,
    redis_url: str,
    mailbox: Mailbox,
    shared_clock: SharedClock,
    live_server: str,
    tmp_path: Path,
) -> Iterator[Processes]:
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "REDIS_URL": redis_url,
        "SMTP_URL": f"smtp://127.0.0.1:{mailbox.port}",
        CLOCK_FILE_VARIABLE: str(shared_clock.path),
        "LOG_LEVEL": "info",
    }
    processes = Processes(env, tmp_path)
    processes.start_worker()
    scheduler = _start(
        ["scheduler", "--interval", "0.1"], env, tmp_path / "scheduler.log", "scheduler started"
    )
    try:
        yield processes
    finally:
        _stop(scheduler)
        if processes.worker is not None:
            _stop(processes.worker)


async def _post(client: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> Any:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


def _mail(mailbox: Mailbox) -> list[tuple[str, str]]:
    return [(str(msg["To"]), str(msg["Subject"]).split(":")[0]) for msg in mailbox.messages]


@pytest.mark.slow
async def test_gold_urgent_ticket_without_reply_is_warned_apologised_and_escalated(
    desk: Processes, mailbox: Mailbox, shared_clock: SharedClock, live_server: str
) -> None:
    assert not (await deploy_texts(SHIPPED, actor="user:test")).problems
    staff = await build_desk()
    other_gold = await services.create_person(
        PersonInput(first_name="Bạc", emails=["bac@khach.vn"], tags=["gold"]), actor="t"
    )
    async with httpx.AsyncClient(base_url=live_server, timeout=10) as client:
        await _post(client, CREATE, {"i": {
            "subject": "Mất điện toàn hệ thống", "priority": "URGENT",
            "customerId": encode_id("Person", staff.gold),
            "assigneeId": encode_id("User", staff.agent),
        }})  # fmt: skip
        answered = await _post(client, CREATE, {"i": {
            "subject": "Hỏi hoá đơn", "priority": "URGENT",
            "customerId": encode_id("Person", other_gold.id),
            "assigneeId": encode_id("User", staff.agent),
        }})  # fmt: skip
        # A reply well before the breach: that ticket's warning and breach never come.
        await _post(client, REPLY, {"i": {
            "id": answered["createTicket"]["ticket"]["id"], "body": "Chào anh, em kiểm tra ngay",
            "authorId": encode_id("User", staff.agent),
        }})  # fmt: skip
    ticket = await m.Ticket.get(customer_id=staff.gold)
    due = (await m.SlaMetric.get(ticket_id=ticket.id, metric="first_reply")).due_at
    assert due == ticket.created_at + 60 * MIN  # URGENT gold: 1h on the 24x7 calendar
    quiet = await m.Ticket.get(customer_id=other_gold.id)
    assert not await m.Timer.filter(
        key__startswith=f"sla:{quiet.id}:first_reply", status="PENDING"
    ).exists()

    # 75% of the hour: the assignee is warned, and nobody else.
    shared_clock.set(ticket.created_at + 44 * MIN)
    await asyncio.sleep(1.0)
    assert mailbox.messages == []
    shared_clock.set(ticket.created_at + 45 * MIN + dt.timedelta(seconds=1))

    async def warned() -> bool:
        return len(mailbox.messages) >= 1

    await _wait_for(warned)
    assert _mail(mailbox) == [("agent@rapport.vn", "Sắp trễ SLA")]

    # The worker dies; the due instant passes; the breach timer is claimed, its lease expires
    # with nobody to fire it, and it is claimed again: two messages for one timer in Redis.
    desk.kill_worker()
    shared_clock.set(due + dt.timedelta(seconds=1))
    # One timer for the due instant, planned when the ticket was opened and never moved since.
    timer = await m.Timer.get(key=f"sla:{ticket.id}:first_reply:1:due")
    assert timer.due_at == due

    async def claimed(times: int) -> bool:
        await timer.refresh_from_db()
        return timer.status == "CLAIMED" and timer.attempts >= times

    await _wait_for(lambda: claimed(1))
    shared_clock.set(due + dt.timedelta(seconds=40))
    await _wait_for(lambda: claimed(2))
    desk.start_worker()

    async def escalated() -> bool:
        return len(mailbox.messages) >= 3

    await _wait_for(escalated, within=40)
    await asyncio.sleep(1.5)  # a duplicate would arrive by now
    assert sorted(_mail(mailbox)[1:]) == [
        ("lead@rapport.vn", "Trễ SLA (cấp 1)"),
        ("vang@khach.vn", "Xin lỗi vì sự chậm trễ"),
    ]
    apology = next(msg for msg in mailbox.messages if str(msg["To"]) == "vang@khach.vn")
    assert "one month of service free of charge" in apology.get_content()
    assert (await m.Ticket.get(id=ticket.id)).escalation_level == 1
    assert await m.SlaEvent.filter(ticket_id=ticket.id, kind="BREACHED").count() == 1
    breach = await m.SlaEvent.get(ticket_id=ticket.id, kind="BREACHED")
    assert breach.at == due  # recorded at the due instant, not when a worker got to it
    await timer.refresh_from_db()
    assert timer.status == "FIRED"

    # 30 minutes later, still unsolved: level 2 and the manager.
    shared_clock.set(due + 31 * MIN)

    async def manager_told() -> bool:
        return len(mailbox.messages) >= 4

    await _wait_for(manager_told)
    await asyncio.sleep(1.0)
    assert _mail(mailbox)[3:] == [("director@rapport.vn", "Trễ SLA (cấp 2)")]
    assert (await m.Ticket.get(id=ticket.id)).escalation_level == 2
    # The answered ticket: nothing at all, on either side of its old due instant.
    assert all(str(msg["To"]) != "bac@khach.vn" for msg in mailbox.messages)
    assert (await m.Ticket.get(id=quiet.id)).escalation_level == 0
    assert await m.SlaEvent.filter(ticket_id=quiet.id, kind__in=("WARNED", "BREACHED")).count() == 0
