"""``crm workflows simulate``: run one workflow on a virtual clock, with no side effects.

The run starts at ``start``; then whichever comes first is delivered, again and again: the
run's pending timer (at its due instant) or the next item of the events file (``event:`` ->
`EventArrived`, ``update:`` -> the subject changes, then `SubjectChanged`), until the run ends
or nothing is left. The engine's commands are not carried out, except that the simulated
subject takes the run's own updates and tag changes. The timeline is built from the steps'
records: each entry is ``{"at", "step", "action", "detail"}``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from ruamel.yaml import YAML

from domain.calendars import BusinessCalendar
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
from workflows.engine.actions import set_path
from workflows.engine.conditions import SUPPRESSION_SEGMENT
from workflows.engine.model import ENDED, ChangeTags, EndRun, RecordStep, UpdateSubject
from workflows.language.spec import Workflow
from workflows.language.templates import TemplateRenderError, render
from workflows.language.validate import Definitions, validate_paths

__all__ = ["Simulation", "TimelineEntry", "format_timeline", "main_simulate", "simulate"]

WORKSPACE_TIMEZONE = "Asia/Ho_Chi_Minh"
MAX_INPUTS = 10_000
_ISO_INSTANT = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$"
)


@dataclass
class TimelineEntry:
    at: dt.datetime
    step: str
    action: str
    detail: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "at": self.at.isoformat()}


@dataclass
class Simulation:
    timeline: list[TimelineEntry]
    state: RunState
    subject: dict[str, Any]


def as_instant(value: Any, zone: str = WORKSPACE_TIMEZONE) -> dt.datetime:
    """An aware datetime from a YAML/JSON/CLI value; naive ones are in `zone`."""
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=ZoneInfo(zone))


def with_instants(value: Any) -> Any:
    """A JSON subject with ISO-8601 instants as datetimes (so CEL can compare them)."""
    if isinstance(value, dict):
        return {key: with_instants(item) for key, item in value.items()}
    if isinstance(value, list):
        return [with_instants(item) for item in value]
    if isinstance(value, str) and _ISO_INSTANT.match(value):
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


def simulate(
    workflow: Workflow,
    definitions: Definitions,
    subject: Mapping[str, Any],
    events: Sequence[Mapping[str, Any]],
    start: dt.datetime,
    *,
    run_id: str = "simulation",
) -> Simulation:
    """Run `workflow` for `subject` from `start` through `events` (in time order)."""
    subject_now = dict(subject)
    calendars = {
        key: BusinessCalendar.from_data(key, data) for key, data in definitions.calendars.items()
    }
    state = RunState()
    timeline: list[TimelineEntry] = []
    pending = sorted(events, key=lambda item: as_instant(item["at"]))
    clock = start
    # The workspace's suppression segment, when the files given define it.
    suppression = definitions.segments.get(SUPPRESSION_SEGMENT)
    next_input: Input = Start(now=start)
    for _ in range(MAX_INPUTS):
        env = Environment(
            run_id,
            start,
            subject_now,
            calendars,
            templates=definitions.templates,
            suppression=suppression.when if suppression is not None else None,
        )
        transition = advance(workflow, state, next_input, env)
        state = transition.state
        for command in transition.commands:
            if isinstance(command, UpdateSubject):
                for key, value in command.values.items():
                    set_path(subject_now, key, value)
            elif isinstance(command, ChangeTags):
                tags = [t for t in subject_now.get("tags") or [] if t not in command.remove]
                subject_now["tags"] = tags + [t for t in command.add if t not in tags]
            elif isinstance(command, RecordStep):
                timeline.append(_entry(command, definitions, subject_now, run_id, start))
            elif isinstance(command, EndRun):
                detail = {"status": command.status, "reason": command.reason}
                timeline.append(TimelineEntry(clock, command.step_id, "end", detail))
        if state.status in ENDED:
            break
        waiting = state.waiting
        due = waiting.due_at if waiting is not None and waiting.timer_key else None
        if pending and (due is None or as_instant(pending[0]["at"]) < due):
            item = pending.pop(0)
            clock = max(clock, as_instant(item["at"]))
            if "update" in item:
                for key, value in with_instants(dict(item["update"])).items():
                    set_path(subject_now, key, value)
                next_input = SubjectChanged(now=clock)
            else:
                data = with_instants(dict(item.get("data") or {}))
                next_input = EventArrived(name=str(item["event"]), data=data, now=clock)
        elif due is not None and waiting is not None and waiting.timer_key is not None:
            clock = max(clock, due)
            next_input = TimerFired(key=waiting.timer_key, now=clock)
        else:
            break
    if state.status not in ENDED:
        timeline.append(_still_waiting(state, clock))
    return Simulation(timeline, state, subject_now)


def _still_waiting(state: RunState, clock: dt.datetime) -> TimelineEntry:
    waiting = state.waiting
    detail: dict[str, Any] = {"status": state.status}
    if waiting is not None:
        detail |= {"reason": waiting.reason, "event": waiting.event}
        if waiting.due_at is not None:
            detail["due_at"] = waiting.due_at.isoformat()
    step = ".".join(str(part) for part in state.position or ()) or "run"
    return TimelineEntry(clock, step, "waiting", detail)


def _entry(
    record: RecordStep,
    definitions: Definitions,
    subject: Mapping[str, Any],
    run_id: str,
    start: dt.datetime,
) -> TimelineEntry:
    detail = {"outcome": record.outcome, **record.detail}
    if record.kind in ("send_email", "notify") and record.outcome == "DONE":
        to = str(detail.get("to"))
        detail["recipient"] = _recipient(to, subject)
        template = definitions.templates.get(str(detail.get("template")))
        if template is not None:
            variables = {
                "subject": dict(subject),
                "event": {},
                "run": {"id": run_id, "startedAt": start, "vars": {}},
                "now": record.at,
            }
            try:
                detail["subject"] = render(template.subject, variables)
            except TemplateRenderError as error:
                detail["render_error"] = str(error)
    return TimelineEntry(record.at, record.step_id, record.kind, detail)


def _recipient(to: str, subject: Mapping[str, Any]) -> str:
    if to == "subject":
        return str(subject.get("email") or "the subject (no email)")
    if to in ("owner", "assignee"):
        owner = subject.get("owner")
        email = owner.get("email") if isinstance(owner, Mapping) else None
        return str(email or f"the {to} (none)")
    return to


# ---- output ---------------------------------------------------------------------------------


def _when(value: Any) -> str:
    if value is None:
        return "-"
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return moment.strftime("%a %Y-%m-%d %H:%M %z")


def describe(entry: TimelineEntry) -> str:
    """One human line for a timeline entry."""
    d, outcome = entry.detail, entry.detail.get("outcome")
    if entry.action == "send_email":
        if outcome == "SUPPRESSED":
            return f"email {d['template']} to {d['to']}: SUPPRESSED ({d['reason']})"
        if outcome == "WAITING":
            return f"email {d['template']} held: outside the send window until " + _when(
                d["held_until"]
            )
        return f'email "{d.get("subject", d["template"])}" to {d["recipient"]}'
    if entry.action == "notify":
        return f'notify {d["recipient"]}: "{d.get("subject", d["template"])}"'
    if entry.action == "create_task":
        return f'task "{d["title"]}" for {d["assignee"]}, due {_when(d.get("due_at"))}'
    if entry.action in ("wait", "wait_for") and outcome == "MOVED":
        return f"the date it waits for changed: {_when(d.get('from'))} -> {_when(d.get('to'))}" + (
            f" ({d['reason']})" if d.get("reason") else ""
        )
    if entry.action in ("wait", "wait_for") and d.get("reason") == "date not set":
        return f"wait {d['form']}: the date is not set; holds until it is"
    if entry.action == "wait":
        if outcome == "SKIPPED":
            return f"wait {d['form']}: already past ({_when(d['due_at'])}), skipped"
        return f"wait {d['form']} until {_when(d['due_at'])}"
    if entry.action == "wait_for":
        if outcome == "MATCHED":
            return f"{d['event']} arrived" + (f" and {d['when']}" if d.get("when") else "")
        if outcome == "TIMED_OUT":
            return f"no {d['event']} by {_when(d['timeout_at'])}: timed out"
        condition = f" where {d['when']}" if d.get("when") else ""
        return f"wait for {d['event']}{condition}, at most until {_when(d['timeout_at'])}"
    if entry.action == "if":
        why = f" ({d['error']})" if d.get("error") else ""
        return f"if {d['condition']} -> {str(d['result']).lower()}{why}: {d['branch']}"
    if entry.action == "switch":
        if outcome == "SKIPPED":
            return "switch: no case matched"
        return f"switch: case {d['case']} ({d['when']})"
    if entry.action == "split":
        return f"split: arm {d['arm']} ({d['weight']}%)"
    if entry.action == "end":
        return f"run ends {d['status']}: {d['reason']}"
    if entry.action == "waiting":
        return (
            f"still {d['status']}: {d.get('reason')} "
            + (f"{d['event']} " if d.get("event") else "")
            + (f"until {_when(d['due_at'])}" if d.get("due_at") else "")
        )
    rest = {key: value for key, value in d.items() if key != "outcome"}
    return f"{entry.action} {outcome}: {json.dumps(rest, ensure_ascii=False, default=str)}"


def format_timeline(simulation: Simulation) -> str:
    width = max([len(entry.step) for entry in simulation.timeline] + [4])
    return "\n".join(
        f"{_when(entry.at)}  {entry.step:<{width}}  {describe(entry)}"
        for entry in simulation.timeline
    )


def load_events(path: str | Path) -> list[dict[str, Any]]:
    data = YAML(typ="safe").load(Path(path).read_text(encoding="utf-8")) or []
    if not isinstance(data, list) or not all(
        isinstance(item, dict) and "at" in item and ("event" in item or "update" in item)
        for item in data
    ):
        raise ValueError("the events file must be a list of {at, event, data} or {at, update}")
    return data


def main_simulate(
    paths: list[str],
    subject_path: str,
    events_path: str | None,
    start: str | None,
    as_json: bool,
    out: TextIO,
) -> int:
    """The body of ``crm workflows simulate``; returns the exit status."""
    definitions, problems = validate_paths(paths)
    for problem in problems:
        print(problem, file=out)
    if problems:
        return 1
    if len(definitions.workflows) != 1:
        found = ", ".join(sorted(definitions.workflows)) or "none"
        print(f"expected exactly one workflow among the files, found: {found}", file=out)
        return 1
    (workflow,) = definitions.workflows.values()
    try:
        subject = with_instants(json.loads(Path(subject_path).read_text(encoding="utf-8")))
        events = load_events(events_path) if events_path else []
        begin = as_instant(start) if start else dt.datetime.now(ZoneInfo(WORKSPACE_TIMEZONE))
    except (OSError, ValueError) as error:
        print(f"cannot simulate: {error}", file=out)
        return 1
    result = simulate(workflow, definitions, subject, events, begin)
    if as_json:
        entries = [entry.to_json() for entry in result.timeline]
        print(json.dumps(entries, ensure_ascii=False, indent=2, default=str), file=out)
    else:
        print(format_timeline(result), file=out)
    return 0
