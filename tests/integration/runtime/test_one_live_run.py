"""A subject never has two live runs of the same workflow: the partial unique index of
migration 0011 refuses a second live run, ``enroll`` serializes concurrent enrollments of one
subject on PostgreSQL (an advisory lock) and, should the index refuse its run after all,
returns None without failing the caller's transaction; the migration's clean-up ends the live
duplicates an older database may hold, keeping the oldest."""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib
from typing import Any

import pytest
from tortoise import Tortoise
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from domain.customers import services
from domain.customers.commands import PersonInput
from domain.persistence import models as m
from domain.persistence.config import is_sqlite
from workflows.engine import RunState
from workflows.runtime import runs
from workflows.runtime.deploy import deploy_texts
from workflows.runtime.runs import enroll

T0 = dt.datetime(2026, 11, 23, 3, 0, tzinfo=dt.UTC)

# Re-enrolls at once: only "already has an active run" stands between two enrollments.
AGAIN = """\
key: again
name: Again
subject: customer
trigger: {manual: true}
enrollment: {reenroll: always}
goal: 'subject.lifecycleStage == "CUSTOMER"'
steps:
  - id: pause
    wait: 1h
"""

migration = importlib.import_module("domain.persistence.migrations.0011_one_live_run")


async def _setup() -> tuple[m.Workflow, m.Customer]:
    result = await deploy_texts({"again.yaml": AGAIN}, actor="user:test")
    assert not result.problems, result.problems
    customer = await services.create_person(
        PersonInput(
            first_name="Lan",
            last_name="Trần",
            emails=["lan@khach.vn"],
            email_opt_in=True,
            lifecycle_stage="LEAD",
        ),  # type: ignore[arg-type]
        actor="user:test",
    )
    return await m.Workflow.get(key="again"), customer


async def _run(workflow: m.Workflow, subject_id: int, state: str, **extra: Any) -> m.WorkflowRun:
    assert workflow.current_version_id is not None
    return await m.WorkflowRun.create(
        workflow_id=workflow.id,
        version_id=workflow.current_version_id,
        subject_type="customer",
        subject_id=subject_id,
        state=state,
        state_json=RunState().to_json(),
        started_at=T0,
        **extra,
    )


async def _runs(workflow: m.Workflow) -> list[tuple[int, str]]:
    return [
        (run.subject_id, run.state)
        for run in await m.WorkflowRun.filter(workflow_id=workflow.id).order_by("id")
    ]


async def test_the_index_refuses_a_second_live_run_until_the_first_ends(database: str) -> None:
    workflow, lan = await _setup()
    first = await _run(workflow, lan.id, "WAITING")
    for state in ("ACTIVE", "WAITING"):
        with pytest.raises(IntegrityError):
            await _run(workflow, lan.id, state)
    # Other subjects and ended runs are not concerned.
    await _run(workflow, lan.id + 1, "ACTIVE")
    await _run(workflow, lan.id, "COMPLETED", ended_at=T0)
    await _run(workflow, lan.id, "EXITED", ended_at=T0)
    first.state, first.ended_at = "COMPLETED", T0
    await first.save()
    await _run(workflow, lan.id, "ACTIVE")
    assert await _runs(workflow) == [
        (lan.id, "COMPLETED"),
        (lan.id + 1, "ACTIVE"),
        (lan.id, "COMPLETED"),
        (lan.id, "EXITED"),
        (lan.id, "ACTIVE"),
    ]


async def test_enroll_refused_by_the_index_leaves_the_callers_transaction_alive(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    workflow, lan = await _setup()
    first = await enroll(workflow, "customer", lan.id, T0)
    assert first is not None
    assert first.state == "WAITING"
    # The rules no longer see the live run (as a racing enrollment would not): the index does.
    monkeypatch.setattr(runs, "should_enroll", lambda *_: (True, "enrolled"))
    async with in_transaction():
        assert await enroll(workflow, "customer", lan.id, T0) is None
        lan.first_name = "Hoa"
        await lan.save()  # the caller's transaction goes on and commits
    assert (await m.Customer.get(id=lan.id)).first_name == "Hoa"
    assert await _runs(workflow) == [(lan.id, "WAITING")]
    # Outside any transaction too.
    assert await enroll(workflow, "customer", lan.id, T0) is None
    assert await _runs(workflow) == [(lan.id, "WAITING")]


async def _enroll_racing(workflow: m.Workflow, subject_id: int) -> m.WorkflowRun | None:
    async with in_transaction():
        run = await enroll(workflow, "customer", subject_id, T0)
        await asyncio.sleep(0.05)  # hold the transaction while the other enrollment runs
        return run


@pytest.mark.parametrize("lock", ["advisory lock", "index only"])
async def test_concurrent_enrollments_make_one_run_on_postgresql(
    database: str, lock: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if is_sqlite(database):
        pytest.skip("SQLite has one writer at a time: no race to arbitrate")
    workflow, lan = await _setup()
    if lock == "index only":  # the last line of defence alone
        monkeypatch.setattr(runs, "_lock_enrollment", _no_lock)
    for _round in range(3):
        results = await asyncio.gather(*(_enroll_racing(workflow, lan.id) for _ in range(2)))
        assert sorted(run is None for run in results) == [False, True], results
        live = await m.WorkflowRun.filter(workflow_id=workflow.id, state__in=runs.LIVE_STATES)
        assert [run.id for run in live] == [run.id for run in results if run is not None]
        # End it, so that the next round may enroll again.
        await m.WorkflowRun.filter(id=live[0].id).update(state="EXITED", ended_at=T0)
    assert await m.WorkflowRun.filter(workflow_id=workflow.id).count() == 3


async def _no_lock(*_: Any) -> None:
    return None


async def test_the_migration_ends_live_duplicates_keeping_the_oldest(database: str) -> None:
    workflow, lan = await _setup()
    connection = Tortoise.get_connection("default")
    # A database from before the index, holding duplicates.
    await connection.execute_script(migration.DROP_INDEX)
    kept = await _run(workflow, lan.id, "WAITING")
    await _run(workflow, lan.id, "ACTIVE")
    await _run(workflow, lan.id, "WAITING")
    ended = await _run(workflow, lan.id, "COMPLETED", ended_at=T0)
    other = await _run(workflow, lan.id + 1, "ACTIVE")
    now = T0 + dt.timedelta(days=1)
    await migration.end_live_duplicates(connection, now)
    await connection.execute_script(migration.CREATE_INDEX)
    rows = await m.WorkflowRun.filter(workflow_id=workflow.id).order_by("id")
    assert [(r.subject_id, r.state, r.ended_at) for r in rows] == [
        (lan.id, "WAITING", None),
        (lan.id, "EXITED", now),
        (lan.id, "EXITED", now),
        (lan.id, "COMPLETED", T0),
        (lan.id + 1, "ACTIVE", None),
    ]
    assert (rows[0].id, rows[3].id, rows[4].id) == (kept.id, ended.id, other.id)
    # The recreated index holds.
    with pytest.raises(IntegrityError):
        await _run(workflow, lan.id, "ACTIVE")
