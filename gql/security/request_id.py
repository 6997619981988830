"""A request id for every HTTP request and WebSocket: in logs, in masked errors, in a header.

A well-formed ``X-Request-Id`` from the client (or a proxy in front) is kept, so one id follows
a request across services; anything else is replaced, so ids are safe to log verbatim.
"""

from __future__ import annotations

import re
import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Request-Id"
_WELL_FORMED = re.compile(r"[A-Za-z0-9._-]{1,64}")


def request_id_of(connection: HTTPConnection) -> str | None:
    """The id ``RequestIdMiddleware`` gave this request (None outside it)."""
    state = connection.scope.get("state") or {}
    request_id = state.get("request_id")
    return request_id if isinstance(request_id, str) else None


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get(HEADER)
        well_formed = incoming is not None and _WELL_FORMED.fullmatch(incoming)
        request_id = incoming if well_formed and incoming else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        await self.app(scope, receive, send_with_id)
