"""Rate limits per principal: a token bucket in a real Redis, 429 with Retry-After, recovery."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from redis.asyncio import Redis
from starlette.requests import HTTPConnection
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from app.settings import Settings
from gql.security.rate_limit import TokenBucket, principal_or_client_address
from tests.conftest import run_live_server
from tests.helpers import app_client, free_port

QUERY = {"query": "{ customers(first: 1) { totalCount } }"}


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    try:
        yield client
    finally:
        await client.aclose()


def test_429_with_retry_after_then_recovery(  # HTTP and WebSocket handshakes alike
    db_url: str, redis_url: str
) -> None:
    limits = {"RAPPORT_RATE_LIMIT_PER_SECOND": "2", "RAPPORT_RATE_LIMIT_BURST": "3"}
    with (
        run_live_server(db_url, RAPPORT_ENV="production", REDIS_URL=redis_url, **limits) as url,
        httpx.Client(base_url=url, timeout=10) as client,
    ):
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
            connect(url.replace("http://", "ws://") + "/graphql")
        assert handshake.value.response.status_code == 429
        assert handshake.value.response.headers["retry-after"] == "1"
        time.sleep(int(refused.headers["retry-after"]))
        recovered = client.post("/graphql", json=QUERY)
        assert recovered.status_code == 200
        assert recovered.json() == {"data": {"customers": {"totalCount": 0}}}


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


async def test_the_key_is_the_principal_when_authentication_set_one() -> None:
    def connection(state: dict[str, object]) -> HTTPConnection:
        scope = {"type": "http", "client": ("203.0.113.9", 5555), "headers": [], "state": state}
        return HTTPConnection(scope)

    assert await principal_or_client_address(connection({})) == "address:203.0.113.9"
    assert (
        await principal_or_client_address(connection({"principal": "user:42"}))
        == "principal:user:42"
    )


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
