"""What one transition works with: the definition, the state being changed, the environment,
the input's instant and event, and the commands produced so far."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.calendars import BUILTIN_CALENDARS, BusinessCalendar
from workflows.language.spec import Workflow

from .environment import Environment
from .model import CancelTimer, Command, RecordStep, RunState

__all__ = ["Context", "cel_ready", "json_safe"]


def cel_ready(value: Any) -> Any:
    """`value` with every aware datetime on a fixed UTC offset: the CEL evaluator converts
    ``datetime.timezone`` offsets but not ``ZoneInfo`` zones."""
    if isinstance(value, dt.datetime):
        offset = value.utcoffset()
        return value if offset is None else value.astimezone(dt.timezone(offset))
    if isinstance(value, Mapping):
        return {key: cel_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [cel_ready(item) for item in value]
    return value


def json_safe(value: Any) -> Any:
    """`value` with datetimes as ISO-8601 text, so it can be stored in the run's JSON."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return value


@dataclass
class Context:
    workflow: Workflow
    env: Environment
    state: RunState
    now: dt.datetime
    event: Mapping[str, Any] | None = None
    commands: list[Command] = field(default_factory=list)
    subject: dict[str, Any] = field(default_factory=dict)

    _cel_subject: dict[str, Any] | None = field(default=None, init=False, repr=False)

    @cached_property
    def marketing(self) -> bool:
        """Whether this is a marketing workflow (see ``conditions.is_marketing``)."""
        from .conditions import is_marketing  # conditions imports this module

        return is_marketing(self.workflow)

    def __post_init__(self) -> None:
        # Changes made by this transition's own update/tag steps are seen by the steps after
        # them (goal, exit_when, conditions) before the runtime reloads the subject. A shallow
        # copy is enough: those steps replace values and copy nested maps before changing
        # them (see ``set_subject``), so the environment's subject is never changed.
        self.subject = dict(self.env.subject)

    def set_subject(self, path: str, value: Any) -> None:
        """Set a subject field (``a.b.c`` for a nested one) for the rest of this transition."""
        *parents, last = path.split(".")
        target = self.subject
        for part in parents:
            child = target.get(part)
            # A copy: the maps inside the subject are shared with the environment's.
            child = dict(child) if isinstance(child, Mapping) else {}
            target[part] = child
            target = child
        target[last] = value
        self._cel_subject = None

    # ---- CEL and template variables -------------------------------------------------------

    def variables(self) -> dict[str, Any]:
        event = self.event if self.event is not None else self.state.vars.get("event") or {}
        if self._cel_subject is None:
            # Converted once per transition (it is most of the variables), again only after
            # set_subject changed it.
            self._cel_subject = cel_ready(self.subject)
        return {
            "subject": self._cel_subject,
            "event": cel_ready(dict(event)),
            "run": {
                "id": self.env.run_id,
                "startedAt": cel_ready(self.env.started_at),
                "vars": cel_ready(self.state.vars),
            },
            "now": cel_ready(self.now),
        }

    # ---- time zones and calendars ---------------------------------------------------------

    def calendar(self, key: str | None) -> BusinessCalendar:
        name = key or self.workflow.calendar or self.env.default_calendar
        found = self.env.calendars.get(name) or BUILTIN_CALENDARS.get(name)
        if found is None:
            raise LookupError(f"unknown calendar {name!r}")
        return found

    def zone(self, name: str) -> ZoneInfo:
        """``subject`` -> the subject's time zone (the workspace's when it has none)."""
        if name == "subject":
            name = str(self.subject.get("timezone") or self.env.workspace_timezone)
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo(self.env.workspace_timezone)

    # ---- visits, keys and records ---------------------------------------------------------

    def begin_visit(self, step_id: str) -> int:
        visits = self.state.vars.setdefault("visits", {})
        visits[step_id] = visits.get(step_id, 0) + 1
        return int(visits[step_id])

    def visit(self, step_id: str) -> int:
        return int(self.state.vars.get("visits", {}).get(step_id, 0))

    def key(self, step_id: str, visit: int) -> str:
        return f"{self.env.run_id}:{step_id}:{visit}"

    def record(
        self,
        step_id: str,
        kind: str,
        outcome: str,
        detail: Mapping[str, Any] | None = None,
        *,
        repeat: int | None = None,
    ) -> None:
        """One history line; `repeat` numbers an outcome a visit may have several times (a
        wait that moves), so each line keeps its own idempotency key."""
        visit = self.visit(step_id)
        suffix = outcome.lower() if repeat is None else f"{outcome.lower()}:{repeat}"
        self.commands.append(
            RecordStep(
                key=f"{self.key(step_id, visit)}:{suffix}",
                step_id=step_id,
                kind=kind,
                outcome=outcome,
                detail=json_safe(dict(detail or {})),
                at=self.now,
            )
        )

    def cancel_pending_timer(self, step_id: str) -> None:
        waiting = self.state.waiting
        if waiting is not None and waiting.timer_key is not None:
            self.commands.append(CancelTimer(key=waiting.timer_key, step_id=step_id))
