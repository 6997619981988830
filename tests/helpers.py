"""Helpers shared by the test suites (import them: ``from tests.helpers import gql``)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from app.main import create_app
from app.settings import Settings

#: Base URL of the in-process client; any host works, the app never sees the network.
TEST_BASE_URL = "http://testserver"


async def gql(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    expect_errors: bool = False,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """POST ``query`` to ``/graphql`` and return the whole parsed body (``data`` and ``errors``).

    Asserts the HTTP status is 200 and, unless ``expect_errors``, that the body has no
    ``errors`` (the assertion message shows them); with ``expect_errors`` it asserts there are.
    """
    payload: dict[str, Any] = {"query": query}
    if variables is not None:
        payload["variables"] = variables
    response = await client.post("/graphql", json=payload, headers=headers)
    assert response.status_code == 200, f"HTTP {response.status_code}: {response.text}"
    body: dict[str, Any] = response.json()
    if expect_errors:
        assert body.get("errors"), f"expected GraphQL errors, got {body}"
    else:
        assert not body.get("errors"), f"GraphQL errors: {body['errors']}"
    return body


@asynccontextmanager
async def app_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """Run ``create_app(settings)`` with its lifespan and yield an in-process client for it.

    The lifespan migrates and opens the database on entry and closes it on exit, exactly as
    uvicorn would run it; requests go through ``httpx.ASGITransport`` (no socket).
    """
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=TEST_BASE_URL) as client,
    ):
        yield client


def free_port() -> int:
    """A loopback port free at the time of the call."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
