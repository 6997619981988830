"""Servers for the security suite: the app in production mode, over a real port, with Redis,
authenticating for real: a signing key, no trusted principal for requests without
credentials, and an ADMIN and an API key written to the database before the server starts.

Attacks are sent by the authenticated ADMIN (``client``), so each is refused for its own
reason, not because the caller is anonymous.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import pytest

from domain.identity.api_keys import create_api_key
from domain.identity.passwords import hash_password
from domain.persistence.db import close_database, open_database
from domain.persistence.models import ApiKey
from domain.staff.users import create_user
from tests.conftest import run_live_server

#: The only origin allowed to call the production server from a browser.
APP_ORIGIN = "https://app.rapport.example"
#: Generous: the suite's own requests must not trip the limiter, except where a test wants it.
SUITE_RATE = {"RAPPORT_RATE_LIMIT_PER_SECOND": "1000", "RAPPORT_RATE_LIMIT_BURST": "1000"}
#: Known to the tests, so they can mint expired tokens with it (and forge with another).
SECRET_KEY = "security-suite-signing-key-0123456789abcdef"
PASSWORD = "a long admin password 2026"
ADMIN_EMAIL = "admin@rapport.example"
SALES_EMAIL = "sales@rapport.example"
LOGIN = """mutation($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) {
    __typename ... on SessionTokens { accessToken refreshToken }
  }
}"""


@dataclass(frozen=True)
class Staff:
    """What was written to the database before the server started."""

    admin_id: int
    sales_id: int
    api_key: str  # the plaintext ``rk_<prefix>_<secret>``, scopes ``read:*``
    api_key_id: int
    expired_api_key: str


async def _create_staff(db_url: str) -> Staff:
    await open_database(db_url, migrate=False)
    try:
        password_hash = hash_password(PASSWORD)
        admin = await create_user(
            name="Admin", email=ADMIN_EMAIL, role="ADMIN", password_hash=password_hash, actor="test"
        )
        sales = await create_user(
            name="Sales", email=SALES_EMAIL, role="SALES", password_hash=password_hash, actor="test"
        )
        created = await create_api_key(
            name="BI export",
            scopes=["read:*"],
            expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=1),
            actor=f"user:{admin.id}",
        )
        expired = await create_api_key(
            name="Old export",
            scopes=["read:*"],
            expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=1),
            actor=f"user:{admin.id}",
        )
        # keys cannot be created expired: this one's day has passed
        yesterday = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
        await ApiKey.filter(id=expired.key.id).update(expires_at=yesterday)
        return Staff(admin.id, sales.id, created.plaintext, created.key.id, expired.plaintext)
    finally:
        await close_database()


def create_staff(db_url: str) -> Staff:
    """An ADMIN, a SALES user (password :data:`PASSWORD`) and an API key in ``db_url``.

    On a thread of its own: a fixture of an async test may be called while a loop runs.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, _create_staff(db_url)).result()


def production_environment(redis_url: str, **env: str | None) -> dict[str, str | None]:
    """The variables of a production API that authenticates, then ``env`` on top."""
    return {
        "RAPPORT_ENV": "production",
        "RAPPORT_SECRET_KEY": SECRET_KEY,
        "RAPPORT_UNAUTHENTICATED_ROLE": None,
        "REDIS_URL": redis_url,
        "RAPPORT_CORS_ORIGINS": APP_ORIGIN,
        **SUITE_RATE,
        **env,
    }


def log_in(base_url: str, email: str = ADMIN_EMAIL) -> dict[str, str]:
    """Access and refresh token of ``email``, through the real port."""
    variables = {"email": email, "password": PASSWORD}
    response = httpx.post(
        f"{base_url}/graphql", json={"query": LOGIN, "variables": variables}, timeout=30
    )
    tokens: dict[str, str] = response.json()["data"]["login"]
    assert tokens["__typename"] == "SessionTokens", response.text
    return tokens


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def staff(db_url: str) -> Staff:
    return create_staff(db_url)


@pytest.fixture
def production_server(db_url: str, redis_url: str, staff: Staff) -> Iterator[str]:
    """Base URL of uvicorn serving the app with ``RAPPORT_ENV=production``, default limits and
    real authentication; ``staff`` exists in its database."""
    with run_live_server(db_url, **production_environment(redis_url)) as base_url:
        yield base_url


@pytest.fixture
def admin_token(production_server: str) -> str:
    return log_in(production_server)["accessToken"]


@pytest.fixture
def client(production_server: str, admin_token: str) -> Iterator[httpx.Client]:
    """The production server's client, authenticated as the ADMIN."""
    with httpx.Client(base_url=production_server, timeout=30, headers=bearer(admin_token)) as http:
        yield http


@pytest.fixture
def anonymous(production_server: str) -> Iterator[httpx.Client]:
    """The production server's client, without credentials."""
    with httpx.Client(base_url=production_server, timeout=30) as http:
        yield http


def assert_still_serving(client: httpx.Client) -> None:
    """After an attack, the server answers an authenticated client's normal query normally."""
    assert "authorization" in client.headers, "the check must be made as a signed-in user"
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
