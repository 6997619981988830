"""Log in with e-mail and password, refresh (rotating the refresh token), log out.

A session is a family of refresh tokens. Each refresh spends the presented token and issues a
new one; presenting a spent token again means it was stolen (or replayed), so the whole session
is revoked and every token it issued stops working.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass

from tortoise.transactions import in_transaction

from domain.contact import normalize_email
from domain.errors import DomainError, Unauthenticated
from domain.identity.passwords import hash_password, needs_rehash, verify_password
from domain.identity.tokens import TokenConfig, digest, issue_access_token, random_secret
from domain.persistence.models import AuthSession, RefreshToken, User
from domain.recording import record


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    access_expires_at: dt.datetime
    refresh_token: str
    refresh_expires_at: dt.datetime
    user: User
    session_id: int


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def _issue(
    config: TokenConfig, user: User, session: AuthSession, now: dt.datetime
) -> IssuedTokens:
    refresh = random_secret()
    await RefreshToken.create(session_id=session.id, token_hash=digest(refresh))
    access, expires = issue_access_token(config, user_id=user.id, session_id=session.id, now=now)
    return IssuedTokens(access, expires, refresh, session.expires_at, user, session.id)


async def login(
    config: TokenConfig, email: str, password: str, *, now: dt.datetime | None = None
) -> IssuedTokens:
    """A new session for the active user with this e-mail and password.

    Any failure is the same :class:`Unauthenticated` (no hint whether the e-mail exists).
    """
    now = now or _now()
    try:
        address = normalize_email(email, field="email")
    except DomainError:
        address = ""
    user = await User.filter(email=address, deleted_at=None, active=True).first()
    # argon2 takes tens of milliseconds of CPU on purpose: keep it off the event loop.
    matches = await asyncio.to_thread(
        verify_password, user.password_hash if user else None, password
    )
    if not matches or user is None:
        raise Unauthenticated("wrong e-mail or password")
    async with in_transaction():
        if user.password_hash and needs_rehash(user.password_hash):
            user.password_hash = await asyncio.to_thread(hash_password, password)
            await user.save(update_fields=["password_hash"])
        session = await AuthSession.create(user_id=user.id, expires_at=now + config.refresh_ttl)
        issued = await _issue(config, user, session, now)
        await record(f"user:{user.id}", "session.login", "User", user.id, {})
    return issued


async def refresh(
    config: TokenConfig, token: str, *, now: dt.datetime | None = None
) -> IssuedTokens:
    """Spend ``token`` for a new access token and a new refresh token of the same session."""
    now = now or _now()
    stored = await RefreshToken.filter(token_hash=digest(token)).first()
    if stored is None:
        raise Unauthenticated("invalid refresh token")
    session = await AuthSession.get(id=stored.session_id)
    if session.revoked_at is not None or session.expires_at <= now:
        raise Unauthenticated("session ended")
    user = await User.filter(id=session.user_id, deleted_at=None, active=True).first()
    if user is None:
        raise Unauthenticated("session ended")
    async with in_transaction():
        # Conditional: of two concurrent refreshes with one token, exactly one spends it.
        spent = await RefreshToken.filter(id=stored.id, used_at=None).update(used_at=now)
        if not spent:
            await _revoke(session.id, "refresh_token_reused", now)
            await record(
                f"user:{user.id}",
                "session.revoke",
                "User",
                user.id,
                {"session": [session.id, None], "reason": [None, "refresh_token_reused"]},
            )
        else:
            issued = await _issue(config, user, session, now)
    if not spent:
        raise Unauthenticated("refresh token already used; session revoked")
    return issued


async def _revoke(session_id: int, reason: str, now: dt.datetime) -> int:
    return await AuthSession.filter(id=session_id, revoked_at=None).update(
        revoked_at=now, revoked_reason=reason
    )


async def logout(session_id: int, *, actor: str) -> None:
    """End one session: its access and refresh tokens stop working at once."""
    async with in_transaction():
        session = await AuthSession.get_or_none(id=session_id)
        if session is not None and await _revoke(session_id, "logout", _now()):
            await record(actor, "session.logout", "User", session.user_id, {})


async def revoke_user_sessions(user_id: int, *, reason: str = "revoked") -> int:
    """End every live session of ``user_id`` (deactivation, password change); how many.

    Call inside the caller's transaction; the caller audits the change it is part of.
    """
    return await AuthSession.filter(user_id=user_id, revoked_at=None).update(
        revoked_at=_now(), revoked_reason=reason
    )


async def set_password(user_id: int, password: str, *, actor: str) -> None:
    """Set a user's password and end their sessions."""
    password_hash = await asyncio.to_thread(hash_password, password)
    async with in_transaction():
        await User.filter(id=user_id).update(password_hash=password_hash, updated_by=actor)
        revoked = await revoke_user_sessions(user_id, reason="password_changed")
        await record(
            actor, "user.set_password", "User", user_id, {"sessionsRevoked": [None, revoked]}
        )
