"""Rate limits per principal: a token bucket in a real Redis, 429 with Retry-After, recovery;
buckets follow the identity a bearer credential claims, over the real port."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable

import httpx
import pytest
from redis.asyncio import Redis
from starlette.requests import HTTPConnection
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from app.settings import Settings
from domain.identity.tokens import TokenConfig, issue_access_token
from gql.security.rate_limit import BearerIdentity, TokenBucket
from tests.conftest import run_live_server
from tests.helpers import app_client, free_port
from tests.security.conftest import (
    SALES_EMAIL,
    Staff,
    bearer,
    log_in,
    production_environment,
)

QUERY = {"query": "{ customers(first: 1) { totalCount } }"}


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    try:
        yield client
    finally:
        await client.aclose()


def test_429_with_retry_after_then_recovery(  # HTTP and WebSocket handshakes alike
    db_url: str, redis_url: str, staff: Staff
) -> None:
    limits = {"RAPPORT_RATE_LIMIT_PER_SECOND": "2", "RAPPORT_RATE_LIMIT_BURST": "3"}
    environment = production_environment(redis_url, **limits)
    with run_live_server(db_url, **environment) as url:
        token = log_in(url)["accessToken"]  # from the address's bucket, not the admin's
        with httpx.Client(base_url=url, timeout=10, headers=bearer(token)) as client:
            burst = [client.post("/graphql", json=QUERY).status_code for _ in range(3)]
            refused = client.post("/graphql", json=QUERY)
            probes = client.get("/healthz").status_code

            assert burst == [200, 200, 200]
            assert refused.status_code == 429
            assert refused.headers["retry-after"] == "1"
            assert refused.json()["errors"][0]["extensions"] == {
                "code": "RATE_LIMITED",
                "retryAfter": 1,
            }
            assert probes == 200  # probes are not limited
            with pytest.raises(InvalidStatus) as handshake:
                connect(
                    url.replace("http://", "ws://") + "/graphql", additional_headers=bearer(token)
                )
            assert handshake.value.response.status_code == 429
            assert handshake.value.response.headers["retry-after"] == "1"
            time.sleep(int(refused.headers["retry-after"]))
            recovered = client.post("/graphql", json=QUERY)
            assert recovered.status_code == 200
            assert recovered.json() == {"data": {"customers": {"totalCount": 0}}}


def _statuses(client: httpx.Client, count: int, token: str | None = None) -> list[int]:
    headers = bearer(token) if token else {}
    return [client.post("/graphql", json=QUERY, headers=headers).status_code for _ in range(count)]


def test_buckets_follow_the_principal_not_the_address(
    db_url: str, redis_url: str, staff: Staff
) -> None:
    # almost no refill during the test: each bucket holds exactly its burst
    limits = {"RAPPORT_RATE_LIMIT_PER_SECOND": "0.01", "RAPPORT_RATE_LIMIT_BURST": "4"}
    with run_live_server(db_url, **production_environment(redis_url, **limits)) as url:
        admin = log_in(url)["accessToken"]  # two of 127.0.0.1's four tokens
        sales = log_in(url, SALES_EMAIL)["accessToken"]
        with (
            httpx.Client(base_url=url, timeout=10) as first_address,
            httpx.Client(
                base_url=url,
                timeout=10,
                transport=httpx.HTTPTransport(local_address="127.0.0.2"),
            ) as second_address,
        ):
            # one user from two addresses: one bucket
            admin_there = _statuses(first_address, 2, admin) + _statuses(second_address, 2, admin)
            admin_refused = _statuses(first_address, 1, admin) + _statuses(second_address, 1, admin)
            # two users (and an API key) behind one address: buckets of their own
            sales_here = _statuses(first_address, 4, sales)
            key_here = _statuses(first_address, 4, staff.api_key)
            # the key's prefix with another secret does not drain the real key's bucket
            prefix = staff.api_key.split("_")[1]
            forged = f"rk_{prefix}_{'A' * 43}"
            forged_here = _statuses(first_address, 5, forged)
            # without credentials (or with a forged token): the address's bucket
            anonymous_here = _statuses(first_address, 2) + _statuses(first_address, 1, "eyJ.x.y")
            anonymous_there = _statuses(second_address, 5)

    assert admin_there == [200, 200, 200, 200]
    assert admin_refused == [429, 429]
    assert sales_here == [200] * 4
    assert key_here == [200] * 4
    assert forged_here == [401, 401, 401, 401, 429]
    assert anonymous_here == [401, 401, 429]
    assert anonymous_there == [401, 401, 401, 401, 429]


async def test_bucket_allows_the_burst_then_refuses_until_refilled(redis: Redis) -> None:
    bucket = TokenBucket(redis, rate=20, burst=2)

    decisions = [await bucket.take("address:10.0.0.1") for _ in range(3)]
    other = await bucket.take("address:10.0.0.2")

    assert [d.allowed for d in decisions] == [True, True, False]
    assert 0 < decisions[2].retry_after <= 1 / 20
    assert other.allowed  # buckets are per key
    await asyncio.sleep(decisions[2].retry_after + 0.01)
    assert (await bucket.take("address:10.0.0.1")).allowed


async def test_buckets_are_shared_through_redis(redis: Redis, redis_url: str) -> None:
    # two API replicas: two clients, one bucket
    other_replica = Redis.from_url(redis_url)
    try:
        first = TokenBucket(redis, rate=0.1, burst=1)
        second = TokenBucket(other_replica, rate=0.1, burst=1)

        assert (await first.take("principal:user:7")).allowed
        refused = await second.take("principal:user:7")
    finally:
        await other_replica.aclose()

    assert not refused.allowed
    assert 9 < refused.retry_after <= 10


async def test_the_key_is_the_identity_the_bearer_credential_claims() -> None:
    tokens = TokenConfig(secret="k" * 40)
    identity = BearerIdentity(tokens)
    now = dt.datetime.now(dt.UTC)
    valid, _ = issue_access_token(tokens, user_id=42, session_id=7, now=now)
    expired, _ = issue_access_token(
        tokens, user_id=42, session_id=7, now=now - dt.timedelta(hours=1)
    )
    foreign, _ = issue_access_token(TokenConfig(secret="f" * 40), user_id=42, session_id=7, now=now)

    def key(authorization: str | None) -> Awaitable[str]:
        headers = [(b"authorization", authorization.encode())] if authorization else []
        scope = {"type": "http", "client": ("203.0.113.9", 5555), "headers": headers}
        return identity(HTTPConnection(scope))

    assert await key(f"Bearer {valid}") == "user:42"
    assert await key(f"bearer  {valid} ") == "user:42"
    key_id = await key("Bearer rk_0123456789ab_secret")
    assert key_id.startswith("apikey:0123456789ab:")
    assert await key("Bearer rk_0123456789ab_other") not in (key_id, "address:203.0.113.9")
    for unverified in (
        None,
        f"Bearer {expired}",
        f"Bearer {foreign}",
        "Bearer not-a-token",
        f"Basic {valid}",
        "Bearer rk_0123456789ab",
        "Bearer rk_" + "a" * 5000 + "_secret",
    ):
        assert await key(unverified) == "address:203.0.113.9", unverified


async def test_fails_open_when_redis_is_down(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    down = settings.model_copy(
        update={
            "redis_url": f"redis://127.0.0.1:{free_port()}/0",
            "rate_limit_per_second": 1.0,
            "rate_limit_burst": 1,
        }
    )

    with caplog.at_level(logging.WARNING, logger="rapport.rate_limit"):
        async with app_client(down) as client:
            statuses = [(await client.post("/graphql", json=QUERY)).status_code for _ in range(4)]

    assert statuses == [200] * 4
    warnings = [r for r in caplog.records if r.name == "rapport.rate_limit"]
    assert len(warnings) == 1
    assert "Redis unreachable" in warnings[0].getMessage()


def test_operations_over_a_websocket_draw_from_the_principals_bucket(
    db_url: str, redis_url: str, staff: Staff
) -> None:
    limits = {"RAPPORT_RATE_LIMIT_PER_SECOND": "0.01", "RAPPORT_RATE_LIMIT_BURST": "3"}
    with run_live_server(db_url, **production_environment(redis_url, **limits)) as url:
        token = log_in(url)["accessToken"]  # the address's bucket
        ws_url = url.replace("http://", "ws://") + "/graphql"
        subscription = {"query": "subscription { recordChanged { eventId } }"}
        with connect(
            ws_url,
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
            additional_headers=bearer(token),  # the handshake: one token of three
        ) as socket:
            socket.send(json.dumps({"type": "connection_init"}))
            assert json.loads(socket.recv(timeout=5)) == {"type": "connection_ack"}
            for operation_id in ("1", "2", "3"):
                socket.send(
                    json.dumps({"id": operation_id, "type": "subscribe", "payload": subscription})
                )
            refused = json.loads(socket.recv(timeout=5))
            http = httpx.post(f"{url}/graphql", json=QUERY, headers=bearer(token))

    assert refused["id"] == "3"  # 1 and 2 run, silently: no event came
    assert refused["type"] == "error"
    assert refused["payload"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert refused["payload"][0]["extensions"]["retryAfter"] > 1
    assert http.status_code == 429  # one bucket for the user, over HTTP and WebSocket


def test_a_socket_authenticated_in_connection_init_draws_from_its_users_bucket(
    db_url: str, redis_url: str, staff: Staff
) -> None:
    limits = {"RAPPORT_RATE_LIMIT_PER_SECOND": "0.01", "RAPPORT_RATE_LIMIT_BURST": "3"}
    with run_live_server(db_url, **production_environment(redis_url, **limits)) as url:
        token = log_in(url)["accessToken"]  # the address's bucket: 2 left
        ws_url = url.replace("http://", "ws://") + "/graphql"
        subscription = {"query": "subscription { recordChanged { eventId } }"}
        # a browser: no header on the handshake (the address's bucket: 1 left)
        with connect(ws_url, subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
            socket.send(json.dumps({"type": "connection_init", "payload": {"authToken": token}}))
            assert json.loads(socket.recv(timeout=5)) == {"type": "connection_ack"}
            for operation_id in ("1", "2", "3", "4"):
                socket.send(
                    json.dumps({"id": operation_id, "type": "subscribe", "payload": subscription})
                )
            refused = json.loads(socket.recv(timeout=5))
            as_user = httpx.post(f"{url}/graphql", json=QUERY, headers=bearer(token))
            anonymous = httpx.post(f"{url}/graphql", json=QUERY)

    assert refused["id"] == "4"  # three subscriptions: the user's whole bucket
    assert refused["payload"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert as_user.status_code == 429
    assert anonymous.status_code == 401  # the address still had a token
