"""API keys for integrations: ``rk_<prefix>_<secret>``, shown once, stored as prefix + hash."""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from dataclasses import dataclass

from tortoise.transactions import in_transaction

from domain.errors import NotFound, Unauthenticated, ValidationFailed
from domain.identity.permissions import valid_scope
from domain.identity.tokens import digest, random_secret
from domain.persistence.models import ApiKey
from domain.recording import record

KEY_MARK = "rk_"
#: ``last_used_at`` is written at most this often per key (not a write per request).
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class CreatedKey:
    key: ApiKey
    plaintext: str  # shown once, never stored


async def create_api_key(
    *, name: str, scopes: list[str], expires_at: dt.datetime | None, actor: str
) -> CreatedKey:
    clean = " ".join(name.split())
    if not clean:
        raise ValidationFailed("name", "a name is required", "REQUIRED")
    if not scopes:
        raise ValidationFailed("scopes", "at least one scope is required", "REQUIRED")
    bad = [s for s in scopes if not valid_scope(s)]
    if bad:
        raise ValidationFailed("scopes", f"unknown scope(s): {', '.join(bad)}", "INVALID_SCOPE")
    if expires_at is not None and expires_at <= dt.datetime.now(dt.UTC):
        raise ValidationFailed("expiresAt", "the expiry must be in the future", "IN_THE_PAST")
    prefix = secrets.token_hex(6)
    secret = random_secret()
    async with in_transaction():
        key = await ApiKey.create(
            name=clean,
            prefix=prefix,
            secret_hash=digest(secret),
            scopes=sorted(set(scopes)),
            expires_at=expires_at,
            created_by=actor,
            updated_by=actor,
        )
        await record(
            actor,
            "apikey.create",
            "ApiKey",
            key.id,
            {"name": [None, clean], "scopes": [None, key.scopes], "expiresAt": [None, expires_at]},
        )
    return CreatedKey(key, f"{KEY_MARK}{prefix}_{secret}")


async def revoke_api_key(key_id: int, *, actor: str) -> ApiKey:
    async with in_transaction():
        key = await ApiKey.filter(id=key_id, deleted_at=None).first()
        if key is None:
            raise NotFound("ApiKey", key_id)
        if key.revoked_at is None:
            key.revoked_at = dt.datetime.now(dt.UTC)
            key.updated_by = actor
            await key.save(update_fields=["revoked_at", "updated_by", "updated_at"])
            await record(
                actor, "apikey.revoke", "ApiKey", key.id, {"revokedAt": [None, key.revoked_at]}
            )
    return key


def is_api_key(token: str) -> bool:
    return token.startswith(KEY_MARK)


async def verify_api_key(token: str, *, now: dt.datetime) -> ApiKey:
    """The live key ``token`` names; :class:`Unauthenticated` if unknown, forged, revoked or
    expired. Records the time of use (at most once a minute per key)."""
    prefix, _, secret = token[len(KEY_MARK) :].partition("_")
    key = await ApiKey.filter(prefix=prefix, deleted_at=None).first() if prefix and secret else None
    if key is None or not hmac.compare_digest(key.secret_hash, digest(secret)):
        raise Unauthenticated("invalid API key")
    if key.revoked_at is not None:
        raise Unauthenticated("API key revoked")
    if key.expires_at is not None and key.expires_at <= now:
        raise Unauthenticated("API key expired")
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        await ApiKey.filter(id=key.id).update(last_used_at=now)
        key.last_used_at = now
    return key
