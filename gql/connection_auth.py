"""Who a WebSocket acts as: the bearer token of its ``connection_init`` payload.

Browsers cannot set headers on a WebSocket handshake, so graphql-transport-ws clients send the
credential as connection parameters: ``{"Authorization": "Bearer <token>"}`` (the header's
shape; the key in any case) or ``{"authToken": "<token>"}``. A socket whose handshake carried
an ``Authorization`` header already has its principal and needs no parameters.

Refusal closes the socket with 4403 Forbidden, the protocol's answer to a rejected
``connection_init`` (a ``subscribe`` before an accepted ``connection_init`` gets 4401).

A socket outlives its access token, so a subscription checks the credential again while it
runs (:class:`LiveCredential`): an expired token is caught at the next event without a query,
and a revoked session, deactivated user or revoked API key within :data:`RECHECK_SECONDS`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt
from strawberry.exceptions import ConnectionRejectionError

from domain.errors import Unauthenticated
from domain.identity.api_keys import is_api_key
from domain.identity.authentication import authenticate
from domain.identity.principal import Principal
from domain.identity.tokens import TokenConfig


def bearer_token(params: Mapping[str, object]) -> str | None:
    """The token in connection parameters; None when they carry none.

    Raises :class:`Unauthenticated` for a credential of the wrong shape.
    """
    for key, value in params.items():
        if key.lower() == "authorization":
            scheme, _, token = str(value).partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthenticated("expected Authorization: Bearer <token>")
            return token.strip()
    token_value = params.get("authToken")
    if token_value is None:
        return None
    if not isinstance(token_value, str) or not token_value.strip():
        raise Unauthenticated("authToken must be a non-empty string")
    return token_value.strip()


async def connection_principal(
    params: Mapping[str, object], handshake: Principal, tokens: TokenConfig | None
) -> Principal:
    """The principal of a socket whose ``connection_init`` carried ``params``.

    ``handshake`` is who the handshake's headers made it (anonymous without them). Raises
    :class:`ConnectionRejectionError` for a missing, malformed, expired, revoked or forged
    credential.
    """
    try:
        token = bearer_token(params)
        if token is None:
            if not handshake.authenticated:
                raise Unauthenticated("authentication required")
            return handshake
        if tokens is None:
            raise Unauthenticated("this server verifies no tokens")
        return await authenticate(token, tokens)
    except Unauthenticated as exc:
        raise ConnectionRejectionError({"message": exc.message, "code": exc.code}) from exc


#: How often (seconds) a running subscription verifies its credential against the database.
RECHECK_SECONDS = 30.0


def _header_token(request: Any) -> str | None:
    headers = getattr(request, "headers", None)
    value = headers.get("authorization") if headers is not None else None
    scheme, _, token = (value or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _expiry(token: str) -> float | None:
    """Epoch seconds an access token expires at (verified at connect; read here unverified)."""
    if is_api_key(token):
        return None
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
        return float(claims["exp"])
    except (jwt.InvalidTokenError, KeyError, TypeError, ValueError):
        return 0.0


@dataclass
class LiveCredential:
    """The credential a socket connected with, checked again while a subscription runs."""

    token: str | None
    tokens: TokenConfig | None
    expires_at: float | None = None
    checked_at: float = field(default_factory=time.monotonic)

    @classmethod
    def of(
        cls, params: Mapping[str, object] | None, request: Any, tokens: TokenConfig | None
    ) -> LiveCredential:
        token = bearer_token(params or {}) or _header_token(request)
        return cls(token, tokens, _expiry(token) if token else None)

    async def ensure_valid(self) -> None:
        """Raise :class:`Unauthenticated` once the credential no longer holds."""
        if self.token is None or self.tokens is None:
            return  # a trusted principal without a credential (tests' unauthenticated role)
        if self.expires_at is not None and time.time() >= self.expires_at:
            raise Unauthenticated("access token expired")
        if time.monotonic() - self.checked_at >= RECHECK_SECONDS:
            await authenticate(self.token, self.tokens)
            self.checked_at = time.monotonic()
