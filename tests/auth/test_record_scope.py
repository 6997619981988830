"""Record scope, per role, through every way data leaves: top-level lists and counts, node and
nodes, nested connections, relation filters, search, aggregates and groupBy, timelines, and
mutations naming a record. Out of scope must look exactly like missing (assert ids and counts)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from gql.ids import decode_id, encode_id
from tests.auth.helpers import post
from tests.auth.scope_graph import ScopeGraph, build_scope_graph

DENIED = "DENIED"


def _pk(global_id: str) -> int:
    return decode_id(global_id)[1]


@pytest.fixture
async def graph(api: httpx.AsyncClient) -> ScopeGraph:
    return await build_scope_graph(api)


async def _data(api: httpx.AsyncClient, token: str, query: str, **variables: Any) -> Any:
    response = await post(api, query, variables or None, token=token)
    assert response.status_code == 200, response.text
    body = response.json()
    codes = {e.get("extensions", {}).get("code") for e in body.get("errors") or ()}
    if "PERMISSION_DENIED" in codes:
        return DENIED
    assert not body.get("errors"), body["errors"]
    return body["data"]


async def _list(api: httpx.AsyncClient, token: str, field: str) -> Any:
    data = await _data(
        api, token, f"{{ {field}(first: 100) {{ totalCount edges {{ node {{ id }} }} }} }}"
    )
    if data == DENIED:
        return DENIED
    connection = data[field]
    ids = {_pk(e["node"]["id"]) for e in connection["edges"]}
    assert connection["totalCount"] == len(ids)  # counts are scoped like the rows
    return ids


def _pks(graph: ScopeGraph, kind: str, *keys: str) -> set[int]:
    table = getattr(graph, kind)
    return {table[k] for k in keys}


#: role login -> what each top-level list shows (keys of the graph) or DENIED
EXPECTED_LISTS: dict[str, dict[str, Any]] = {
    "sales_a": {
        "customers": ("customers", "org_a", "person_a"),
        "opportunities": ("deals", "deal_a"),
        "tasks": ("tasks", "task_a", "task_support"),
        "interactions": ("interactions", "call_a"),
    },
    "manager_a": {
        "customers": ("customers", "org_a", "person_a"),
        "opportunities": ("deals", "deal_a"),
        "tasks": ("tasks", "task_a", "task_support"),
        "interactions": ("interactions", "call_a"),
    },
    "sales_b": {
        "customers": ("customers", "org_b", "person_b"),
        "opportunities": ("deals", "deal_b", "deal_cross"),
        "tasks": ("tasks", "task_cross", "task_b"),
        "interactions": ("interactions", "call_b"),
    },
    "support_a": {
        "customers": ("customers",),  # no tickets in this graph: no customers (test_ticket_scope)
        "opportunities": DENIED,
        "tasks": ("tasks", "task_a", "task_support"),
        "interactions": ("interactions",),
    },
    "analyst": {
        "customers": ("customers", "org_a", "org_b", "person_a", "person_b"),
        "opportunities": ("deals", "deal_a", "deal_b", "deal_cross"),
        "tasks": ("tasks", "task_a", "task_support", "task_cross", "task_b"),
        "interactions": ("interactions", "call_a", "call_b"),
    },
    "marketing": {
        "customers": ("customers", "org_a", "org_b", "person_a", "person_b"),
        "opportunities": ("deals", "deal_a", "deal_b", "deal_cross"),
        "tasks": DENIED,
        "interactions": ("interactions", "call_a", "call_b"),
    },
}


@pytest.mark.parametrize("who", sorted(EXPECTED_LISTS))
async def test_lists_counts_and_node_show_only_the_scope(
    api: httpx.AsyncClient, graph: ScopeGraph, who: str
) -> None:
    token = graph.tokens[who]
    for field, expected in EXPECTED_LISTS[who].items():
        want = DENIED if expected == DENIED else _pks(graph, expected[0], *expected[1:])
        assert await _list(api, token, field) == want, field
    # node / nodes: everything outside the customer list answers null, like a missing id
    visible = EXPECTED_LISTS[who]["customers"][1:]
    ids = [
        encode_id("Organization" if key.startswith("org") else "Person", pk)
        for key, pk in sorted(graph.customers.items())
    ]
    ids.append(encode_id("Person", 999_999))
    data = await _data(api, token, "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", ids=ids)
    shown = [n["id"] if n else None for n in data["nodes"]]
    assert shown == [
        i if key in visible else None
        for i, key in zip(ids, [*sorted(graph.customers), "missing"], strict=True)
    ]


NESTED = """query($id: ID!) { node(id: $id) {
  ... on Organization { people { totalCount edges { node { id } } } }
  ... on Person {
    opportunities { totalCount edges { node { id } } }
    tasks { totalCount edges { node { id } } }
    interactions { totalCount edges { node { id } } }
    timeline(first: 50) { edges { node { __typename
      ... on Task { id } ... on Interaction { id } ... on StageChange { id } } } }
  }
} }"""


def _edge_ids(connection: dict[str, Any]) -> set[int]:
    ids = {_pk(e["node"]["id"]) for e in connection["edges"]}
    assert connection["totalCount"] == len(ids)
    return ids


async def test_nested_connections_and_timelines_drop_other_teams_work(
    api: httpx.AsyncClient, graph: ScopeGraph
) -> None:
    token = graph.tokens["sales_a"]
    org = await _data(api, token, NESTED, id=encode_id("Organization", graph.customers["org_a"]))
    assert _edge_ids(org["node"]["people"]) == {graph.customers["person_a"]}

    person = await _data(api, token, NESTED, id=encode_id("Person", graph.customers["person_a"]))
    node = person["node"]
    assert _edge_ids(node["opportunities"]) == {graph.deals["deal_a"]}
    assert _edge_ids(node["tasks"]) == _pks(graph, "tasks", "task_a", "task_support")
    assert _edge_ids(node["interactions"]) == {graph.interactions["call_a"]}
    timeline = [e["node"] for e in node["timeline"]["edges"]]
    tasks = {_pk(n["id"]) for n in timeline if n["__typename"] == "Task"}
    assert tasks == _pks(graph, "tasks", "task_a", "task_support")
    assert graph.tasks["task_cross"] not in tasks
    # team B sees its deal and task on A's customer only at the top level, never the customer
    other = await _data(
        api, graph.tokens["sales_b"], NESTED, id=encode_id("Person", graph.customers["person_a"])
    )
    assert other["node"] is None
    deal = await _data(
        api,
        graph.tokens["sales_b"],
        "query($id: ID!) { node(id: $id) { ... on Opportunity { id customer { id } } } }",
        id=encode_id("Opportunity", graph.deals["deal_cross"]),
    )
    assert deal["node"]["customer"] is None


async def test_relation_filters_search_and_aggregates_are_scoped(
    api: httpx.AsyncClient, graph: ScopeGraph
) -> None:
    big_deals = (
        "{ customers(filter: {opportunities: {some: {amount: {gte: 250000000}}}}) { totalCount } }"
    )
    # deal_cross (300M) hangs off person_a but belongs to team B: team A cannot probe for it
    assert (await _data(api, graph.tokens["sales_a"], big_deals))["customers"]["totalCount"] == 0
    assert (await _data(api, graph.tokens["analyst"], big_deals))["customers"]["totalCount"] == 1

    search = '{ search(query: "nguyen") { customer { id } } }'
    found = await _data(api, graph.tokens["sales_a"], search)
    assert {_pk(h["customer"]["id"]) for h in found["search"]} == {graph.customers["person_a"]}
    found_b = await _data(api, graph.tokens["sales_b"], search)
    assert {_pk(h["customer"]["id"]) for h in found_b["search"]} == {graph.customers["person_b"]}

    stats = """{ opportunityStats(groupBy: [OWNER]) {
      total { count sum } groups { count sum key { owner { id } } } } }"""
    own = (await _data(api, graph.tokens["sales_a"], stats))["opportunityStats"]
    assert own["total"] == {"count": 1, "sum": "1000000.00"}
    assert [(g["count"], _pk(g["key"]["owner"]["id"])) for g in own["groups"]] == [
        (1, graph.users["sales_a"])
    ]
    everything = (await _data(api, graph.tokens["analyst"], stats))["opportunityStats"]
    assert everything["total"] == {"count": 3, "sum": "321000000.00"}
    assert await _data(api, graph.tokens["support_a"], stats) == DENIED


UPDATE = """mutation($id: ID!) { updatePerson(input: {id: $id, patch: {jobTitle: "CEO"}}) {
  __typename ... on NotFoundError { code } } }"""
CREATE_TASK = """mutation($customer: ID!) {
  createTask(input: {title: "Gọi lại", customerId: $customer}) {
    __typename ... on NotFoundError { code } } }"""


async def test_mutations_on_records_out_of_scope_answer_not_found(
    api: httpx.AsyncClient, graph: ScopeGraph
) -> None:
    from domain.persistence import models as m

    token = graph.tokens["sales_a"]
    theirs = encode_id("Person", graph.customers["person_b"])
    missing = encode_id("Person", 999_999)
    for target in (theirs, missing):
        result = (await _data(api, token, UPDATE, id=target))["updatePerson"]
        assert result == {"__typename": "NotFoundError", "code": "NOT_FOUND"}
        created = (await _data(api, token, CREATE_TASK, customer=target))["createTask"]
        assert created == {"__typename": "NotFoundError", "code": "NOT_FOUND"}
    assert (await m.Customer.get(id=graph.customers["person_b"])).job_title is None
    assert not await m.Task.filter(title="Gọi lại").exists()
    mine = encode_id("Person", graph.customers["person_a"])
    assert (await _data(api, token, UPDATE, id=mine))["updatePerson"][
        "__typename"
    ] == "PersonSuccess"


async def test_analysts_see_contact_data_masked_and_cannot_probe_it(
    api: httpx.AsyncClient, graph: ScopeGraph
) -> None:
    token = graph.tokens["analyst"]
    query = """query($id: ID!) { node(id: $id) { ... on Person {
      displayName primaryEmail primaryPhone emails { address } phones { number } address { city }
    } } }"""
    person = (await _data(api, token, query, id=encode_id("Person", graph.customers["person_a"])))[
        "node"
    ]
    assert person == {
        "displayName": person["displayName"],
        "primaryEmail": None,
        "primaryPhone": None,
        "emails": [],
        "phones": [],
        "address": None,
    }
    sales = await _data(
        api, graph.tokens["sales_a"], query, id=encode_id("Person", graph.customers["person_a"])
    )
    assert sales["node"]["primaryEmail"] == "person_a@khachhang.vn"
    probe = '{ customers(filter: {email: {startsWith: "person_a"}}) { totalCount } }'
    assert await _data(api, token, probe) == DENIED
    hits = await _data(api, token, '{ search(query: "person_a@khachhang.vn") { customer { id } } }')
    assert hits["search"] == []
    by_phone = await _data(api, token, '{ search(query: "0912345678") { customer { id } } }')
    assert by_phone["search"] == []
    body = await _data(
        api,
        token,
        "query($id: ID!) { node(id: $id) { ... on Interaction { subject body } } }",
        id=encode_id("Interaction", graph.interactions["call_a"]),
    )
    assert body["node"] == {"subject": "call_a", "body": None}
    changes = """query($id: ID!) { node(id: $id) { ... on Person {
      timeline(first: 50) { edges { node { ... on CustomerChange { action changes } } } } } } }"""
    person_id = encode_id("Person", graph.customers["person_a"])
    for who, masked in (("analyst", True), ("sales_a", False)):
        data = await _data(api, graph.tokens[who], changes, id=person_id)
        audited = [e["node"] for e in data["node"]["timeline"]["edges"] if e["node"]]
        assert audited, who
        assert all((entry["changes"] == {}) == masked for entry in audited), (who, audited)


CREATE_PERSON = """mutation { createPerson(input: {firstName: "Mai", lastName: "Trần"}) {
  __typename ... on PersonSuccess { person { id owner { id } } } } }"""
CREATE_OWN_TASK = """mutation($customer: ID!) {
  createTask(input: {title: "Hẹn gặp", customerId: $customer}) {
    __typename ... on TaskSuccess { task { id assignee { id } } } } }"""


async def test_what_a_salesperson_creates_stays_in_their_view(
    api: httpx.AsyncClient, graph: ScopeGraph
) -> None:
    token = graph.tokens["sales_b"]
    me = encode_id("User", graph.users["sales_b"])
    person = (await _data(api, token, CREATE_PERSON))["createPerson"]["person"]
    assert person["owner"] == {"id": me}
    assert _pk(person["id"]) in await _list(api, token, "customers")
    task = (await _data(api, token, CREATE_OWN_TASK, customer=person["id"]))["createTask"]["task"]
    assert task["assignee"] == {"id": me}
    assert _pk(task["id"]) in await _list(api, token, "tasks")
    # an analyst may not create customers at all
    created = await _data(api, graph.tokens["analyst"], CREATE_PERSON)
    assert created == {"createPerson": {"__typename": "PermissionDeniedError"}}


RUNS = "{ workflowRuns(first: 50) { totalCount edges { node { id subject { __typename } } } } }"


async def test_workflow_runs_follow_their_subjects_scope(
    api: httpx.AsyncClient, graph: ScopeGraph
) -> None:
    import datetime as dt

    from domain.persistence import models as m

    workflow = await m.Workflow.create(key="nurture", name="Nurture", subject="customer")
    version = await m.WorkflowVersion.create(
        workflow=workflow, number=1, content_hash="0" * 64, source="", definition={}
    )
    runs = {}
    for key, subject_type, subject_id in (
        ("run_a", "customer", graph.customers["person_a"]),
        ("run_b", "customer", graph.customers["person_b"]),
        ("run_cross", "opportunity", graph.deals["deal_cross"]),
    ):
        run = await m.WorkflowRun.create(
            workflow=workflow,
            version=version,
            subject_type=subject_type,
            subject_id=subject_id,
            started_at=dt.datetime.now(dt.UTC),
        )
        runs[key] = run.id

    async def visible(who: str) -> set[int]:
        connection = (await _data(api, graph.tokens[who], RUNS))["workflowRuns"]
        ids = {_pk(e["node"]["id"]) for e in connection["edges"]}
        assert connection["totalCount"] == len(ids)
        return ids

    assert await visible("sales_a") == {runs["run_a"]}
    assert await visible("sales_b") == {runs["run_b"], runs["run_cross"]}
    assert await visible("analyst") == set(runs.values())
    hidden = await _data(
        api,
        graph.tokens["sales_a"],
        "query($id: ID!) { node(id: $id) { id } }",
        id=encode_id("WorkflowRun", runs["run_b"]),
    )
    assert hidden == {"node": None}
