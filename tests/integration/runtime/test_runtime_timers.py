"""Durable timers on both backends: exactly-once claims, lease expiry, idempotent firing."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from domain.persistence.config import is_sqlite
from domain.persistence.models import Timer
from workflows.runtime import timers
from workflows.runtime.timers import (
    claim_due_timers,
    complete_timer,
    fire_timer,
    schedule_timer,
    set_timer_handler,
)

ROOT = Path(__file__).resolve().parents[3]
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
SECOND = dt.timedelta(seconds=1)

CLAIMER = """
import asyncio, datetime as dt, json, sys
from domain.persistence.db import open_database, close_database
from workflows.runtime.timers import claim_due_timers

async def main():
    await open_database(sys.argv[1], migrate=False)
    now = dt.datetime.fromisoformat(sys.argv[2])
    claimed = []
    try:
        while batch := await claim_due_timers(now, limit=3):
            claimed += [timer.id for timer in batch]
    finally:
        await close_database()
    print(json.dumps(claimed))

asyncio.run(main())
"""


async def _timers(count: int, due: dt.datetime) -> list[int]:
    created = [
        await Timer.create(key=f"t{i}", purpose="wait", due_at=due + i * SECOND * 0.001)
        for i in range(count)
    ]
    return [timer.id for timer in created]


async def test_claims_only_due_timers_oldest_first(database: str) -> None:
    late = await Timer.create(key="late", purpose="wait", due_at=T0 + 60 * SECOND)
    second = await Timer.create(key="b", purpose="wait", due_at=T0 - SECOND)
    first = await Timer.create(key="a", purpose="wait", due_at=T0 - 2 * SECOND)

    claimed = await claim_due_timers(T0, limit=10)

    assert [timer.id for timer in claimed] == [first.id, second.id]
    assert {timer.status for timer in claimed} == {"CLAIMED"}
    assert all(timer.claimed_until == T0 + timers.DEFAULT_LEASE for timer in claimed)
    assert len({timer.claim_token for timer in claimed}) == 1
    assert (await Timer.get(id=late.id)).status == "PENDING"
    assert await claim_due_timers(T0, limit=10) == []


async def test_concurrent_claimers_in_one_process_claim_each_timer_once(database: str) -> None:
    ids = await _timers(60, T0 - SECOND)

    async def claimer() -> list[int]:
        got: list[int] = []
        while batch := await claim_due_timers(T0, limit=4):
            got += [timer.id for timer in batch]
            await asyncio.sleep(0)
        return got

    results = await asyncio.gather(*(claimer() for _ in range(4)))

    everything = [timer_id for result in results for timer_id in result]
    assert sorted(everything) == sorted(ids)  # each once, none lost
    if not is_sqlite(database):
        assert sum(1 for result in results if result) >= 2  # they really ran side by side


async def test_concurrent_claimer_processes_claim_each_timer_once(database: str) -> None:
    ids = await _timers(120, T0 - SECOND)
    command = [sys.executable, "-c", CLAIMER, database, T0.isoformat()]
    processes = [
        await asyncio.create_subprocess_exec(*command, cwd=ROOT, stdout=subprocess.PIPE)
        for _ in range(3)
    ]
    outputs = [await process.communicate() for process in processes]

    assert [process.returncode for process in processes] == [0, 0, 0]
    everything = [i for out, _ in outputs for i in json.loads(out.decode().splitlines()[-1])]
    assert sorted(everything) == sorted(ids)


async def test_expired_lease_is_claimed_again_and_whichever_message_comes_first_fires_once(
    database: str,
) -> None:
    (timer_id,) = await _timers(1, T0)
    (first,) = await claim_due_timers(T0, lease=10 * SECOND)

    assert await claim_due_timers(T0 + 9 * SECOND) == []
    (second,) = await claim_due_timers(T0 + 10 * SECOND)

    assert second.id == timer_id
    assert second.attempts == 2
    assert second.claim_token != first.claim_token
    # The first claim's message arrives late, after the re-claim: the timer is due, it fires
    # (a token check here made a long queue a livelock); the second claim's message is a no-op.
    assert await fire_timer(timer_id, first.claim_token, T0 + 11 * SECOND)
    assert not await fire_timer(timer_id, second.claim_token, T0 + 12 * SECOND)
    assert not await fire_timer(timer_id, first.claim_token, T0 + 12 * SECOND)
    fired = await Timer.get(id=timer_id)
    assert (fired.status, fired.fired_at) == ("FIRED", T0 + 11 * SECOND)
    assert await claim_due_timers(T0 + 60 * SECOND) == []


async def test_a_replaced_timer_is_not_fired_by_its_old_schedule_message(database: str) -> None:
    from domain.persistence import models as m

    workflow = await m.Workflow.create(key="w", name="w", subject="customer")
    version = await m.WorkflowVersion.create(
        workflow=workflow, number=1, content_hash="h", source="", definition={}
    )
    run = await m.WorkflowRun.create(
        workflow=workflow, version=version, subject_type="customer", subject_id=1, started_at=T0
    )
    timer = await schedule_timer(run_id=run.id, key="k", due_at=T0, purpose="wait")
    (claim,) = await claim_due_timers(T0)
    await schedule_timer(run_id=run.id, key="k", due_at=T0 + 60 * SECOND, purpose="wait")

    assert not await fire_timer(timer.id, claim.claim_token, T0 + SECOND)  # PENDING again
    assert (await Timer.get(id=timer.id)).status == "PENDING"
    (again,) = await claim_due_timers(T0 + 60 * SECOND)  # it fires at its new due time
    assert await fire_timer(again.id, again.claim_token, T0 + 60 * SECOND)


async def test_fire_runs_the_handler_once_and_a_failing_handler_leaves_the_timer_claimed(
    database: str,
) -> None:
    calls: list[str] = []
    fail = True

    async def handler(timer: Timer) -> None:
        calls.append(timer.key)
        await Timer.create(key=f"follow-up-of-{timer.key}", purpose="wait", due_at=T0)
        if fail:
            raise RuntimeError("engine crashed")

    set_timer_handler(handler)
    try:
        (timer_id,) = await _timers(1, T0)
        (claim,) = await claim_due_timers(T0, lease=5 * SECOND)
        with pytest.raises(RuntimeError):
            await fire_timer(timer_id, claim.claim_token, T0)
        assert (await Timer.get(id=timer_id)).status == "CLAIMED"
        assert not await Timer.filter(key="follow-up-of-t0").exists()  # rolled back

        fail = False
        (retry,) = await claim_due_timers(T0 + 5 * SECOND)
        assert await fire_timer(timer_id, retry.claim_token, T0 + 5 * SECOND)
        assert await fire_timer(timer_id, retry.claim_token, T0 + 5 * SECOND) is False
    finally:
        set_timer_handler(None)

    assert calls == ["t0", "t0"]
    assert await Timer.filter(key="follow-up-of-t0").count() == 1


async def test_schedule_replaces_and_cancel_and_complete_are_idempotent(database: str) -> None:
    timer = await schedule_timer(run_id=None, key="sla", due_at=T0, purpose="sla")
    (claim,) = await claim_due_timers(T0)

    assert await complete_timer(timer.id, "CANCELLED", claim.claim_token)
    assert not await complete_timer(timer.id, "FIRED", claim.claim_token)
    assert (await Timer.get(id=timer.id)).status == "CANCELLED"
    with pytest.raises(ValueError, match="naive"):
        await claim_due_timers(dt.datetime(2026, 1, 1))


async def test_a_failing_batch_message_fires_its_timers_one_by_one(database: str) -> None:
    """``fire_timers`` (the scheduler's batched message) fires its timers in one transaction;
    when that fails, none of them fired, and each is fired in its own transaction: the timer
    whose handler fails stays CLAIMED for a later claim, the others fire anyway, once."""
    from workflows.runtime.actors import _fire_timers

    seen: list[str] = []

    async def handler(timer: Timer) -> None:
        seen.append(timer.key)
        await Timer.create(key=f"follow-up-of-{timer.key}", purpose="wait", due_at=T0 + SECOND)
        if timer.key == "bad":
            raise RuntimeError("boom")

    for key in ("a", "bad", "b"):
        await Timer.create(key=key, purpose="wait", due_at=T0)
    claims = [[t.id, t.claim_token] for t in await claim_due_timers(T0)]
    set_timer_handler(handler)
    try:
        await _fire_timers(claims)
        await _fire_timers(claims)  # delivered twice: nothing fires again
    finally:
        set_timer_handler(None)

    statuses = dict(await Timer.filter(key__in=("a", "bad", "b")).values_list("key", "status"))
    assert statuses == {"a": "FIRED", "bad": "CLAIMED", "b": "FIRED"}
    # First delivery: the batch (a, bad: rolled back), then one by one (a, bad, b). Second
    # delivery: only "bad" is still CLAIMED, alone in the batch and again alone.
    assert seen == ["a", "bad", "a", "bad", "b", "bad", "bad"]
    follow_ups = await Timer.filter(key__startswith="follow-up-of-").values_list("key", flat=True)
    assert sorted(follow_ups) == ["follow-up-of-a", "follow-up-of-b"]


async def test_a_batch_message_hands_its_timers_to_the_batch_handler_at_once(
    database: str,
) -> None:
    """With a batch handler registered, the timers of one message still CLAIMED reach it in
    one call, in due order, and commit together; stale ones are left out."""
    from workflows.runtime.timers import fire_timers

    batches: list[list[str]] = []

    async def single(timer: Timer) -> None:
        raise AssertionError("the batch handler takes batches")

    async def batch(fired: list[Timer]) -> None:
        batches.append([timer.key for timer in fired])
        for timer in fired:
            await Timer.create(key=f"follow-up-of-{timer.key}", purpose="wait", due_at=T0)

    for key, due in (("late", T0), ("early", T0 - SECOND), ("gone", T0)):
        await Timer.create(key=key, purpose="wait", due_at=due)
    claims = [(t.id, t.claim_token) for t in await claim_due_timers(T0)]
    await Timer.filter(key="gone").update(status="CANCELLED")
    set_timer_handler(single, batch=batch)
    try:
        assert await fire_timers(claims, T0) == 2
        assert await fire_timers(claims, T0) == 0  # delivered twice: nothing fires again
    finally:
        set_timer_handler(None)

    assert batches == [["early", "late"]]
    follow_ups = await Timer.filter(key__startswith="follow-up-of-").values_list("key", flat=True)
    assert sorted(follow_ups) == ["follow-up-of-early", "follow-up-of-late"]


async def test_rescheduling_a_run_timer_resets_it_in_one_statement(database: str) -> None:
    """``schedule_timer`` for a run is an upsert: the same (run, key) keeps its row and id and
    comes back PENDING with the new due time, whatever state it was in."""
    from domain.persistence import models as m

    workflow = await m.Workflow.create(key="w", name="w", subject="customer")
    version = await m.WorkflowVersion.create(
        workflow=workflow, number=1, content_hash="h", source="", definition={}
    )
    run = await m.WorkflowRun.create(
        workflow=workflow, version=version, subject_type="customer", subject_id=1, started_at=T0
    )
    first = await schedule_timer(run_id=run.id, key="k", due_at=T0, purpose="wait")
    (claim,) = await claim_due_timers(T0)
    assert await fire_timer(first.id, claim.claim_token, T0)

    again = await schedule_timer(
        run_id=run.id, key="k", due_at=T0 + SECOND, purpose="timeout", payload={"n": 1}
    )
    stored = await Timer.get(id=first.id)
    assert again.id == first.id
    assert (stored.status, stored.due_at, stored.purpose, stored.payload) == (
        "PENDING",
        T0 + SECOND,
        "timeout",
        {"n": 1},
    )
    assert (stored.fired_at, stored.claim_token, stored.attempts) == (None, None, 0)
    assert await Timer.filter(run_id=run.id).count() == 1
