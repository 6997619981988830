"""Log in over HTTP and send requests as that user (the auth suites' shared steps)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.helpers import gql

LOGIN = """mutation($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) {
    __typename
    ... on SessionTokens { accessToken refreshToken accessTokenExpiresAt user { id role } }
    ... on AuthenticationError { code message }
    ... on ValidationError { code message }
  }
}"""


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def login(api: httpx.AsyncClient, email: str, password: str) -> dict[str, Any]:
    body = await gql(api, LOGIN, {"email": email, "password": password})
    result: dict[str, Any] = body["data"]["login"]
    return result


async def post(
    api: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None, *, token: str
) -> httpx.Response:
    """POST as the holder of ``token``; the raw response (status codes matter here)."""
    payload: dict[str, Any] = {"query": query}
    if variables is not None:
        payload["variables"] = variables
    return await api.post("/graphql", json=payload, headers=bearer(token))
