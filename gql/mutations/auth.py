"""Logging in and out, refreshing a session, ``me``, and API keys."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry

from domain.errors import Unauthenticated, ValidationFailed
from domain.identity import api_keys, sessions
from domain.identity.tokens import TokenConfig
from domain.persistence import models as m
from gql.context import Context
from gql.enums import Role
from gql.ids import decode_pk
from gql.mutations.results import (
    MutationFailure,
    ValidationError,
    attempt,
)
from gql.types.identity import ApiKey, Viewer
from gql.types.staff import User

Info = strawberry.Info[Context, None]


@strawberry.type(description="Credentials were wrong, expired or revoked.")
class AuthenticationError:
    message: str
    code: str


@strawberry.type(description="A session's tokens: send the access token as a bearer token.")
class SessionTokens:
    access_token: str
    access_token_expires_at: dt.datetime
    refresh_token: str = strawberry.field(
        description="Spend it once with refreshSession; a second use revokes the session."
    )
    refresh_token_expires_at: dt.datetime
    user: User


@strawberry.type
class LogoutSuccess:
    ended: bool


@strawberry.type
class ApiKeyCreated:
    api_key: ApiKey
    key: str = strawberry.field(description="The secret: shown only now, store it safely.")


@strawberry.type
class ApiKeySuccess:
    api_key: ApiKey


SessionResult = Annotated[
    SessionTokens | AuthenticationError | ValidationError, strawberry.union("SessionResult")
]
LogoutResult = Annotated[LogoutSuccess | MutationFailure, strawberry.union("LogoutResult")]
ApiKeyCreatedResult = Annotated[
    ApiKeyCreated | MutationFailure, strawberry.union("ApiKeyCreatedResult")
]
ApiKeyResult = Annotated[ApiKeySuccess | MutationFailure, strawberry.union("ApiKeyResult")]


@strawberry.input
class LoginInput:
    email: str
    password: str


@strawberry.input
class RefreshSessionInput:
    refresh_token: str


@strawberry.input
class CreateApiKeyInput:
    name: str
    scopes: list[str] = strawberry.field(
        description="`<operation>:<type>` with operation read/create/update/delete and a type of "
        "the permission matrix (docs/permissions.md); `*` for any, e.g. `read:*`."
    )
    expires_at: dt.datetime | None = None


@strawberry.input
class ApiKeyRefInput:
    id: strawberry.ID


def _tokens(context: Context) -> TokenConfig:
    if context.tokens is None:
        raise ValidationFailed("input", "sessions are only available over HTTP", "NO_SESSION")
    return context.tokens


def _session_tokens(issued: sessions.IssuedTokens) -> SessionTokens:
    return SessionTokens(
        access_token=issued.access_token,
        access_token_expires_at=issued.access_expires_at,
        refresh_token=issued.refresh_token,
        refresh_token_expires_at=issued.refresh_expires_at,
        user=issued.user,  # type: ignore[arg-type]
    )


async def _session(context: Context, start: object) -> SessionTokens | AuthenticationError:
    try:
        issued = await start  # type: ignore[misc]
    except Unauthenticated as exc:
        return AuthenticationError(message=exc.message, code=exc.code)
    return _session_tokens(issued)


@strawberry.type
class AuthQuery:
    @strawberry.field(description="Who this request acts as.")
    def me(self, info: Info) -> Viewer:
        principal = info.context.principal
        return Viewer(
            kind=principal.kind,
            role=Role(principal.role) if principal.role else None,
            scopes=sorted(principal.scopes),
            user_id=principal.user_id,
        )

    @strawberry.field(description="Every API key, newest first (admins).")
    async def api_keys(self) -> list[ApiKey]:
        return await m.ApiKey.filter(deleted_at=None).order_by("-id")  # type: ignore[return-value]


@strawberry.type
class AuthMutations:
    @strawberry.mutation(description="Start a session with e-mail and password.")
    async def login(self, info: Info, input: LoginInput) -> SessionResult:
        async def run() -> SessionTokens | AuthenticationError:
            config = _tokens(info.context)
            return await _session(info.context, sessions.login(config, input.email, input.password))

        return await attempt(info.context, run)  # type: ignore[return-value]

    @strawberry.mutation(description="Spend a refresh token for new tokens of the same session.")
    async def refresh_session(self, info: Info, input: RefreshSessionInput) -> SessionResult:
        async def run() -> SessionTokens | AuthenticationError:
            config = _tokens(info.context)
            return await _session(info.context, sessions.refresh(config, input.refresh_token))

        return await attempt(info.context, run)  # type: ignore[return-value]

    @strawberry.mutation(
        description="End this session: its access and refresh tokens stop working."
    )
    async def logout(self, info: Info) -> LogoutResult:
        async def run() -> LogoutSuccess:
            session_id = info.context.principal.session_id
            if session_id is None:
                raise ValidationFailed("session", "this request has no session", "NO_SESSION")
            await sessions.logout(session_id, actor=info.context.actor)
            return LogoutSuccess(ended=True)

        return await attempt(info.context, run)

    @strawberry.mutation(description="Create an API key; the secret is in this answer only.")
    async def create_api_key(self, info: Info, input: CreateApiKeyInput) -> ApiKeyCreatedResult:
        async def run() -> ApiKeyCreated:
            created = await api_keys.create_api_key(
                name=input.name,
                scopes=input.scopes,
                expires_at=input.expires_at,
                actor=info.context.actor,
            )
            return ApiKeyCreated(api_key=created.key, key=created.plaintext)  # type: ignore[arg-type]

        return await attempt(info.context, run)

    @strawberry.mutation(description="Revoke an API key at once.")
    async def revoke_api_key(self, info: Info, input: ApiKeyRefInput) -> ApiKeyResult:
        async def run() -> ApiKeySuccess:
            row = await api_keys.revoke_api_key(
                decode_pk(input.id, "ApiKey"), actor=info.context.actor
            )
            return ApiKeySuccess(api_key=row)  # type: ignore[arg-type]

        return await attempt(info.context, run)
