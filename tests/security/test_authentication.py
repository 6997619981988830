"""Credentials that must not work, over the production server's real port: expired, revoked,
forged and malformed access tokens and API keys are 401 ``UNAUTHENTICATED`` before any GraphQL
runs, and the server keeps answering signed-in users right after each."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import jwt
import pytest

from domain.identity.tokens import ALGORITHM
from tests.security.conftest import (
    SECRET_KEY,
    Staff,
    assert_still_serving,
    bearer,
    log_in,
)

CUSTOMERS = {"query": "{ customers(first: 1) { totalCount } }"}
ME = {"query": "{ me { kind role } }"}


def _assert_401(response: httpx.Response, message: str) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert response.json() == {
        "errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]
    }


def _as(client: httpx.Client, token: str, body: dict[str, Any] = CUSTOMERS) -> httpx.Response:
    return client.post("/graphql", json=body, headers=bearer(token))


def _claims(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, SECRET_KEY, algorithms=[ALGORITHM], issuer="rapport")
    return claims


def test_the_admin_token_and_the_api_key_work(client: httpx.Client, staff: Staff) -> None:
    me = client.post("/graphql", json=ME)
    key = _as(client, staff.api_key, ME)

    assert me.json() == {"data": {"me": {"kind": "user", "role": "ADMIN"}}}
    assert key.json() == {"data": {"me": {"kind": "apikey", "role": None}}}
    assert _as(client, staff.api_key).json() == {"data": {"customers": {"totalCount": 0}}}


def test_no_credentials_may_only_log_in(anonymous: httpx.Client, client: httpx.Client) -> None:
    response = anonymous.post("/graphql", json=CUSTOMERS)

    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "data" not in response.json() or response.json()["data"] is None
    assert_still_serving(client)


def test_an_expired_access_token_is_refused(client: httpx.Client, admin_token: str) -> None:
    claims = _claims(admin_token)
    past = int((dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).timestamp())
    expired = jwt.encode({**claims, "exp": past}, SECRET_KEY, algorithm=ALGORITHM)

    _assert_401(_as(client, expired), "access token expired")
    assert_still_serving(client)


@pytest.mark.parametrize("forgery", ["other key", "alg none", "refresh as access", "garbage"])
def test_a_forged_access_token_is_refused(
    client: httpx.Client, admin_token: str, forgery: str
) -> None:
    claims = _claims(admin_token)
    token = {
        "other key": jwt.encode(claims, "another-key-" + "x" * 40, algorithm=ALGORITHM),
        "alg none": jwt.encode(claims, None, algorithm="none"),
        "refresh as access": jwt.encode({**claims, "typ": "refresh"}, SECRET_KEY, ALGORITHM),
        "garbage": "eyJ" + "A" * 60,
    }[forgery]

    response = _as(client, token)

    _assert_401(
        response,
        "access token expired" if forgery == "refresh as access" else "invalid access token",
    )
    assert_still_serving(client)


def test_a_token_of_a_logged_out_session_is_refused(
    client: httpx.Client, production_server: str
) -> None:
    tokens = log_in(production_server)
    access = tokens["accessToken"]
    assert _as(client, access).status_code == 200

    logout = _as(client, access, {"query": "mutation { logout { __typename } }"})

    assert logout.json() == {"data": {"logout": {"__typename": "LogoutSuccess"}}}
    _assert_401(_as(client, access), "session revoked")
    assert_still_serving(client)  # the client's own session is another one


@pytest.mark.parametrize(
    "header",
    ["Basic YWRtaW46cGFzc3dvcmQ=", "Bearer", "Token abc"],
    ids=["basic", "empty bearer", "other scheme"],
)
def test_malformed_authorization_headers_are_refused(client: httpx.Client, header: str) -> None:
    response = client.post("/graphql", json=CUSTOMERS, headers={"Authorization": header})

    _assert_401(response, "expected the header Authorization: Bearer <token>")
    assert_still_serving(client)


def test_forged_api_keys_are_refused(client: httpx.Client, staff: Staff) -> None:
    prefix = staff.api_key.split("_")[1]
    forged = [
        f"rk_{prefix}_{'A' * 43}",  # a real prefix, a guessed secret
        f"rk_000000000000_{'A' * 43}",  # an unknown prefix
        staff.api_key[:-1],  # truncated
        "rk_",
    ]

    for key in forged:
        _assert_401(_as(client, key), "invalid API key")
    assert _as(client, staff.api_key).status_code == 200  # the real key still works
    assert_still_serving(client)


def test_a_revoked_api_key_is_refused(client: httpx.Client, staff: Staff) -> None:
    revoke = client.post(
        "/graphql",
        json={
            "query": "mutation($id: ID!) { revokeApiKey(input: {id: $id}) { __typename } }",
            "variables": {"id": _api_key_global_id(client, staff)},
        },
    )

    assert revoke.json() == {"data": {"revokeApiKey": {"__typename": "ApiKeySuccess"}}}
    _assert_401(_as(client, staff.api_key), "API key revoked")
    assert_still_serving(client)


def test_an_expired_api_key_is_refused(client: httpx.Client, staff: Staff) -> None:
    _assert_401(_as(client, staff.expired_api_key), "API key expired")
    assert_still_serving(client)


def _api_key_global_id(client: httpx.Client, staff: Staff) -> str:
    keys = client.post("/graphql", json={"query": "{ apiKeys { id prefix } }"}).json()
    prefix = staff.api_key.split("_")[1]
    (key_id,) = [k["id"] for k in keys["data"]["apiKeys"] if k["prefix"] == prefix]
    return str(key_id)
