"""The ASGI application: GraphQL over HTTP and WebSocket, plus liveness and readiness probes.

Run it with ``crm serve`` or ``uvicorn app.main:create_app --factory``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from tortoise.connection import get_connection

from app.settings import Settings
from domain.identity.tokens import TokenConfig
from domain.persistence.db import close_database, open_database
from gql.http import graphql_app
from gql.live_hub import LiveEventHub

logger = logging.getLogger(__name__)


async def _check_database() -> None:
    await get_connection("default").execute_query("SELECT 1")


async def _check_redis(redis_url: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=2)
    try:
        await client.ping()
    finally:
        await client.aclose()


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the application for ``settings`` (read from the environment when omitted).

    The lifespan migrates and opens the database on startup and closes it on shutdown.
    GraphiQL is served on ``GET /graphql`` to browsers only outside production.
    """
    settings = settings or Settings()
    settings.check_api_security()
    live_events = LiveEventHub(settings.redis_url) if settings.redis_url else None
    gql_app = graphql_app(
        graphiql=not settings.is_production,
        tokens=TokenConfig(
            secret=settings.token_secret,
            access_ttl=settings.access_token_ttl,
            refresh_ttl=settings.refresh_token_ttl,
        ),
        unauthenticated_role=settings.unauthenticated_role,
        live_events=live_events,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await open_database(settings.database_url, migrate=True)
        try:
            yield
        finally:
            if live_events is not None:
                await live_events.close()
            await close_database()

    async def healthz(request: Request) -> JSONResponse:
        """Liveness: the process answers HTTP."""
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> JSONResponse:
        """Readiness: the database (and Redis, when configured) answer."""
        checks: dict[str, str] = {}
        try:
            await _check_database()
            checks["database"] = "ok"
        except Exception as exc:
            logger.warning("readiness: database check failed: %s", exc)
            checks["database"] = "unavailable"
        if settings.redis_url:
            try:
                await _check_redis(settings.redis_url)
                checks["redis"] = "ok"
            except Exception as exc:
                logger.warning("readiness: redis check failed: %s", exc)
                checks["redis"] = "unavailable"
        ready = all(value == "ok" for value in checks.values())
        return JSONResponse(
            {"status": "ok" if ready else "unavailable", "checks": checks},
            status_code=200 if ready else 503,
        )

    return Starlette(
        debug=False,
        routes=[
            Route("/graphql", gql_app),
            WebSocketRoute("/graphql", gql_app),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
        ],
        lifespan=lifespan,
        max_body_size=settings.max_body_bytes,
    )
