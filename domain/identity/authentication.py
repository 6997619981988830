"""From a bearer credential to a :class:`Principal` (or :class:`Unauthenticated`)."""

from __future__ import annotations

import datetime as dt

from domain.errors import Unauthenticated
from domain.identity.api_keys import is_api_key, verify_api_key
from domain.identity.principal import Principal
from domain.identity.tokens import TokenConfig, read_access_token
from domain.persistence.models import AuthSession, User
from domain.persistence.querying.compile import SqlParams
from domain.persistence.querying.fetch import run_sql


async def team_ids_of(user_id: int) -> frozenset[int]:
    """Teams the user belongs to or leads (live ones)."""
    params = SqlParams()
    me = params.add(int(user_id))
    me_again = params.add(int(user_id))
    sql = (
        "SELECT tm.team_id AS id FROM team_memberships tm JOIN teams t ON t.id = tm.team_id "
        f"WHERE tm.users_id = {me} AND t.deleted_at IS NULL "
        f"UNION SELECT t.id FROM teams t WHERE t.lead_id = {me_again} AND t.deleted_at IS NULL"
    )
    return frozenset(int(r["id"]) for r in await run_sql(User, sql, params))


async def principal_of_user(user: User, *, session_id: int | None = None) -> Principal:
    return Principal(
        kind="user",
        actor=f"user:{user.id}",
        role=user.role,
        user_id=user.id,
        team_ids=await team_ids_of(user.id),
        session_id=session_id,
        name=user.name,
    )


async def authenticate(
    token: str, config: TokenConfig, *, now: dt.datetime | None = None
) -> Principal:
    """The principal a bearer ``token`` (access token or API key) stands for.

    Raises :class:`Unauthenticated` for expired, revoked, forged or malformed credentials and
    for tokens of deactivated users.
    """
    now = now or dt.datetime.now(dt.UTC)
    if is_api_key(token):
        key = await verify_api_key(token, now=now)
        return Principal(
            kind="apikey",
            actor=f"apikey:{key.id}",
            scopes=frozenset(key.scopes),
            api_key_id=key.id,
            name=key.name,
        )
    user_id, session_id = read_access_token(config, token, now=now)
    session = await AuthSession.filter(id=session_id, user_id=user_id).first()
    if session is None or session.revoked_at is not None:
        raise Unauthenticated("session revoked")
    user = await User.filter(id=user_id, deleted_at=None, active=True).first()
    if user is None:
        raise Unauthenticated("user inactive")
    return await principal_of_user(user, session_id=session_id)
