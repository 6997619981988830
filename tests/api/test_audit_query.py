"""``auditEntries``: newest first, keyset pages that stay stable while entries are written,
filters by target, actor (and everything under it), action and time, typed input errors."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx

from domain.persistence import models as m
from gql.ids import encode_id
from tests.helpers import gql

BASE = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)
ACTORS = (
    "user:1",
    "user:12",
    "apikey:3",
    "import:batch-7:user:1",
    "workflow:run:41:step:send-welcome",
    "workflow:run:4:step:remind",
)
QUERY = """query($filter: AuditEntryFilter, $first: Int, $after: String) {
  auditEntries(filter: $filter, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { id at action targetType targetId actorRef requestId changes
      actor { kind ref } } }
  }
}"""


async def _seed(count: int = 120) -> list[m.AuditEntry]:
    """Entry ``i`` is at BASE + i minutes, by ACTORS[i % 6], about Task (i % 10) + 1."""
    await m.AuditEntry.bulk_create(
        [
            m.AuditEntry(
                at=BASE + dt.timedelta(minutes=i),
                actor=ACTORS[i % len(ACTORS)],
                action="task.update",
                target_type="Task",
                target_id=i % 10 + 1,
                changes={"title": [f"old {i}", f"new {i}"]},
            )
            for i in range(count)
        ]
    )
    return await m.AuditEntry.all().order_by("id")


async def _walk(api: httpx.AsyncClient, filter_: dict[str, Any], first: int) -> list[str]:
    seen: list[str] = []
    after = None
    while True:
        body = await gql(api, QUERY, {"filter": filter_, "first": first, "after": after})
        page = body["data"]["auditEntries"]
        seen += [edge["node"]["changes"]["title"][1] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        after = page["pageInfo"]["endCursor"]


async def test_pages_newest_first_and_stable_under_inserts(api: httpx.AsyncClient) -> None:
    await _seed(120)
    body = await gql(api, QUERY, {"first": 50})
    page = body["data"]["auditEntries"]
    assert page["totalCount"] == 120
    assert page["pageInfo"]["hasNextPage"] is True
    assert page["pageInfo"]["hasPreviousPage"] is False
    titles = [e["node"]["changes"]["title"][1] for e in page["edges"]]
    assert titles == [f"new {i}" for i in range(119, 69, -1)]
    first = page["edges"][0]["node"]
    assert first["targetType"] == "Task"
    assert first["targetId"] == encode_id("Task", 119 % 10 + 1)
    assert first["actorRef"] == ACTORS[119 % 6]
    # Entries written while a client pages land before its first page, not inside the next.
    await m.AuditEntry.create(
        actor="user:1",
        action="task.update",
        target_type="Task",
        target_id=1,
        changes={"title": ["a", "late"]},
    )
    body = await gql(api, QUERY, {"first": 50, "after": page["pageInfo"]["endCursor"]})
    nxt = body["data"]["auditEntries"]
    assert [e["node"]["changes"]["title"][1] for e in nxt["edges"]] == [
        f"new {i}" for i in range(69, 19, -1)
    ]
    assert nxt["pageInfo"]["hasPreviousPage"] is True
    assert len(await _walk(api, {"targetType": "Task", "action": "task.update"}, 7)) == 121


async def test_filters_by_actor_target_and_time(api: httpx.AsyncClient) -> None:
    await _seed(120)
    # An actor matches itself and everything under it, never a longer id.
    by_user_1 = await _walk(api, {"actor": "user:1"}, 100)
    assert by_user_1 == [f"new {i}" for i in range(119, -1, -1) if i % 6 == 0]
    by_user_global = await _walk(api, {"actor": encode_id("User", 12)}, 100)
    assert by_user_global == [f"new {i}" for i in range(119, -1, -1) if i % 6 == 1]
    by_run_41 = await _walk(api, {"actor": encode_id("WorkflowRun", 41)}, 100)
    assert by_run_41 == [f"new {i}" for i in range(119, -1, -1) if i % 6 == 4]
    every_run = await _walk(api, {"actor": "workflow"}, 100)
    assert len(every_run) == 40
    imports = await _walk(api, {"actor": "import"}, 100)
    assert imports == [f"new {i}" for i in range(119, -1, -1) if i % 6 == 3]
    # Target, and a half-open time window [from, to).
    about_task_3 = await _walk(api, {"target": encode_id("Task", 3)}, 5)
    assert about_task_3 == [f"new {i}" for i in range(119, -1, -1) if i % 10 == 2]
    window = {
        "from": (BASE + dt.timedelta(minutes=30)).isoformat(),
        "to": (BASE + dt.timedelta(minutes=40)).isoformat(),
    }
    assert await _walk(api, window, 3) == [f"new {i}" for i in range(39, 29, -1)]
    both = await _walk(api, {**window, "actor": "apikey:3"}, 3)
    assert both == [f"new {i}" for i in range(39, 29, -1) if i % 6 == 2]


async def test_customer_targets_are_people_or_organizations(api: httpx.AsyncClient) -> None:
    body = await gql(
        api,
        """mutation { createPerson(input: {firstName: "An", lastName: "Nguyễn"}) {
          ... on PersonSuccess { person { id } } } }""",
        headers={"x-request-id": "req-audit-1"},
    )
    person_id = body["data"]["createPerson"]["person"]["id"]
    page = (await gql(api, QUERY, {"filter": {"target": person_id}}))["data"]["auditEntries"]
    [edge] = page["edges"]
    assert edge["node"]["targetId"] == person_id
    assert edge["node"]["action"] == "person.create"
    assert edge["node"]["requestId"] == "req-audit-1"
    assert edge["node"]["changes"]["last_name"] == [None, "Nguyễn"]


async def test_bad_input_is_a_typed_error(api: httpx.AsyncClient) -> None:
    for variables, code in (
        ({"first": 101}, "PAGE_SIZE_OUT_OF_RANGE"),
        ({"first": -1}, "PAGE_SIZE_OUT_OF_RANGE"),
        ({"after": "bm9wZQ=="}, "INVALID_CURSOR"),
        ({"filter": {"target": "not-an-id"}}, "INVALID_ID"),
        ({"filter": {"from": "2026-11-02T08:00:00"}}, "NAIVE_TIME"),
    ):
        body = await gql(api, QUERY, variables, expect_errors=True)
        assert body["errors"][0]["extensions"]["code"] == code, (variables, body)
