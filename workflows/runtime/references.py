"""Checks of what workflows refer to in the database, run at deploy (validation is pure and
cannot see it): the DATE attribute a ``date:`` trigger reads, the teams ``round_robin`` and
``least_loaded`` assign within, and the staff named by e-mail (a ``notify`` or ``send_email``
recipient, a task's assignee, a new owner), who must be active users. Each problem points at
the reference in its file."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from domain.persistence import models as m
from workflows.language.checks import walk_steps
from workflows.language.source import Problem, Source, YamlPath
from workflows.language.spec import DateTrigger, Workflow
from workflows.language.subject_fields import attribute_key
from workflows.language.validate import Definitions, load_document
from workflows.runtime.teams import find_team

__all__ = ["reference_problems"]

_TEAM_KEYS = ("round_robin", "least_loaded")


def _workflow_sources(texts: dict[str, str]) -> Iterator[tuple[Source, Workflow]]:
    for name, text in texts.items():
        document = load_document(name, text)
        if isinstance(document.model, Workflow) and document.source is not None:
            yield document.source, document.model


def _team_references(data: Any) -> Iterator[tuple[YamlPath, str]]:
    for path, step in walk_steps(data.get("steps"), ("steps",)):
        places = (
            (("create_task", "assignee"), (step.get("create_task") or {}).get("assignee")),
            (("assign", "owner"), (step.get("assign") or {}).get("owner")),
        )
        for inner, value in places:
            if not isinstance(value, dict):
                continue
            for key in _TEAM_KEYS:
                if isinstance(value.get(key), str):
                    yield (*path, *inner, key), value[key]


def _user_references(data: Any) -> Iterator[tuple[YamlPath, str]]:
    for path, step in walk_steps(data.get("steps"), ("steps",)):
        places = (
            (("notify", "to"), (step.get("notify") or {}).get("to")),
            (("send_email", "to"), (step.get("send_email") or {}).get("to")),
            (("create_task", "assignee"), (step.get("create_task") or {}).get("assignee")),
            (("assign", "owner"), (step.get("assign") or {}).get("owner")),
        )
        for inner, value in places:
            if isinstance(value, str) and "@" in value:
                yield (*path, *inner), value


async def reference_problems(texts: dict[str, str], definitions: Definitions) -> list[Problem]:
    """Problems with the database references of the workflows in `texts` (which validated)."""
    problems: list[Problem] = []
    sources = list(_workflow_sources(texts))
    attributes = {
        key: source
        for source, workflow in sources
        if isinstance(workflow.trigger, DateTrigger)
        and (key := attribute_key(workflow.trigger.date.field)) is not None
    }
    if attributes:
        types = dict(
            await m.AttributeDefinition.filter(
                key__in=list(attributes),
                entity__in=["CUSTOMER", "PERSON", "ORGANIZATION"],
                deleted_at=None,
            ).values_list("key", "type")
        )
        for key, source in attributes.items():
            found = types.get(key)
            if found != "DATE":
                why = "is not a customer attribute" if found is None else f"is of type {found}"
                message = f"attribute {key!r} {why}; a date trigger needs a DATE attribute"
                problems.append(source.problem(("trigger", "date", "field"), message))
    known: dict[str, bool] = {}
    for source, _workflow in sources:
        for path, team in _team_references(source.data):
            if team not in known:
                known[team] = await find_team(team) is not None
            if not known[team]:
                problems.append(source.problem(path, f"unknown team {team!r}"))
    references = [
        (source, path, address)
        for source, _workflow in sources
        for path, address in _user_references(source.data)
    ]
    if references:
        wanted = {address.strip().lower() for _, _, address in references}
        active = set(
            await m.User.filter(email__in=wanted, active=True, deleted_at=None).values_list(
                "email", flat=True
            )
        )
        for source, path, address in references:
            if address.strip().lower() not in active:
                message = f"no active user has the e-mail {address!r}"
                problems.append(source.problem(path, message))
    return problems
