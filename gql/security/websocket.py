"""Only subscriptions over WebSocket: queries and mutations go over HTTP.

graphql-transport-ws can carry any operation, but the HTTP limits (request body size, the rate
limit per principal, no mutation over GET) sit in front of HTTP requests only: a socket, once
open, could send any number of queries and mutations of any size past them. Subscriptions are
the one thing HTTP cannot do here, so a ``subscribe`` message holding a query or a mutation is
answered with an ``error`` message (code ``OPERATION_NOT_ALLOWED``) and the socket stays open.
Each ``subscribe`` also draws a token from the rate-limit bucket of the socket's principal
(``RATE_LIMITED`` error message when empty): the handshake's, or the one its
``connection_init`` authenticated.

Subscription documents go through the schema's extensions like any request: depth, aliases,
tokens and cost are enforced on them.

The document is parsed here first (bounded by the schema's token limit), and a parse error is
answered here too: Strawberry's streaming path lets a parse error raised by ``ParserCache``
escape, which logs the whole document as a crash and answers only ``complete``.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError, OperationType, get_operation_ast, parse
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    ErrorMessage,
    SubscribeMessage,
)

from domain.errors import Unauthenticated
from gql.connection_auth import bearer_token
from gql.errors import public_error
from gql.security.rate_limit import SocketLimiter, socket_limiter

CODE = "OPERATION_NOT_ALLOWED"


def transport_error(
    payload: Any, *, max_tokens: int, request_id: str | None
) -> GraphQLError | None:
    """Why a ``subscribe`` payload is refused before the schema sees it: a document that does
    not parse (``GRAPHQL_PARSE_FAILED``, ``TOO_MANY_TOKENS``) or holds a query or a mutation
    (``OPERATION_NOT_ALLOWED``). None for a subscription, and for what the schema must judge
    (no query string, several operations without a name): it answers those itself."""
    query = payload.get("query") if isinstance(payload, dict) else None
    if not isinstance(query, str):
        return None
    try:
        document = parse(query, no_location=True, max_tokens=max_tokens)
    except GraphQLError as error:
        return public_error(error, request_id, suggestions=False)
    operation = get_operation_ast(document, payload.get("operationName"))
    if operation is None or operation.operation == OperationType.SUBSCRIPTION:
        return None
    kind = "queries" if operation.operation == OperationType.QUERY else "mutations"
    return GraphQLError(
        f"Only subscriptions are accepted over WebSocket; send {kind} over HTTP",
        extensions={"code": CODE},
    )


class SubscriptionsOnlyHandler(BaseGraphQLTransportWSHandler[Any, None]):
    """graphql-transport-ws refusing queries and mutations (see the module's docstring)."""

    max_tokens: int = 5_000

    def _limiter(self) -> SocketLimiter | None:
        request = getattr(self.context, "request", None)
        return socket_limiter(request.scope) if request is not None else None

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        await super().handle_connection_init(message)
        limiter = self._limiter()
        if self.connection_acknowledged and limiter is not None:
            try:
                token = bearer_token(getattr(self.context, "connection_params", None) or {})
            except Unauthenticated:  # accepted on the handshake's header, then
                token = None
            if token is not None:
                await limiter.authenticated_with(token)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        # Strawberry closes the socket for a subscribe before connection_ack or with a taken
        # id: let it, the operation never runs then.
        if self.connection_acknowledged and message["id"] not in self.operations:
            limiter = self._limiter()
            limited = await limiter.refusal() if limiter is not None else None
            if limited is not None:
                await self._refuse(message["id"], GraphQLError(limited[0], extensions=limited[1]))
                return
            refusal = transport_error(
                message.get("payload"),
                max_tokens=self.max_tokens,
                request_id=getattr(self.context, "request_id", None),
            )
            if refusal is not None:
                await self._refuse(message["id"], refusal)
                return
        await super().handle_subscribe(message)

    async def _refuse(self, operation_id: str, error: GraphQLError) -> None:
        await self.send_message(
            ErrorMessage(id=operation_id, type="error", payload=[error.formatted])
        )
