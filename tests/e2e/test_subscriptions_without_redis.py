"""An API process without Redis (``crm serve`` alone) answers subscriptions with a typed error
and keeps serving: the live server here has no ``REDIS_URL`` (and the tests' trusted role)."""

from __future__ import annotations

import httpx

from tests.e2e.live import subscriber
from tests.helpers import gql


async def test_subscriptions_without_redis_are_a_typed_error(live_server: str) -> None:
    async with subscriber(live_server, {}) as client:
        await client.subscribe("1", "subscription { customerChanged { event } }")
        errors = await client.operation_errors("1")
        assert (await client.next_message_of("1"))["type"] == "complete"
    assert errors[0]["extensions"]["code"] == "LIVE_EVENTS_UNAVAILABLE"
    async with httpx.AsyncClient(base_url=live_server, timeout=10) as http:
        body = await gql(http, "{ people(first: 1) { totalCount } }")
    assert body["data"]["people"]["totalCount"] == 0
