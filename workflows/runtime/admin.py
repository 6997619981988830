"""What administrators do to workflows and runs: pause, resume, enroll by hand, cancel, retry;
and what they read about the engine's health: timer lateness over the last minutes.

Each use case is one transaction and writes its audit entry in it. Runs change through
:func:`workflows.runtime.runs.apply_input` (resume, retry) or, for a cancellation, by ending
the run here: the engine has no "cancelled" input, and a cancelled run runs no more steps.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from tortoise.transactions import in_transaction

from domain.errors import Conflict, NotFound
from domain.persistence import models as m
from domain.recording import record
from workflows.engine import RunState, SubjectChanged, should_enroll
from workflows.engine.model import ENDED, Waiting
from workflows.engine.positions import find_step, step_at, step_id
from workflows.language.spec import ManualTrigger
from workflows.runtime import dates, schedules
from workflows.runtime.deploy import version_definitions
from workflows.runtime.runs import LIVE_STATES, apply_input, enroll, enrollment_history
from workflows.runtime.subjects import load_subject
from workflows.runtime.timers import cancel_timer, utc

CANCELLED = "cancelled"


async def _workflow(key: str) -> m.Workflow:
    row = await m.Workflow.get_or_none(key=key)
    if row is None:
        raise NotFound("Workflow", key)
    return row


async def _run(run_id: int) -> m.WorkflowRun:
    run = await m.WorkflowRun.get_or_none(id=run_id)
    if run is None:
        raise NotFound("WorkflowRun", run_id)
    return run


async def pause_workflow(key: str, *, actor: str) -> m.Workflow:
    """No new enrollments; live runs hold before their next step (the engine's ``paused``)."""
    async with in_transaction():
        row = await _workflow(key)
        if row.status != "PAUSED":
            await m.Workflow.filter(id=row.id).update(status="PAUSED")
            await record(
                actor, "workflow.pause", "Workflow", row.id, {"status": [row.status, "PAUSED"]}
            )
            row.status = "PAUSED"
    return row


async def resume_workflow(key: str, *, actor: str, now: dt.datetime) -> m.Workflow:
    """Enroll again, and let every held live run continue (a ``SubjectChanged`` input each)."""
    async with in_transaction():
        row = await _workflow(key)
        was = row.status
        if was != "ACTIVE":
            await m.Workflow.filter(id=row.id).update(status="ACTIVE")
            await record(actor, "workflow.resume", "Workflow", row.id, {"status": [was, "ACTIVE"]})
            row.status = "ACTIVE"
            if row.current_version_id is not None:
                # A version deployed while paused armed no schedule tick and no date timers.
                version = await m.WorkflowVersion.get(id=row.current_version_id)
                definition, _ = version_definitions(version)
                await schedules.arm(row, definition, now)
                await dates.arm_workflow(row, definition, now)
        for run in await m.WorkflowRun.filter(workflow_id=row.id, state__in=LIVE_STATES).order_by(
            "id"
        ):
            await apply_input(run, SubjectChanged(now=now), now)
    return row


async def enroll_manually(
    key: str, subject_type: str, subject_id: int, *, actor: str, now: dt.datetime
) -> m.WorkflowRun:
    """Start a run for the subject; a Conflict (with the rules' reason) when they refuse."""
    async with in_transaction():
        row = await _workflow(key)
        if row.subject != subject_type:
            raise Conflict(
                f"workflow {key} runs on {row.subject}, not {subject_type}", field="subjectId"
            )
        if row.status != "ACTIVE":
            raise Conflict(f"workflow {key} is paused", field="key")
        if row.current_version_id is None:
            raise Conflict(f"workflow {key} has no deployed version", field="key")
        version = await m.WorkflowVersion.get(id=row.current_version_id)
        definition, _ = version_definitions(version)
        if not isinstance(definition.trigger, ManualTrigger):
            raise Conflict(
                f"workflow {key} is not enrolled by hand (trigger is not manual)", field="key"
            )
        subject = await load_subject(subject_type, subject_id)
        if subject is None:
            raise NotFound(subject_type.capitalize(), subject_id)
        history = await enrollment_history(row.id, subject_type, subject_id, now)
        allowed, reason = should_enroll(definition, subject, None, history)
        if not allowed:
            raise Conflict(f"not enrolled: {reason}", field="subjectId")
        run = await enroll(row, subject_type, subject_id, now, actor=actor, trigger="manual")
        if run is None:  # the same rules, checked again by enroll()
            raise Conflict("not enrolled", field="subjectId")
    return run


async def cancel_run(run_id: int, *, actor: str, now: dt.datetime) -> m.WorkflowRun:
    """End a live run as EXITED ("cancelled") and cancel its pending timers."""
    async with in_transaction() as connection:
        if connection.capabilities.dialect == "postgres":
            run = (
                await m.WorkflowRun.select_for_update().using_db(connection).get_or_none(id=run_id)
            )
        else:
            run = await m.WorkflowRun.get_or_none(id=run_id)
        if run is None:
            raise NotFound("WorkflowRun", run_id)
        if run.state in ENDED:
            raise Conflict(f"run {run_id} already ended ({run.state})", field="id")
        state = RunState.from_json(run.state_json)
        sid = "run"
        if state.position is not None:
            version = await m.WorkflowVersion.get(id=run.version_id)
            definition, _ = version_definitions(version)
            sid = step_id(step_at(definition, state.position), state.position)
        keys = await m.Timer.filter(run_id=run.id, status__in=("PENDING", "CLAIMED")).values_list(
            "key", flat=True
        )
        for key in keys:
            await cancel_timer(run_id=run.id, key=str(key))
        before = run.state
        state.status, state.ended_reason = "EXITED", CANCELLED
        state.waiting, state.position = None, None
        run.state_json = state.to_json()
        run.state = "EXITED"
        run.ended_at = now
        run.lock_version += 1
        await run.save()
        await m.WorkflowRunStep.create(
            run_id=run.id,
            step_id=sid,
            kind="cancel",
            outcome="DONE",
            detail={"reason": CANCELLED, "actor": actor},
            at=now,
            input_key=f"{run.id}:cancel",
        )
        await record(
            actor, "workflow_run.cancel", "WorkflowRun", run.id, {"state": [before, "EXITED"]}
        )
    return run


async def retry_run(run_id: int, *, actor: str, now: dt.datetime) -> m.WorkflowRun:
    """Re-run a FAILED run from the step that failed.

    The engine forgets a failed run's position (``end_run`` clears it), so the step comes from
    the run's history: its latest FAILED line. The run is put back at that step, held as if
    its workflow were paused, and a ``SubjectChanged`` input resumes it there (the goal and
    exit conditions are checked first; a paused workflow keeps it held). The step runs as a
    new visit, so its side effects get fresh idempotency keys.
    """
    async with in_transaction():
        run = await _run(run_id)
        if run.state != "FAILED":
            raise Conflict(f"run {run_id} is {run.state}, only FAILED runs are retried", field="id")
        failed = (
            await m.WorkflowRunStep.filter(run_id=run.id, outcome="FAILED").order_by("-id").first()
        )
        version = await m.WorkflowVersion.get(id=run.version_id)
        definition, _ = version_definitions(version)
        path = find_step(definition, failed.step_id) if failed is not None else None
        if path is None:
            raise Conflict(f"run {run_id} has no failed step to retry from", field="id")
        state = RunState.from_json(run.state_json)
        state.status, state.ended_reason = "WAITING", None
        state.position, state.waiting = path, Waiting("paused")
        run.state_json = state.to_json()
        run.state = "WAITING"
        run.ended_at = None
        run.lock_version += 1
        await run.save()
        await record(
            actor,
            "workflow_run.retry",
            "WorkflowRun",
            run.id,
            {"state": ["FAILED", "ACTIVE"], "step": [None, failed.step_id if failed else None]},
        )
        # The run exists: this transaction holds it.
        run = await apply_input(run, SubjectChanged(now=now), now) or run
    return run


@dataclass(frozen=True)
class TimerLateness:
    """How late timers fired (``fired_at - due_at``, seconds) in ``[since, until]``; the
    percentiles are nearest-rank, and None when no timer fired in the window."""

    since: dt.datetime
    until: dt.datetime
    fired: int
    p50: float | None
    p99: float | None
    max: float | None


async def timer_lateness(
    *, now: dt.datetime, window: dt.timedelta = dt.timedelta(minutes=15)
) -> TimerLateness:
    """Lateness of the timers fired in the last ``window`` before ``now`` (the spec's "timers
    fire on time" made measurable; Prometheus has the same per process, this is per database).

    Read from the timers themselves: a FIRED timer keeps its due time and its firing time, and
    the ``(status, fired_at)`` index finds the window's rows.
    """
    if window <= dt.timedelta(0):
        raise ValueError(f"window must be positive, not {window}")
    until = utc(now)
    since = until - window
    connection = m.Timer._meta.db
    if connection.capabilities.dialect == "postgres":
        lateness = "extract(epoch FROM fired_at - due_at)"
        marks = ("$1", "$2", "$3")
    else:
        lateness = "(julianday(fired_at) - julianday(due_at)) * 86400.0"
        marks = ("?", "?", "?")
    where = f"status = 'FIRED' AND fired_at >= {marks[0]} AND fired_at <= {marks[1]}"
    (totals,) = await connection.execute_query_dict(
        f"SELECT count(*) AS fired, max({lateness}) AS worst FROM timers WHERE {where}",
        [since, until],
    )
    fired = int(totals["fired"])
    if not fired:
        return TimerLateness(since, until, 0, None, None, None)

    async def nearest_rank(percent: float) -> float:
        offset = max(math.ceil(percent / 100 * fired), 1) - 1
        (row,) = await connection.execute_query_dict(
            f"SELECT {lateness} AS late FROM timers WHERE {where} "
            f"ORDER BY late LIMIT 1 OFFSET {marks[2]}",
            [since, until, offset],
        )
        return float(row["late"])

    return TimerLateness(
        since, until, fired, await nearest_rank(50), await nearest_rank(99), float(totals["worst"])
    )
