"""The GraphQL endpoint as an ASGI app (HTTP and WebSocket on the same path)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET, UnsetType

from domain.errors import Unauthenticated
from domain.identity.authentication import authenticate
from domain.identity.principal import ANONYMOUS, Principal, trusted
from domain.identity.tokens import TokenConfig, random_secret
from domain.recording import current_request_id
from gql.connection_auth import connection_principal
from gql.context import Context
from gql.live_hub import LiveEventHub
from gql.schema import schema


class RapportGraphQL(GraphQL[Context, None]):
    """``tokens`` verifies bearer tokens; ``unauthenticated`` is who a request without
    credentials acts as (nobody, except in tests: see ``Settings.unauthenticated_role``)."""

    tokens: TokenConfig = TokenConfig(secret=random_secret())
    unauthenticated: Principal = ANONYMOUS

    async def principal_of(self, request: Request | WebSocket) -> Principal:
        authorization = request.headers.get("authorization")
        if not authorization:
            return self.unauthenticated
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("expected the header Authorization: Bearer <token>")
        return await authenticate(token.strip(), self.tokens)

    async def run(
        self, request: Request | WebSocket, context: Any = UNSET, root_value: Any = UNSET
    ) -> Any:
        try:
            return await super().run(request, context, root_value)
        except Unauthenticated as exc:
            # Bad credentials answer 401 before any GraphQL runs, with the same error shape.
            if isinstance(request, WebSocket):
                await request.close(code=4401, reason=exc.message)
                return None
            body = {"errors": [{"message": exc.message, "extensions": {"code": exc.code}}]}
            return Response(
                orjson.dumps(body),
                status_code=401,
                media_type="application/json",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )

    def __init__(self, *args: Any, live_events: LiveEventHub | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.live_events = live_events

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        # Subscriptions authenticate in connection_init (gql/connection_auth.py).
        context.principal = await connection_principal(
            context.connection_params or {}, context.principal, context.tokens
        )
        return UNSET

    def encode_json(self, data: object) -> bytes:
        # orjson: several times faster than the standard library on a page of nested records.
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket | None = None
    ) -> Context:
        header = request.headers.get("x-request-id")
        context = Context(
            request=request,
            response=response if isinstance(response, Response) else None,
            principal=await self.principal_of(request),
            tokens=self.tokens,
            live_events=self.live_events,
        )
        if header:
            context.request_id = header[:64]
        # The use cases run in this task, after this: their audit entries name the request.
        current_request_id.set(context.request_id)
        return context


def graphql_app(
    *,
    graphiql: bool = True,
    tokens: TokenConfig | None = None,
    unauthenticated_role: str | None = None,
    live_events: LiveEventHub | None = None,
    **options: Any,
) -> RapportGraphQL:
    app = RapportGraphQL(
        schema,
        graphql_ide="graphiql" if graphiql else None,
        allow_queries_via_get=True,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        live_events=live_events,
        **options,
    )
    if tokens is not None:
        app.tokens = tokens
    if unauthenticated_role is not None:
        app.unauthenticated = trusted("api", unauthenticated_role)
    return app
