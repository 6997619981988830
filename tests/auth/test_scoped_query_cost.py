"""Record scope adds conditions to statements, not statements: a salesperson's reference query
costs the same at any page size, with authentication's own few statements on top."""

from __future__ import annotations

import httpx

from domain.identity.passwords import hash_password
from domain.persistence import models as m
from domain.persistence.statement_log import StatementLog
from tests.api.graph import build_graph
from tests.api.test_query_cost import REFERENCE
from tests.auth.helpers import login, post

#: An access token costs its session, its user and the user's teams.
AUTHENTICATION_STATEMENTS = 3


async def test_scoped_reference_query_costs_a_constant_number_of_statements(
    api: httpx.AsyncClient,
) -> None:
    graph = await build_graph(people=14, interactions_per_person=7)
    seller = graph.users[0]
    await m.User.filter(id=seller).update(password_hash=hash_password("cost-password-1"))
    user = await m.User.get(id=seller)
    token = (await login(api, user.email, "cost-password-1"))["accessToken"]
    # A third salesperson outside the team owns a customer the seller must not see.
    outsider = await m.User.create(name="Ngoài", name_fold="ngoai", email="x@rapport.vn")
    await m.Customer.filter(id=graph.people[0]).update(owner_id=outsider.id)

    counts = {}
    for first in (10, 100):
        with StatementLog() as log:
            response = await post(api, REFERENCE, {"first": first}, token=token)
        body = response.json()
        assert not body.get("errors"), body
        counts[first] = log.count
        ids = [e["node"]["id"] for e in body["data"]["customers"]["edges"]]
        assert len(ids) == min(first, 15)
        assert body["data"]["customers"]["totalCount"] == 15
    assert counts[10] == counts[100], counts
    assert counts[10] <= 7 + AUTHENTICATION_STATEMENTS, counts


async def test_scoped_ticket_queue_costs_a_constant_number_of_statements(
    api: httpx.AsyncClient,
) -> None:
    """A support agent's queue (tickets, their customers, comments; customers' tickets): the
    ticket and comment scope are conditions, not statements."""
    from domain.tickets.conversation import add_internal_note
    from domain.tickets.lifecycle import create_ticket
    from tests.api.test_query_cost import TICKETS

    graph = await build_graph(people=14, interactions_per_person=1)
    agent = graph.users[0]
    await m.User.filter(id=agent).update(
        role="SUPPORT", password_hash=hash_password("cost-password-1")
    )
    outsider = await m.User.create(name="Ngoài", name_fold="ngoai", email="x@rapport.vn")
    for n, person in enumerate(graph.people):
        for k in range(3):
            ticket = await create_ticket(
                subject=f"Ticket {n}-{k}",
                customer_id=person,
                body="Xin chào",
                # every third ticket belongs to someone outside the agent's teams
                assignee_id=outsider.id if k == 2 else graph.users[k],
                actor="t",
            )
            await add_internal_note(ticket.id, body="note", author_id=agent, actor="t")
    user = await m.User.get(id=agent)
    token = (await login(api, user.email, "cost-password-1"))["accessToken"]
    counts = {}
    for first in (10, 100):
        with StatementLog() as log:
            response = await post(api, TICKETS, {"first": first}, token=token)
        body = response.json()
        assert not body.get("errors"), body
        counts[first] = log.count
        assert body["data"]["tickets"]["totalCount"] == 28
        assert len(body["data"]["tickets"]["edges"]) == min(first, 28)
    assert counts[10] == counts[100], counts
    assert counts[10] <= 8 + AUTHENTICATION_STATEMENTS, counts
