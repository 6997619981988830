"""Signed, short-lived access tokens (JWT, HS256) and random secrets stored as hashes."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

import jwt

from domain.errors import Unauthenticated

ALGORITHM = "HS256"
ISSUER = "rapport"


@dataclass(frozen=True)
class TokenConfig:
    """How tokens are signed and how long they live (from the process settings)."""

    secret: str
    access_ttl: dt.timedelta = dt.timedelta(minutes=15)
    refresh_ttl: dt.timedelta = dt.timedelta(days=30)


def random_secret() -> str:
    """256 random bits, URL-safe: refresh tokens and API-key secrets."""
    return secrets.token_urlsafe(32)


def digest(value: str) -> str:
    """SHA-256 hex of a high-entropy secret (a slow hash adds nothing for 256 random bits)."""
    return hashlib.sha256(value.encode()).hexdigest()


def issue_access_token(
    config: TokenConfig, *, user_id: int, session_id: int, now: dt.datetime
) -> tuple[str, dt.datetime]:
    """An access token for ``user_id`` in ``session_id`` and the time it expires."""
    expires = now + config.access_ttl
    claims = {
        "iss": ISSUER,
        "sub": str(user_id),
        "sid": session_id,
        "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()),
        "typ": "access",
    }
    return jwt.encode(claims, config.secret, algorithm=ALGORITHM), expires


def read_access_token(config: TokenConfig, token: str, *, now: dt.datetime) -> tuple[int, int]:
    """``(user_id, session_id)`` of a valid access token; :class:`Unauthenticated` otherwise
    (expired, badly signed, malformed). Whether the session is still live is the caller's."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            config.secret,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "sub", "sid", "iss"], "verify_iat": False},
            leeway=0,
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated("access token expired") from exc
    except jwt.InvalidTokenError as exc:
        raise Unauthenticated("invalid access token") from exc
    if claims.get("typ") != "access" or int(claims["exp"]) <= int(now.timestamp()):
        raise Unauthenticated("access token expired")
    try:
        return int(claims["sub"]), int(claims["sid"])
    except (TypeError, ValueError) as exc:
        raise Unauthenticated("invalid access token") from exc
