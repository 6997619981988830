"""The ASGI application: GraphQL over HTTP and WebSocket, plus liveness and readiness probes.

Run it with ``crm serve`` or ``uvicorn app.main:create_app --factory``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from tortoise.connection import get_connection

from app.settings import Settings
from domain.identity.tokens import TokenConfig
from domain.persistence.db import close_database, open_database
from gql.http import graphql_app
from gql.live_hub import LiveEventHub
from gql.security.limits import QueryLimits
from gql.security.policy import DEVELOPMENT_LIMITS, PRODUCTION_LIMITS, ApiPolicy
from gql.security.rate_limit import BearerIdentity, RateLimitKey, RateLimitMiddleware, TokenBucket
from gql.security.request_id import HEADER as REQUEST_ID_HEADER
from gql.security.request_id import RequestIdMiddleware, request_id_of

logger = logging.getLogger(__name__)


async def _check_database() -> None:
    await get_connection("default").execute_query("SELECT 1")


async def _check_redis(redis_url: str) -> None:
    client = Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=2)
    try:
        await client.ping()
    finally:
        await client.aclose()


def api_policy(settings: Settings) -> ApiPolicy:
    """The environment's query limits, overridden one by one by settings; production also
    hides the schema (no introspection, no "Did you mean ...?" suggestions)."""
    defaults = PRODUCTION_LIMITS if settings.is_production else DEVELOPMENT_LIMITS
    limits = QueryLimits(
        max_depth=settings.max_query_depth or defaults.max_depth,
        max_aliases=(
            defaults.max_aliases
            if settings.max_query_aliases is None
            else settings.max_query_aliases
        ),
        max_tokens=settings.max_query_tokens or defaults.max_tokens,
        max_cost=settings.max_query_cost or defaults.max_cost,
    )
    return ApiPolicy(
        limits=limits,
        introspection=not settings.is_production,
        field_suggestions=not settings.is_production,
    )


async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
    """Whatever escaped the app: logged under the request id, answered without details."""
    request_id = request_id_of(request)
    logger.error("unhandled error in request %s", request_id, exc_info=exc)
    return JSONResponse(
        {
            "errors": [
                {
                    "message": f"Internal error (request {request_id})",
                    "extensions": {"code": "INTERNAL", "requestId": request_id},
                }
            ]
        },
        status_code=500,
        headers={REQUEST_ID_HEADER: request_id} if request_id else None,
    )


def _middleware(
    settings: Settings, redis: Redis | None, rate_limit_key: RateLimitKey
) -> list[Middleware]:
    """Outermost first: every response, refusals included, gets a request id and CORS headers."""
    origins = list(settings.allowed_origins)
    stack = [
        Middleware(RequestIdMiddleware),
        Middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", REQUEST_ID_HEADER],
            expose_headers=[REQUEST_ID_HEADER, "Retry-After"],
            max_age=600,
        ),
        Middleware(RequestBodyLimitMiddleware, max_body_size=settings.max_body_bytes),
    ]
    rate_limit = settings.rate_limit
    if rate_limit is not None and redis is not None:
        rate, burst = rate_limit
        bucket = TokenBucket(redis, rate=rate, burst=burst)
        stack.append(Middleware(RateLimitMiddleware, bucket=bucket, key=rate_limit_key))
    elif settings.is_production:
        logger.warning("rate limiting is off: it needs REDIS_URL and a positive rate")
    return stack


def create_app(
    settings: Settings | None = None,
    *,
    rate_limit_key: RateLimitKey | None = None,
) -> Starlette:
    """Build the application for ``settings`` (read from the environment when omitted).

    The lifespan migrates and opens the database on startup and closes it on shutdown.
    GraphiQL, introspection and field suggestions are served outside production only; query
    limits, CORS origins and rate limits come from ``settings``. ``rate_limit_key`` says whose
    bucket a request draws from (default: the identity its bearer token claims, else the client
    address; see ``gql.security.rate_limit``).
    """
    settings = settings or Settings()
    settings.check_api_security()
    live_events = LiveEventHub(settings.redis_url) if settings.redis_url else None
    tokens = TokenConfig(
        secret=settings.token_secret,
        access_ttl=settings.access_token_ttl,
        refresh_ttl=settings.refresh_token_ttl,
    )
    gql_app = graphql_app(
        graphiql=not settings.is_production,
        policy=api_policy(settings),
        allowed_origins=settings.allowed_origins,
        tokens=tokens,
        unauthenticated_role=settings.unauthenticated_role,
        live_events=live_events,
    )
    # Short timeouts: the limiter fails open, and must not make requests wait on a dead Redis.
    redis = (
        Redis.from_url(settings.redis_url, socket_connect_timeout=0.5, socket_timeout=0.5)
        if settings.redis_url and settings.rate_limit
        else None
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
            if redis is not None:
                await redis.aclose()

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
        middleware=_middleware(settings, redis, rate_limit_key or BearerIdentity(tokens)),
        exception_handlers={Exception: _internal_error},
        lifespan=lifespan,
    )
