"""Subscriptions end to end: a mutation over HTTP to a live uvicorn, its outbox event relayed
and published to a real Redis, and delivered over a real WebSocket (graphql-transport-ws)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from gql.ids import decode_id, encode_id
from tests.e2e.live import running_relay, subscriber, until_listening
from tests.helpers import gql

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
    actor { kind }
  }
}"""
RECORD_CHANGED = """
subscription($types: [ChangedRecordType!]) {
  recordChanged(types: $types) { eventId event record { __typename id } }
}"""


@pytest.fixture
def live_server_environment(redis_url: str) -> dict[str, str]:
    return {"REDIS_URL": redis_url}


@pytest.fixture
async def http(live_server: str, database: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the live server; Tortoise is open in this process on its database too."""
    async with httpx.AsyncClient(base_url=live_server, timeout=10) as client:
        yield client


async def _create_person(http: httpx.AsyncClient, name: str) -> str:
    body = await gql(http, CREATE_PERSON, {"input": {"firstName": name}})
    return str(body["data"]["createPerson"]["person"]["id"])


def _pk(global_id: str) -> int:
    return decode_id(global_id)[1]


async def test_a_mutation_reaches_a_subscribed_client(
    live_server: str, http: httpx.AsyncClient, redis_url: str
) -> None:
    person_id = await _create_person(http, "Lan")
    async with running_relay(redis_url), subscriber(live_server, {}) as client:
        await client.subscribe("1", CUSTOMER_CHANGED, {"id": person_id})
        await until_listening(client, redis_url, ("Customer", _pk(person_id)))
        await gql(http, UPDATE_PERSON, {"input": {"id": person_id, "patch": {"jobTitle": "CFO"}}})
        event = await client.wait_for(lambda e: e["customerChanged"]["event"] == "customer.updated")
    change = event["customerChanged"]
    assert change["customer"] == {"id": person_id, "displayName": "Lan", "jobTitle": "CFO"}
    assert int(change["eventId"]) > 0
    assert not client.errors


async def test_record_changed_filters_by_type(
    live_server: str, http: httpx.AsyncClient, redis_url: str
) -> None:
    marker = await _create_person(http, "Marker")
    async with running_relay(redis_url), subscriber(live_server, {}) as client:
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
    ids = [e["recordChanged"]["record"]["id"] for e in client.events]
    assert org_id not in ids
    assert {"Person"} == {e["recordChanged"]["record"]["__typename"] for e in client.events}
    assert encode_id("Person", _pk(marker)) in ids
