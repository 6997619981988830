"""The workload: real runs of a deployed workflow, each waiting on its first ``wait`` step.

One run is enrolled through the engine (``workflows.runtime.runs.enroll``), so its stored state,
history line and timer are exactly what the runtime writes; the bench then bulk-copies that
template to ``count`` runs (its own run id in the timer key and the waiting state, its due time
spread over the window), far faster than enrolling 100,000 subjects one by one. Firing a timer
is then a real transition through ``workflows.runtime``: the run leaves ``first``, records its
history, is checked against the goal and schedules its ``second`` wait, in one transaction.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

WORKFLOW_KEY = "timer-bench"
WORKFLOW_YAML = """\
key: timer-bench
name: Timer benchmark
description: Three waits; the bench fires the first of every run.
subject: customer
trigger: {manual: true}
goal: 'subject.lifecycleStage == "CUSTOMER"'
steps:
  - id: first
    wait: 1h
  - id: second
    wait: 30d
  - id: third
    wait: 30d
"""
#: The runs' subjects (real customers created through the domain services), round-robin.
CUSTOMERS = 50
#: Key suffixes of the timers of the first wait (measured) and of the second (the proof that
#: a fired timer moved its run on).
FIRST, SECOND = ":first:1", ":second:1"


@dataclass(frozen=True)
class Template:
    workflow_id: int
    version_id: int
    subject_ids: list[int]
    state: dict[str, Any]
    history: dict[str, Any]  # the run's one history line: step_id, kind, outcome, detail


@dataclass(frozen=True)
class Rows:
    """The rows of ``count`` runs, in the column order of :data:`RUN_COLUMNS` etc."""

    runs: list[tuple[Any, ...]]
    steps: list[tuple[Any, ...]]
    timers: list[tuple[Any, ...]]


RUN_COLUMNS = (
    "id", "workflow_id", "version_id", "subject_type", "subject_id", "state", "state_json",
    "started_at", "lock_version",
)  # fmt: skip
STEP_COLUMNS = ("run_id", "step_id", "kind", "outcome", "detail", "at", "input_key")
TIMER_COLUMNS = (
    "run_id", "key", "purpose", "due_at", "status", "attempts", "payload", "created_at",
)  # fmt: skip


def prepare(url: str) -> Template:
    """Deploy the workflow, create the customers and enroll one run; return it as a template
    (and delete it: the copies are the workload)."""
    return asyncio.run(_prepare(url))


async def _prepare(url: str) -> Template:
    from domain.customers import services
    from domain.customers.commands import PersonInput
    from domain.persistence import models as m
    from domain.persistence.db import close_database, open_database
    from workflows.runtime import dispatch, relay, timers
    from workflows.runtime.deploy import deploy_texts
    from workflows.runtime.runs import enroll

    await open_database(url, migrate=False)
    try:
        deployed = await deploy_texts({"timer-bench.yaml": WORKFLOW_YAML}, actor="system:bench")
        if deployed.problems:
            raise RuntimeError(f"bench workflow invalid: {deployed.problems}")
        subject_ids = []
        for index in range(CUSTOMERS):
            customer = await services.create_person(
                PersonInput(
                    first_name=f"Bench {index}",
                    last_name="Nguyễn",
                    emails=[f"bench{index}@example.vn"],
                    email_opt_in=True,
                    lifecycle_stage="LEAD",
                ),  # type: ignore[arg-type]
                actor="system:bench",
            )
            subject_ids.append(customer.id)
        # The customers' domain events are relayed now, before the workload exists: relayed
        # during the load, each customer.created event would be applied to every live run of
        # its customer (thousands of extra transitions, in the relay, competing with timers).
        dispatch.install()
        await relay.relay_events(batch=10 * CUSTOMERS)
        workflow = await m.Workflow.get(key=WORKFLOW_KEY)
        run = await enroll(workflow, "customer", subject_ids[0], dt.datetime.now(dt.UTC))
        if run is None or run.state != "WAITING":
            raise RuntimeError("the bench run did not reach its first wait")
        (line,) = await m.WorkflowRunStep.filter(run_id=run.id).values(
            "step_id", "kind", "outcome", "detail"
        )
        template = Template(
            workflow_id=run.workflow_id,
            version_id=run.version_id,
            subject_ids=subject_ids,
            state=run.state_json,
            history=line,
        )
        await run.delete()  # its timer and history go with it (ON DELETE CASCADE)
        await relay.relay_events(batch=10 * CUSTOMERS)
        if await m.DomainEvent.filter(dispatched_at__isnull=True).exists():
            raise RuntimeError("domain events left undispatched before the load")
        return template
    finally:
        timers.set_timer_handler(None)
        relay.set_event_handler(None)
        await close_database()


def rows(
    template: Template,
    *,
    first_id: int,
    count: int,
    start: dt.datetime,
    window: float,
    stamp: Any,
) -> Rows:
    """``count`` runs from id ``first_id``, the i-th due at ``start + i * window / count``.

    ``stamp`` turns datetimes into what the driver stores (text for SQLite, as Tortoise
    writes it; the datetime itself for asyncpg); JSON goes as text.
    """
    now = dt.datetime.now(dt.UTC)
    step = window / count
    runs, steps, timers = [], [], []
    subjects = template.subject_ids
    for index in range(count):
        run_id = first_id + index
        due = start + dt.timedelta(seconds=index * step)
        key = f"{run_id}{FIRST}"
        state = copy.deepcopy(template.state)
        state["waiting"]["timer_key"] = key
        state["waiting"]["due_at"] = due.isoformat()
        detail = dict(template.history["detail"], due_at=due.isoformat())
        runs.append(
            (
                run_id, template.workflow_id, template.version_id, "customer",
                subjects[index % len(subjects)], "WAITING", json.dumps(state), stamp(now), 1,
            )
        )  # fmt: skip
        steps.append(
            (
                run_id, template.history["step_id"], template.history["kind"],
                template.history["outcome"], json.dumps(detail), stamp(now), f"{key}:waiting",
            )
        )  # fmt: skip
        timers.append((run_id, key, "wait", stamp(due), "PENDING", 0, "{}", stamp(now)))
    return Rows(runs, steps, timers)


def chunks(items: list[tuple[Any, ...]], size: int = 20_000) -> Iterator[list[tuple[Any, ...]]]:
    for offset in range(0, len(items), size):
        yield items[offset : offset + size]
