"""Deploying workflows: validate, then store a new version when the content changed.

A version is self-contained: it keeps the workflow's YAML and the bundle files deployed with
it (templates, calendars), so runs pinned to it render the templates they were written with.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from tortoise.transactions import in_transaction

from domain.persistence import models as m
from domain.recording import record, utcnow
from workflows.language.source import Problem
from workflows.language.spec import Workflow
from workflows.language.validate import Definitions, load_document, validate_texts
from workflows.runtime import dates, schedules, segments
from workflows.runtime.references import reference_problems


@dataclass
class Deployed:
    key: str
    version: int
    created: bool  # False when the content was unchanged


@dataclass
class DeployResult:
    problems: list[Problem] = field(default_factory=list)
    deployed: list[Deployed] = field(default_factory=list)


def _workflow_key(name: str, text: str) -> str | None:
    """The key of the workflow ``text`` defines, or None for a bundle file."""
    model = load_document(name, text).model
    return model.key if isinstance(model, Workflow) else None


async def deploy_texts(
    texts: dict[str, str], *, actor: str, now: dt.datetime | None = None
) -> DeployResult:
    """Validate ``texts`` (file name -> YAML) and store a version of each workflow in them.
    ``now`` (default: the system clock) is when the deployed schedules and dates count from."""
    now = now or utcnow()
    definitions, problems = validate_texts(texts)
    if not problems:
        problems = await reference_problems(texts, definitions)
    if problems:
        return DeployResult(problems=problems)
    keys = {name: _workflow_key(name, text) for name, text in texts.items()}
    bundles = {name: text for name, text in texts.items() if keys[name] is None}
    result = DeployResult()
    async with in_transaction():
        for name, text in texts.items():
            key = keys[name]
            if key is None:
                continue
            workflow = definitions.workflows[key]
            payload = {"source": text, "bundles": bundles}
            digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
            row, _ = await m.Workflow.get_or_create(
                key=key, defaults={"name": workflow.name or key, "subject": workflow.subject}
            )
            existing = await m.WorkflowVersion.get_or_none(workflow_id=row.id, content_hash=digest)
            if existing is not None:
                result.deployed.append(Deployed(key, existing.number, created=False))
                continue
            number = await m.WorkflowVersion.filter(workflow_id=row.id).count() + 1
            version = await m.WorkflowVersion.create(
                workflow_id=row.id,
                number=number,
                content_hash=digest,
                source=text,
                definition={"bundles": bundles, "name": name},
            )
            row.current_version_id = version.id
            row.name = workflow.name or key
            row.subject = workflow.subject
            await row.save()
            await schedules.arm(row, workflow, now)
            await dates.arm_workflow(row, workflow, now)
            await segments.track(workflow, definitions, now)
            await record(
                actor,
                "workflow.deploy",
                "Workflow",
                row.id,
                {"version": [number - 1 or None, number]},
                "workflow.deployed",
            )
            result.deployed.append(Deployed(key, number, created=True))
    return result


@lru_cache(maxsize=256)
def _definitions(source_name: str, source: str, bundles_json: str) -> Definitions:
    texts = {source_name: source, **json.loads(bundles_json)}
    definitions, problems = validate_texts(texts)
    if problems:  # it validated when deployed; a newer product release may disagree
        raise ValueError("; ".join(str(p) for p in problems))
    return definitions


def version_definitions(version: m.WorkflowVersion) -> tuple[Workflow, Definitions]:
    """The workflow of a stored version and the resources (templates...) it was deployed with."""
    stored: dict[str, Any] = version.definition or {}
    definitions = _definitions(
        stored.get("name", "workflow.yaml"),
        version.source,
        json.dumps(stored.get("bundles", {}), sort_keys=True),
    )
    (workflow,) = definitions.workflows.values()
    return workflow, definitions
