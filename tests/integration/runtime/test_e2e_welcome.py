"""End to end with real processes: the API (uvicorn), ``crm worker`` and ``crm scheduler`` as
separate processes, a real Redis and a real SMTP server. A lead created over GraphQL receives
the welcome e-mail; two (simulated) days later the tips; a lead who converts in between gets
nothing more. Time moves through ``RAPPORT_CLOCK_FILE``, shared by every process."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import pytest

from domain.persistence import models as m
from tests.integration.runtime.conftest import Mailbox
from workflows.language.validate import BUNDLED_DIR
from workflows.runtime.clock import CLOCK_FILE_VARIABLE
from workflows.runtime.deploy import deploy_texts

ROOT = Path(__file__).resolve().parents[3]
ICT = dt.timezone(dt.timedelta(hours=7))


def _next_monday_ten() -> dt.datetime:
    today = dt.datetime.now(ICT)
    monday = today.date() + dt.timedelta(days=(7 - today.weekday()) % 7 or 7)
    return dt.datetime.combine(monday, dt.time(10, 0), tzinfo=ICT)


class SharedClock:
    """Writes the offset every process adds to its system time."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def set(self, moment: dt.datetime) -> None:
        offset = (moment - dt.datetime.now(dt.UTC)).total_seconds()
        self.path.write_text(f"{offset}\n", encoding="utf-8")


def _start(args: list[str], env: dict[str, str], log: Path, ready: str) -> subprocess.Popen[str]:
    """Start ``crm <args>`` with its log in a file (a pipe nobody reads would block it)."""
    with log.open("w", encoding="utf-8") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=sink,
            text=True,
        )
    deadline = time.monotonic() + 30
    while ready not in log.read_text(encoding="utf-8"):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{args[0]} did not start:\n{log.read_text(encoding='utf-8')}")
        time.sleep(0.05)
    return process


def _stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def clock(tmp_path: Path) -> SharedClock:
    shared = SharedClock(tmp_path / "clock")
    shared.set(_next_monday_ten())
    return shared


@pytest.fixture
def processes(
    database: str,
    redis_url: str,
    mailbox: Mailbox,
    clock: SharedClock,
    live_server: str,
    tmp_path: Path,
) -> Iterator[str]:
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "REDIS_URL": redis_url,
        "SMTP_URL": f"smtp://127.0.0.1:{mailbox.port}",
        CLOCK_FILE_VARIABLE: str(clock.path),
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


async def _wait_for(condition: Callable[[], Awaitable[bool]], within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not met in time")


CREATE = """mutation($email: String!) { createPerson(input: {firstName: "Lan", lastName: "Trần",
  emails: [{address: $email}], emailOptIn: true, lifecycleStage: LEAD}) {
  ... on PersonSuccess { person { id } } } }"""
CONVERT = """mutation($id: ID!) { updatePerson(input: {id: $id, patch: {lifecycleStage: CUSTOMER}})
  { __typename } }"""


@pytest.mark.slow
async def test_lead_gets_welcome_then_tips_and_a_converted_lead_nothing_more(
    processes: str, mailbox: Mailbox, clock: SharedClock
) -> None:
    texts = {
        name: (Path(BUNDLED_DIR) / name).read_text(encoding="utf-8")
        for name in ("welcome-nurture.yaml", "templates.yaml")
    }
    assert (await deploy_texts(texts, actor="user:test")).deployed
    async with httpx.AsyncClient(base_url=processes, timeout=10) as client:
        stays = await client.post(
            "/graphql", json={"query": CREATE, "variables": {"email": "lan@khach.vn"}}
        )
        converts = await client.post(
            "/graphql", json={"query": CREATE, "variables": {"email": "an@khach.vn"}}
        )
        converting_id = converts.json()["data"]["createPerson"]["person"]["id"]
        assert stays.status_code == 200

        async def two_welcomes() -> bool:
            return len(mailbox.messages) >= 2

        await _wait_for(two_welcomes)
        assert sorted(str(msg["To"]) for msg in mailbox.messages) == ["an@khach.vn", "lan@khach.vn"]
        assert all("Chào mừng" in str(msg["Subject"]) for msg in mailbox.messages)

        converted = await client.post(
            "/graphql", json={"query": CONVERT, "variables": {"id": converting_id}}
        )
        assert converted.json()["data"]["updatePerson"]["__typename"] == "PersonSuccess"

        async def converted_run() -> bool:
            return await m.WorkflowRun.filter(state="CONVERTED").exists()

        await _wait_for(converted_run)

    clock.set(_next_monday_ten() + dt.timedelta(days=2, minutes=1))

    async def tips_sent() -> bool:
        return len(mailbox.messages) >= 3

    await _wait_for(tips_sent)
    await asyncio.sleep(1.0)  # nothing else may arrive
    recipients = [str(msg["To"]) for msg in mailbox.messages]
    assert recipients.count("lan@khach.vn") == 2
    assert recipients.count("an@khach.vn") == 1
    assert "3 mẹo" in str(mailbox.messages[-1]["Subject"])
    assert len(set(mailbox.message_ids)) == len(mailbox.messages)
    states = sorted(await m.WorkflowRun.all().values_list("state", flat=True))
    assert states == ["COMPLETED", "CONVERTED"]
