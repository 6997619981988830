"""WebSocket attacks on the production server, over a real port and an authenticated socket:
queries and mutations do not bypass the HTTP limits through graphql-transport-ws (only
subscriptions are accepted there), and subscription documents obey the query limits."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from tests.security.conftest import APP_ORIGIN, assert_still_serving

PROTOCOL = "graphql-transport-ws"
SUBSCRIPTION = "subscription { recordChanged { eventId event } }"


@pytest.fixture
def socket(production_server: str, admin_token: str) -> Iterator[ClientConnection]:
    """A socket from the app's page, acknowledged for the ADMIN."""
    url = production_server.replace("http://", "ws://") + "/graphql"
    with connect(url, origin=APP_ORIGIN, subprotocols=[PROTOCOL]) as ws:  # type: ignore[arg-type,list-item]
        ws.send(json.dumps({"type": "connection_init", "payload": {"authToken": admin_token}}))
        assert json.loads(ws.recv(timeout=5)) == {"type": "connection_ack"}
        yield ws


def _subscribe(ws: ClientConnection, operation_id: str, query: str) -> None:
    ws.send(json.dumps({"id": operation_id, "type": "subscribe", "payload": {"query": query}}))


def _answer(ws: ClientConnection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(ws.recv(timeout=10))
    return message


def _assert_accepted(ws: ClientConnection) -> None:
    """Nothing comes back for a running subscription; the socket still answers a ping."""
    ws.send(json.dumps({"type": "ping"}))
    assert _answer(ws) == {"type": "pong"}


def test_queries_and_mutations_are_refused_over_websocket(
    socket: ClientConnection, client: httpx.Client
) -> None:
    _subscribe(socket, "q", "{ customers(first: 1) { totalCount } }")
    query = _answer(socket)
    _subscribe(socket, "m", 'mutation { createTeam(input: {name: "Via WS"}) { __typename } }')
    mutation = _answer(socket)

    assert query == {
        "id": "q",
        "type": "error",
        "payload": [
            {
                "message": "Only subscriptions are accepted over WebSocket; send queries over HTTP",
                "extensions": {"code": "OPERATION_NOT_ALLOWED"},
            }
        ],
    }
    assert mutation["type"] == "error"
    assert mutation["payload"][0]["extensions"] == {"code": "OPERATION_NOT_ALLOWED"}
    assert "mutations over HTTP" in mutation["payload"][0]["message"]
    # the mutation never ran
    teams = client.post("/graphql", json={"query": "{ teams(first: 5) { totalCount } }"})
    assert teams.json() == {"data": {"teams": {"totalCount": 0}}}
    # the socket is still good for what it is for
    _subscribe(socket, "s", SUBSCRIPTION)
    _assert_accepted(socket)
    assert_still_serving(client)


def test_a_named_query_among_subscriptions_is_refused(socket: ClientConnection) -> None:
    document = f"query Q {{ me {{ kind }} }} subscription S {SUBSCRIPTION[len('subscription ') :]}"
    socket.send(
        json.dumps(
            {
                "id": "q",
                "type": "subscribe",
                "payload": {"query": document, "operationName": "Q"},
            }
        )
    )

    assert _answer(socket)["payload"][0]["extensions"] == {"code": "OPERATION_NOT_ALLOWED"}
    socket.send(
        json.dumps(
            {
                "id": "s",
                "type": "subscribe",
                "payload": {"query": document, "operationName": "S"},
            }
        )
    )
    _assert_accepted(socket)


def _nested(levels: int) -> str:
    inner = "id"
    for _ in range(levels):
        inner = f"opportunities(first: 100) {{ edges {{ node {{ customer {{ {inner} }} }} }} }}"
    return f"subscription {{ customerChanged {{ customer {{ {inner} }} }} }}"


@pytest.mark.parametrize(
    ("query", "extensions"),
    [
        (
            "subscription { recordChanged { "
            + " ".join(f"a{i}: eventId" for i in range(40))
            + " } }",
            {"code": "TOO_MANY_ALIASES", "limit": 30, "actual": 40},
        ),
        (_nested(4), {"code": "QUERY_TOO_DEEP", "limit": 15, "actual": 19}),
        (
            # the event and its customer, then at each level 100 deals with their customer
            _nested(3),
            {
                "code": "QUERY_TOO_COMPLEX",
                "limit": 50_000,
                "actual": 2 * (1 + 100 + 100**2 + 100**3),
            },
        ),
        (
            "subscription { recordChanged { " + " ".join(["event"] * 6000) + " } }",
            {"code": "TOO_MANY_TOKENS", "limit": 5000},
        ),
        ("subscription { recordChanged { event ", {"code": "GRAPHQL_PARSE_FAILED"}),
    ],
    ids=["aliases", "depth", "cost", "tokens", "syntax"],
)
def test_subscription_documents_obey_the_query_limits(
    socket: ClientConnection, client: httpx.Client, query: str, extensions: dict[str, object]
) -> None:
    _subscribe(socket, "1", query)

    answer = _answer(socket)

    # refused before it subscribes: an "error" message, or (the cost, measured once the
    # variables are known) a "next" with the error and no data, then "complete"
    assert answer["id"] == "1"
    if answer["type"] == "next":
        assert answer["payload"]["data"] is None
        errors = answer["payload"]["errors"]
        assert _answer(socket) == {"id": "1", "type": "complete"}
    else:
        assert answer["type"] == "error", answer
        errors = answer["payload"]
    assert errors[0]["extensions"] == extensions
    _assert_accepted(socket)
    assert_still_serving(client)
