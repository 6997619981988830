"""A socket's credential while its subscriptions run: expiry at once, revocation at the next
database check (tokens from real sessions and API keys, on both backends)."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from domain.errors import Unauthenticated
from domain.identity.api_keys import create_api_key, revoke_api_key
from domain.identity.sessions import login, logout, set_password
from domain.identity.tokens import TokenConfig
from domain.staff.users import create_user, deactivate_user
from gql import connection_auth
from gql.connection_auth import LiveCredential, bearer_token

TOKENS = TokenConfig(secret="connection-auth-test-secret-0123456789ab")
PASSWORD = "correct horse battery"


async def _session() -> tuple[int, str, int]:
    user = await create_user(name="Vy", email="vy@rapport.vn", role="SALES", actor="test")
    await set_password(user.id, PASSWORD, actor="test")
    issued = await login(TOKENS, "vy@rapport.vn", PASSWORD)
    return user.id, issued.access_token, issued.session_id


def _stale(credential: LiveCredential) -> LiveCredential:
    """As if the last database check was longer ago than the re-check interval."""
    credential.checked_at = time.monotonic() - connection_auth.RECHECK_SECONDS - 1
    return credential


async def test_a_revoked_session_is_refused_at_the_next_check(database: str) -> None:
    _, token, session_id = await _session()
    credential = LiveCredential.of({"authToken": token}, None, TOKENS)
    await _stale(credential).ensure_valid()
    await logout(session_id, actor="test")
    await credential.ensure_valid()  # checked moments ago: no query until the interval passes
    with pytest.raises(Unauthenticated, match="session revoked"):
        await _stale(credential).ensure_valid()


async def test_a_deactivated_user_is_refused_at_the_next_check(database: str) -> None:
    user_id, token, _ = await _session()
    credential = LiveCredential.of({"Authorization": f"Bearer {token}"}, None, TOKENS)
    await deactivate_user(user_id, actor="test")
    with pytest.raises(Unauthenticated):
        await _stale(credential).ensure_valid()


async def test_an_expired_token_is_refused_without_waiting_for_a_check(database: str) -> None:
    user = await create_user(name="Lam", email="lam@rapport.vn", role="SALES", actor="test")
    await set_password(user.id, PASSWORD, actor="test")
    short = TokenConfig(secret=TOKENS.secret, access_ttl=dt.timedelta(minutes=1))
    issued = await login(short, "lam@rapport.vn", PASSWORD)
    credential = LiveCredential.of({"authToken": issued.access_token}, None, short)
    assert credential.expires_at == pytest.approx(issued.access_expires_at.timestamp(), abs=1)
    await credential.ensure_valid()
    credential.expires_at = time.time() - 1  # as when the token's exp has passed
    with pytest.raises(Unauthenticated, match="expired"):
        await credential.ensure_valid()


async def test_a_revoked_api_key_is_refused_at_the_next_check(database: str) -> None:
    created = await create_api_key(
        name="feed", scopes=["read:Customer"], expires_at=None, actor="test"
    )
    credential = LiveCredential.of({"authToken": created.plaintext}, None, TOKENS)
    assert credential.expires_at is None  # keys have no exp claim; their expiry is in the row
    await _stale(credential).ensure_valid()
    await revoke_api_key(created.key.id, actor="test")
    with pytest.raises(Unauthenticated, match="revoked"):
        await _stale(credential).ensure_valid()


@pytest.mark.parametrize(
    ("params", "token"),
    [
        ({}, None),
        ({"authorization": "bearer abc "}, "abc"),
        ({"Authorization": "Bearer abc"}, "abc"),
        ({"authToken": " abc"}, "abc"),
    ],
)
def test_bearer_token_reads_either_shape(params: dict[str, object], token: str | None) -> None:
    assert bearer_token(params) == token


@pytest.mark.parametrize(
    "params", [{"Authorization": "Basic abc"}, {"Authorization": "Bearer "}, {"authToken": 7}]
)
def test_malformed_credentials_are_unauthenticated(params: dict[str, object]) -> None:
    with pytest.raises(Unauthenticated):
        bearer_token(params)
