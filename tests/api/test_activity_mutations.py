"""Interaction and task mutations over HTTP: what they write, where it shows up, the status
transitions of tasks, and typed errors that write nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx

from domain.persistence import models as m
from domain.sales.pipelines import ensure_default_pipelines
from gql.ids import decode_pk, encode_id
from tests.helpers import gql

ERRORS = """
  ... on ValidationError { field code message }
  ... on NotFoundError { code message }
  ... on ConflictError { field code message }
"""
LOG = f"""mutation($input: LogInteractionInput!) {{ logInteraction(input: $input) {{
  __typename
  ... on InteractionSuccess {{ interaction {{ id kind direction subject body occurredAt
      customer {{ id }} user {{ id }} opportunity {{ id }} }} }}
  {ERRORS}
}} }}"""
TASK_RESULT = f"""
  __typename
  ... on TaskSuccess {{ task {{ id title notes dueAt status completedAt
      assignee {{ id }} customer {{ id }} opportunity {{ id }} }} }}
  {ERRORS}
"""
CREATE_TASK = f"mutation($input: TaskFields!) {{ createTask(input: $input) {{ {TASK_RESULT} }} }}"
UPDATE_TASK = (
    f"mutation($input: UpdateTaskInput!) {{ updateTask(input: $input) {{ {TASK_RESULT} }} }}"
)
COMPLETE_TASK = f"mutation($id: ID!) {{ completeTask(input: {{id: $id}}) {{ {TASK_RESULT} }} }}"
CANCEL_TASK = f"mutation($id: ID!) {{ cancelTask(input: {{id: $id}}) {{ {TASK_RESULT} }} }}"
CREATE_PERSON = """mutation($input: PersonInput!) { createPerson(input: $input) {
  ... on PersonSuccess { person { id } } } }"""
CREATE_OPP = """mutation($input: CreateOpportunityInput!) { createOpportunity(input: $input) {
  ... on OpportunitySuccess { opportunity { id } } } }"""
CREATE_USER = """mutation($input: CreateUserInput!) { createUser(input: $input) {
  ... on UserSuccess { user { id } } } }"""


def _when(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


async def _counts() -> tuple[int, ...]:
    return tuple(
        [
            await model.all().count()
            for model in (
                m.Interaction,
                m.Task,
                m.Customer,
                m.Opportunity,
                m.AuditEntry,
                m.DomainEvent,
            )
        ]
    )


async def _marks() -> tuple[int, int]:
    audit = await m.AuditEntry.all().order_by("-id").first()
    event = await m.DomainEvent.all().order_by("-id").first()
    return (audit.id if audit else 0, event.id if event else 0)


async def _written_since(marks: tuple[int, int]) -> tuple[list[m.AuditEntry], list[m.DomainEvent]]:
    audits = await m.AuditEntry.filter(id__gt=marks[0]).order_by("id")
    events = await m.DomainEvent.filter(id__gt=marks[1]).order_by("id")
    return audits, events


async def _person(api: httpx.AsyncClient, name: str) -> str:
    body = await gql(api, CREATE_PERSON, {"input": {"firstName": name}})
    return str(body["data"]["createPerson"]["person"]["id"])


async def _deal(api: httpx.AsyncClient, customer_id: str) -> str:
    await ensure_default_pipelines(actor="user:test")
    body = await gql(api, CREATE_OPP, {"input": {"name": "Deal", "customerId": customer_id}})
    return str(body["data"]["createOpportunity"]["opportunity"]["id"])


async def _user(api: httpx.AsyncClient, email: str = "nam@rapport.vn") -> str:
    body = await gql(api, CREATE_USER, {"input": {"name": "Nam", "email": email}})
    return str(body["data"]["createUser"]["user"]["id"])


async def test_log_interaction_shows_in_interactions_and_timeline(api: httpx.AsyncClient) -> None:
    pid = await _person(api, "Hoa")
    deal = await _deal(api, pid)
    uid = await _user(api)
    first = await gql(
        api,
        LOG,
        {"input": {"customerId": pid, "kind": "EMAIL", "occurredAt": "2026-03-01T08:00:00+07:00"}},
    )
    assert first["data"]["logInteraction"]["__typename"] == "InteractionSuccess"
    marks = await _marks()
    body = await gql(
        api,
        LOG,
        {
            "input": {
                "customerId": pid,
                "kind": "MEETING",
                "direction": "INBOUND",
                "subject": "  Gặp   trực tiếp ",
                "body": "Bàn giá",
                "occurredAt": "2026-03-02T10:00:00+07:00",
                "userId": uid,
                "opportunityId": deal,
            }
        },
    )
    result = body["data"]["logInteraction"]
    assert result["__typename"] == "InteractionSuccess"
    interaction = result["interaction"]
    assert (interaction["kind"], interaction["direction"]) == ("MEETING", "INBOUND")
    assert interaction["subject"] == "Gặp trực tiếp"
    assert _when(interaction["occurredAt"]) == dt.datetime(2026, 3, 2, 3, 0, tzinfo=dt.UTC)
    assert interaction["customer"]["id"] == pid
    assert interaction["user"]["id"] == uid
    assert interaction["opportunity"]["id"] == deal
    audits, events = await _written_since(marks)
    assert [a.action for a in audits] == ["interaction.log"]
    assert [e.type for e in events] == ["interaction.logged"]
    assert encode_id("Interaction", events[0].subject_id) == interaction["id"]
    assert events[0].actor == "api"
    read = await gql(
        api,
        """query($id: ID!) { node(id: $id) { ... on Customer {
        interactions(last: 1) { totalCount edges { node { id subject } } }
        timeline(first: 50) { edges { node { __typename ... on Interaction { id } } } } } } }""",
        {"id": pid},
    )
    customer = read["data"]["node"]
    assert customer["interactions"]["totalCount"] == 2
    assert [e["node"]["id"] for e in customer["interactions"]["edges"]] == [interaction["id"]]
    timeline_ids = [
        e["node"].get("id")
        for e in customer["timeline"]["edges"]
        if e["node"]["__typename"] == "Interaction"
    ]
    assert interaction["id"] in timeline_ids
    assert len(timeline_ids) == 2


async def test_log_interaction_without_time_defaults_to_now(api: httpx.AsyncClient) -> None:
    pid = await _person(api, "An")
    start = dt.datetime.now(dt.UTC)
    body = await gql(api, LOG, {"input": {"customerId": pid, "kind": "CALL"}})
    interaction = body["data"]["logInteraction"]["interaction"]
    assert interaction["direction"] == "OUTBOUND"
    when = _when(interaction["occurredAt"])
    assert (
        start - dt.timedelta(seconds=5) <= when <= dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)
    )


async def test_log_interaction_failures_write_nothing(api: httpx.AsyncClient) -> None:
    pid = await _person(api, "Hoa")
    other = await _person(api, "Nam")
    others_deal = await _deal(api, other)
    uid = await _user(api)
    cases: list[tuple[dict[str, Any], str, str | None, str]] = [
        ({"occurredAt": "2026-03-02T10:00:00"}, "ValidationError", "occurredAt", "NAIVE_DATETIME"),
        ({"opportunityId": others_deal}, "ValidationError", "opportunityId", "MISMATCH"),
        (
            {"opportunityId": encode_id("Opportunity", 9999)},
            "ValidationError",
            "opportunityId",
            "NOT_FOUND",
        ),
        ({"userId": encode_id("User", 9999)}, "ValidationError", "userId", "NOT_FOUND"),
        ({"customerId": uid}, "ValidationError", "customerId", "WRONG_ID_TYPE"),
        ({"customerId": encode_id("Person", 9999)}, "NotFoundError", None, "NOT_FOUND"),
        ({"userId": pid}, "ValidationError", "userId", "WRONG_ID_TYPE"),
    ]
    for override, typename, field, code in cases:
        before = await _counts()
        body = await gql(api, LOG, {"input": {"customerId": pid, "kind": "CALL", **override}})
        result = body["data"]["logInteraction"]
        assert (result["__typename"], result["code"]) == (typename, code), (override, result)
        if field is not None:
            assert result["field"] == field, (override, result)
        assert await _counts() == before, override
    unknown_kind = await gql(
        api, LOG, {"input": {"customerId": pid, "kind": "FAX"}}, expect_errors=True
    )
    assert unknown_kind.get("data") is None
    assert await m.Interaction.all().count() == 0


async def test_create_task_and_status_transitions(api: httpx.AsyncClient) -> None:
    pid = await _person(api, "Hoa")
    uid = await _user(api)
    marks = await _marks()
    body = await gql(
        api,
        CREATE_TASK,
        {
            "input": {
                "title": "  Gọi lại   khách ",
                "notes": "trước 10h",
                "dueAt": "2026-03-05T09:00:00+07:00",
                "assigneeId": uid,
                "customerId": pid,
            }
        },
    )
    result = body["data"]["createTask"]
    assert result["__typename"] == "TaskSuccess"
    task = result["task"]
    assert task["title"] == "Gọi lại khách"
    assert (task["status"], task["completedAt"]) == ("OPEN", None)
    assert _when(task["dueAt"]) == dt.datetime(2026, 3, 5, 2, 0, tzinfo=dt.UTC)
    assert (task["assignee"]["id"], task["customer"]["id"]) == (uid, pid)
    audits, events = await _written_since(marks)
    assert [a.action for a in audits] == ["task.create"]
    assert [e.type for e in events] == ["task.created"]
    assert "title_fold" not in audits[0].changes
    assert audits[0].changes["title"] == [None, "Gọi lại khách"]

    marks = await _marks()
    done = await gql(api, COMPLETE_TASK, {"id": task["id"]})
    completed = done["data"]["completeTask"]["task"]
    assert completed["status"] == "DONE"
    assert completed["completedAt"] is not None
    audits, events = await _written_since(marks)
    assert [a.action for a in audits] == ["task.complete"]
    assert [e.type for e in events] == ["task.completed"]
    assert encode_id("Person", events[0].payload["customerId"]) == pid
    # Completing again is a no-op; cancelling a done task is a conflict; nothing is written.
    before = await _counts()
    again = await gql(api, COMPLETE_TASK, {"id": task["id"]})
    assert again["data"]["completeTask"]["task"]["completedAt"] == completed["completedAt"]
    cancel = await gql(api, CANCEL_TASK, {"id": task["id"]})
    assert (cancel["data"]["cancelTask"]["__typename"], cancel["data"]["cancelTask"]["field"]) == (
        "ConflictError",
        "status",
    )
    missing = await gql(api, COMPLETE_TASK, {"id": encode_id("Task", 9999)})
    assert missing["data"]["completeTask"]["__typename"] == "NotFoundError"
    assert await _counts() == before
    listed = await gql(
        api,
        """query($id: ID!) { node(id: $id) { ... on Customer {
        tasks { edges { node { id status } } } } } }""",
        {"id": pid},
    )
    assert listed["data"]["node"]["tasks"]["edges"] == [
        {"node": {"id": task["id"], "status": "DONE"}}
    ]


async def test_cancel_task(api: httpx.AsyncClient) -> None:
    body = await gql(api, CREATE_TASK, {"input": {"title": "Gửi báo giá"}})
    task = body["data"]["createTask"]["task"]
    assert task["customer"] is None
    assert task["dueAt"] is None
    marks = await _marks()
    cancelled = await gql(api, CANCEL_TASK, {"id": task["id"]})
    result = cancelled["data"]["cancelTask"]["task"]
    assert (result["status"], result["completedAt"]) == ("CANCELLED", None)
    audits, events = await _written_since(marks)
    assert [a.action for a in audits] == ["task.cancel"]
    assert [e.type for e in events] == ["task.cancelled"]
    before = await _counts()
    complete = await gql(api, COMPLETE_TASK, {"id": task["id"]})
    assert complete["data"]["completeTask"]["__typename"] == "ConflictError"
    update = await gql(api, UPDATE_TASK, {"input": {"id": task["id"], "patch": {"title": "X"}}})
    assert update["data"]["updateTask"]["task"]["status"] == "CANCELLED"
    assert await m.Task.filter(status="CANCELLED", completed_at=None).count() == 1
    assert await _counts() == (
        before[0],
        before[1],
        before[2],
        before[3],
        before[4] + 1,
        before[5] + 1,
    )


async def test_update_task_changes_only_given_fields(api: httpx.AsyncClient) -> None:
    pid = await _person(api, "Hoa")
    deal = await _deal(api, pid)
    body = await gql(
        api,
        CREATE_TASK,
        {
            "input": {
                "title": "Gọi lại",
                "notes": "n",
                "dueAt": "2026-03-05T09:00:00+07:00",
                "opportunityId": deal,
            }
        },
    )
    task = body["data"]["createTask"]["task"]
    # The customer is taken from the deal.
    assert task["customer"]["id"] == pid
    marks = await _marks()
    updated = await gql(
        api,
        UPDATE_TASK,
        {"input": {"id": task["id"], "patch": {"title": "Gọi lại lần 2", "dueAt": None}}},
    )
    result = updated["data"]["updateTask"]["task"]
    assert result["title"] == "Gọi lại lần 2"
    assert result["dueAt"] is None
    assert result["notes"] == "n"
    assert result["opportunity"]["id"] == deal
    assert result["status"] == "OPEN"
    audits, events = await _written_since(marks)
    assert [a.action for a in audits] == ["task.update"]
    assert [e.type for e in events] == ["task.updated"]
    assert sorted(audits[0].changes) == ["due_at", "title"]
    # A patch that changes nothing writes nothing.
    before = await _counts()
    same = await gql(api, UPDATE_TASK, {"input": {"id": task["id"], "patch": {"notes": "n"}}})
    assert same["data"]["updateTask"]["task"]["notes"] == "n"
    assert await _counts() == before


async def test_task_failures_write_nothing(api: httpx.AsyncClient) -> None:
    pid = await _person(api, "Hoa")
    other = await _person(api, "Nam")
    others_deal = await _deal(api, other)
    created = await gql(api, CREATE_TASK, {"input": {"title": "T", "customerId": pid}})
    tid = created["data"]["createTask"]["task"]["id"]
    create_cases: list[tuple[dict[str, Any], str, str | None, str]] = [
        ({"title": None}, "ValidationError", "title", "REQUIRED"),
        ({"title": "   "}, "ValidationError", "title", "REQUIRED"),
        ({"dueAt": "2026-03-05T09:00:00"}, "ValidationError", "dueAt", "NAIVE_DATETIME"),
        ({"assigneeId": encode_id("User", 9999)}, "ValidationError", "assigneeId", "NOT_FOUND"),
        (
            {"customerId": pid, "opportunityId": others_deal},
            "ValidationError",
            "opportunityId",
            "MISMATCH",
        ),
        ({"customerId": encode_id("Organization", 9999)}, "NotFoundError", None, "NOT_FOUND"),
        ({"assigneeId": pid}, "ValidationError", "assigneeId", "WRONG_ID_TYPE"),
    ]
    for override, typename, field, code in create_cases:
        values = {"title": "Việc", **override}
        values = {k: v for k, v in values.items() if v is not None}
        before = await _counts()
        body = await gql(api, CREATE_TASK, {"input": values})
        result = body["data"]["createTask"]
        assert (result["__typename"], result["code"]) == (typename, code), (override, result)
        if field is not None:
            assert result["field"] == field, (override, result)
        assert await _counts() == before, override
    update_cases: list[tuple[dict[str, Any], str, str]] = [
        ({"opportunityId": others_deal}, "opportunityId", "MISMATCH"),
        ({"title": ""}, "title", "REQUIRED"),
        ({"dueAt": "2026-03-05T09:00:00"}, "dueAt", "NAIVE_DATETIME"),
    ]
    for patch, field, code in update_cases:
        before = await _counts()
        body = await gql(api, UPDATE_TASK, {"input": {"id": tid, "patch": patch}})
        result = body["data"]["updateTask"]
        assert (result["__typename"], result["field"], result["code"]) == (
            "ValidationError",
            field,
            code,
        ), (patch, result)
        assert await _counts() == before, patch
    stored = await m.Task.get(id=decode_pk(tid, "Task"))
    assert (stored.title, stored.opportunity_id, stored.due_at) == ("T", None, None)
    missing = await gql(
        api, UPDATE_TASK, {"input": {"id": encode_id("Task", 9999), "patch": {"title": "x"}}}
    )
    assert missing["data"]["updateTask"]["__typename"] == "NotFoundError"


async def test_overlong_task_title_is_a_validation_error(api: httpx.AsyncClient) -> None:
    before = await _counts()
    body = await gql(api, CREATE_TASK, {"input": {"title": "x" * 400}})
    result = body["data"]["createTask"]
    assert (result["__typename"], result["field"]) == ("ValidationError", "title")
    assert await _counts() == before
