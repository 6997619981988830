"""Servers for the security suite: the app in production mode, over a real port, with Redis."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import run_live_server

#: The only origin allowed to call the production server from a browser.
APP_ORIGIN = "https://app.rapport.example"
#: Generous: the suite's own requests must not trip the limiter, except where a test wants it.
SUITE_RATE = {"RAPPORT_RATE_LIMIT_PER_SECOND": "1000", "RAPPORT_RATE_LIMIT_BURST": "1000"}


@pytest.fixture
def production_server(db_url: str, redis_url: str) -> Iterator[str]:
    """Base URL of uvicorn serving the app with ``RAPPORT_ENV=production`` and default limits."""
    with run_live_server(
        db_url,
        RAPPORT_ENV="production",
        REDIS_URL=redis_url,
        RAPPORT_CORS_ORIGINS=APP_ORIGIN,
        **SUITE_RATE,
    ) as base_url:
        yield base_url


@pytest.fixture
def client(production_server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=production_server, timeout=30) as http:
        yield http


def assert_still_serving(client: httpx.Client) -> None:
    """After an attack, the server answers a normal query normally."""
    response = client.post("/graphql", json={"query": "{ customers(first: 1) { totalCount } }"})
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"customers": {"totalCount": 0}}}


def only_error(response: httpx.Response) -> dict[str, object]:
    """The single GraphQL error of a refused request (asserting there is no data)."""
    body = response.json()
    assert body.get("data") is None, body
    errors = body["errors"]
    assert len(errors) >= 1, body
    error: dict[str, object] = errors[0]
    return error
