"""Moving live runs from one version of a workflow to another, explicitly (an admin's act).

Runs stay on the version they started with; an admin may move the live runs of version N to
version M, mapping the steps they are at (``old_step=new_step``). A step id that exists in
both versions maps to itself without being named. Everything is checked before anything moves:
a run at a step with no counterpart in M refuses the whole migration with a ValidationFailed
listing those step ids. Then, in one transaction, every run is re-pinned, its per-step memory
(visits, split arms, moved waits) follows the map, and:

- a run waiting at a ``wait`` mapped to a ``wait`` (or a ``wait_for`` to a ``wait_for``)
  keeps its due time: its timer is re-keyed to the new step, not restarted; a ``wait_for``
  now awaits the event (and ``when``) the new step names;
- any other run (held by the send window, a paused workflow, or mapped to a different kind
  of step) starts the mapped step afresh, now: an action runs, a wait starts counting, an
  e-mail is held again if the window is closed. Goal and exit conditions are checked first.

Each run gets a ``migrate`` line in its history and an audit entry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from tortoise.transactions import in_transaction

from domain.errors import NotFound, ValidationFailed
from domain.persistence import models as m
from domain.recording import Record, record_many
from workflows.engine import RunState, SubjectChanged
from workflows.engine.model import Waiting
from workflows.engine.positions import find_step, step_at, step_id, step_kind
from workflows.language.spec import Workflow
from workflows.runtime.deploy import version_definitions
from workflows.runtime.runs import LIVE_STATES, apply_input
from workflows.runtime.timers import schedule_timer

__all__ = ["UnmappedSteps", "migrate_runs"]

#: Per-step memory in ``RunState.vars``, keyed by step id.
_PER_STEP_VARS = ("visits", "splits", "moves")
_KEEPS_TIMER = {("wait", "wait"), ("wait_for", "wait_for")}


class UnmappedSteps(ValidationFailed):
    """Live runs are at steps the target version does not have, and the map does not name."""

    def __init__(self, step_ids: list[str], to_version: int) -> None:
        listed = ", ".join(step_ids)
        super().__init__(
            "stepMap",
            f"runs are at steps that version {to_version} does not have: {listed}; "
            "map each to a step of the new version",
            "UNMAPPED_STEPS",
        )
        self.step_ids = step_ids


async def _version(workflow_row: m.Workflow, number: int) -> m.WorkflowVersion:
    version = await m.WorkflowVersion.get_or_none(workflow_id=workflow_row.id, number=number)
    if version is None:
        raise NotFound("WorkflowVersion", f"{workflow_row.key} v{number}")
    return version


def _check_map(
    step_map: Mapping[str, str], old: Workflow, new: Workflow, from_v: int, to_v: int
) -> None:
    unknown = sorted(source for source in step_map if find_step(old, source) is None)
    if unknown:
        raise ValidationFailed(
            "stepMap", f"no step {', '.join(unknown)} in version {from_v}", "UNKNOWN_STEP"
        )
    missing = sorted({target for target in step_map.values() if find_step(new, target) is None})
    if missing:
        raise ValidationFailed(
            "stepMap", f"no step {', '.join(missing)} in version {to_v}", "UNKNOWN_STEP"
        )


def _position_id(definition: Workflow, state: RunState) -> str | None:
    if state.position is None:
        return None
    return step_id(step_at(definition, state.position), state.position)


async def migrate_runs(
    key: str,
    from_version: int,
    to_version: int,
    step_map: Mapping[str, str],
    *,
    actor: str,
    now: dt.datetime,
) -> int:
    """Move every live run of `key` from version `from_version` to `to_version`; returns how
    many moved. All or nothing."""
    if from_version == to_version:
        raise ValidationFailed("toVersion", "the runs are on that version already", "SAME_VERSION")
    async with in_transaction() as connection:
        workflow_row = await m.Workflow.get_or_none(key=key)
        if workflow_row is None:
            raise NotFound("Workflow", key)
        source = await _version(workflow_row, from_version)
        target = await _version(workflow_row, to_version)
        old, _ = version_definitions(source)
        new, _ = version_definitions(target)
        _check_map(step_map, old, new, from_version, to_version)
        query = m.WorkflowRun.filter(version_id=source.id, state__in=LIVE_STATES).order_by("id")
        if connection.capabilities.dialect == "postgres":
            query = query.select_for_update()
        runs = await query.using_db(connection)
        at: dict[int, str | None] = {
            run.id: _position_id(old, RunState.from_json(run.state_json)) for run in runs
        }
        unmapped = sorted(
            {
                sid
                for sid in at.values()
                if sid is not None and sid not in step_map and find_step(new, sid) is None
            }
        )
        if unmapped:
            raise UnmappedSteps(unmapped, to_version)
        audits: list[Record] = []
        restart: list[m.WorkflowRun] = []
        for run in runs:
            detail = await _move(run, old, new, step_map, target, now)
            detail |= {"fromVersion": from_version, "toVersion": to_version}
            await m.WorkflowRunStep.create(
                run_id=run.id,
                step_id=detail["toStep"] or "run",
                kind="migrate",
                outcome="MIGRATED",
                detail=detail,
                at=now,
                input_key=f"migrate:{source.id}:{target.id}:{run.lock_version}",
            )
            audits.append(
                Record(
                    actor,
                    "workflow_run.migrate",
                    "WorkflowRun",
                    run.id,
                    {"version": [from_version, to_version], "step": [at[run.id], detail["toStep"]]},
                )
            )
            if detail["timer"] == "restarted":
                restart.append(run)
        await record_many(audits)
        for run in restart:
            await apply_input(run, SubjectChanged(now=now), now)
    return len(runs)


async def _move(
    run: m.WorkflowRun,
    old: Workflow,
    new: Workflow,
    step_map: Mapping[str, str],
    target: m.WorkflowVersion,
    now: dt.datetime,
) -> dict[str, Any]:
    """Re-pin one run (inside the caller's transaction); returns what its history records."""
    state = RunState.from_json(run.state_json)
    old_sid = _position_id(old, state)
    for bucket in _PER_STEP_VARS:
        memory = state.vars.get(bucket)
        if isinstance(memory, dict):
            state.vars[bucket] = {step_map.get(sid, sid): value for sid, value in memory.items()}
    new_sid = step_map.get(old_sid, old_sid) if old_sid is not None else None
    new_path = find_step(new, new_sid) if new_sid is not None else None
    kinds = (
        step_kind(step_at(old, state.position)) if state.position is not None else None,
        step_kind(step_at(new, new_path)) if new_path is not None else None,
    )
    waiting = state.waiting
    kept = False
    if (
        waiting is not None
        and waiting.reason in ("timer", "event")
        and kinds in _KEEPS_TIMER
        and new_path is not None
        and new_sid is not None
    ):
        kept = True
        visit = int(state.vars.get("visits", {}).get(new_sid, 1))
        new_key = f"{run.id}:{new_sid}:{visit}"
        if waiting.timer_key != new_key:
            await _cancel_timers(run)
            if waiting.due_at is not None:
                purpose = "wait" if waiting.reason == "timer" else "timeout"
                await schedule_timer(
                    run_id=run.id, key=new_key, due_at=waiting.due_at, purpose=purpose
                )
            waiting.timer_key = new_key
        if kinds == ("wait_for", "wait_for"):
            awaited = step_at(new, new_path).wait_for
            waiting.event, waiting.when = awaited.event, awaited.when
        state.position = new_path
    else:
        # Start the mapped step afresh: hold the run there, and the caller resumes it.
        await _cancel_timers(run)
        state.position = new_path
        state.status, state.waiting = "WAITING", Waiting("paused")
    run.version_id = target.id
    run.state_json = state.to_json()
    run.state = state.status
    run.lock_version += 1
    await run.save()
    return {
        "fromStep": old_sid,
        "toStep": new_sid,
        "timer": "kept" if kept else "restarted",
        "dueAt": waiting.due_at.isoformat() if kept and waiting and waiting.due_at else None,
    }


async def _cancel_timers(run: m.WorkflowRun) -> None:
    await m.Timer.filter(run_id=run.id, status__in=("PENDING", "CLAIMED")).update(
        status="CANCELLED", claim_token=None, claimed_until=None
    )
