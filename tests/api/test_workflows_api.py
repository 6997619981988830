"""Workflows over HTTP: deploy, runs driven by real events, pause/resume, cancel, manual
enrollment and retry, on both backends; and ``crm workflows deploy`` in a subprocess."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain.persistence import models as m
from tests.helpers import gql
from tests.runtime_clock import FakeClock, fire_due, installed_clock
from workflows.language.validate import BUNDLED_DIR
from workflows.runtime import relay

ROOT = Path(__file__).resolve().parents[2]
ICT = dt.timezone(dt.timedelta(hours=7))
MONDAY_10 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=ICT)

DEPLOY = """
mutation($input: DeployWorkflowInput!) { deployWorkflow(input: $input) {
  __typename
  ... on DeployWorkflowSuccess { workflows { key version created } }
  ... on WorkflowValidationError { code problems { file line column path message } }
  ... on ValidationError { field code }
} }
"""
RUN_FIELDS = """
  id state endedReason splitArm subjectType
  workflow { key } version { number }
  subject { __typename ... on Person { id displayName } }
  steps { stepId kind outcome at }
  pendingTimer { key purpose dueAt status }
"""
RUNS = f"""
query($filter: WorkflowRunFilter, $first: Int, $after: String) {{
  workflowRuns(filter: $filter, first: $first, after: $after) {{
    totalCount pageInfo {{ hasNextPage endCursor }} edges {{ node {{ {RUN_FIELDS} }} }}
  }}
}}
"""
WORKFLOW = """
query($key: String!) { workflow(key: $key) {
  id key status subject currentVersion { number contentHash }
  versions { number source }
  counts { enrolled active converted exited completed failed }
  armCounts { arm counts { enrolled } }
} }
"""
RUN_RESULT = f"""
  __typename
  ... on WorkflowRunSuccess {{ run {{ {RUN_FIELDS} }} }}
  ... on ConflictError {{ code field message }}
  ... on NotFoundError {{ code message }}
  ... on ValidationError {{ code field message }}
"""
CANCEL = f"mutation($id: ID!) {{ cancelWorkflowRun(input: {{id: $id}}) {{ {RUN_RESULT} }} }}"
RETRY = f"mutation($id: ID!) {{ retryWorkflowRun(input: {{id: $id}}) {{ {RUN_RESULT} }} }}"
ENROLL = (
    "mutation($key: String!, $subject: ID!) "
    f"{{ enrollInWorkflow(input: {{key: $key, subjectId: $subject}}) {{ {RUN_RESULT} }} }}"
)
PAUSE = """mutation($key: String!) { pauseWorkflow(input: {key: $key}) {
  __typename ... on WorkflowSuccess { workflow { status } } ... on NotFoundError { code } } }"""
RESUME = """mutation($key: String!) { resumeWorkflow(input: {key: $key}) {
  __typename ... on WorkflowSuccess { workflow { status } } } }"""
CREATE_PERSON = """mutation($input: PersonInput!) { createPerson(input: $input) {
  __typename ... on PersonSuccess { person { id } } } }"""
UPDATE_PERSON = """mutation($input: UpdatePersonInput!) { updatePerson(input: $input) {
  __typename ... on ValidationError { field message } } }"""
DEFINE_ATTRIBUTE = """mutation($input: DefineAttributeInput!) { defineAttribute(input: $input) {
  __typename } }"""

MANUAL = """\
key: vip-onboarding
name: VIP onboarding
subject: customer
trigger: {manual: true}
enrollment:
  reenroll: never
steps:
  - id: tag
    add_tag: vip
  - id: title
    update: {jobTitle: "${ subject.attributes.plan }"}
"""


@pytest.fixture
def clock() -> Iterator[FakeClock]:
    with installed_clock(MONDAY_10) as fake:
        yield fake


def _files(*names: str) -> list[dict[str, str]]:
    return [
        {"name": name, "content": (Path(BUNDLED_DIR) / name).read_text(encoding="utf-8")}
        for name in names
    ]


async def _deploy(api: httpx.AsyncClient, files: list[dict[str, str]]) -> dict[str, Any]:
    body = await gql(api, DEPLOY, {"input": {"files": files}})
    result: dict[str, Any] = body["data"]["deployWorkflow"]
    return result


async def _lead(api: httpx.AsyncClient, email: str, **extra: Any) -> str:
    person = {
        "firstName": "Lan",
        "lastName": "Trần",
        "emails": [{"address": email}],
        "emailOptIn": True,
        "lifecycleStage": "LEAD",
        **extra,
    }
    body = await gql(api, CREATE_PERSON, {"input": person})
    assert body["data"]["createPerson"]["__typename"] == "PersonSuccess"
    return str(body["data"]["createPerson"]["person"]["id"])


async def _runs(api: httpx.AsyncClient, **filter: Any) -> list[dict[str, Any]]:
    body = await gql(api, RUNS, {"filter": filter})
    return [edge["node"] for edge in body["data"]["workflowRuns"]["edges"]]


def _at(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


async def test_deploy_versions_and_validation_errors(api: httpx.AsyncClient) -> None:
    files = _files("welcome-nurture.yaml", "templates.yaml")
    first = await _deploy(api, files)
    assert first == {
        "__typename": "DeployWorkflowSuccess",
        "workflows": [{"key": "welcome-nurture", "version": 1, "created": True}],
    }
    again = await _deploy(api, files)
    assert again["workflows"] == [{"key": "welcome-nurture", "version": 1, "created": False}]

    changed = [dict(f) for f in files]
    changed[0]["content"] = changed[0]["content"].replace("wait: 2d", "wait: 3d")
    third = await _deploy(api, changed)
    assert third["workflows"] == [{"key": "welcome-nurture", "version": 2, "created": True}]

    broken = await _deploy(
        api, [{"name": "broken.yaml", "content": "key: broken\nsteps:\n  - id: x\n    wait: [\n"}]
    )
    assert broken["__typename"] == "WorkflowValidationError"
    assert broken["code"] == "WORKFLOW_INVALID"
    problem = broken["problems"][0]
    assert problem["file"] == "broken.yaml"
    assert problem["line"] >= 4
    assert problem["column"] >= 1
    invalid = await _deploy(
        api, [{"name": "bad.yaml", "content": "key: bad\nsubject: customer\nsteps: []\n"}]
    )
    assert invalid["__typename"] == "WorkflowValidationError"
    assert all(p["file"] == "bad.yaml" for p in invalid["problems"])
    assert (await _deploy(api, []))["__typename"] == "ValidationError"

    body = await gql(api, WORKFLOW, {"key": "welcome-nurture"})
    workflow = body["data"]["workflow"]
    assert workflow["status"] == "ACTIVE"
    assert workflow["currentVersion"]["number"] == 2
    assert [v["number"] for v in workflow["versions"]] == [2, 1]
    assert "wait: 3d" in workflow["versions"][0]["source"]
    assert workflow["counts"]["enrolled"] == 0
    listed = await gql(api, "{ workflows { key } }")
    assert listed["data"]["workflows"] == [{"key": "welcome-nurture"}]
    assert (await gql(api, WORKFLOW, {"key": "nope"}))["data"]["workflow"] is None
    assert await m.Workflow.all().count() == 1
    assert await m.AuditEntry.filter(action="workflow.deploy").count() == 2


async def test_runs_pause_resume_and_cancel(api: httpx.AsyncClient, clock: FakeClock) -> None:
    await _deploy(api, _files("welcome-nurture.yaml", "templates.yaml"))
    lan = await _lead(api, "lan@khach.vn")
    minh = await _lead(api, "minh@khach.vn", firstName="Minh")
    assert await relay.relay_events() >= 2

    (run,) = await _runs(api, workflowKey="welcome-nurture", subjectId=lan)
    assert run["state"] == "WAITING"
    assert run["subject"] == {"__typename": "Person", "id": lan, "displayName": "Trần Lan"}
    assert run["version"]["number"] == 1
    assert [s["stepId"] for s in run["steps"]][:2] == ["welcome", "pause"]
    timer = run["pendingTimer"]
    assert timer["status"] == "PENDING"
    assert timer["purpose"] == "wait"
    assert _at(timer["dueAt"]) == MONDAY_10 + dt.timedelta(days=2)
    assert len(await _runs(api, workflowKey="welcome-nurture", state=["WAITING"])) == 2
    assert await _runs(api, workflowKey="welcome-nurture", state=["COMPLETED"]) == []
    page = await gql(api, RUNS, {"filter": {"workflowKey": "welcome-nurture"}, "first": 1})
    connection = page["data"]["workflowRuns"]
    assert connection["totalCount"] == 2
    assert connection["pageInfo"]["hasNextPage"]
    rest = await gql(api, RUNS, {"first": 5, "after": connection["pageInfo"]["endCursor"]})
    ids = [connection["edges"][0]["node"]["id"]] + [
        e["node"]["id"] for e in rest["data"]["workflowRuns"]["edges"]
    ]
    assert len(set(ids)) == 2

    counts = (await gql(api, WORKFLOW, {"key": "welcome-nurture"}))["data"]["workflow"]["counts"]
    assert counts == {
        "enrolled": 2, "active": 2, "converted": 0, "exited": 0, "completed": 0, "failed": 0
    }  # fmt: skip

    # cancel Minh's run: EXITED, its timer cancelled, not cancellable twice
    (minh_run,) = await _runs(api, subjectId=minh)
    cancelled = (await gql(api, CANCEL, {"id": minh_run["id"]}))["data"]["cancelWorkflowRun"]
    assert cancelled["__typename"] == "WorkflowRunSuccess"
    assert cancelled["run"]["state"] == "EXITED"
    assert cancelled["run"]["endedReason"] == "cancelled"
    assert cancelled["run"]["pendingTimer"] is None
    assert cancelled["run"]["steps"][-1]["kind"] == "cancel"
    assert await m.Timer.filter(status="CANCELLED").count() == 1
    again = (await gql(api, CANCEL, {"id": minh_run["id"]}))["data"]["cancelWorkflowRun"]
    assert again["__typename"] == "ConflictError"
    wrong = (await gql(api, CANCEL, {"id": lan}))["data"]["cancelWorkflowRun"]
    assert wrong["__typename"] == "ValidationError"

    # paused: Lan's timer fires but the run holds before the tips e-mail
    paused = (await gql(api, PAUSE, {"key": "welcome-nurture"}))["data"]["pauseWorkflow"]
    assert paused["workflow"]["status"] == "PAUSED"
    clock.now = MONDAY_10 + dt.timedelta(days=2, seconds=1)
    assert await fire_due(clock) == 1
    (held,) = await _runs(api, subjectId=lan)
    assert held["state"] == "WAITING"
    assert held["pendingTimer"] is None
    assert await m.EmailMessage.filter(to_address="lan@khach.vn").count() == 1

    resumed = (await gql(api, RESUME, {"key": "welcome-nurture"}))["data"]["resumeWorkflow"]
    assert resumed["workflow"]["status"] == "ACTIVE"
    (done,) = await _runs(api, subjectId=lan)
    assert done["state"] == "COMPLETED"
    assert "tips" in [s["stepId"] for s in done["steps"]]
    assert await m.EmailMessage.filter(to_address="lan@khach.vn").count() == 2
    assert await m.EmailMessage.filter(to_address="minh@khach.vn").count() == 1

    counts = (await gql(api, WORKFLOW, {"key": "welcome-nurture"}))["data"]["workflow"]["counts"]
    assert (counts["enrolled"], counts["active"], counts["exited"], counts["completed"]) == (
        2,
        0,
        1,
        1,
    )
    actions = set(await m.AuditEntry.all().values_list("action", flat=True))
    assert {"workflow.pause", "workflow.resume", "workflow_run.cancel"} <= actions
    missing = (await gql(api, PAUSE, {"key": "nope"}))["data"]["pauseWorkflow"]
    assert missing["__typename"] == "NotFoundError"


async def test_manual_enrollment_and_retry(api: httpx.AsyncClient, clock: FakeClock) -> None:
    deployed = await _deploy(
        api,
        [
            {"name": "vip.yaml", "content": MANUAL},
            *_files("welcome-nurture.yaml", "templates.yaml"),
        ],
    )
    assert deployed["__typename"] == "DeployWorkflowSuccess", deployed
    lan = await _lead(api, "lan@khach.vn")

    refused = (await gql(api, ENROLL, {"key": "welcome-nurture", "subject": lan}))["data"]
    assert refused["enrollInWorkflow"]["__typename"] == "ConflictError"
    assert "manual" in refused["enrollInWorkflow"]["message"]

    # the update step fails (no plan attribute): the run ends FAILED at "title"
    enrolled = (await gql(api, ENROLL, {"key": "vip-onboarding", "subject": lan}))["data"]
    run = enrolled["enrollInWorkflow"]["run"]
    assert run["state"] == "FAILED", run
    assert run["steps"][-1]["stepId"] == "title"
    assert run["steps"][-1]["outcome"] == "FAILED"
    assert run["subject"]["id"] == lan

    twice = (await gql(api, ENROLL, {"key": "vip-onboarding", "subject": lan}))["data"]
    assert twice["enrollInWorkflow"]["__typename"] == "ConflictError"
    assert "reenroll: never" in twice["enrollInWorkflow"]["message"]

    # fix the data, retry: the failed step runs again and the run completes
    define = {"entity": "PERSON", "key": "plan", "label": "Plan", "type": "STRING"}
    defined = await gql(api, DEFINE_ATTRIBUTE, {"input": define})
    assert defined["data"]["defineAttribute"]["__typename"] == "AttributeDefinitionSuccess"
    patch = {"attributes": {"plan": "gold"}}
    updated = await gql(api, UPDATE_PERSON, {"input": {"id": lan, "patch": patch}})
    assert updated["data"]["updatePerson"]["__typename"] == "PersonSuccess", updated
    retried = (await gql(api, RETRY, {"id": run["id"]}))["data"]["retryWorkflowRun"]
    assert retried["__typename"] == "WorkflowRunSuccess", retried
    assert retried["run"]["state"] == "COMPLETED"
    assert [s["outcome"] for s in retried["run"]["steps"] if s["stepId"] == "title"] == [
        "FAILED",
        "DONE",
    ]
    customer = await m.Customer.get(id=int(await _pk(lan)))
    assert customer.job_title == "gold"
    assert "vip" in (customer.tags or [])
    again = (await gql(api, RETRY, {"id": run["id"]}))["data"]["retryWorkflowRun"]
    assert again["__typename"] == "ConflictError"
    assert await m.AuditEntry.filter(action="workflow.enroll").count() == 1
    assert await m.AuditEntry.filter(action="workflow_run.retry").count() == 1


async def _pk(global_id: str) -> int:
    from gql.ids import decode_pk

    return decode_pk(global_id, "Person")


def test_cli_deploy(sqlite_template: Path, tmp_path: Path) -> None:
    database = tmp_path / "cli.sqlite3"
    shutil.copyfile(sqlite_template, database)
    env = {**os.environ, "DATABASE_URL": f"sqlite://{database}", "LOG_LEVEL": "warning"}
    env.pop("REDIS_URL", None)
    bundle = tmp_path / "flows"
    bundle.mkdir()
    for name in ("welcome-nurture.yaml", "templates.yaml"):
        shutil.copy(Path(BUNDLED_DIR) / name, bundle / name)
    command = [str(Path(sys.executable).parent / "crm"), "workflows", "deploy"]

    def crm(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*command, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        )

    first = crm(str(bundle))
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == ["welcome-nurture v1 (new)"]
    (bundle / "bad.yaml").write_text("key: bad\nsubject: customer\nsteps: []\n", encoding="utf-8")
    bad = crm(str(bundle / "bad.yaml"), str(bundle / "templates.yaml"))
    assert bad.returncode == 1
    assert "bad.yaml:" in bad.stdout
    (bundle / "bad.yaml").unlink()
    second = crm(str(bundle))
    assert second.returncode == 0, second.stderr
    assert second.stdout.splitlines() == ["welcome-nurture v1 (unchanged)"]


async def test_workflow_records_are_nodes(api: httpx.AsyncClient) -> None:
    await _deploy(api, _files("welcome-nurture.yaml", "templates.yaml"))
    found = await gql(api, WORKFLOW, {"key": "welcome-nurture"})
    workflow_id = found["data"]["workflow"]["id"]
    body = await gql(
        api,
        "query($id: ID!) { node(id: $id) { __typename ... on Workflow { key } } }",
        {"id": workflow_id},
    )
    assert body["data"]["node"] == {"__typename": "Workflow", "key": "welcome-nurture"}
