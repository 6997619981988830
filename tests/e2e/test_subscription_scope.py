"""Leak test for subscriptions, every role: what a socket receives is exactly what the same
principal may read through ``nodes`` over HTTP, no more (record scope) and no less."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from domain.identity.sessions import login, set_password
from domain.identity.tokens import TokenConfig
from domain.staff.teams import create_team
from domain.staff.users import create_user
from gql.ids import decode_id, encode_id
from tests.e2e.live import Subscriber, publish_probe, running_relay, subscriber
from tests.helpers import gql

SECRET = "subscription-scope-test-secret-0123456789"
TOKENS = TokenConfig(secret=SECRET)
PASSWORD = "correct horse battery"
#: role -> team ("north", "south" or None); the MANAGER leads north. The admin comes last: once
#: its socket is listening, those subscribed before it are too.
ACCOUNTS = {
    "manager": ("MANAGER", "north"),
    "north": ("SALES", "north"),
    "south": ("SALES", "south"),
    "support": ("SUPPORT", "north"),
    "marketing": ("MARKETING", None),
    "analyst": ("ANALYST", None),
    "admin": ("ADMIN", None),
}
EVERYTHING = "subscription { recordChanged { eventId event record { __typename id } } }"
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"


@pytest.fixture
def live_server_environment(redis_url: str) -> dict[str, str | None]:
    return {
        "REDIS_URL": redis_url,
        "RAPPORT_SECRET_KEY": SECRET,
        "RAPPORT_UNAUTHENTICATED_ROLE": None,
    }


@pytest.fixture
async def tokens(database: str) -> dict[str, str]:
    """One logged-in user per account of :data:`ACCOUNTS`."""
    manager = await create_user(
        name="manager", email="manager@rapport.vn", role="MANAGER", actor="test"
    )
    teams = {
        "north": (await create_team(name="North", lead_id=manager.id, actor="test")).id,
        "south": (await create_team(name="South", actor="test")).id,
    }
    issued = {}
    for name, (role, team) in ACCOUNTS.items():
        email = f"{name}@rapport.vn"
        if name != "manager":
            await create_user(
                name=name,
                email=email,
                role=role,
                team_id=teams[team] if team else None,
                actor="test",
            )
        user_id = (await _user(email))["id"]
        await set_password(user_id, PASSWORD, actor="test")
        issued[name] = (await login(TOKENS, email, PASSWORD)).access_token
    return issued


async def _user(email: str) -> dict[str, Any]:
    from domain.persistence.models import User

    user = await User.get(email=email)
    return {"id": user.id}


async def _team(name: str) -> dict[str, Any]:
    from domain.persistence.models import Team

    return {"id": (await Team.get(name=name)).id}


def _headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _mutate(http: httpx.AsyncClient, mutation: str, variables: dict[str, Any]) -> str:
    body = await gql(http, mutation, variables)
    (result,) = body["data"].values()
    (record,) = (v for k, v in result.items() if k != "__typename")
    return str(record["id"])


CREATE_PERSON = """mutation($input: PersonInput!) { createPerson(input: $input) {
  __typename ... on PersonSuccess { person { id } } } }"""
UPDATE_PERSON = """mutation($input: UpdatePersonInput!) { updatePerson(input: $input) {
  __typename ... on PersonSuccess { person { id } } } }"""
CREATE_TASK = """mutation($input: TaskFields!) { createTask(input: $input) {
  __typename ... on TaskSuccess { task { id } } } }"""
CREATE_TICKET = """mutation($input: CreateTicketInput!) { createTicket(input: $input) {
  __typename ... on TicketSuccess { ticket { id } } } }"""
LOG_CALL = """mutation($input: LogInteractionInput!) { logInteraction(input: $input) {
  __typename ... on InteractionSuccess { interaction { id } } } }"""


@contextlib.asynccontextmanager
async def _sockets(live_server: str, tokens: dict[str, str]) -> AsyncIterator[dict[str, Any]]:
    async with contextlib.AsyncExitStack() as stack:
        sockets: dict[str, Subscriber] = {}
        for name, token in tokens.items():
            sockets[name] = await stack.enter_async_context(
                subscriber(live_server, {"authToken": token})
            )
            await sockets[name].subscribe("all", EVERYTHING)
        yield sockets


async def _drain(sub: Subscriber, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await sub.wait_for(lambda _: False, within=seconds)


async def test_each_role_receives_exactly_what_it_may_read(
    live_server: str, redis_url: str, tokens: dict[str, str]
) -> None:
    admin = httpx.AsyncClient(base_url=live_server, timeout=10, headers=_headers(tokens["admin"]))
    async with admin, running_relay(redis_url), _sockets(live_server, tokens) as sockets:
        north_user = (await _user("north@rapport.vn"))["id"]
        south_user = (await _user("south@rapport.vn"))["id"]
        ours = await _mutate(
            admin,
            CREATE_PERSON,
            {"input": {"firstName": "Ours", "ownerId": encode_id("User", north_user)}},
        )
        # Every socket is listening once the admin's has a probe published after the others'
        # subscriptions were sent (events reach the hub's subscribers in one order).
        await _listening(sockets, redis_url, decode_id(ours)[1])
        theirs = await _mutate(
            admin,
            CREATE_PERSON,
            {"input": {"firstName": "Theirs", "ownerId": encode_id("User", south_user)}},
        )
        await _mutate(admin, UPDATE_PERSON, {"input": {"id": ours, "patch": {"jobTitle": "CEO"}}})
        task = await _mutate(
            admin, CREATE_TASK, {"input": {"title": "Gọi lại", "customerId": ours}}
        )
        # South's customer, north's desk: the support agent and the manager see it through the
        # team, south through the customer, north not at all. The desk sees the customer from
        # then on (its next change), not its earlier history.
        north_team = (await _team("North"))["id"]
        ticket = await _mutate(
            admin,
            CREATE_TICKET,
            {
                "input": {
                    "subject": "Máy hỏng",
                    "customerId": theirs,
                    "teamId": encode_id("Team", north_team),
                }
            },
        )
        await _mutate(
            admin, UPDATE_PERSON, {"input": {"id": theirs, "patch": {"jobTitle": "Kế toán"}}}
        )
        call = await _mutate(
            admin, LOG_CALL, {"input": {"customerId": theirs, "kind": "CALL", "subject": "Chào"}}
        )
        changed = {ours, theirs, task, call, ticket}
        await sockets["admin"].wait_for(lambda e: e["recordChanged"]["record"]["id"] == call)
        # The admin has the last change: every socket's queue holds all of them; each needs
        # only its re-reads to finish.
        for sub in sockets.values():
            await _drain(sub, 1.5)

        received = {
            name: {e["recordChanged"]["record"]["id"] for e in sub.events} & changed
            for name, sub in sockets.items()
        }
        readable = {}
        for name, token in tokens.items():
            body = await gql(admin, NODES, {"ids": sorted(changed)}, headers=_headers(token))
            readable[name] = {n["id"] for n in body["data"]["nodes"] if n is not None}
        errors = {name: sub.errors for name, sub in sockets.items() if sub.errors}

    assert not errors
    assert received == readable
    # The scope is not trivial: teams see their own customers, an admin everything.
    assert received["admin"] == changed
    assert received["north"] & {ours, theirs} == {ours}
    # the manager: its team's customer, and south's customer once north's desk has its ticket
    assert received["manager"] & {ours, theirs} == {ours, theirs}
    assert received["south"] & {ours, theirs} == {theirs}
    assert ticket in received["support"] & received["manager"] & received["south"]
    assert ticket not in received["north"] | received["marketing"]
    assert theirs in received["support"]  # the customer of a ticket it works


async def _listening(sockets: dict[str, Subscriber], redis_url: str, customer: int) -> None:
    """Probe until the admin's socket (which sees every customer) receives one."""
    admin = sockets["admin"]
    async with asyncio.timeout(15):
        while True:
            probe = str(await publish_probe(redis_url, "Customer", customer))
            with contextlib.suppress(TimeoutError):
                await admin.wait_for(lambda e, p=probe: e["recordChanged"]["eventId"] == p, 0.3)
                return
