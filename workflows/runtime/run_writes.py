"""The writes every run transition makes, buffered and sent together.

Each transition records history lines, schedules or cancels the run's timers and saves the
run. They are the same few statements for every run, so the transitions of a batch (the
timers of one ``fire_timers`` message) send each kind as one ``executemany`` instead of one
statement per write per run: on the timer hot path that is most of a transition's cost.

Everything is written inside the caller's transaction. Effects that go through the domain
services (e-mails, tasks, field updates, enrolments) call :meth:`RunWrites.flush` first, so the
database sees the writes in the order the engine asked for them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from domain.persistence import models as m
from domain.persistence.params import placeholders
from workflows.runtime.timers import upsert_run_timer_sql, utc

_STEP_COLUMNS = ("run_id", "step_id", "kind", "outcome", "detail", "at", "input_key")
_RUN_COLUMNS = ("state_json", "state", "split_arm", "ended_at", "lock_version")


@dataclass
class RunWrites:
    """History lines, timer changes and run saves waiting for :meth:`flush`."""

    connection: Any
    steps: list[list[Any]] = field(default_factory=list)
    #: The last change asked for each timer ``(run_id, key)``: ``(due_at, purpose)`` to
    #: schedule it, None to cancel it. Only the last one matters (a later schedule replaces
    #: the row, a later cancel cancels it).
    timers: dict[tuple[int, str], tuple[dt.datetime, str] | None] = field(default_factory=dict)
    runs: dict[int, m.WorkflowRun] = field(default_factory=dict)
    #: Actions refused while carrying out (a template that does not render for this subject):
    #: ``(run_id, step_id, kind, key, error)``, reported to their runs once the writes are in.
    failed: list[tuple[int, str, str, str, str]] = field(default_factory=list)

    def record_step(
        self,
        run_id: int,
        *,
        step_id: str,
        kind: str,
        outcome: str,
        detail: Any,
        at: dt.datetime,
        input_key: str | None,
    ) -> None:
        self.steps.append([run_id, step_id, kind, outcome, detail, at, input_key])

    def schedule_timer(self, run_id: int, key: str, due_at: dt.datetime, purpose: str) -> None:
        """Create or replace the run's timer ``key`` (new due time, unclaimed, unfired)."""
        self.timers[(run_id, key)] = (utc(due_at), purpose)

    def cancel_timer(self, run_id: int, key: str) -> None:
        """Cancel the run's timer ``key`` if it has not fired."""
        self.timers[(run_id, key)] = None

    def save_run(self, run: m.WorkflowRun) -> None:
        """Save the run's state columns (the row as it is when flushed)."""
        self.runs[run.id] = run

    async def flush(self) -> None:
        """Send what is buffered: history, then timers, then runs (one statement per kind)."""
        if self.steps:
            await self._insert_steps()
        if self.timers:
            await self._write_timers()
        if self.runs:
            await self._save_runs()

    async def _insert_steps(self) -> None:
        detail = m.WorkflowRunStep._meta.fields_map["detail"]
        rows = [
            [*row[:4], detail.to_db_value(row[4], m.WorkflowRunStep), *row[5:]]
            for row in self.steps
        ]
        self.steps = []
        marks = ", ".join(placeholders(self.connection, len(_STEP_COLUMNS)))
        await self.connection.execute_many(
            f"INSERT INTO workflow_run_steps ({', '.join(_STEP_COLUMNS)}) VALUES ({marks})", rows
        )

    async def _write_timers(self) -> None:
        created = dt.datetime.now(dt.UTC)
        scheduled = [
            [run_id, key, change[1], change[0], "{}", created]
            for (run_id, key), change in self.timers.items()
            if change is not None
        ]
        cancelled = [[run_id, key] for (run_id, key), change in self.timers.items() if not change]
        self.timers = {}
        if scheduled:
            await self.connection.execute_many(upsert_run_timer_sql(self.connection), scheduled)
        if cancelled:
            first, second = placeholders(self.connection, 2)
            await self.connection.execute_many(
                "UPDATE timers SET status = 'CANCELLED', claim_token = NULL, "
                f"claimed_until = NULL WHERE run_id = {first} AND key = {second} "
                "AND status IN ('PENDING', 'CLAIMED')",
                cancelled,
            )

    async def _save_runs(self) -> None:
        state_json = m.WorkflowRun._meta.fields_map["state_json"]
        rows = [
            [
                state_json.to_db_value(run.state_json, run),
                run.state,
                run.split_arm,
                run.ended_at,
                run.lock_version,
                run.id,
            ]
            for run in self.runs.values()
        ]
        self.runs = {}
        marks = placeholders(self.connection, len(_RUN_COLUMNS) + 1)
        assignments = ", ".join(
            f"{column} = {mark}" for column, mark in zip(_RUN_COLUMNS, marks, strict=False)
        )
        await self.connection.execute_many(
            f"UPDATE workflow_runs SET {assignments} WHERE id = {marks[-1]}", rows
        )
