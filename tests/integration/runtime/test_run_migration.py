"""Explicit migration of live runs between versions, on SQLite and PostgreSQL: everything is
checked first (unmapped steps refuse the whole migration, nothing moves), a wait mapped to a
wait keeps its due time, other mappings start the mapped step now."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from domain.customers import services
from domain.customers.commands import PersonInput
from domain.errors import NotFound, ValidationFailed
from domain.persistence import models as m
from tests.runtime_clock import FakeClock, fire_due, installed_clock
from workflows.runtime import admin
from workflows.runtime.deploy import deploy_texts
from workflows.runtime.run_migration import UnmappedSteps, migrate_runs

ICT = dt.timezone(dt.timedelta(hours=7))
MONDAY_10 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=ICT)

TEMPLATES = """\
templates:
  t-hello: {subject: "Xin chào", text: "."}
  t-tips: {subject: "Mẹo", text: "."}
  t-offer: {subject: "Ưu đãi", text: "."}
"""
V1 = """\
key: nurture
trigger: {manual: true}
steps:
  - {id: hello, send_email: {template: t-hello, to: subject}}
  - {id: pause, wait: 2d}
  - {id: tips, send_email: {template: t-tips, to: subject}}
"""
V2 = """\
key: nurture
trigger: {manual: true}
steps:
  - {id: hello, send_email: {template: t-hello, to: subject}}
  - {id: breather, wait: 3d}
  - {id: offer, send_email: {template: t-offer, to: subject}}
"""


@pytest.fixture
def clock() -> Iterator[FakeClock]:
    with installed_clock(MONDAY_10) as fake:
        yield fake


async def _runs_on_v1(clock: FakeClock, count: int) -> list[m.WorkflowRun]:
    await deploy_texts({"n.yaml": V1, "t.yaml": TEMPLATES}, actor="user:test", now=clock())
    runs = []
    for number in range(count):
        person = await services.create_person(
            PersonInput(
                first_name=f"Khách {number}", emails=[f"k{number}@khach.vn"], email_opt_in=True
            ),
            actor="user:test",
        )
        runs.append(
            await admin.enroll_manually("nurture", "customer", person.id, actor="u", now=clock())
        )
    result = await deploy_texts({"n.yaml": V2, "t.yaml": TEMPLATES}, actor="user:test", now=clock())
    assert [(d.version, d.created) for d in result.deployed] == [(2, True)]
    return runs


async def _sent(run: m.WorkflowRun) -> list[str]:
    return [e.subject for e in await m.EmailMessage.filter(run_id=run.id).order_by("id")]


async def test_unmapped_steps_refuse_everything(database: str, clock: FakeClock) -> None:
    runs = await _runs_on_v1(clock, 2)
    timers_before = (
        await m.Timer.filter(status="PENDING").order_by("id").values_list("key", "due_at")
    )
    with pytest.raises(UnmappedSteps) as refused:
        await migrate_runs("nurture", 1, 2, {}, actor="user:test", now=clock())
    assert refused.value.step_ids == ["pause"]
    assert refused.value.code == "UNMAPPED_STEPS"
    assert "pause" in str(refused.value)
    assert {r.version_id for r in await m.WorkflowRun.filter(id__in=[r.id for r in runs])} == {
        runs[0].version_id
    }
    after = await m.Timer.filter(status="PENDING").order_by("id").values_list("key", "due_at")
    assert after == timers_before
    assert await m.WorkflowRunStep.filter(kind="migrate").count() == 0
    for step_map, code in (
        ({"pause": "nowhere"}, "UNKNOWN_STEP"),
        ({"nowhere": "breather"}, "UNKNOWN_STEP"),
    ):
        with pytest.raises(ValidationFailed) as bad:
            await migrate_runs("nurture", 1, 2, step_map, actor="user:test", now=clock())
        assert bad.value.code == code
    with pytest.raises(ValidationFailed) as same:
        await migrate_runs("nurture", 2, 2, {}, actor="user:test", now=clock())
    assert same.value.code == "SAME_VERSION"
    with pytest.raises(NotFound):
        await migrate_runs("nurture", 1, 7, {}, actor="user:test", now=clock())
    with pytest.raises(NotFound):
        await migrate_runs("nope", 1, 2, {}, actor="user:test", now=clock())


async def test_a_wait_mapped_to_a_wait_keeps_its_due_time(database: str, clock: FakeClock) -> None:
    first, second = await _runs_on_v1(clock, 2)
    # the second run has already finished: only live runs move
    clock.now = MONDAY_10 + dt.timedelta(hours=1)
    await admin.cancel_run(second.id, actor="user:test", now=clock())
    moved = await migrate_runs(
        "nurture", 1, 2, {"pause": "breather"}, actor="user:test", now=clock()
    )
    assert moved == 1
    run = await m.WorkflowRun.get(id=first.id)
    v2 = await m.WorkflowVersion.get(workflow__key="nurture", number=2)
    assert run.version_id == v2.id
    assert run.state == "WAITING"
    (pending,) = await m.Timer.filter(run_id=run.id, status="PENDING")
    assert pending.key == f"{run.id}:breather:1"
    assert pending.due_at == MONDAY_10 + dt.timedelta(days=2)  # not restarted as 3 days
    assert await m.Timer.filter(run_id=run.id, key=f"{run.id}:pause:1", status="CANCELLED").exists()
    (line,) = await m.WorkflowRunStep.filter(run_id=run.id, kind="migrate")
    assert (line.step_id, line.outcome) == ("breather", "MIGRATED")
    assert line.detail["fromStep"] == "pause"
    assert line.detail["timer"] == "kept"
    assert await m.AuditEntry.filter(action="workflow_run.migrate", target_id=run.id).count() == 1
    assert (await m.WorkflowRun.get(id=second.id)).version_id == second.version_id != v2.id
    # it goes on with the new version's steps at the old due time
    clock.now = MONDAY_10 + dt.timedelta(days=2, seconds=1)
    assert await fire_due(clock) == 1
    run = await m.WorkflowRun.get(id=run.id)
    assert run.state == "COMPLETED"
    assert await _sent(run) == ["Xin chào", "Ưu đãi"]


async def test_other_mappings_start_the_mapped_step_now(database: str, clock: FakeClock) -> None:
    (first,) = await _runs_on_v1(clock, 1)
    moved = await migrate_runs("nurture", 1, 2, {"pause": "offer"}, actor="user:test", now=clock())
    assert moved == 1
    run = await m.WorkflowRun.get(id=first.id)
    assert run.state == "COMPLETED"
    assert await _sent(run) == ["Xin chào", "Ưu đãi"]
    assert not await m.Timer.filter(run_id=run.id, status="PENDING").exists()
    line = await m.WorkflowRunStep.get(run_id=run.id, kind="migrate")
    assert line.detail["timer"] == "restarted"
