"""The per-request context: who is acting, the request id, and this request's DataLoaders."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from gql.live_hub import LiveEventHub
from gql.loaders import Loaders


@dataclass
class Context:
    request: Request | WebSocket | None
    response: Response | None
    actor: str = "system"
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    loaders: Loaders = field(default_factory=Loaders)
    connection_params: dict[str, Any] | None = None
    #: This process's live events, for subscriptions (None without Redis).
    live_events: LiveEventHub | None = None
