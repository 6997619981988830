"""Runs in the database: enrolling subjects and applying inputs, each in one transaction.

``apply_inputs`` (and ``apply_input``, its one-run form) is the only place a run changes: it
locks the runs (PostgreSQL: FOR UPDATE; SQLite serializes writers), asks the pure engine for
each transition, and writes the new states, the step history, the timers and the actions'
effects together. Callers run it inside the transaction that consumed the input (fired timers,
a relayed event), so an input is applied exactly once even when its message is delivered
twice. A batch of inputs (the timers of one ``fire_timers`` message) costs the same handful
of statements as one: the runs are read in one, their subjects loaded together, and their
writes sent with one statement per kind (:mod:`~workflows.runtime.run_writes`).
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from domain.persistence import models as m
from domain.persistence.params import placeholders
from domain.recording import record
from workflows.engine import (
    EnrollmentHistory,
    Environment,
    Input,
    RunState,
    Start,
    advance,
    should_enroll,
)
from workflows.engine.model import ENDED
from workflows.runtime.actions import carry_out
from workflows.runtime.email import report_failure
from workflows.runtime.run_writes import RunWrites
from workflows.runtime.segments import suppression_condition
from workflows.runtime.subjects import load_subject, load_subjects
from workflows.runtime.versions import load_version

LIVE_STATES = ("ACTIVE", "WAITING")


#: The runs, their workflows' status and their versions' hash: what a transition reads first.
_LOCK_RUNS = (
    "SELECT r.*, w.status AS workflow_status, v.content_hash AS version_hash "
    "FROM workflow_runs r JOIN workflows w ON w.id = r.workflow_id "
    "JOIN workflow_versions v ON v.id = r.version_id WHERE r.id IN ({marks}) ORDER BY r.id"
)


@dataclass
class _Locked:
    run: m.WorkflowRun
    workflow_status: str
    version_hash: str


async def _lock_runs(connection: Any, run_ids: list[int]) -> dict[int, _Locked]:
    """The runs (PostgreSQL: locked FOR UPDATE, in id order so concurrent batches cannot
    deadlock on them; SQLite serializes writers) with their workflow's status and their
    version's content hash, in one statement. Missing runs are absent."""
    sql = _LOCK_RUNS.format(marks=", ".join(placeholders(connection, len(run_ids))))
    if connection.capabilities.dialect == "postgres":
        sql += " FOR UPDATE OF r"
    locked: dict[int, _Locked] = {}
    for row in await connection.execute_query_dict(sql, run_ids):
        # The ORM's own row-to-model conversion (SQLite's text datetimes, JSON columns); it
        # ignores the two extra columns.
        run = m.WorkflowRun._init_from_db(**row)
        locked[run.id] = _Locked(run, str(row["workflow_status"]), str(row["version_hash"]))
    return locked


class _Subjects:
    """The subjects of a batch's runs, loaded together; reloaded one by one once a transition
    has changed records beyond its own run (a field update, a tag), which may be one of them."""

    def __init__(self) -> None:
        self.maps: dict[tuple[str, int], dict[str, Any] | None] = {}

    async def preload(self, runs: list[m.WorkflowRun]) -> None:
        by_type: dict[str, set[int]] = {}
        for run in runs:
            by_type.setdefault(run.subject_type, set()).add(run.subject_id)
        for subject_type, ids in by_type.items():
            found = await load_subjects(subject_type, ids)
            for subject_id in ids:
                self.maps[(subject_type, subject_id)] = found.get(subject_id)

    async def get(self, subject_type: str, subject_id: int) -> dict[str, Any] | None:
        key = (subject_type, subject_id)
        if key not in self.maps:
            self.maps[key] = await load_subject(subject_type, subject_id)
        return self.maps[key]

    def forget(self) -> None:
        self.maps.clear()


async def apply_input(
    run: m.WorkflowRun | int, event: Input, now: dt.datetime
) -> m.WorkflowRun | None:
    """Apply ``event`` to the run (a row or its id) in one transaction; the run as saved, or
    None when it does not exist. An ended run is returned unchanged."""
    run_id = run if isinstance(run, int) else run.id
    (result,) = await apply_inputs([(run_id, event)], now)
    return result


async def apply_inputs(
    inputs: Sequence[tuple[int, Input]], now: dt.datetime
) -> list[m.WorkflowRun | None]:
    """Apply each ``(run id, input)`` in order, all in one transaction (the caller's, if it
    has one); per input, the run as saved, or None when it does not exist.

    The runs are read and locked with one statement, their subjects loaded together, and
    their history, timers and states written with one statement per kind (:class:`RunWrites`).
    A run given several inputs takes them in order, one per round, each round seeing the
    previous one's writes.
    """
    results: list[m.WorkflowRun | None] = [None] * len(inputs)
    pending = list(enumerate(inputs))
    async with in_transaction() as connection:
        while pending:
            batch: list[tuple[int, int, Input]] = []
            later: list[tuple[int, tuple[int, Input]]] = []
            seen: set[int] = set()
            for index, (run_id, event) in pending:
                if run_id in seen:
                    later.append((index, (run_id, event)))
                else:
                    seen.add(run_id)
                    batch.append((index, run_id, event))
            await _apply_round(connection, batch, now, results)
            pending = later
    return results


async def _apply_round(
    connection: Any,
    batch: list[tuple[int, int, Input]],
    now: dt.datetime,
    results: list[m.WorkflowRun | None],
) -> None:
    locked = await _lock_runs(connection, sorted({run_id for _, run_id, _ in batch}))
    subjects = _Subjects()
    await subjects.preload([entry.run for entry in locked.values() if entry.run.state not in ENDED])
    writes = RunWrites(connection)
    # One read per batch: the suppression segment applies to mail to customers and deals' ones.
    marketable = any(
        entry.run.subject_type in ("customer", "opportunity") for entry in locked.values()
    )
    suppression = await suppression_condition() if marketable else None
    for index, run_id, event in batch:
        entry = locked.get(run_id)
        if entry is None:
            continue
        row = results[index] = entry.run
        if row.state in ENDED:
            continue
        version = await load_version(row.version_id, entry.version_hash)
        subject = await subjects.get(row.subject_type, row.subject_id)
        env = Environment(
            run_id=str(row.id),
            started_at=row.started_at,
            subject=subject or {"deleted": True},
            calendars=version.calendars,
            paused=entry.workflow_status == "PAUSED",
            templates=version.definitions.templates,
            suppression=suppression,
        )
        transition = advance(version.workflow, RunState.from_json(row.state_json), event, env)
        effects = await carry_out(
            row,
            transition.commands,
            version.definitions,
            dict(subject or {}),
            now,
            enroll_by_key,
            writes,
            event=transition.state.vars.get("event"),
        )
        if effects:
            subjects.forget()
        state = transition.state
        row.state_json = state.to_json()
        row.state = state.status
        splits = state.vars.get("splits")
        if isinstance(splits, dict) and splits and row.split_arm is None:
            row.split_arm = str(next(iter(splits.values())))
        if state.status in ENDED and row.ended_at is None:
            row.ended_at = now
        row.lock_version += 1
        writes.save_run(row)
    await writes.flush()
    failed, writes.failed = writes.failed, []
    for run_id, step_id, kind, key, error in failed:
        row = locked[run_id].run
        if row.state == "COMPLETED":
            # It ran its last step in this very transition: it did not complete, it failed
            # (a dead letter an admin can retry), whatever came after the failed step.
            _fail_completed(writes, row, step_id, kind, key, error, now)
            continue
        # After the flush: the run's new state is in, and the failure is its next input.
        await report_failure(run_id, step_id, kind, key, error, now)
    await writes.flush()


def _fail_completed(
    writes: RunWrites,
    row: m.WorkflowRun,
    step_id: str,
    kind: str,
    key: str,
    error: str,
    now: dt.datetime,
) -> None:
    state = RunState.from_json(row.state_json)
    state.status, state.ended_reason = "FAILED", f"step {step_id} failed: {error}"
    row.state, row.state_json = "FAILED", state.to_json()
    row.lock_version += 1
    writes.record_step(
        row.id,
        step_id=step_id,
        kind=kind,
        outcome="FAILED",
        detail={"error": error, "handled": False},
        at=now,
        input_key=f"{key}:failed",
    )
    writes.save_run(row)


async def enroll(
    workflow_row: m.Workflow,
    subject_type: str,
    subject_id: int,
    now: dt.datetime,
    event: dict[str, Any] | None = None,
    *,
    actor: str = "system",
    trigger: str = "event",
) -> m.WorkflowRun | None:
    """Start a run of the workflow's current version for the subject, if its rules allow.

    The start is audited (``workflow.enroll`` on the run) under ``actor``: who enrolled by hand,
    the run and step of an ``enroll`` action, else ``system`` with the ``trigger`` that fired.
    """
    if workflow_row.status != "ACTIVE" or workflow_row.current_version_id is None:
        return None
    # The caller's transaction if it has one (then a savepoint), else one of its own: the
    # PostgreSQL lock below is held until that transaction ends.
    async with in_transaction() as connection:
        await _lock_enrollment(connection, workflow_row.id, subject_type, subject_id)
        version = await load_version(workflow_row.current_version_id)
        definition = version.workflow
        subject = await load_subject(subject_type, subject_id)
        if subject is None:
            return None
        history = await enrollment_history(workflow_row.id, subject_type, subject_id, now)
        allowed, _reason = should_enroll(definition, subject, event, history)
        if not allowed:
            return None
        try:
            # A savepoint: should the unique index refuse the run after all, the caller's
            # transaction goes on (PostgreSQL would otherwise abort all of it).
            async with in_transaction():
                run = await m.WorkflowRun.create(
                    workflow_id=workflow_row.id,
                    version_id=version.id,
                    subject_type=subject_type,
                    subject_id=subject_id,
                    state="ACTIVE",
                    state_json=RunState().to_json(),
                    started_at=now,
                )
        except IntegrityError:  # workflow_runs_one_live_run: another live run got there first
            return None
        changes = {
            "workflow": [None, workflow_row.key],
            "subject": [None, f"{subject_type}:{subject_id}"],
            "trigger": [None, trigger],
        }
        await record(actor, "workflow.enroll", "WorkflowRun", run.id, changes)
        return await apply_input(run, Start(now=now, event=event), now)


async def enrollment_history(
    workflow_id: int, subject_type: str, subject_id: int, now: dt.datetime
) -> EnrollmentHistory:
    """The subject's earlier runs of the workflow, as the enrollment rules read them."""
    earlier = await m.WorkflowRun.filter(
        workflow_id=workflow_id, subject_type=subject_type, subject_id=subject_id
    ).values_list("started_at", "state")
    return EnrollmentHistory(
        now=now,
        started_at=tuple(started for started, _ in earlier),
        active=any(state in LIVE_STATES for _, state in earlier),
    )


async def _lock_enrollment(
    connection: Any, workflow_id: int, subject_type: str, subject_id: int
) -> None:
    """On PostgreSQL, serialize the enrollments of one subject in one workflow until the end of
    the transaction, so that the second reads the first's run and is refused by the rules.
    SQLite has one writer at a time. The unique index ``workflow_runs_one_live_run`` stays the
    last line of defence either way."""
    if connection.capabilities.dialect != "postgres":
        return
    await connection.execute_query(
        "SELECT pg_advisory_xact_lock($1, $2)",
        [_int4(workflow_id), _int4(zlib.crc32(f"{subject_type}:{subject_id}".encode()))],
    )


def _int4(value: int) -> int:
    """``value`` folded into a signed 32-bit integer (an advisory lock key)."""
    value &= 0xFFFFFFFF
    return value - 0x1_0000_0000 if value >= 0x8000_0000 else value


async def enroll_by_key(
    key: str, subject_type: str, subject_id: int, now: dt.datetime, *, actor: str
) -> None:
    """The ``enroll`` action of run step ``actor``: start another workflow for the subject."""
    workflow_row = await m.Workflow.get_or_none(key=key)
    if workflow_row is not None and workflow_row.subject == subject_type:
        await enroll(workflow_row, subject_type, subject_id, now, actor=actor, trigger="enroll")


async def live_runs(subject_type: str, subject_id: int) -> list[m.WorkflowRun]:
    return await m.WorkflowRun.filter(
        subject_type=subject_type, subject_id=subject_id, state__in=LIVE_STATES
    ).order_by("id")
