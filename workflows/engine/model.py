"""The vocabulary of the pure workflow engine: a run's state, what can happen to it (inputs),
and what the engine asks the outside world to do (commands).

The engine is a function ``(definition, state, input, environment) -> (state, commands)``
with no I/O: the durable runtime persists the state and carries out the commands in one
transaction, and the simulator feeds it a virtual clock. Everything here is plain data so a
state round-trips through JSON (``to_json``/``from_json``) into the ``workflow_runs`` table.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

RunStatus = Literal["ACTIVE", "WAITING", "CONVERTED", "EXITED", "COMPLETED", "FAILED"]
ENDED: frozenset[str] = frozenset({"CONVERTED", "EXITED", "COMPLETED", "FAILED"})

#: A position in the step tree: keys and indexes from the workflow's root, e.g.
#: ("steps", 3, "on_timeout", 0) or ("steps", 5, "split", 1, "steps", 0).
StepPath = tuple[str | int, ...]


@dataclass
class Waiting:
    """Why a run is not advancing, and what wakes it."""

    reason: Literal["timer", "event", "window", "retry", "paused"]
    timer_key: str | None = None  # the ScheduleTimer key that wakes it
    due_at: dt.datetime | None = None
    event: str | None = None  # for wait_for: the awaited event name
    when: str | None = None  # for wait_for: its CEL condition


@dataclass
class RunState:
    status: RunStatus = "ACTIVE"
    position: StepPath | None = ("steps", 0)  # the next step to run; None once finished
    waiting: Waiting | None = None
    #: Sticky choices and counters: split arms by step id, retry attempts by step id, the
    #: number of times each step ran (``visits``, for idempotency keys), ``run.vars``.
    vars: dict[str, Any] = field(default_factory=dict)
    ended_reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["position"] = list(self.position) if self.position is not None else None
        if self.waiting is not None and self.waiting.due_at is not None:
            data["waiting"]["due_at"] = self.waiting.due_at.isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunState:
        waiting = data.get("waiting")
        if waiting is not None:
            due = waiting.get("due_at")
            waiting = Waiting(
                **{**waiting, "due_at": dt.datetime.fromisoformat(due) if due else None}
            )
        position = data.get("position")
        return cls(
            status=data["status"],
            position=tuple(position) if position is not None else None,
            waiting=waiting,
            vars=data.get("vars", {}),
            ended_reason=data.get("ended_reason"),
        )


# ---- inputs -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Start:
    """Enrollment: run the steps from the top. ``event`` is the triggering event, if any."""

    now: dt.datetime
    event: dict[str, Any] | None = None


@dataclass(frozen=True)
class TimerFired:
    key: str
    now: dt.datetime


@dataclass(frozen=True)
class EventArrived:
    """A domain event about the run's subject (``data`` is the event map CEL sees)."""

    name: str
    data: dict[str, Any]
    now: dt.datetime


@dataclass(frozen=True)
class SubjectChanged:
    """The subject changed: goal and exit_when are re-checked."""

    now: dt.datetime


@dataclass(frozen=True)
class ActionFailed:
    """An outboxed action (email, webhook) gave up after its retries."""

    step_id: str
    error: str
    now: dt.datetime


Input = Start | TimerFired | EventArrived | SubjectChanged | ActionFailed


# ---- commands -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    #: Unique per (run, step, visit): the side effect's idempotency key.
    key: str
    step_id: str


@dataclass(frozen=True)
class SendEmail(Command):
    template: str
    to: str  # "subject" | "owner" | "subject.<path>" | an e-mail address
    retry: dict[str, Any] | None = None


@dataclass(frozen=True)
class Notify(Command):
    to: str  # owner | assignee | team_lead | manager | an e-mail address
    template: str


@dataclass(frozen=True)
class CreateTask(Command):
    title: str  # rendered
    assignee: Any  # "owner" | {"round_robin": team} | e-mail
    due_at: dt.datetime | None


@dataclass(frozen=True)
class UpdateSubject(Command):
    values: dict[str, Any]  # evaluated


@dataclass(frozen=True)
class ChangeTags(Command):
    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()


@dataclass(frozen=True)
class AssignOwner(Command):
    owner: Any  # {"round_robin": team} | {"least_loaded": team} | e-mail


@dataclass(frozen=True)
class CallWebhook(Command):
    url: str
    body: Any
    headers: dict[str, str]
    retry: dict[str, Any] | None = None


@dataclass(frozen=True)
class EnrollOther(Command):
    workflow: str


@dataclass(frozen=True)
class Escalate(Command):
    level: int
    to: str | None


@dataclass(frozen=True)
class ScheduleTimer(Command):
    """Wake the run at ``due_at`` with ``TimerFired(key)``; replaces a timer of the same key."""

    due_at: dt.datetime
    purpose: str  # wait | timeout | window | retry


@dataclass(frozen=True)
class CancelTimer(Command):
    pass


@dataclass(frozen=True)
class RecordStep(Command):
    """One line of the run's history: what a step did, and why (branch taken, skip reason)."""

    kind: str
    outcome: str  # DONE | SKIPPED | SUPPRESSED | WAITING | TIMED_OUT | MATCHED | FAILED
    detail: dict[str, Any]
    at: dt.datetime


@dataclass(frozen=True)
class EndRun(Command):
    status: RunStatus
    reason: str


@dataclass
class Transition:
    state: RunState
    commands: list[Command]
