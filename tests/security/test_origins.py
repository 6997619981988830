"""Browsers: CORS answers only the allowed origins; WebSockets from other origins are refused."""

from __future__ import annotations

import json

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.security.conftest import APP_ORIGIN, assert_still_serving

EVIL = "https://evil.example"
PROTOCOL = "graphql-transport-ws"


def _ws_url(base_url: str) -> str:
    return base_url.replace("http://", "ws://") + "/graphql"


def test_cors_answers_the_allowed_origin_only(client: httpx.Client) -> None:
    allowed = client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Origin": APP_ORIGIN}
    )
    other = client.post("/graphql", json={"query": "{ __typename }"}, headers={"Origin": EVIL})

    assert allowed.headers["access-control-allow-origin"] == APP_ORIGIN
    assert "x-request-id" in allowed.headers["access-control-expose-headers"].lower()
    assert "access-control-allow-origin" not in other.headers
    assert_still_serving(client)


@pytest.mark.parametrize(("origin", "status"), [(APP_ORIGIN, 200), (EVIL, 400)])
def test_cors_preflight(client: httpx.Client, origin: str, status: int) -> None:
    response = client.options(
        "/graphql",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )

    assert response.status_code == status
    if status == 200:
        allowed = response.headers["access-control-allow-headers"].lower()
        assert "authorization" in allowed


def test_websocket_from_another_origin_is_refused(production_server: str) -> None:
    with pytest.raises(InvalidStatus) as refused:
        connect(_ws_url(production_server), origin=EVIL, subprotocols=[PROTOCOL])  # type: ignore[list-item]

    assert refused.value.response.status_code == 403


@pytest.mark.parametrize("origin", [APP_ORIGIN, None], ids=["allowed origin", "not a browser"])
def test_websocket_from_an_allowed_origin_connects(
    production_server: str, origin: str | None
) -> None:
    with connect(
        _ws_url(production_server),
        origin=origin,  # type: ignore[arg-type]
        subprotocols=[PROTOCOL],  # type: ignore[list-item]
    ) as socket:
        socket.send(json.dumps({"type": "connection_init"}))
        assert json.loads(socket.recv(timeout=5)) == {"type": "connection_ack"}


async def test_development_allows_any_origin(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Origin": EVIL}
    )

    assert response.headers["access-control-allow-origin"] == "*"
