"""Tickets under record scope, per role, through every way they leave: the ticket list and its
counts, node/nodes, customer.tickets, timelines, comments (internal notes), the resolutionTime
and slaCompliance aggregates, and mutations naming a ticket. Out of scope looks exactly like
missing (ids and counts asserted).

On top of the two-team graph of :mod:`tests.auth.scope_graph`:
``ticket_a`` (person_a, worked by support_a: team A), ``ticket_cross`` (person_a, team B),
``ticket_b`` (person_b, team B) and ``ticket_triage`` (org_b, no team, no assignee: the desk's
triage queue). ticket_a carries the customer's message, a public reply and an internal note.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from domain.persistence import models as m
from domain.tickets.conversation import add_internal_note, reply_to_ticket
from domain.tickets.lifecycle import change_ticket_status, create_ticket
from gql.ids import decode_id, encode_id
from tests.auth.helpers import post
from tests.auth.scope_graph import ACTOR, ScopeGraph, build_scope_graph
from tests.integration.runtime.sla_desk import SHIPPED
from workflows.runtime.deploy import deploy_texts

DENIED = "DENIED"


@dataclass
class Desk:
    graph: ScopeGraph
    tickets: dict[str, int] = field(default_factory=dict)
    comments: dict[str, int] = field(default_factory=dict)

    def token(self, who: str) -> str:
        return self.graph.tokens[who]

    def ids(self, *keys: str) -> set[int]:
        return {self.tickets[k] for k in keys}


@pytest.fixture
async def desk(api: httpx.AsyncClient) -> Desk:
    graph = await build_scope_graph(api)
    assert not (await deploy_texts(SHIPPED, actor="system")).problems
    d = Desk(graph)
    team_b = (await m.Team.get(name="Sài Gòn")).id
    for key, customer, assignee, team in (
        ("ticket_a", "person_a", "support_a", None),
        ("ticket_cross", "person_a", None, team_b),
        ("ticket_b", "person_b", None, team_b),
        ("ticket_triage", "org_b", None, None),
    ):
        row = await create_ticket(
            subject=f"Sự cố {key}",
            customer_id=graph.customers[customer],
            body=f"Khách viết về {key}" if key == "ticket_a" else None,
            assignee_id=graph.users[assignee] if assignee else None,
            team_id=team,
            actor=ACTOR,
        )
        d.tickets[key] = row.id
    support = graph.users["support_a"]
    d.comments["reply"] = (
        await reply_to_ticket(d.tickets["ticket_a"], body="Đã nhận", author_id=support, actor=ACTOR)
    ).id
    d.comments["note"] = (
        await add_internal_note(
            d.tickets["ticket_a"], body="khách khó tính", author_id=support, actor=ACTOR
        )
    ).id
    for key in ("ticket_a", "ticket_b"):
        await change_ticket_status(d.tickets[key], status="SOLVED", actor=ACTOR)
    return d


async def _data(api: httpx.AsyncClient, token: str, query: str, **variables: Any) -> Any:
    response = await post(api, query, variables or None, token=token)
    assert response.status_code == 200, response.text
    body = response.json()
    codes = {e.get("extensions", {}).get("code") for e in body.get("errors") or ()}
    if "PERMISSION_DENIED" in codes:
        return DENIED
    assert not body.get("errors"), body["errors"]
    return body["data"]


def _decode(global_id: str) -> int:
    return decode_id(global_id)[1]


def _edge_ids(connection: dict[str, Any]) -> set[int]:
    ids = {_decode(e["node"]["id"]) for e in connection["edges"]}
    assert connection["totalCount"] == len(ids)  # counts are scoped like the rows
    return ids


#: role login -> the tickets it sees (and, for the desk, the customers those bring) or DENIED
EXPECTED: dict[str, Any] = {
    "support_a": ("ticket_a", "ticket_triage"),
    "manager_a": ("ticket_a",),
    "sales_a": ("ticket_a", "ticket_cross"),
    "sales_a2": ("ticket_a", "ticket_cross"),
    "sales_b": ("ticket_b", "ticket_triage"),
    "analyst": ("ticket_a", "ticket_cross", "ticket_b", "ticket_triage"),
    "marketing": DENIED,
}

LIST = "{ tickets(first: 100) { totalCount edges { node { id } } } }"
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"


@pytest.mark.parametrize("who", sorted(EXPECTED))
async def test_ticket_list_counts_and_node_show_only_the_scope(
    api: httpx.AsyncClient, desk: Desk, who: str
) -> None:
    token = desk.token(who)
    expected = EXPECTED[who]
    data = await _data(api, token, LIST)
    if expected == DENIED:
        assert data == DENIED
    else:
        assert _edge_ids(data["tickets"]) == desk.ids(*expected)
    keys = sorted(desk.tickets)
    ids = [encode_id("Ticket", desk.tickets[k]) for k in keys] + [encode_id("Ticket", 999_999)]
    shown = (await _data(api, token, NODES, ids=ids))["nodes"]
    visible = () if expected == DENIED else expected
    assert [n["id"] if n else None for n in shown] == [
        i if k in visible else None for i, k in zip(ids, [*keys, "missing"], strict=True)
    ]


async def test_support_sees_the_customers_of_its_tickets_and_nothing_else(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    g = desk.graph
    data = await _data(
        api, desk.token("support_a"), "{ customers { totalCount edges { node { id } } } }"
    )
    assert _edge_ids(data["customers"]) == {g.customers["person_a"], g.customers["org_b"]}
    # the manager: the customers its team owns, plus those of its team's tickets (the same here)
    data = await _data(
        api, desk.token("manager_a"), "{ customers { totalCount edges { node { id } } } }"
    )
    assert _edge_ids(data["customers"]) == {g.customers["org_a"], g.customers["person_a"]}


CUSTOMER_TICKETS = """query($id: ID!) { node(id: $id) { ... on Person {
  tickets { totalCount edges { node { id } } }
  timeline(first: 50) { edges { node { __typename ... on Ticket { id } } } }
} } }"""


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("support_a", ("ticket_a",)),  # ticket_cross is team B's: not on the desk's customer
        ("sales_a", ("ticket_a", "ticket_cross")),  # every ticket of their customer
        ("analyst", ("ticket_a", "ticket_cross")),
    ],
)
async def test_customer_tickets_and_timeline_follow_ticket_scope(
    api: httpx.AsyncClient, desk: Desk, who: str, expected: tuple[str, ...]
) -> None:
    person = encode_id("Person", desk.graph.customers["person_a"])
    node = (await _data(api, desk.token(who), CUSTOMER_TICKETS, id=person))["node"]
    assert _edge_ids(node["tickets"]) == desk.ids(*expected)
    timeline = [e["node"] for e in node["timeline"]["edges"]]
    assert {_decode(n["id"]) for n in timeline if n["__typename"] == "Ticket"} == desk.ids(
        *expected
    )
    if who != "analyst":
        # a customer out of scope brings none of its tickets along
        other = encode_id("Person", desk.graph.customers["person_b"])
        assert (await _data(api, desk.token(who), CUSTOMER_TICKETS, id=other))["node"] is None


COMMENTS = """query($id: ID!) { node(id: $id) { ... on Ticket {
  comments { totalCount edges { node { id public body } } } } } }"""


@pytest.mark.parametrize(
    ("who", "sees_note", "bodies"),
    [
        ("support_a", True, True),
        ("manager_a", True, True),
        ("sales_a", False, True),  # the public conversation only
        ("analyst", True, False),  # every row for the counts, no body
    ],
)
async def test_comments_internal_notes_and_masked_bodies(
    api: httpx.AsyncClient, desk: Desk, who: str, sees_note: bool, bodies: bool
) -> None:
    ticket = encode_id("Ticket", desk.tickets["ticket_a"])
    comments = (await _data(api, desk.token(who), COMMENTS, id=ticket))["node"]["comments"]
    ids = _edge_ids(comments)
    assert (desk.comments["note"] in ids) is sees_note
    assert desk.comments["reply"] in ids
    assert len(ids) == (3 if sees_note else 2)
    texts = {e["node"]["body"] for e in comments["edges"]}
    assert ("Đã nhận" in texts) is bodies
    if not bodies:
        assert texts == {"***"}  # body is non-null: masked text reads as ***
    note = encode_id("TicketComment", desk.comments["note"])
    shown = (await _data(api, desk.token(who), NODES, ids=[note]))["nodes"]
    assert (shown[0] is not None) is sees_note


RESOLUTION = "{ resolutionTime { total { count } } }"
COMPLIANCE = "{ slaCompliance { total { instances } } }"


async def test_aggregates_count_only_the_tickets_in_scope(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    for who, expected in EXPECTED.items():
        resolution = await _data(api, desk.token(who), RESOLUTION)
        compliance = await _data(api, desk.token(who), COMPLIANCE)
        if expected == DENIED:
            assert resolution == compliance == DENIED
            continue
        solved = {"ticket_a", "ticket_b"} & set(expected)
        assert resolution["resolutionTime"]["total"]["count"] == len(solved), who
        clocks = await m.SlaMetric.filter(ticket_id__in=desk.ids(*expected)).count()
        assert clocks > 0
        assert compliance["slaCompliance"]["total"]["instances"] == clocks, who
    everything = await m.SlaMetric.all().count()
    analyst = await _data(api, desk.token("analyst"), COMPLIANCE)
    assert analyst["slaCompliance"]["total"]["instances"] == everything


STATUS = """mutation($id: ID!) { changeTicketStatus(input: {id: $id, status: OPEN}) {
  __typename ... on TicketSuccess { ticket { id status } } } }"""
NOTE = """mutation($id: ID!) { addInternalNote(input: {id: $id, body: "ghi chú"}) {
  __typename } }"""
CREATE = """mutation($customer: ID!) {
  createTicket(input: {subject: "Hỏi giá", customerId: $customer}) {
    __typename ... on TicketSuccess { ticket { id } } } }"""


async def test_mutations_on_tickets_out_of_scope_answer_not_found(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    token = desk.token("support_a")
    for key in ("ticket_b", "ticket_cross"):
        target = encode_id("Ticket", desk.tickets[key])
        assert (await _data(api, token, STATUS, id=target))["changeTicketStatus"] == {
            "__typename": "NotFoundError"
        }
        assert (await _data(api, token, NOTE, id=target))["addInternalNote"] == {
            "__typename": "NotFoundError"
        }
    assert (await m.Ticket.get(id=desk.tickets["ticket_b"])).status == "SOLVED"
    assert not await m.TicketComment.filter(body="ghi chú").exists()
    triage = encode_id("Ticket", desk.tickets["ticket_triage"])
    assert (await _data(api, token, NOTE, id=triage))["addInternalNote"] == {
        "__typename": "TicketCommentSuccess"
    }

    # a salesperson opens tickets for their own customers only, and then sees them
    sales = desk.token("sales_a")
    theirs = encode_id("Person", desk.graph.customers["person_b"])
    assert (await _data(api, sales, CREATE, customer=theirs))["createTicket"] == {
        "__typename": "NotFoundError"
    }
    assert not await m.Ticket.filter(subject="Hỏi giá").exists()
    mine = encode_id("Person", desk.graph.customers["person_a"])
    created = (await _data(api, sales, CREATE, customer=mine))["createTicket"]
    assert created["__typename"] == "TicketSuccess"
    listed = _edge_ids((await _data(api, sales, LIST))["tickets"])
    assert _decode(created["ticket"]["id"]) in listed
    # ... but the desk works them: no status changes from sales
    denied = (await _data(api, sales, STATUS, id=created["ticket"]["id"]))["changeTicketStatus"]
    assert denied == {"__typename": "PermissionDeniedError"}


DEPLOY = """mutation($input: DeployWorkflowInput!) { deployWorkflow(input: $input) {
  __typename ... on DeployWorkflowSuccess { workflows { key } } } }"""


async def test_only_admins_deploy_sla_policies(api: httpx.AsyncClient, desk: Desk) -> None:
    token = desk.token("marketing")  # may deploy workflows, not the desk's promises
    before = await m.SlaPolicySet.all().count()
    files = [{"name": name, "content": text} for name, text in SHIPPED.items()]
    result = (await _data(api, token, DEPLOY, input={"files": files}))["deployWorkflow"]
    assert result == {"__typename": "PermissionDeniedError"}
    assert await m.SlaPolicySet.all().count() == before
    plain = [
        {"name": name, "content": SHIPPED[name]}
        for name in ("templates.yaml", "welcome-nurture.yaml")
    ]
    result = (await _data(api, token, DEPLOY, input={"files": plain}))["deployWorkflow"]
    assert result["__typename"] == "DeployWorkflowSuccess", result


async def test_filters_across_the_ticket_relation_cannot_probe_other_teams_tickets(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    g = desk.graph
    query = """{ customers(filter: {tickets: {some: {status: {eq: NEW}}}}) {
      totalCount edges { node { id } } } }"""
    # ticket_cross (NEW) hangs off person_a, whom the desk sees, but it is team B's
    support = await _data(api, desk.token("support_a"), query)
    assert _edge_ids(support["customers"]) == {g.customers["org_b"]}
    analyst = await _data(api, desk.token("analyst"), query)
    assert _edge_ids(analyst["customers"]) == {g.customers["person_a"], g.customers["org_b"]}


async def test_workflow_runs_about_tickets_follow_ticket_scope(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    import datetime as dt

    workflow = await m.Workflow.create(key="escalate", name="Escalate", subject="ticket")
    version = await m.WorkflowVersion.create(
        workflow=workflow, number=1, content_hash="0" * 64, source="", definition={}
    )
    runs = {}
    for key in desk.tickets:
        run = await m.WorkflowRun.create(
            workflow=workflow,
            version=version,
            subject_type="ticket",
            subject_id=desk.tickets[key],
            started_at=dt.datetime.now(dt.UTC),
        )
        runs[key] = run.id
    query = "{ workflowRuns(first: 50) { totalCount edges { node { id } } } }"
    for who in ("sales_a", "sales_b", "analyst"):
        connection = (await _data(api, desk.token(who), query))["workflowRuns"]
        assert _edge_ids(connection) == {runs[k] for k in EXPECTED[who]}, who
