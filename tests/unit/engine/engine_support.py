"""Helpers for the engine tests: workflows from YAML text, and a driver that feeds a run its
inputs, persisting and restoring the state as JSON between every one (as the runtime does)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from ruamel.yaml import YAML

from workflows.engine import (
    Environment,
    EventArrived,
    Input,
    RunState,
    Start,
    SubjectChanged,
    TimerFired,
    advance,
)
from workflows.engine.model import Command, RecordStep, ScheduleTimer
from workflows.language.spec import Workflow

VN = ZoneInfo("Asia/Ho_Chi_Minh")
#: Monday 23 November 2026, 09:00 in Hanoi.
MONDAY = dt.datetime(2026, 11, 23, 9, 0, tzinfo=VN)
FRIDAY_16 = dt.datetime(2026, 11, 27, 16, 0, tzinfo=VN)

C = TypeVar("C", bound=Command)


def workflow(text: str) -> Workflow:
    data = YAML(typ="safe").load(text)
    data.setdefault("key", "test-flow")
    data.setdefault("trigger", {"manual": True})
    return Workflow.model_validate(data)


def subject(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "c-1",
        "displayName": "Nguyễn Văn An",
        "email": "an@example.vn",
        "lifecycleStage": "LEAD",
        "timezone": "Asia/Ho_Chi_Minh",
        "consent": {"emailOptIn": True, "unsubscribedAt": None},
        "owner": {"displayName": "Bình", "email": "binh@rapport.vn"},
        "tags": [],
    }
    return base | overrides


class Driver:
    """One run of `flow`; ``persist`` round-trips the state through JSON text before each input."""

    def __init__(
        self, flow: Workflow, *, run_id: str = "run-1", persist: bool = True, **env: Any
    ) -> None:
        self.flow, self.run_id, self.persist = flow, run_id, persist
        self.subject: dict[str, Any] = env.pop("subject", None) or subject()
        self.env_options = env
        self.state = RunState()
        self.commands: list[Command] = []
        self.last: list[Command] = []

    def env(self) -> Environment:
        return Environment(self.run_id, MONDAY, self.subject, {}, **self.env_options)

    def feed(self, event: Input) -> list[Command]:
        state = self.state
        if self.persist:
            state = RunState.from_json(json.loads(json.dumps(state.to_json())))
            assert state == self.state
        before = json.dumps(state.to_json())
        transition = advance(self.flow, state, event, self.env())
        assert json.dumps(state.to_json()) == before, "advance must not change its input"
        json.dumps(transition.state.to_json())
        json.dumps([c.detail for c in transition.commands if isinstance(c, RecordStep)])
        self.state = transition.state
        self.commands += transition.commands
        self.last = transition.commands
        return transition.commands

    def start(self, at: dt.datetime = MONDAY, event: dict[str, Any] | None = None) -> list[Command]:
        return self.feed(Start(now=at, event=event))

    def timer(self) -> ScheduleTimer:
        waiting = self.state.waiting
        assert waiting is not None, self.state
        assert waiting.timer_key is not None, self.state
        timers = [c for c in self.commands if isinstance(c, ScheduleTimer)]
        assert timers[-1].key == waiting.timer_key
        return timers[-1]

    def fire(self) -> list[Command]:
        timer = self.timer()
        return self.feed(TimerFired(key=timer.key, now=timer.due_at))

    def event(self, name: str, data: dict[str, Any], at: dt.datetime) -> list[Command]:
        return self.feed(EventArrived(name=name, data=data, now=at))

    def changed(self, at: dt.datetime, **changes: Any) -> list[Command]:
        self.subject.update(changes)
        return self.feed(SubjectChanged(now=at))


def of(kind: type[C], commands: list[Command]) -> list[C]:
    return [c for c in commands if isinstance(c, kind)]


def records(commands: list[Command]) -> list[tuple[str, str, str]]:
    return [(c.step_id, c.kind, c.outcome) for c in of(RecordStep, commands)]
