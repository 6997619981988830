"""Runs in the database: enrolling subjects and applying inputs, each in one transaction.

``apply_input`` is the only place a run changes: it locks the run (PostgreSQL: FOR UPDATE;
SQLite serializes writers), asks the pure engine for the transition, and writes the new state,
the step history, the timers and the actions' effects together. Callers run it inside the
transaction that consumed the input (a fired timer, a relayed event), so an input is applied
exactly once even when its message is delivered twice.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tortoise.transactions import in_transaction

from domain.calendars import BUILTIN_CALENDARS, BusinessCalendar
from domain.persistence import models as m
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
from workflows.language.validate import Definitions
from workflows.runtime.actions import carry_out
from workflows.runtime.deploy import version_definitions
from workflows.runtime.subjects import load_subject

LIVE_STATES = ("ACTIVE", "WAITING")


def _calendars(definitions: Definitions) -> dict[str, BusinessCalendar]:
    calendars = dict(BUILTIN_CALENDARS)
    for key, data in definitions.calendars.items():
        calendars[key] = BusinessCalendar.from_data(key, data)
    return calendars


async def apply_input(run: m.WorkflowRun, event: Input, now: dt.datetime) -> m.WorkflowRun:
    async with in_transaction() as connection:
        if connection.capabilities.dialect == "postgres":
            run = await m.WorkflowRun.select_for_update().using_db(connection).get(id=run.id)
        else:
            run = await m.WorkflowRun.get(id=run.id)
        if run.state in ENDED:
            return run
        version = await m.WorkflowVersion.get(id=run.version_id)
        workflow_row = await m.Workflow.get(id=run.workflow_id)
        definition, definitions = version_definitions(version)
        subject = await load_subject(run.subject_type, run.subject_id)
        env = Environment(
            run_id=str(run.id),
            started_at=run.started_at,
            subject=subject or {"deleted": True},
            calendars=_calendars(definitions),
            paused=workflow_row.status == "PAUSED",
        )
        transition = advance(definition, RunState.from_json(run.state_json), event, env)
        await carry_out(
            run,
            transition.commands,
            definitions,
            subject or {},
            now,
            enroll_by_key,
            event=transition.state.vars.get("event"),
        )
        state = transition.state
        run.state_json = state.to_json()
        run.state = state.status
        splits = state.vars.get("splits")
        if isinstance(splits, dict) and splits and run.split_arm is None:
            run.split_arm = str(next(iter(splits.values())))
        if state.status in ENDED and run.ended_at is None:
            run.ended_at = now
        run.lock_version += 1
        await run.save()
        return run


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
    version = await m.WorkflowVersion.get(id=workflow_row.current_version_id)
    definition, _ = version_definitions(version)
    subject = await load_subject(subject_type, subject_id)
    if subject is None:
        return None
    earlier = await m.WorkflowRun.filter(
        workflow_id=workflow_row.id, subject_type=subject_type, subject_id=subject_id
    ).values_list("started_at", "state")
    history = EnrollmentHistory(
        now=now,
        started_at=tuple(started for started, _ in earlier),
        active=any(state in LIVE_STATES for _, state in earlier),
    )
    allowed, _reason = should_enroll(definition, subject, event, history)
    if not allowed:
        return None
    run = await m.WorkflowRun.create(
        workflow_id=workflow_row.id,
        version_id=version.id,
        subject_type=subject_type,
        subject_id=subject_id,
        state="ACTIVE",
        state_json=RunState().to_json(),
        started_at=now,
    )
    changes = {
        "workflow": [None, workflow_row.key],
        "subject": [None, f"{subject_type}:{subject_id}"],
        "trigger": [None, trigger],
    }
    await record(actor, "workflow.enroll", "WorkflowRun", run.id, changes)
    return await apply_input(run, Start(now=now, event=event), now)


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
