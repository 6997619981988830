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

from domain.errors import PermissionDenied
from domain.persistence import models as m
from domain.recording import record, utcnow
from domain.sla.book import store_policy_set
from workflows.language.durations import parse_business_duration
from workflows.language.source import Problem
from workflows.language.spec import Bundle, BusinessDaysTarget, SlaPolicy, Workflow
from workflows.language.validate import (
    BUNDLED_DIR,
    Definitions,
    load_document,
    validate_texts,
)
from workflows.runtime import dates, schedules, segments
from workflows.runtime.references import reference_problems


@dataclass
class Deployed:
    key: str
    version: int
    created: bool  # False when the content was unchanged
    #: An earlier version with this content was made current again (a roll-back).
    reactivated: bool = False


@dataclass
class DeployResult:
    problems: list[Problem] = field(default_factory=list)
    deployed: list[Deployed] = field(default_factory=list)
    # The SLA policy set, when the files define ``sla_policies``: its version number and
    # whether it is new.
    sla_policies: tuple[int, bool] | None = None


def _workflow_key(name: str, text: str) -> str | None:
    """The key of the workflow ``text`` defines, or None for a bundle file."""
    model = load_document(name, text).model
    return model.key if isinstance(model, Workflow) else None


async def deploy_texts(
    texts: dict[str, str],
    *,
    actor: str,
    now: dt.datetime | None = None,
    may_deploy_sla_policies: bool = True,
) -> DeployResult:
    """Validate ``texts`` (file name -> YAML) and store a version of each workflow in them.
    ``now`` (default: the system clock) is when the deployed schedules and dates count from.

    Raises :class:`PermissionDenied`, deploying nothing, when the files define SLA policies and
    ``may_deploy_sla_policies`` is false (the promises made to customers are an admin's call)."""
    now = now or utcnow()
    definitions, problems = validate_texts(texts)
    if not problems:
        problems = await reference_problems(texts, definitions)
    if problems:
        return DeployResult(problems=problems)
    keys = {name: _workflow_key(name, text) for name, text in texts.items()}
    bundles = {name: text for name, text in texts.items() if keys[name] is None}
    peers = sorted(key for key in keys.values() if key is not None)
    result = DeployResult()
    policy_set = sla_policy_set(texts, definitions)
    if policy_set is not None and not may_deploy_sla_policies:
        raise PermissionDenied("deploying SLA policies needs create permission on SlaPolicy")
    async with in_transaction():
        if policy_set is not None:
            result.sla_policies = await store_policy_set(policy_set, bundles, actor=actor)
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
            current = (
                await m.WorkflowVersion.get_or_none(id=row.current_version_id)
                if row.current_version_id is not None
                else None
            )
            previous = current.number if current is not None else None
            if existing is not None and current is not None and existing.id == current.id:
                result.deployed.append(Deployed(key, existing.number, created=False))
                continue
            if existing is None:
                number = await m.WorkflowVersion.filter(workflow_id=row.id).count() + 1
                version = await m.WorkflowVersion.create(
                    workflow_id=row.id,
                    number=number,
                    content_hash=digest,
                    source=text,
                    definition={"bundles": bundles, "name": name, "peers": peers},
                )
            else:
                # The content of an earlier version (a roll-back): it becomes current again,
                # as a new version would; runs in flight stay on theirs.
                version, number = existing, existing.number
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
                {"version": [previous, number]},
                "workflow.deployed",
            )
            if existing is not None:
                result.deployed.append(Deployed(key, number, created=False, reactivated=True))
                continue
            result.deployed.append(Deployed(key, number, created=True))
        await segments.track_suppression(definitions, now)
    return result


def sla_policy_set(texts: dict[str, str], definitions: Definitions) -> dict[str, Any] | None:
    """The policies the files define, in file order then list order (the order they are tried
    in), with every calendar known, as the domain stores them; None when no file has any."""
    policies: list[SlaPolicy] = []
    for name, text in texts.items():
        model = load_document(name, text).model
        if isinstance(model, Bundle):
            policies += model.sla_policies
    if not policies:
        return None
    return {
        "calendars": dict(definitions.calendars),
        "policies": [_policy_data(policy) for policy in policies],
    }


def _target_data(value: str | BusinessDaysTarget) -> int | dict[str, int]:
    """Business minutes, or ``{"business_days": N}`` (resolved when a clock starts)."""
    if isinstance(value, BusinessDaysTarget):
        return {"business_days": value.business_days}
    return int(parse_business_duration(value).total_seconds()) // 60


def _policy_data(policy: SlaPolicy) -> dict[str, Any]:
    targets: dict[str, dict[str, Any]] = {}
    for priority, target in policy.targets.items():
        entry: dict[str, Any] = {
            metric: _target_data(value)
            for metric in ("first_reply", "next_reply", "resolution")
            if (value := getattr(target, metric)) is not None
        }
        if target.calendar is not None:
            entry["calendar"] = target.calendar
        targets[priority] = entry
    warn = policy.warn_at
    return {
        "key": policy.key,
        "applies_when": policy.applies_when,
        "calendar": policy.calendar,
        "targets": targets,
        "pause_when_status": list(policy.pause_when_status),
        "warn_at": int(str(warn).strip().removesuffix("%")),
    }


@lru_cache(maxsize=256)
def _definitions(
    source_name: str, source: str, bundles_json: str, peers: tuple[str, ...]
) -> Definitions:
    texts = {source_name: source, **json.loads(bundles_json)}
    # The workflows deployed with it validated its ``enroll`` steps then; alone, it still may.
    definitions, problems = validate_texts(texts, known_workflows=peers)
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
        tuple(stored.get("peers", ())),
    )
    (workflow,) = definitions.workflows.values()
    return workflow, definitions


#: The shipped files a fresh installation deploys so that SLAs work before anyone writes YAML.
SHIPPED_SLA_FILES = ("sla.yaml", "gold-breach-escalation.yaml", "sla-warning.yaml")


async def deploy_shipped_sla(*, actor: str = "system") -> DeployResult | None:
    """Deploy the shipped calendars, SLA policies, templates and SLA workflows when no SLA
    policy set was ever deployed (a fresh installation); None when one was."""
    if await m.SlaPolicySet.exists():
        return None
    texts = {name: (BUNDLED_DIR / name).read_text(encoding="utf-8") for name in SHIPPED_SLA_FILES}
    return await deploy_texts(texts, actor=actor)
