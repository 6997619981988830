"""Checks that need more than one node or more than one file: unique keys, references, step
ids, tickets-only steps, ``${ }`` values, calendars, and enroll loops that cannot end.

They read the plain data of each document, tolerating shapes the schema rejects, so a file with
schema errors still gets its references checked and every problem is reported in one pass.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from . import expressions
from .calendars import BUILTIN_CALENDAR_KEYS, calendar_problems
from .source import Problem, Source, YamlPath
from .steps import WAIT_KINDS, step_kind
from .subject_fields import date_field_problem

__all__ = ["check_documents", "walk_steps"]

RESOURCES = ("workflow", "template", "calendar", "segment", "sla_policy")
_NESTED_LISTS = ("then", "else", "on_event", "on_timeout", "on_failure")
_EXPRESSION_VALUE = re.compile(r"\$\{(.*)\}", re.DOTALL)
#: The customer fields an ``update`` step may set (plus ``attributes.<key>``).
UPDATABLE_FIELDS = (
    "lifecycleStage", "jobTitle", "country", "timezone", "emailOptIn", "smsOptIn",
    "attributes", "displayName", "industry",
)  # fmt: skip
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


@dataclass
class Registry:
    """Names defined by the files given (with where) and by the bundled definitions."""

    given: dict[tuple[str, str], tuple[Source, YamlPath]] = field(default_factory=dict)
    bundled: set[tuple[str, str]] = field(default_factory=set)
    workflows: dict[str, dict[str, Any]] = field(default_factory=dict)

    def knows(self, kind: str, name: str) -> bool:
        return (kind, name) in self.given or (kind, name) in self.bundled


def walk_steps(steps: Any, path: YamlPath) -> Iterator[tuple[YamlPath, dict[str, Any]]]:
    """Every step mapping under the list `steps`, depth first, with its YAML path."""
    if not isinstance(steps, list):
        return
    for index, step in enumerate(steps):
        if not isinstance(step, dict):
            continue
        here = (*path, index)
        yield here, step
        for key in _NESTED_LISTS:
            yield from walk_steps(step.get(key), (*here, key))
        for kind, inner in (("switch", ("steps", "default")), ("split", ("steps",))):
            cases = step.get(kind)
            if not isinstance(cases, list):
                continue
            for number, case in enumerate(cases):
                if isinstance(case, dict):
                    for key in inner:
                        yield from walk_steps(case.get(key), (*here, kind, number, key))


def _definitions(source: Source) -> Iterator[tuple[str, str, YamlPath]]:
    data = source.data
    if not isinstance(data, dict):
        return
    if isinstance(data.get("key"), str):
        yield "workflow", data["key"], ("key",)
        return
    for section, kind in (("templates", "template"), ("calendars", "calendar"),
                          ("segments", "segment")):  # fmt: skip
        entries = data.get(section)
        if isinstance(entries, dict):
            for name in entries:
                yield kind, str(name), (section, name)
    policies = data.get("sla_policies")
    if isinstance(policies, list):
        for index, policy in enumerate(policies):
            if isinstance(policy, dict) and isinstance(policy.get("key"), str):
                yield "sla_policy", policy["key"], ("sla_policies", index, "key")


def check_documents(
    given: list[Source], bundled: list[Source], known_workflows: Iterable[str] = ()
) -> list[Problem]:
    """Cross-node and cross-file problems of the `given` documents; ``known_workflows`` are
    workflow keys defined elsewhere (e.g. deployed with them) that ``enroll`` may name."""
    registry = Registry(bundled={("calendar", key) for key in BUILTIN_CALENDAR_KEYS})
    registry.bundled.update(("workflow", key) for key in known_workflows)
    problems: list[Problem] = []
    for source in bundled:
        for kind, name, _ in _definitions(source):
            registry.bundled.add((kind, name))
            if kind == "workflow":
                registry.workflows[name] = source.data
    for source in given:
        for kind, name, path in _definitions(source):
            first = registry.given.get((kind, name))
            if first is not None:
                where = first[0].problem(first[1], "")
                problems.append(source.problem(
                    path, f"duplicate {kind.replace('_', ' ')} key {name!r} "
                          f"(first defined at {where.file}:{where.line}:{where.col})",
                    at_key=kind != "workflow" and kind != "sla_policy",
                ))  # fmt: skip
                continue
            registry.given[(kind, name)] = (source, path)
            if kind == "workflow":
                registry.workflows[name] = source.data
    for source in given:
        if isinstance(source.data, dict) and "key" in source.data:
            problems += _workflow_problems(source, registry)
        elif isinstance(source.data, dict):
            problems += _bundle_problems(source, registry)
    problems += _loop_problems(given, registry)
    return problems


def _reference(
    source: Source, registry: Registry, kind: str, name: Any, path: YamlPath
) -> list[Problem]:
    if not isinstance(name, str) or registry.knows(kind, name):
        return []
    return [source.problem(path, f"unknown {kind.replace('_', ' ')} {name!r}")]


def _wait_calendar(source: Source, registry: Registry, wait: Any, path: YamlPath) -> list[Problem]:
    if isinstance(wait, dict) and any(kind in wait for kind in WAIT_KINDS):
        return _reference(source, registry, "calendar", wait.get("calendar"), (*path, "calendar"))
    return []


def _workflow_problems(source: Source, registry: Registry) -> list[Problem]:
    data = source.data
    problems = _reference(source, registry, "calendar", data.get("calendar"), ("calendar",))
    trigger = data.get("trigger")
    if isinstance(trigger, dict):
        problems += _reference(source, registry, "segment", trigger.get("segment"),
                               ("trigger", "segment"))  # fmt: skip
        date = trigger.get("date")
        if isinstance(date, dict) and isinstance(date.get("field"), str):
            subject = data.get("subject", "customer")
            message = date_field_problem(date["field"], str(subject))
            if message is not None:
                problems.append(source.problem(("trigger", "date", "field"), message))
        for_each = trigger.get("for_each")
        if isinstance(for_each, dict):
            problems += _reference(source, registry, "segment", for_each.get("segment"),
                                   ("trigger", "for_each", "segment"))  # fmt: skip
    ids: dict[str, YamlPath] = {}
    for path, step in walk_steps(data.get("steps"), ("steps",)):
        step_id = step.get("id")
        if isinstance(step_id, str):
            if step_id in ids:
                first = source.problem(ids[step_id], "")
                problems.append(source.problem(
                    (*path, "id"), f"duplicate step id {step_id!r} (first at line {first.line})"
                ))  # fmt: skip
            else:
                ids[step_id] = (*path, "id")
        problems += _step_problems(source, registry, path, step, data.get("subject", "customer"))
    return problems


def _step_problems(
    source: Source, registry: Registry, path: YamlPath, step: dict[str, Any], subject: Any
) -> list[Problem]:
    kind = step_kind(step)
    body = step.get(kind) if kind else None
    problems: list[Problem] = []
    if kind in ("send_email", "notify") and isinstance(body, dict):
        problems += _reference(source, registry, "template", body.get("template"),
                               (*path, kind, "template"))  # fmt: skip
    elif kind == "enroll" and isinstance(body, dict):
        problems += _reference(source, registry, "workflow", body.get("workflow"),
                               (*path, kind, "workflow"))  # fmt: skip
    elif kind == "escalate" and subject != "ticket":
        problems.append(source.problem(
            (*path, "escalate"),
            f"escalate is for workflows with subject: ticket (this one's subject is {subject})",
            at_key=True,
        ))  # fmt: skip
    elif kind == "wait":
        problems += _wait_calendar(source, registry, body, (*path, "wait"))
    elif kind == "wait_for" and isinstance(body, dict):
        problems += _wait_calendar(source, registry, body.get("timeout"),
                                   (*path, "wait_for", "timeout"))  # fmt: skip
    elif kind == "create_task" and isinstance(body, dict):
        problems += _wait_calendar(source, registry, body.get("due"),
                                   (*path, "create_task", "due"))  # fmt: skip
    elif kind in _ONLY_FOR and subject not in _ONLY_FOR[kind]:
        allowed = " or ".join(f"subject: {name}" for name in _ONLY_FOR[kind])
        problems.append(source.problem(
            (*path, kind),
            f"{kind} is for workflows with {allowed} (this one's subject is {subject})",
            at_key=True,
        ))  # fmt: skip
    elif kind == "update" and isinstance(body, dict):
        problems += _update_problems(source, (*path, "update"), body)
    return problems


#: Steps that change the subject, and the subjects they can change: a customer's fields,
#: owner and tags; a ticket's tags (its assignee and level change by ``escalate``).
_ONLY_FOR = {
    "update": ("customer",),
    "assign": ("customer",),
    "add_tag": ("customer", "ticket"),
    "remove_tag": ("customer", "ticket"),
}


def _update_problems(source: Source, path: YamlPath, fields: dict[Any, Any]) -> list[Problem]:
    problems: list[Problem] = []
    for name, value in fields.items():
        here = (*path, name)
        if not isinstance(name, str) or not _FIELD_NAME.fullmatch(name):
            problems.append(source.problem(here, f"invalid field name {name!r}", at_key=True))
        elif name not in UPDATABLE_FIELDS and not name.startswith("attributes."):
            problems.append(source.problem(
                here,
                f"{name!r} cannot be updated; one of {', '.join(UPDATABLE_FIELDS)} "
                "or attributes.<key>",
                at_key=True,
            ))  # fmt: skip
        if not isinstance(value, str) or "${" not in value:
            continue
        match = _EXPRESSION_VALUE.fullmatch(value.strip())
        if match is None or value != value.strip():
            problems.append(source.problem(here, "a ${ } expression must be the whole value"))
            continue
        error = expressions.check(match.group(1))
        if error is not None:
            offset = None
            if error.line == 1 and error.col is not None:
                offset = (1, match.start(1) + error.col)
            problems.append(source.problem(here, error.message, offset=offset))
    return problems


def _bundle_problems(source: Source, registry: Registry) -> list[Problem]:
    data = source.data
    problems: list[Problem] = []
    calendars = data.get("calendars")
    if isinstance(calendars, dict):
        for name, spec in calendars.items():
            for inner, message in calendar_problems(str(name), spec):
                problems.append(source.problem(("calendars", name, *inner), message))
    policies = data.get("sla_policies")
    for index, policy in enumerate(policies if isinstance(policies, list) else []):
        if not isinstance(policy, dict):
            continue
        here: YamlPath = ("sla_policies", index)
        problems += _reference(source, registry, "calendar", policy.get("calendar"),
                               (*here, "calendar"))  # fmt: skip
        targets = policy.get("targets")
        for priority, target in targets.items() if isinstance(targets, dict) else []:
            if isinstance(target, dict):
                problems += _reference(source, registry, "calendar", target.get("calendar"),
                                       (*here, "targets", priority, "calendar"))  # fmt: skip
    return problems


def _endless(data: Any) -> bool:
    """A workflow that may re-enroll a subject at once and forever: ``reenroll: always`` and
    nothing (goal, exit_when) that ends the loop."""
    if not isinstance(data, dict):
        return False
    enrollment = data.get("enrollment")
    always = isinstance(enrollment, dict) and enrollment.get("reenroll") == "always"
    return always and not data.get("goal") and not data.get("exit_when")


def _unconditional_enrolls(data: dict[str, Any]) -> Iterator[tuple[YamlPath, str]]:
    steps = data.get("steps")
    for index, step in enumerate(steps if isinstance(steps, list) else []):
        body = step.get("enroll") if isinstance(step, dict) else None
        if isinstance(body, dict) and isinstance(body.get("workflow"), str):
            yield ("steps", index, "enroll", "workflow"), body["workflow"]


def _loop_problems(given: list[Source], registry: Registry) -> list[Problem]:
    """An ``enroll`` on a cycle of workflows that all re-enroll always, unconditionally (a
    top-level step, not under a branch or handler), with no goal or exit_when."""
    edges = {
        key: [target for _, target in _unconditional_enrolls(data)
              if _endless(registry.workflows.get(target))]
        for key, data in registry.workflows.items()
        if _endless(data)
    }  # fmt: skip

    def reaches(start: str, goal: str) -> list[str] | None:
        frontier, seen = [[start]], {start}
        while frontier:
            trail = frontier.pop()
            if trail[-1] == goal:
                return trail
            for following in edges.get(trail[-1], []):
                if following not in seen or following == goal:
                    seen.add(following)
                    frontier.append([*trail, following])
        return None

    problems: list[Problem] = []
    for source in given:
        key = source.data.get("key") if isinstance(source.data, dict) else None
        if not isinstance(key, str) or key not in edges:
            continue
        for path, target in _unconditional_enrolls(source.data):
            trail = reaches(target, key) if target in edges else None
            if trail is None:
                continue
            loop = " -> ".join([key, *trail])
            problems.append(source.problem(path, (
                f"loop that cannot end: {loop}; every workflow on it re-enrolls always "
                "(enrollment.reenroll: always) with no goal or exit_when"
            )))  # fmt: skip
    return problems
