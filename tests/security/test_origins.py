"""Browsers: CORS answers only the allowed origins; WebSockets from other origins are refused."""

from __future__ import annotations

import json

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from tests.security.conftest import APP_ORIGIN, assert_still_serving, bearer

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


def test_websocket_from_another_origin_is_refused(production_server: str, admin_token: str) -> None:
    # a valid credential does not make another site's page a trusted origin
    with pytest.raises(InvalidStatus) as refused:
        connect(
            _ws_url(production_server),
            origin=EVIL,  # type: ignore[arg-type]
            subprotocols=[PROTOCOL],  # type: ignore[list-item]
            additional_headers=bearer(admin_token),
        )

    assert refused.value.response.status_code == 403


@pytest.mark.parametrize("origin", [APP_ORIGIN, None], ids=["allowed origin", "not a browser"])
def test_websocket_from_an_allowed_origin_connects_with_a_credential(
    production_server: str, admin_token: str, origin: str | None
) -> None:
    with connect(
        _ws_url(production_server),
        origin=origin,  # type: ignore[arg-type]
        subprotocols=[PROTOCOL],  # type: ignore[list-item]
    ) as socket:
        socket.send(json.dumps({"type": "connection_init", "payload": {"authToken": admin_token}}))
        assert json.loads(socket.recv(timeout=5)) == {"type": "connection_ack"}


@pytest.mark.parametrize(
    "payload",
    [{}, {"authToken": "eyJforged"}, {"Authorization": "Basic abc"}],
    ids=["no credential", "forged token", "wrong scheme"],
)
def test_websocket_from_an_allowed_origin_without_a_valid_credential_is_closed(
    production_server: str, client: httpx.Client, payload: dict[str, str]
) -> None:
    with connect(
        _ws_url(production_server),
        origin=APP_ORIGIN,  # type: ignore[arg-type]
        subprotocols=[PROTOCOL],  # type: ignore[list-item]
    ) as socket:
        socket.send(json.dumps({"type": "connection_init", "payload": payload}))
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=5)

    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4403
    assert_still_serving(client)


async def test_development_allows_any_origin(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Origin": EVIL}
    )

    assert response.headers["access-control-allow-origin"] == "*"
