from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from domain.persistence.models.base import Record
from domain.persistence.models.staff import User


# A login session: one family of refresh tokens. Revoking it (logout, a reused refresh token, a
# deactivated user) ends every access and refresh token it issued.
class AuthSession(Model):
    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="sessions", on_delete=fields.CASCADE
    )
    user_id: int
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)
    revoked_reason = fields.CharField(max_length=40, null=True)

    class Meta:
        table = "auth_sessions"


# One refresh token of a session, stored as the SHA-256 of its (random, 256-bit) value; it is
# spent on use and replaced by a new one, and spending it twice revokes the session.
class RefreshToken(Model):
    id = fields.IntField(primary_key=True)
    session: fields.ForeignKeyRelation[AuthSession] = fields.ForeignKeyField(
        "models.AuthSession", related_name="refresh_tokens", on_delete=fields.CASCADE
    )
    session_id: int
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "refresh_tokens"


# A key for an integration: shown once, stored as its public prefix (for lookup) and the SHA-256
# of its secret part; limited to its scopes (``read:Customer``, ``*:Customer``, ...).
class ApiKey(Record):
    name = fields.CharField(max_length=200)
    prefix = fields.CharField(max_length=16, unique=True)
    secret_hash = fields.CharField(max_length=64)
    scopes: Any = fields.JSONField(default=list)
    expires_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    last_used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_keys"
