"""The per-request context: who is acting, the request id, and this request's DataLoaders."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from domain.identity.principal import SYSTEM, Principal
from domain.identity.scope import scope_for
from domain.identity.tokens import TokenConfig
from domain.persistence.querying.scope import Scope
from gql.live_hub import LiveEventHub
from gql.loaders import Loaders


@dataclass
class Context:
    """``principal`` is who the request acts as (the HTTP layer sets it from the bearer token;
    in-process callers get the trusted system principal). ``scope`` is what it may see."""

    request: Request | WebSocket | None
    response: Response | None
    principal: Principal = SYSTEM
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    loaders: Loaders = field(default_factory=Loaders)
    connection_params: dict[str, Any] | None = None
    tokens: TokenConfig | None = None
    #: This process's live events, for subscriptions (None without Redis).
    live_events: LiveEventHub | None = None

    @property
    def actor(self) -> str:
        """The principal as stored in ``created_by``/``updated_by`` and the audit trail."""
        return self.principal.actor

    @cached_property
    def scope(self) -> Scope:
        return scope_for(self.principal)
