"""Timers fired as a batch (one ``fire_timers`` message, one transaction) move their runs
exactly as firing them one by one would: same states, history, timers and e-mails, a run
given two inputs takes them in order, and a transition that changes a subject is seen by the
next run of that subject in the same batch. A batch costs a fixed number of statements."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from domain.customers import services
from domain.customers.commands import PersonInput
from domain.persistence import models as m
from domain.persistence.statement_log import StatementLog
from tests.runtime_clock import FakeClock, installed_clock
from workflows.engine import TimerFired
from workflows.runtime import timers
from workflows.runtime.deploy import deploy_texts
from workflows.runtime.runs import apply_inputs, enroll

T0 = dt.datetime(2026, 11, 23, 3, 0, tzinfo=dt.UTC)

SEQUENCE = """\
key: sequence
name: Sequence
subject: customer
trigger: {manual: true}
goal: 'subject.lifecycleStage == "CUSTOMER"'
steps:
  - id: first
    wait: 1h
  - id: hello
    send_email: {template: hello, to: subject}
  - id: tag
    add_tag: batched
  - id: second
    wait: 1h
  - id: third
    wait: 1h
"""
PROMOTE = """\
key: promote
name: Promote
subject: customer
trigger: {manual: true}
steps:
  - id: soon
    wait: 30m
  - id: promote
    update: {lifecycleStage: CUSTOMER}
"""
TEMPLATES = """\
templates:
  hello:
    subject: "Hello {{ subject.firstName }}"
    text: "Hi {{ subject.firstName }}"
"""


@pytest.fixture
def clock() -> Iterator[FakeClock]:
    with installed_clock(T0) as fake:
        yield fake


async def _customers(count: int) -> list[m.Customer]:
    return [
        await services.create_person(
            PersonInput(
                first_name=f"Lan {index}",
                last_name="Trần",
                emails=[f"lan{index}@khach.vn"],
                email_opt_in=True,
                lifecycle_stage="LEAD",
            ),  # type: ignore[arg-type]
            actor="user:test",
        )
        for index in range(count)
    ]


async def _deploy(*texts: str) -> dict[str, m.Workflow]:
    files = {f"w{index}.yaml": text for index, text in enumerate(texts)}
    result = await deploy_texts({**files, "templates.yaml": TEMPLATES}, actor="user:test")
    assert not result.problems, result.problems
    return {row.key: row for row in await m.Workflow.all()}


async def _claims(now: dt.datetime) -> list[tuple[int, str | None]]:
    return [(t.id, t.claim_token) for t in await timers.claim_due_timers(now, limit=1000)]


async def _outcome(run_id: int) -> dict[str, Any]:
    """What a run became, without ids or anything that names the run."""
    run = await m.WorkflowRun.get(id=run_id)
    history = await m.WorkflowRunStep.filter(run_id=run_id).order_by("id")
    pending = await m.Timer.filter(run_id=run_id).order_by("key")
    customer = await m.Customer.get(id=run.subject_id)
    return {
        "state": run.state,
        "lock_version": run.lock_version,
        "history": [(s.step_id, s.kind, s.outcome) for s in history],
        "timers": [(t.key.split(":", 1)[1], t.status, t.due_at - run.started_at) for t in pending],
        "emails": await m.EmailMessage.filter(run_id=run_id).count(),
        "tags": customer.tags,
    }


async def test_a_batch_moves_runs_exactly_as_one_by_one(database: str, clock: FakeClock) -> None:
    workflows = await _deploy(SEQUENCE)
    customers = await _customers(6)
    runs = [
        await enroll(workflows["sequence"], "customer", customer.id, T0) for customer in customers
    ]
    one_by_one = runs[:3]  # the other three are fired as one batch
    assert all(run is not None for run in runs)

    clock.now = T0 + dt.timedelta(hours=1, seconds=1)
    claims = dict(await _claims(clock()))
    for run in one_by_one:
        (timer,) = await m.Timer.filter(run_id=run.id, status="CLAIMED")  # type: ignore[union-attr]
        assert await timers.fire_timer(timer.id, claims.pop(timer.id), clock())
    assert await timers.fire_timers(list(claims.items()), clock()) == 3

    outcomes = [await _outcome(run.id) for run in runs]  # type: ignore[union-attr]
    assert outcomes[0]["state"] == "WAITING"
    assert outcomes[0]["emails"] == 1
    assert ("hello", "send_email", "DONE") in outcomes[0]["history"]
    assert outcomes[0]["timers"] == [
        ("first:1", "FIRED", dt.timedelta(hours=1)),
        ("second:1", "PENDING", dt.timedelta(hours=2, seconds=1)),
    ]
    assert "batched" in outcomes[0]["tags"]
    assert all(outcome == outcomes[0] for outcome in outcomes)


async def test_two_inputs_for_one_run_in_one_batch_apply_in_order(
    database: str, clock: FakeClock
) -> None:
    workflows = await _deploy(SEQUENCE)
    (customer,) = await _customers(1)
    run = await enroll(workflows["sequence"], "customer", customer.id, T0)
    assert run is not None
    later = T0 + dt.timedelta(hours=3)
    clock.now = later

    # The second input names the timer the first input's transition schedules: it matches
    # only if it is applied after the first one's writes.
    first, second = await apply_inputs(
        [
            (run.id, TimerFired(key=f"{run.id}:first:1", now=later)),
            (run.id, TimerFired(key=f"{run.id}:second:1", now=later)),
        ],
        later,
    )
    assert first is not None
    assert second is not None
    outcome = await _outcome(run.id)
    assert outcome["lock_version"] == run.lock_version + 2
    assert outcome["history"] == [
        ("first", "wait", "WAITING"),
        ("hello", "send_email", "DONE"),
        ("tag", "add_tag", "DONE"),
        ("second", "wait", "WAITING"),
        ("third", "wait", "WAITING"),
    ]
    assert ("third:1", "PENDING", later - T0 + dt.timedelta(hours=1)) in outcome["timers"]


async def test_a_subject_changed_earlier_in_the_batch_is_seen_by_later_runs(
    database: str, clock: FakeClock
) -> None:
    workflows = await _deploy(SEQUENCE, PROMOTE)
    (customer,) = await _customers(1)
    sequence = await enroll(workflows["sequence"], "customer", customer.id, T0)
    promote = await enroll(workflows["promote"], "customer", customer.id, T0)
    assert sequence is not None
    assert promote is not None

    clock.now = T0 + dt.timedelta(hours=2)
    claims = await _claims(clock())
    assert len(claims) == 2
    # Due order: "promote" (30 min) runs first and makes the customer a CUSTOMER; the
    # sequence's goal, checked in the same transaction, sees it.
    assert await timers.fire_timers(claims, clock()) == 2

    assert (await m.WorkflowRun.get(id=promote.id)).state == "COMPLETED"
    assert (await m.Customer.get(id=customer.id)).lifecycle_stage == "CUSTOMER"
    converted = await m.WorkflowRun.get(id=sequence.id)
    assert converted.state == "CONVERTED"
    assert await m.EmailMessage.filter(run_id=sequence.id).count() == 0


async def test_a_batch_costs_the_same_statements_as_one_transition(
    database: str, clock: FakeClock
) -> None:
    workflows = await _deploy(SEQUENCE)
    customers = await _customers(11)
    runs = [
        await enroll(workflows["sequence"], "customer", customer.id, T0) for customer in customers
    ]
    # Only the waits: move every run past its e-mail so the measured transition is
    # wait -> wait (the e-mail outbox has its own statements, per message).
    clock.now = T0 + dt.timedelta(hours=1, seconds=1)
    assert await timers.fire_timers(await _claims(clock()), clock()) == 11

    clock.now = T0 + dt.timedelta(hours=3)
    claims = await _claims(clock())
    assert len(claims) == 11
    with StatementLog() as one:
        assert await timers.fire_timers(claims[:1], clock()) == 1
    with StatementLog() as ten:
        assert await timers.fire_timers(claims[1:], clock()) == 10
    assert ten.count == one.count
    assert one.count <= 9, one.statements
    for run in runs:
        assert (await m.Timer.get(run_id=run.id, key=f"{run.id}:third:1")).status == "PENDING"  # type: ignore[union-attr]
