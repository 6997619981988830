"""Moving live runs between versions over GraphQL (``migrateWorkflowRuns``) and with
``crm workflows migrate`` against the same database; and the ``segments`` query with its
member counts (two statements however many segments)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from domain.persistence import models as m
from domain.persistence.statement_log import StatementLog
from tests.helpers import gql
from workflows.runtime import dispatch, relay, timers

ROOT = Path(__file__).resolve().parents[2]

TEMPLATES = """\
templates:
  t-hello: {subject: "Xin chào", text: "."}
  t-tips: {subject: "Mẹo", text: "."}
segments:
  vip: {name: Khách VIP, when: '"vip" in subject.tags'}
  cold: {name: Khách lạnh, when: '"cold" in subject.tags'}
"""
V1 = """\
key: nurture
trigger: {manual: true}
steps:
  - {id: hello, send_email: {template: t-hello, to: subject}}
  - {id: pause, wait: 2d}
  - {id: tips, send_email: {template: t-tips, to: subject}}
"""
V2 = V1.replace("id: pause, wait: 2d", "id: breather, wait: 3d")
DEPLOY = """mutation($input: DeployWorkflowInput!) { deployWorkflow(input: $input) {
  __typename ... on DeployWorkflowSuccess { workflows { key version } } } }"""
CREATE_PERSON = """mutation($input: PersonInput!) { createPerson(input: $input) {
  ... on PersonSuccess { person { id } } } }"""
ENROLL = """mutation($subject: ID!) {
  enrollInWorkflow(input: {key: "nurture", subjectId: $subject}) { __typename } }"""
MIGRATE = """mutation($input: MigrateWorkflowRunsInput!) { migrateWorkflowRuns(input: $input) {
  __typename
  ... on MigrateWorkflowRunsSuccess { migrated workflow { key } }
  ... on ValidationError { code field message }
  ... on NotFoundError { code message }
} }"""
SEGMENTS = "{ segments { key name memberCount } }"


async def _deploy(api: httpx.AsyncClient, *flows: str) -> None:
    files = [{"name": f"f{n}.yaml", "content": text} for n, text in enumerate(flows)]
    files.append({"name": "t.yaml", "content": TEMPLATES})
    body = await gql(api, DEPLOY, {"input": {"files": files}})
    assert body["data"]["deployWorkflow"]["__typename"] == "DeployWorkflowSuccess"


async def _person(api: httpx.AsyncClient, email: str, tags: list[str] | None = None) -> str:
    person = {"firstName": "Lan", "emails": [{"address": email}], "tags": tags or []}
    body = await gql(api, CREATE_PERSON, {"input": person})
    return str(body["data"]["createPerson"]["person"]["id"])


async def _migrate(api: httpx.AsyncClient, **values: Any) -> dict[str, Any]:
    given = {"workflowKey": "nurture", "fromVersion": 1, "toVersion": 2} | values
    body = await gql(api, MIGRATE, {"input": given})
    result: dict[str, Any] = body["data"]["migrateWorkflowRuns"]
    return result


def _crm(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": db_url, "LOG_LEVEL": "warning"}
    env.pop("REDIS_URL", None)
    command = [str(Path(sys.executable).parent / "crm"), "workflows", "migrate", *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


async def test_migrate_over_graphql_and_the_cli(api: httpx.AsyncClient, db_url: str) -> None:
    await _deploy(api, V1)
    for number in range(2):
        subject = await _person(api, f"k{number}@khach.vn")
        body = await gql(api, ENROLL, {"subject": subject})
        assert body["data"]["enrollInWorkflow"]["__typename"] == "WorkflowRunSuccess"
    await _deploy(api, V2)
    refused = await _migrate(api)
    assert refused["__typename"] == "ValidationError"
    assert (refused["code"], refused["field"]) == ("UNMAPPED_STEPS", "stepMap")
    assert "pause" in refused["message"]
    assert await m.WorkflowRunStep.filter(kind="migrate").count() == 0
    missing = await _migrate(api, toVersion=5)
    assert missing["__typename"] == "NotFoundError"
    twice = await _migrate(
        api, stepMap=[{"from": "pause", "to": "breather"}, {"from": "pause", "to": "tips"}]
    )
    assert (twice["__typename"], twice["code"]) == ("ValidationError", "DUPLICATE")

    # the CLI says the same, then moves them
    usage = _crm(db_url, "nurture", "--from", "1", "--to", "2", "--map", "pause")
    assert usage.returncode == 2
    assert "OLD_STEP=NEW_STEP" in usage.stderr
    unmapped = _crm(db_url, "nurture", "--from", "1", "--to", "2")
    assert unmapped.returncode == 1
    assert "pause" in unmapped.stderr
    moved = _crm(db_url, "nurture", "--from", "1", "--to", "2", "--map", "pause=breather")
    assert moved.returncode == 0, moved.stderr
    assert moved.stdout.strip() == "nurture: 2 run(s) moved from v1 to v2"
    assert await m.WorkflowRunStep.filter(kind="migrate", outcome="MIGRATED").count() == 2
    # nothing is left on version 1; version 2 back to 1 needs the reverse map
    assert await _migrate(api) == {
        "__typename": "MigrateWorkflowRunsSuccess",
        "migrated": 0,
        "workflow": {"key": "nurture"},
    }
    back = await _migrate(
        api, fromVersion=2, toVersion=1, stepMap=[{"from": "breather", "to": "pause"}]
    )
    assert back["migrated"] == 2


SEGMENT_FLOWS = (
    "key: vip-hello\ntrigger: {segment: vip}\nsteps:\n  - wait: 1d\n",
    "key: cold-hello\ntrigger: {segment: cold}\nsteps:\n  - wait: 1d\n",
)


async def test_segments_and_member_counts(api: httpx.AsyncClient) -> None:
    dispatch.install()
    try:
        await _person(api, "a@khach.vn", ["vip"])
        await _deploy(api, *SEGMENT_FLOWS)
        await _person(api, "b@khach.vn", ["vip"])
        await _person(api, "c@khach.vn", ["cold"])
        await _person(api, "d@khach.vn")
        await relay.relay_events()
        with StatementLog() as log:
            body = await gql(api, SEGMENTS)
        assert body["data"]["segments"] == [
            {"key": "cold", "name": "Khách lạnh", "memberCount": 1},
            {"key": "vip", "name": "Khách VIP", "memberCount": 2},
        ]
        assert log.count == 2
    finally:
        timers.set_timer_handler(None)
        relay.set_event_handler(None)
