"""The GraphQL endpoint as an ASGI app (HTTP and WebSocket on the same path)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from domain.recording import current_request_id
from gql.context import Context
from gql.live_hub import LiveEventHub
from gql.schema import schema


class RapportGraphQL(GraphQL[Context, None]):
    def __init__(self, *args: Any, live_events: LiveEventHub | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.live_events = live_events

    def encode_json(self, data: object) -> bytes:
        # orjson: several times faster than the standard library on a page of nested records.
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket | None = None
    ) -> Context:
        actor = "api"  # the authenticated principal replaces this once authentication exists
        header = request.headers.get("x-request-id")
        context = Context(
            request=request,
            response=response if isinstance(response, Response) else None,
            actor=actor,
            live_events=self.live_events,
        )
        if header:
            context.request_id = header[:64]
        # The use cases run in this task, after this: their audit entries name the request.
        current_request_id.set(context.request_id)
        return context


def graphql_app(
    *, graphiql: bool = True, live_events: LiveEventHub | None = None, **options: Any
) -> RapportGraphQL:
    return RapportGraphQL(
        schema,
        graphql_ide="graphiql" if graphiql else None,
        allow_queries_via_get=True,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        live_events=live_events,
        **options,
    )
