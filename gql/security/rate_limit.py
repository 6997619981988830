"""Rate limits per principal: a token bucket per key in Redis, shared by every API replica.

Each request to a limited path takes one token from its key's bucket; a bucket holds at most
``burst`` tokens and refills at ``rate`` tokens a second. An empty bucket answers 429 with
``Retry-After`` (seconds until a token is back) before GraphQL sees the request. The refill and
the take are one Lua script (atomic, on Redis's clock), so replicas never race or disagree.

Who is a "principal": :class:`BearerIdentity` reads the ``Authorization: Bearer`` header in
front of everything else, cheaply and without the database: a validly signed access token is
``user:<sub>`` (so one user from two addresses shares a bucket), an API key
``apikey:<prefix>:<digest of the secret>`` (not checked against the database here: a forged key
only drains a bucket of its own, then gets 401 from authentication; the digest keeps someone
who knows a key's prefix, which is no secret, from draining the real key's bucket), anything
else (no credential, as when logging in, or one that does not verify) the client address. So
two signed-in users behind one NAT keep their own buckets. Pass another ``key`` function to
``RateLimitMiddleware`` for other rules.

A WebSocket draws one token at its handshake, then one per operation it sends: the middleware
leaves a :class:`SocketLimiter` in the scope's state for the transport (gql/security/websocket.py),
so a socket held open cannot send operations faster than its principal may send requests.

When Redis is unreachable the limiter fails open: requests pass, a warning is logged once per
outage, and Redis is not retried for ``RETRY_REDIS_AFTER`` seconds so an outage adds no latency.
A CRM that stops answering its users because a limiter's store is down is worse than a few
minutes without limits; ``/readyz`` reports the outage meanwhile.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketClose

from domain.errors import Unauthenticated
from domain.identity.api_keys import KEY_MARK
from domain.identity.tokens import TokenConfig, digest, read_access_token

log = logging.getLogger("rapport.rate_limit")

RETRY_REDIS_AFTER = 5.0

# KEYS[1] bucket; ARGV rate (tokens/s), burst. Returns {allowed, retry_after, tokens left}
# as strings: Redis truncates Lua numbers to integers.
_TAKE_TOKEN = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(bucket[1]) or burst
local at = tonumber(bucket[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local allowed = 0
local retry_after = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  retry_after = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {allowed, tostring(retry_after), tostring(tokens)}
"""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: float
    remaining: float


class TokenBucket:
    """``take(key)``: one token from ``key``'s bucket of ``burst`` tokens refilled at ``rate``/s."""

    def __init__(
        self, redis: Redis, *, rate: float, burst: int, prefix: str = "rapport:rate:"
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a token bucket needs rate > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self.prefix = prefix
        self._script = redis.register_script(_TAKE_TOKEN)

    async def take(self, key: str) -> Decision:
        allowed, retry_after, remaining = await self._script(
            keys=[self.prefix + key], args=[self.rate, self.burst]
        )
        return Decision(
            allowed=bool(int(allowed)),
            retry_after=float(retry_after),
            remaining=float(remaining),
        )


RateLimitKey = Callable[[HTTPConnection], Awaitable[str]]


_KEY_PREFIX = re.compile(r"[0-9a-f]{12}")


def client_address(connection: HTTPConnection) -> str:
    client = connection.client
    return f"address:{client.host if client else 'unknown'}"


class BearerIdentity:
    """Rate-limit key: the identity a bearer credential claims, else the client address.

    An access token counts only when its signature and expiry verify against ``tokens`` (a
    forged or expired one would otherwise let a client pick any user's bucket, or a fresh one
    per request); whether its session is still live is authentication's concern, later.
    """

    def __init__(self, tokens: TokenConfig) -> None:
        self.tokens = tokens

    async def __call__(self, connection: HTTPConnection) -> str:
        scheme, _, credential = connection.headers.get("authorization", "").partition(" ")
        token = credential.strip()
        if scheme.lower() != "bearer" or not token:
            return client_address(connection)
        if token.startswith(KEY_MARK):
            prefix, _, secret = token[len(KEY_MARK) :].partition("_")
            # a key's prefix is 12 hex digits (api_keys.create_api_key): anything else cannot
            # be a key, and must not name arbitrary (or huge) Redis keys
            if secret and _KEY_PREFIX.fullmatch(prefix):
                return f"apikey:{prefix}:{digest(secret)[:16]}"
            return client_address(connection)
        try:
            user_id, _session = read_access_token(self.tokens, token, now=dt.datetime.now(dt.UTC))
        except Unauthenticated:
            return client_address(connection)
        return f"user:{user_id}"


class RateLimitMiddleware:
    """Answers 429 with Retry-After when over the limit, to WebSocket handshakes too where the
    server can (uvicorn can), else closes them with 1013 "try again later"."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        bucket: TokenBucket,
        key: RateLimitKey,
        paths: Collection[str] = ("/graphql",),
    ) -> None:
        self.app = app
        self.bucket = bucket
        self.key = key
        self.paths = frozenset(paths)
        self._redis_down = False
        self._retry_redis_at = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        key = await self.key(HTTPConnection(scope))
        decision = await self._decide(key)
        if decision is None or decision.allowed:
            if scope["type"] == "websocket":
                # each operation sent over the socket draws from the same bucket
                scope.setdefault("state", {})[SOCKET_LIMITER] = SocketLimiter(self, scope, key)
            await self.app(scope, receive, send)
            return
        refusal = _too_many_requests(decision)
        if scope["type"] == "http":
            await refusal(scope, receive, send)
        elif "websocket.http.response" in scope.get("extensions", {}):
            await WebSocket(scope, receive, send).send_denial_response(refusal)
        else:
            await WebSocketClose(code=1013, reason="rate limited")(scope, receive, send)

    async def _decide(self, key: str) -> Decision | None:
        """The bucket's decision, or None (let the request through) while Redis is down."""
        if time.monotonic() < self._retry_redis_at:
            return None
        try:
            decision = await self.bucket.take(key)
        except (RedisError, OSError) as error:
            if not self._redis_down:
                log.warning("rate limiting suspended, Redis unreachable: %s", error)
            self._redis_down = True
            self._retry_redis_at = time.monotonic() + RETRY_REDIS_AFTER
            return None
        if self._redis_down:
            log.warning("rate limiting resumed, Redis answers again")
            self._redis_down = False
        return decision


#: Where the middleware leaves a WebSocket's :class:`SocketLimiter` in the ASGI scope's state.
SOCKET_LIMITER = "rapport.socket_limiter"


@dataclass
class SocketLimiter:
    """Takes a token from the bucket of the principal behind a WebSocket, per operation."""

    middleware: RateLimitMiddleware
    scope: Scope
    key: str

    async def refusal(self) -> tuple[str, dict[str, object]] | None:
        """Message and extensions of the error refusing an operation over the limit; None
        when it may run."""
        decision = await self.middleware._decide(self.key)
        if decision is None or decision.allowed:
            return None
        return rate_limited_error(decision)

    async def authenticated_with(self, token: str) -> None:
        """The socket authenticated in ``connection_init`` (browsers cannot send headers on a
        handshake): from now on, the bucket it would have had with the header."""
        headers = [(n, v) for n, v in self.scope["headers"] if n != b"authorization"]
        headers.append((b"authorization", f"Bearer {token}".encode()))
        self.key = await self.middleware.key(HTTPConnection({**self.scope, "headers": headers}))


def socket_limiter(scope: Scope) -> SocketLimiter | None:
    limiter = (scope.get("state") or {}).get(SOCKET_LIMITER)
    return limiter if isinstance(limiter, SocketLimiter) else None


def _retry_after(decision: Decision) -> int:
    """Whole seconds, at least one: what Retry-After can say."""
    return max(1, math.ceil(decision.retry_after))


def rate_limited_error(decision: Decision) -> tuple[str, dict[str, object]]:
    """Message and extensions of the error answering a refused request or operation."""
    retry_after = _retry_after(decision)
    return (
        f"Too many requests; retry after {retry_after} s",
        {"code": "RATE_LIMITED", "retryAfter": retry_after},
    )


def _too_many_requests(decision: Decision) -> Response:
    message, extensions = rate_limited_error(decision)
    body = {"errors": [{"message": message, "extensions": extensions}]}
    return Response(
        orjson.dumps(body),
        status_code=429,
        media_type="application/json",
        headers={"Retry-After": str(_retry_after(decision))},
    )
