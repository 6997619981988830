"""Subscriptions end to end: a mutation over HTTP to a live uvicorn, its outbox event relayed
and published to a real Redis, delivered over a real WebSocket (graphql-transport-ws) to the
subscribers allowed to see the record, and to no one else."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from domain.identity.api_keys import create_api_key
from domain.identity.sessions import login, logout, set_password
from domain.identity.tokens import TokenConfig, issue_access_token
from domain.staff.teams import create_team
from domain.staff.users import create_user
from gql.ids import decode_id, encode_id
from tests.e2e.live import (
    PROTOCOL,
    closed_with,
    publish_probe,
    running_relay,
    subscriber,
    until_listening,
    ws_url,
)
from tests.helpers import gql

SECRET = "subscriptions-test-secret-0123456789abcdef"
TOKENS = TokenConfig(secret=SECRET)
PASSWORD = "correct horse battery"

CREATE_PERSON = """
mutation($input: PersonInput!) {
  createPerson(input: $input) { __typename ... on PersonSuccess { person { id } } }
}"""
UPDATE_PERSON = """
mutation($input: UpdatePersonInput!) {
  updatePerson(input: $input) { __typename ... on PersonSuccess { person { id jobTitle } } }
}"""
CUSTOMER_CHANGED = """
subscription($id: ID) {
  customerChanged(id: $id) {
    eventId event
    customer { id displayName ... on Person { jobTitle } }
    actor { kind ref }
  }
}"""
RECORD_CHANGED = """
subscription($types: [ChangedRecordType!], $ids: [ID!]) {
  recordChanged(types: $types, ids: $ids) { eventId event record { __typename id } }
}"""
TIMELINE_UPDATED = """
subscription($customerId: ID!) {
  timelineUpdated(customerId: $customerId) {
    eventId event customer { id } record { __typename id }
  }
}"""


@dataclass(frozen=True)
class Staff:
    admin: str
    north: str
    south: str
    north_user: int
    south_user: int
    south_session: int


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def live_server_environment(redis_url: str) -> dict[str, str | None]:
    """Redis, a known signing key, and no trusted default principal: credentials or nothing."""
    return {
        "REDIS_URL": redis_url,
        "RAPPORT_SECRET_KEY": SECRET,
        "RAPPORT_UNAUTHENTICATED_ROLE": None,
    }


@pytest.fixture
async def staff(database: str) -> Staff:
    """An admin and a salesperson in each of two teams, logged in (real sessions)."""
    north = await create_team(name="North", actor="test")
    south = await create_team(name="South", actor="test")
    users = {}
    for name, role, team in (
        ("admin", "ADMIN", None),
        ("north", "SALES", north.id),
        ("south", "SALES", south.id),
    ):
        user = await create_user(
            name=name, email=f"{name}@rapport.vn", role=role, team_id=team, actor="test"
        )
        await set_password(user.id, PASSWORD, actor="test")
        users[name] = (user.id, await login(TOKENS, f"{name}@rapport.vn", PASSWORD))
    return Staff(
        admin=users["admin"][1].access_token,
        north=users["north"][1].access_token,
        south=users["south"][1].access_token,
        north_user=users["north"][0],
        south_user=users["south"][0],
        south_session=users["south"][1].session_id,
    )


@pytest.fixture
async def http(live_server: str, staff: Staff) -> AsyncIterator[httpx.AsyncClient]:
    """The admin's client of the live server (Tortoise is open in this process too)."""
    async with httpx.AsyncClient(
        base_url=live_server, timeout=10, headers=bearer(staff.admin)
    ) as client:
        yield client


def _pk(global_id: str) -> int:
    return decode_id(global_id)[1]


async def _create_person(http: httpx.AsyncClient, name: str, owner: int | None = None) -> str:
    fields: dict[str, Any] = {"firstName": name}
    if owner is not None:
        fields["ownerId"] = encode_id("User", owner)
    body = await gql(http, CREATE_PERSON, {"input": fields})
    return str(body["data"]["createPerson"]["person"]["id"])


async def _update_job(http: httpx.AsyncClient, person_id: str, title: str) -> None:
    body = await gql(
        http, UPDATE_PERSON, {"input": {"id": person_id, "patch": {"jobTitle": title}}}
    )
    assert body["data"]["updatePerson"]["__typename"] == "PersonSuccess"


def _ids(events: list[dict[str, Any]], field: str, key: str) -> set[str]:
    return {e[field][key]["id"] for e in events if field in e}


async def test_a_mutation_reaches_a_subscribed_client(
    live_server: str, http: httpx.AsyncClient, redis_url: str, staff: Staff
) -> None:
    person_id = await _create_person(http, "Lan")
    async with running_relay(redis_url), subscriber(live_server, bearer(staff.admin)) as client:
        await client.subscribe("1", CUSTOMER_CHANGED, {"id": person_id})
        await until_listening(client, redis_url, ("Customer", _pk(person_id)))
        await _update_job(http, person_id, "CFO")
        event = await client.wait_for(lambda e: e["customerChanged"]["event"] == "customer.updated")
    change = event["customerChanged"]
    assert change["customer"] == {"id": person_id, "displayName": "Lan", "jobTitle": "CFO"}
    assert int(change["eventId"]) > 0
    admin_user = await _user_id("admin@rapport.vn")
    assert change["actor"] == {"kind": "user", "ref": str(admin_user)}
    assert not client.errors


async def _user_id(email: str) -> int:
    from domain.persistence.models import User

    return (await User.get(email=email)).id


async def test_record_changed_filters_by_type(
    live_server: str, http: httpx.AsyncClient, redis_url: str, staff: Staff
) -> None:
    marker = await _create_person(http, "Marker")
    async with running_relay(redis_url), subscriber(live_server, bearer(staff.admin)) as client:
        await client.subscribe("people", RECORD_CHANGED, {"types": ["PERSON"]})
        await until_listening(client, redis_url, ("Customer", _pk(marker)))
        org = await gql(
            http,
            'mutation { createOrganization(input: {displayName: "Acme"}) '
            "{ ... on OrganizationSuccess { organization { id } } } }",
        )
        org_id = org["data"]["createOrganization"]["organization"]["id"]
        fence = await _create_person(http, "Fence")
        await client.wait_for(lambda e: e["recordChanged"]["record"]["id"] == fence)
    ids = _ids(client.events, "recordChanged", "record")
    assert org_id not in ids
    assert {e["recordChanged"]["record"]["__typename"] for e in client.events} == {"Person"}


async def test_record_changed_ignores_kinds_of_record_it_does_not_follow(
    live_server: str, http: httpx.AsyncClient, redis_url: str, staff: Staff
) -> None:
    marker = _pk(await _create_person(http, "Marker"))
    async with subscriber(live_server, bearer(staff.admin)) as client:
        await client.subscribe("all", RECORD_CHANGED)
        await until_listening(client, redis_url, ("Customer", marker))
        await publish_probe(redis_url, "AttributeDefinition", 1)
        await publish_probe(redis_url, "Workflow", 1)
        fence = str(await publish_probe(redis_url, "Customer", marker))
        await client.wait_for(lambda e: e["recordChanged"]["eventId"] == fence)
    assert not client.errors
    assert {e["recordChanged"]["record"]["__typename"] for e in client.events} == {"Person"}


async def test_events_out_of_scope_never_reach_the_subscriber(
    live_server: str, http: httpx.AsyncClient, redis_url: str, staff: Staff
) -> None:
    """South's salesperson follows every customer change, north's customer by id and by
    timeline; north's customer changes; south receives nothing about it, north everything."""
    ours = await _create_person(http, "North customer", owner=staff.north_user)
    theirs = await _create_person(http, "South customer", owner=staff.south_user)
    async with (
        running_relay(redis_url),
        subscriber(live_server, bearer(staff.north)) as north,
        subscriber(live_server, {"authToken": staff.south}) as south,
    ):
        await north.subscribe("all", CUSTOMER_CHANGED)
        await north.subscribe("timeline", TIMELINE_UPDATED, {"customerId": ours})
        await south.subscribe("all", CUSTOMER_CHANGED)
        await south.subscribe("byId", RECORD_CHANGED, {"ids": [ours]})
        await south.subscribe("timeline", TIMELINE_UPDATED, {"customerId": ours})
        await until_listening(north, redis_url, ("Customer", _pk(ours)))
        await until_listening(south, redis_url, ("Customer", _pk(theirs)))
        # South's own customer's creation events are relayed meanwhile: let them all arrive
        # (a fence published after them, since each socket gets events in publication order).
        await _all_dispatched()
        settled = str(await publish_probe(redis_url, "Customer", _pk(theirs)))
        await south.wait_for(lambda e: e.get("customerChanged", {}).get("eventId") == settled)
        south.events.clear()

        await _update_job(http, ours, "Kế toán trưởng")
        await north.wait_for(
            lambda e: "timelineUpdated" in e and e["timelineUpdated"]["event"] == "customer.updated"
        )
        await north.wait_for(
            lambda e: "customerChanged" in e and e["customerChanged"]["event"] == "customer.updated"
        )
        call = await _log_call(http, ours)
        logged = await north.wait_for(
            lambda e: "timelineUpdated" in e and e["timelineUpdated"]["record"]["id"] == call
        )
        assert logged["timelineUpdated"]["event"] == "interaction.logged"
        assert logged["timelineUpdated"]["record"]["__typename"] == "Interaction"
        assert logged["timelineUpdated"]["customer"] == {"id": ours}
        # Events reach each socket in publication order: once south has the probe published
        # after north's customer changed, that change was dropped for south, not late.
        await _all_dispatched()
        fence = str(await publish_probe(redis_url, "Customer", _pk(theirs)))
        await south.wait_for(lambda e: e.get("customerChanged", {}).get("eventId") == fence)

    # Only the fence: nothing about north's customer, through any of the three subscriptions.
    assert south.events == [
        {"customerChanged": {**south.events[0]["customerChanged"], "eventId": fence}}
    ]
    assert south.events[0]["customerChanged"]["customer"]["id"] == theirs
    assert not south.errors
    seen_by_north = _ids(north.events, "customerChanged", "customer")
    assert ours in seen_by_north
    assert theirs not in seen_by_north


async def _log_call(http: httpx.AsyncClient, customer_id: str) -> str:
    body = await gql(
        http,
        "mutation($input: LogInteractionInput!) { logInteraction(input: $input) "
        "{ __typename ... on InteractionSuccess { interaction { id } } } }",
        {"input": {"customerId": customer_id, "kind": "CALL", "subject": "Báo giá"}},
    )
    return str(body["data"]["logInteraction"]["interaction"]["id"])


async def _all_dispatched() -> None:
    from domain.persistence.models import DomainEvent

    async with asyncio.timeout(10):
        while True:
            if not await DomainEvent.filter(dispatched_at__isnull=True).exists():
                return
            await asyncio.sleep(0.05)


async def test_bad_credentials_close_the_socket_with_4403(
    live_server: str, http: httpx.AsyncClient, staff: Staff
) -> None:
    now = dt.datetime.now(dt.UTC)
    south = {"user_id": staff.south_user, "session_id": staff.south_session}
    expired, _ = issue_access_token(TOKENS, **south, now=now - dt.timedelta(hours=1))
    forged, _ = issue_access_token(TokenConfig(secret="x" * 40), **south, now=now)
    cases: list[tuple[str, Any]] = [
        ("no credential", {}),
        ("garbage", bearer("not-a-token")),
        ("wrong scheme", {"Authorization": "Basic YTpi"}),
        ("not a string", {"authToken": 42}),
        ("expired", bearer(expired)),
        ("forged", bearer(forged)),
        ("not an object", ["Bearer", staff.south]),
    ]
    for reason, params in cases:
        expected = (
            (4400, "Invalid connection init payload")
            if reason == "not an object"
            else (
                4403,
                "Forbidden",
            )
        )
        assert await closed_with(live_server, params) == expected, reason
    await logout(staff.south_session, actor="test")
    assert await closed_with(live_server, bearer(staff.south)) == (4403, "Forbidden"), "revoked"
    # The server still answers, over HTTP and over WebSocket.
    body = await gql(http, "{ people(first: 1) { totalCount } }")
    assert body["data"]["people"]["totalCount"] == 0
    async with subscriber(live_server, {"authToken": staff.north}):
        pass


async def test_subscribe_before_connection_init_closes_with_4401(live_server: str) -> None:
    async with connect(ws_url(live_server), subprotocols=[PROTOCOL]) as socket:  # type: ignore[list-item]
        message = {"id": "1", "type": "subscribe", "payload": {"query": CUSTOMER_CHANGED}}
        await socket.send(orjson.dumps(message).decode())
        with contextlib.suppress(ConnectionClosed):
            async with asyncio.timeout(10):
                async for _ in socket:
                    pass
        assert socket.close_code == 4401


async def test_a_subscription_ends_when_its_access_token_expires(
    live_server: str, http: httpx.AsyncClient, redis_url: str, staff: Staff
) -> None:
    person = await _create_person(http, "Expiring", owner=staff.north_user)
    short = TokenConfig(secret=SECRET, access_ttl=dt.timedelta(seconds=6))
    issued = await login(short, "north@rapport.vn", PASSWORD)
    async with subscriber(live_server, bearer(issued.access_token)) as client:
        await client.subscribe("1", CUSTOMER_CHANGED, {"id": person})
        await until_listening(client, redis_url, ("Customer", _pk(person)))
        await asyncio.sleep(max(0.0, (issued.access_expires_at - _now()).total_seconds()) + 1)
        await publish_probe(redis_url, "Customer", _pk(person))
        errors = await client.operation_errors("1")
        assert (await client.next_message_of("1"))["type"] == "complete"
    assert errors[0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert errors[0]["message"] == "access token expired"


async def test_refused_subscriptions_get_typed_errors_and_the_socket_keeps_serving(
    live_server: str, http: httpx.AsyncClient, redis_url: str, staff: Staff
) -> None:
    """An API key allowed tasks only may not follow customers; a malformed id is invalid;
    neither disturbs the socket's other subscriptions."""
    key = await create_api_key(
        name="task sync", scopes=["read:Task"], expires_at=None, actor="test"
    )
    person = await _create_person(http, "Keyed")
    task = await gql(
        http,
        "mutation($input: TaskFields!) { createTask(input: $input) "
        "{ ... on TaskSuccess { task { id } } } }",
        {"input": {"title": "Sync", "customerId": person}},
    )
    task_id = task["data"]["createTask"]["task"]["id"]
    async with (
        running_relay(redis_url),
        subscriber(live_server, {"authToken": key.plaintext}) as client,
    ):
        await client.subscribe("customers", CUSTOMER_CHANGED)
        denied = await client.operation_errors("customers")
        await client.subscribe("bad", RECORD_CHANGED, {"ids": ["%%%"]})
        invalid = await client.operation_errors("bad")
        await client.subscribe("tasks", RECORD_CHANGED, {"types": ["TASK", "PERSON"]})
        await until_listening(client, redis_url, ("Task", _pk(task_id)))
        await _update_job(http, person, "ignored")
        await _all_dispatched()
        fence = str(await publish_probe(redis_url, "Task", _pk(task_id)))
        await client.wait_for(lambda e: e.get("recordChanged", {}).get("eventId") == fence)
    assert denied[0]["extensions"]["code"] == "PERMISSION_DENIED"
    assert invalid[0]["extensions"]["code"] == "INVALID_ID"
    # The key reads tasks, not customers: the person's change never arrives.
    types = {e["recordChanged"]["record"]["__typename"] for e in client.events}
    assert types == {"Task"}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
