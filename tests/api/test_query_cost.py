"""The reference query costs the same small number of SQL statements at any page size."""

from __future__ import annotations

import httpx

from domain.persistence.statement_log import StatementLog
from tests.api.graph import build_graph
from tests.helpers import gql

REFERENCE = """
query Reference($first: Int!) {
  customers(first: $first, orderBy: [{field: UPDATED_AT, direction: DESC}]) {
    totalCount
    edges { node {
      id displayName lifecycleStage tags
      owner { id name team { name } }
      ... on Person { organization { id displayName } }
      opportunities(filter: {status: {eq: OPEN}}) {
        edges { node { name amount stage { name probability } } }
      }
      interactions(last: 5) { edges { node { kind occurredAt subject } } }
    } }
  }
}
"""


async def test_reference_query_statement_count_does_not_grow_with_page_size(
    api: httpx.AsyncClient,
) -> None:
    await build_graph(people=14, interactions_per_person=7)
    counts = {}
    for first in (10, 100):
        with StatementLog() as log:
            body = await gql(api, REFERENCE, {"first": first})
        counts[first] = log.count
        edges = body["data"]["customers"]["edges"]
        assert len(edges) == min(first, 16)
    assert counts[10] == counts[100], counts
    assert counts[10] <= 7, counts


async def test_interactions_last_five_is_per_customer(api: httpx.AsyncClient) -> None:
    graph = await build_graph(people=6, interactions_per_person=7)
    body = await gql(api, REFERENCE, {"first": 50})
    people = [e["node"] for e in body["data"]["customers"]["edges"] if "organization" in e["node"]]
    checked = 0
    for node in people:
        interactions = node["interactions"]["edges"]
        if not interactions:
            continue
        # every person has 7 interactions: each gets its own latest five, oldest of them first
        assert len(interactions) == 5
        subjects = [i["node"]["subject"] for i in interactions]
        assert subjects == [f"Gọi lần {j}" for j in range(2, 7)]
        checked += 1
    assert checked == len(graph.people)


TICKETS = """
query Tickets($first: Int!) {
  tickets(first: $first, filter: {status: {in: [NEW, OPEN]}}) {
    totalCount
    edges { node {
      subject status priority escalationLevel tags
      customer { id displayName owner { name } }
      assignee { name team { name } }
      team { name lead { name } }
      comments(first: 3) { totalCount edges { node {
        body public authorUser { name } authorCustomer { displayName }
      } } }
    } }
  }
  customers(first: $first) { edges { node {
    tickets(filter: {priority: {eq: HIGH}}) { totalCount edges { node { subject } } }
  } } }
}
"""


async def test_ticket_queue_statement_count_does_not_grow_with_page_size(
    api: httpx.AsyncClient,
) -> None:
    from domain.tickets.conversation import add_internal_note, reply_to_ticket
    from domain.tickets.lifecycle import create_ticket

    graph = await build_graph(people=14, interactions_per_person=1)
    for n, person in enumerate(graph.people):
        for k in range(3):
            ticket = await create_ticket(
                subject=f"Ticket {n}-{k}",
                customer_id=person,
                body="Xin chào",
                priority=("LOW", "NORMAL", "HIGH")[k],
                assignee_id=graph.users[k % 2],
                actor="t",
            )
            await reply_to_ticket(ticket.id, body="Chào anh", author_id=graph.users[0], actor="t")
            await add_internal_note(ticket.id, body="note", author_id=graph.users[1], actor="t")
    counts = {}
    for first in (10, 100):
        with StatementLog() as log:
            body = await gql(api, TICKETS, {"first": first})
        counts[first] = log.count
        edges = body["data"]["tickets"]["edges"]
        assert len(edges) == min(first, 42)
        assert all(e["node"]["comments"]["totalCount"] == 3 for e in edges)
        assert edges[0]["node"]["assignee"]["team"]["name"] == "Kinh doanh Hà Nội"
    assert counts[10] == counts[100], counts
    assert counts[10] <= 8, counts
