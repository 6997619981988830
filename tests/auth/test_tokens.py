"""Sessions and API keys over HTTP: login, me, refresh rotation, reuse detection, logout, and
401s with a typed error for expired, revoked, forged and malformed credentials."""

from __future__ import annotations

import datetime as dt

import httpx
import jwt
import pytest

from app.settings import Settings
from domain.identity.passwords import hash_password
from domain.identity.tokens import ALGORITHM, ISSUER
from domain.persistence import models as m
from domain.staff.users import create_user, deactivate_user
from tests.auth.conftest import SECRET
from tests.auth.helpers import login, post
from tests.helpers import gql

PASSWORD = "correct horse battery"
ME = "{ me { kind role scopes user { email } } }"
CUSTOMERS = "{ customers { totalCount } }"
REFRESH = """mutation($token: String!) { refreshSession(input: {refreshToken: $token}) {
  __typename
  ... on SessionTokens { accessToken refreshToken }
  ... on AuthenticationError { code message }
} }"""
LOGOUT = "mutation { logout { __typename ... on LogoutSuccess { ended } } }"
CREATE_KEY = """mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) {
  __typename
  ... on ApiKeyCreated { key apiKey { id name prefix scopes lastUsedAt } }
  ... on ValidationError { field code }
  ... on PermissionDeniedError { code }
} }"""
REVOKE_KEY = """mutation($id: ID!) { revokeApiKey(input: {id: $id}) {
  __typename ... on ApiKeySuccess { apiKey { revokedAt } }
} }"""


async def _user(email: str = "lan@rapport.vn", role: str = "SALES") -> m.User:
    return await create_user(
        name="Phạm Thị Lan",
        email=email,
        role=role,
        password_hash=hash_password(PASSWORD),
        actor="test",
    )


def _assert_unauthenticated(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "data" not in body or body["data"] is None


async def test_login_me_and_wrong_passwords(api: httpx.AsyncClient) -> None:
    user = await _user()
    tokens = await login(api, "LAN@rapport.vn", PASSWORD)
    assert tokens["__typename"] == "SessionTokens"
    assert tokens["user"]["role"] == "SALES"
    me = (await post(api, ME, token=tokens["accessToken"])).json()["data"]["me"]
    assert me == {"kind": "user", "role": "SALES", "scopes": [], "user": {"email": user.email}}

    for email, password in (("lan@rapport.vn", "wrong password!"), ("who@rapport.vn", PASSWORD)):
        failed = await login(api, email, password)
        assert failed == {
            "__typename": "AuthenticationError",
            "code": "UNAUTHENTICATED",
            "message": "wrong e-mail or password",
        }
    assert await m.AuthSession.filter(user_id=user.id).count() == 1


async def test_no_credentials_may_only_log_in(api: httpx.AsyncClient) -> None:
    response = await api.post("/graphql", json={"query": CUSTOMERS})
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    await _user()
    assert (await login(api, "lan@rapport.vn", PASSWORD))["__typename"] == "SessionTokens"


async def test_refresh_rotates_and_reuse_revokes_the_whole_session(api: httpx.AsyncClient) -> None:
    await _user()
    first = await login(api, "lan@rapport.vn", PASSWORD)
    second = (await gql(api, REFRESH, {"token": first["refreshToken"]}))["data"]["refreshSession"]
    assert second["__typename"] == "SessionTokens"
    assert second["refreshToken"] != first["refreshToken"]
    assert (await post(api, CUSTOMERS, token=second["accessToken"])).status_code == 200

    # The spent token comes back (stolen): the session ends, every token of it stops working.
    replay = (await gql(api, REFRESH, {"token": first["refreshToken"]}))["data"]["refreshSession"]
    assert replay["__typename"] == "AuthenticationError"
    for access in (first["accessToken"], second["accessToken"]):
        _assert_unauthenticated(await post(api, CUSTOMERS, token=access))
    after = (await gql(api, REFRESH, {"token": second["refreshToken"]}))["data"]["refreshSession"]
    assert after["__typename"] == "AuthenticationError"
    session = await m.AuthSession.get(id=(await m.RefreshToken.first()).session_id)  # type: ignore[union-attr]
    assert session.revoked_reason == "refresh_token_reused"
    assert await m.AuditEntry.filter(action="session.revoke").count() == 1


async def test_logout_revokes_access_and_refresh_tokens(api: httpx.AsyncClient) -> None:
    await _user()
    tokens = await login(api, "lan@rapport.vn", PASSWORD)
    ended = (await post(api, LOGOUT, token=tokens["accessToken"])).json()["data"]["logout"]
    assert ended == {"__typename": "LogoutSuccess", "ended": True}
    _assert_unauthenticated(await post(api, CUSTOMERS, token=tokens["accessToken"]))
    again = (await gql(api, REFRESH, {"token": tokens["refreshToken"]}))["data"]["refreshSession"]
    assert again["__typename"] == "AuthenticationError"


async def test_expired_forged_and_malformed_tokens_are_401(api: httpx.AsyncClient) -> None:
    user = await _user()
    tokens = await login(api, "lan@rapport.vn", PASSWORD)
    session = await m.AuthSession.get(user_id=user.id)
    now = int(dt.datetime.now(dt.UTC).timestamp())
    claims = {"iss": ISSUER, "sub": str(user.id), "sid": session.id, "typ": "access"}
    expired = jwt.encode({**claims, "iat": now - 900, "exp": now - 1}, SECRET, ALGORITHM)
    forged = jwt.encode({**claims, "iat": now, "exp": now + 900}, "another-key" * 4, ALGORITHM)
    unsigned = jwt.encode({**claims, "iat": now, "exp": now + 900}, None, "none")
    tampered = tokens["accessToken"][:-2] + ("AA" if tokens["accessToken"][-2:] != "AA" else "BB")
    for token in (expired, forged, unsigned, tampered, "garbage", "rk_nope"):
        _assert_unauthenticated(await post(api, CUSTOMERS, token=token))
    for header in ("Basic dXNlcjpwYXNz", "Bearer ", "Bearer"):
        response = await api.post(
            "/graphql", json={"query": CUSTOMERS}, headers={"Authorization": header}
        )
        _assert_unauthenticated(response)
    # The server still answers the genuine token afterwards.
    assert (await post(api, CUSTOMERS, token=tokens["accessToken"])).json()["data"] == {
        "customers": {"totalCount": 0}
    }


async def test_a_deactivated_users_tokens_stop_working(api: httpx.AsyncClient) -> None:
    user = await _user()
    tokens = await login(api, "lan@rapport.vn", PASSWORD)
    await deactivate_user(user.id, actor="test")
    _assert_unauthenticated(await post(api, CUSTOMERS, token=tokens["accessToken"]))
    assert (await login(api, "lan@rapport.vn", PASSWORD))["__typename"] == "AuthenticationError"


async def test_api_keys_shown_once_scoped_recorded_revocable(api: httpx.AsyncClient) -> None:
    await _user("admin@rapport.vn", "ADMIN")
    admin = (await login(api, "admin@rapport.vn", PASSWORD))["accessToken"]
    bad = await post(
        api, CREATE_KEY, {"input": {"name": "ERP", "scopes": ["read:Nothing"]}}, token=admin
    )
    assert bad.json()["data"]["createApiKey"] == {
        "__typename": "ValidationError",
        "field": "scopes",
        "code": "INVALID_SCOPE",
    }
    created = (
        await post(
            api, CREATE_KEY, {"input": {"name": "ERP", "scopes": ["read:Customer"]}}, token=admin
        )
    ).json()["data"]["createApiKey"]
    assert created["__typename"] == "ApiKeyCreated"
    key = created["key"]
    assert key.startswith(f"rk_{created['apiKey']['prefix']}_")
    stored = await m.ApiKey.get(prefix=created["apiKey"]["prefix"])
    assert key.split("_", 2)[2] not in (stored.secret_hash, stored.prefix)
    assert stored.last_used_at is None

    assert (await post(api, CUSTOMERS, token=key)).json()["data"] == {
        "customers": {"totalCount": 0}
    }
    denied = (await post(api, "{ opportunities { totalCount } }", token=key)).json()
    assert denied["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"
    assert (await m.ApiKey.get(id=stored.id)).last_used_at is not None
    me = (await post(api, ME, token=key)).json()["data"]["me"]
    assert me == {"kind": "apikey", "role": None, "scopes": ["read:Customer"], "user": None}
    # A non-admin may not mint keys.
    await _user("sales@rapport.vn", "SALES")
    sales = (await login(api, "sales@rapport.vn", PASSWORD))["accessToken"]
    refused = await post(
        api, CREATE_KEY, {"input": {"name": "x", "scopes": ["read:*"]}}, token=sales
    )
    assert refused.json()["data"]["createApiKey"] == {
        "__typename": "PermissionDeniedError",
        "code": "PERMISSION_DENIED",
    }

    forged = key[:-4] + ("abcd" if not key.endswith("abcd") else "efgh")
    _assert_unauthenticated(await post(api, CUSTOMERS, token=forged))
    revoked = await post(api, REVOKE_KEY, {"id": created["apiKey"]["id"]}, token=admin)
    assert revoked.json()["data"]["revokeApiKey"]["apiKey"]["revokedAt"] is not None
    _assert_unauthenticated(await post(api, CUSTOMERS, token=key))


async def test_an_expired_api_key_is_401(api: httpx.AsyncClient) -> None:
    from domain.identity.api_keys import create_api_key

    soon = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    created = await create_api_key(name="CSV", scopes=["read:*"], expires_at=soon, actor="test")
    assert (await post(api, CUSTOMERS, token=created.plaintext)).status_code == 200
    await m.ApiKey.filter(id=created.key.id).update(
        expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    )
    _assert_unauthenticated(await post(api, CUSTOMERS, token=created.plaintext))


@pytest.mark.parametrize(
    "overrides",
    [{"unauthenticated_role": "ADMIN", "secret_key": SECRET}, {"secret_key": None}],
)
def test_production_refuses_to_serve_without_authentication(
    overrides: dict[str, object],
) -> None:
    from app.main import create_app

    settings = Settings(env="production", database_url="sqlite://:memory:", **overrides)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="RAPPORT_"):
        create_app(settings)
