"""The GraphQL endpoint as an ASGI app (HTTP and WebSocket on the same path).

Transport rules on top of Strawberry's view, from GraphQL-over-HTTP: a client accepting
``application/graphql-response+json`` gets that media type, and a request refused before
execution (parse, validation, variables, limits) is then 400 without ``data``
(``application/json`` keeps 200, as the specification requires for legacy clients); a
mutation over GET is 405 with ``Allow: POST`` (Strawberry answers 400). Refusals of the
request itself (bad JSON, a batch: batching is off) are GraphQL-shaped JSON with a code rather
than plain text, and errors are masked once more as they leave (see ``gql.errors``). WebSocket
handshakes from a page on an origin that is not allowed are refused by Strawberry's origin
check (403), and a socket carries subscriptions only (see ``gql.security.websocket``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from domain.errors import Unauthenticated
from domain.identity.authentication import authenticate
from domain.identity.principal import ANONYMOUS, Principal, trusted
from domain.identity.tokens import TokenConfig, random_secret
from domain.recording import current_request_id
from gql.connection_auth import connection_principal
from gql.context import Context
from gql.errors import public_errors
from gql.live_hub import LiveEventHub
from gql.schema import RapportSchema, build_schema
from gql.security.policy import DEVELOPMENT_LIMITS, ApiPolicy
from gql.security.request_id import request_id_of
from gql.security.websocket import SubscriptionsOnlyHandler

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
_HTTP_ERROR_CODES = {400: "BAD_REQUEST", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}


def _accepts_graphql_response(request: Request) -> bool:
    return GRAPHQL_RESPONSE_JSON in request.headers.get("accept", "")


def _is_request_error(result: ExecutionResult) -> bool:
    """Refused before execution (parse, validation, variables, limits): no error has a path."""
    errors = result.errors or []
    return result.data is None and bool(errors) and all(error.path is None for error in errors)


class GetMutationError(HTTPException):
    def __init__(self, reason: str) -> None:
        super().__init__(405, reason)


class RapportGraphQL(GraphQL[Context, None]):
    """``tokens`` verifies bearer tokens; ``unauthenticated`` is who a request without
    credentials acts as (nobody, except in tests: see ``Settings.unauthenticated_role``)."""

    schema: RapportSchema
    tokens: TokenConfig = TokenConfig(secret=random_secret())
    unauthenticated: Principal = ANONYMOUS

    def __init__(
        self,
        *args: Any,
        live_events: LiveEventHub | None = None,
        max_tokens: int = DEVELOPMENT_LIMITS.max_tokens,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.live_events = live_events
        # Only subscriptions over WebSocket (gql/security/websocket.py), documents parsed
        # with the schema's token limit.
        self.graphql_transport_ws_handler_class = type(
            "RapportTransportWSHandler", (SubscriptionsOnlyHandler,), {"max_tokens": max_tokens}
        )

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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await self.run(Request(scope=scope, receive=receive))
        except HTTPException as error:
            response = self._refusal(error)
        await response(scope, receive, send)

    def _refusal(self, error: HTTPException) -> Response:
        code = _HTTP_ERROR_CODES.get(error.status_code, "BAD_REQUEST")
        body = {"errors": [{"message": error.reason, "extensions": {"code": code}}]}
        headers = None
        if error.status_code == 405:
            headers = {"Allow": "POST" if isinstance(error, GetMutationError) else "GET, POST"}
        return Response(
            self.encode_json(body),
            status_code=error.status_code,
            media_type="application/json",
            headers=headers,
        )

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        try:
            result = await super().execute_single(
                request=request,
                request_adapter=request_adapter,
                sub_response=sub_response,
                context=context,
                root_value=root_value,
                request_data=request_data,
            )
        except HTTPException as error:
            if isinstance(error.__cause__, InvalidOperationTypeError):
                raise GetMutationError(error.reason) from error
            raise
        if _accepts_graphql_response(request):
            sub_response.headers["content-type"] = GRAPHQL_RESPONSE_JSON
            if _is_request_error(result):
                sub_response.status_code = 400
        return result

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        if result.errors:
            suggestions = not self.schema.config.disable_field_suggestions
            result.errors = public_errors(
                result.errors, request_id_of(request), suggestions=suggestions
            )
        processed = await super().process_result(request, result)
        if _accepts_graphql_response(request) and _is_request_error(result):
            processed.pop("data", None)  # the media type's mark of a request that never ran
        return processed

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        # Strawberry's, except that the media type negotiated in execute_single wins.
        response = Response(
            self.encode_json(response_data),
            status_code=sub_response.status_code or 200,
            media_type=sub_response.headers.get("content-type", "application/json"),
        )
        response.headers.raw.extend(
            (name, value) for name, value in sub_response.headers.raw if name != b"content-type"
        )
        response.background = sub_response.background
        return response

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket | None = None
    ) -> Context:
        context = Context(
            request=request,
            response=response if isinstance(response, Response) else None,
            principal=await self.principal_of(request),
            tokens=self.tokens,
            live_events=self.live_events,
        )
        request_id = request_id_of(request)
        if request_id:
            context.request_id = request_id
        # The use cases run in this task, after this: their audit entries name the request.
        current_request_id.set(context.request_id)
        return context


def graphql_app(
    *,
    graphiql: bool = True,
    policy: ApiPolicy | None = None,
    allowed_origins: Sequence[str] = (),
    tokens: TokenConfig | None = None,
    unauthenticated_role: str | None = None,
    live_events: LiveEventHub | None = None,
    **options: Any,
) -> RapportGraphQL:
    """The endpoint enforcing ``policy``; pages on ``allowed_origins`` may open WebSockets;
    ``tokens`` verifies bearer tokens; ``live_events`` feeds subscriptions."""
    app = RapportGraphQL(
        build_schema(policy=policy),
        graphql_ide="graphiql" if graphiql else None,
        allow_queries_via_get=True,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        allowed_origins=allowed_origins,
        live_events=live_events,
        max_tokens=(policy or ApiPolicy()).limits.max_tokens,
        **options,
    )
    if tokens is not None:
        app.tokens = tokens
    if unauthenticated_role is not None:
        app.unauthenticated = trusted("api", unauthenticated_role)
    return app
