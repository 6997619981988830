"""A graphql-transport-ws client over a real WebSocket, and the worker's relay run in-process."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import orjson
from redis.asyncio import Redis
from websockets.asyncio.client import ClientConnection, connect

from workflows.runtime import relay
from workflows.runtime.live_events import CHANNEL, LiveEvent, LiveEventPublisher

PROTOCOL = "graphql-transport-ws"
#: Ids of events the tests publish themselves (the outbox's ids are positive).
_probe_ids = itertools.count(-1, -1)


def ws_url(base_url: str) -> str:
    return base_url.replace("http://", "ws://", 1) + "/graphql"


@dataclass
class Subscriber:
    """One socket, after ``connection_ack``; ``events`` collects each ``next`` payload's data."""

    socket: ClientConnection
    events: list[dict[str, Any]] = field(default_factory=list)
    errors: list[Any] = field(default_factory=list)

    async def subscribe(
        self, operation_id: str, query: str, variables: dict[str, Any] | None = None
    ) -> None:
        payload = {"query": query, "variables": variables or {}}
        await self._send({"id": operation_id, "type": "subscribe", "payload": payload})

    async def wait_for(self, predicate: Any, within: float = 10.0) -> dict[str, Any]:
        """The first event received that matches ``predicate``, reading more until one does."""
        for event in self.events:
            if predicate(event):
                return event
        async with asyncio.timeout(within):
            while True:
                message = await self._next_message()
                if message["type"] == "next" and predicate(message["payload"]["data"]):
                    return dict(message["payload"]["data"])

    async def operation_errors(self, operation_id: str, within: float = 10.0) -> list[Any]:
        """Read until operation ``operation_id`` reports errors; return them."""
        async with asyncio.timeout(within):
            while True:
                message = await self._next_message()
                if message.get("id") != operation_id:
                    continue
                if message["type"] == "error":
                    return list(message["payload"])
                if message["type"] == "next" and message["payload"].get("errors"):
                    return list(message["payload"]["errors"])

    async def next_message_of(self, operation_id: str, within: float = 10.0) -> dict[str, Any]:
        async with asyncio.timeout(within):
            while True:
                message = await self._next_message()
                if message.get("id") == operation_id:
                    return message

    async def _next_message(self) -> dict[str, Any]:
        """The next operation message; events (``next`` with data) and errors are recorded."""
        while True:
            message: dict[str, Any] = orjson.loads(await self.socket.recv())
            if message["type"] == "ping":
                await self._send({"type": "pong"})
                continue
            if message["type"] == "next":
                if message["payload"].get("errors"):
                    self.errors.append(message["payload"]["errors"])
                if message["payload"].get("data"):
                    self.events.append(message["payload"]["data"])
            elif message["type"] == "error":
                self.errors.append(message["payload"])
            return message

    async def _send(self, message: dict[str, Any]) -> None:
        await self.socket.send(orjson.dumps(message).decode())


@contextlib.asynccontextmanager
async def subscriber(base_url: str, params: dict[str, Any]) -> AsyncIterator[Subscriber]:
    async with connect(ws_url(base_url), subprotocols=[PROTOCOL]) as socket:  # type: ignore[list-item]
        await socket.send(orjson.dumps({"type": "connection_init", "payload": params}).decode())
        ack = orjson.loads(await asyncio.wait_for(socket.recv(), 10))
        assert ack["type"] == "connection_ack", ack
        yield Subscriber(socket)


async def closed_with(base_url: str, params: Any) -> tuple[int | None, str | None]:
    """Send ``connection_init`` with ``params``; return the close code and reason."""
    async with connect(ws_url(base_url), subprotocols=[PROTOCOL]) as socket:  # type: ignore[list-item]
        await socket.send(orjson.dumps({"type": "connection_init", "payload": params}).decode())
        with contextlib.suppress(Exception):
            async with asyncio.timeout(10):
                async for _ in socket:
                    pass
        return socket.close_code, socket.close_reason


async def publish_probe(redis_url: str, subject_type: str, subject_id: int) -> int:
    """Publish a live event of our own about a record; subscribers re-read it like any other.

    Tests use it as a fence: events reach a socket in publication order, so once a probe
    published after an event arrives, that event has been delivered or dropped.
    """
    event_id = next(_probe_ids)
    event = LiveEvent(
        id=event_id,
        type="test.probe",
        subject_type=subject_type,
        subject_id=subject_id,
        customer_id=subject_id if subject_type == "Customer" else None,
        actor="test",
        occurred_at=dt.datetime.now(dt.UTC),
    )
    client = Redis.from_url(redis_url)
    try:
        await client.publish(CHANNEL, event.encode())
    finally:
        await client.aclose()
    return event_id


async def until_listening(sub: Subscriber, redis_url: str, subject: tuple[str, int]) -> None:
    """Probe until ``sub`` receives one: its subscription is then registered in the server."""
    async with asyncio.timeout(15):
        while True:
            probe = str(await publish_probe(redis_url, *subject))
            with contextlib.suppress(TimeoutError):
                await sub.wait_for(lambda e, p=probe: _event_id(e) == p, within=0.3)
                return


def _event_id(data: dict[str, Any]) -> str | None:
    (payload,) = data.values()
    value = payload.get("eventId") if isinstance(payload, dict) else None
    return value if isinstance(value, str) else None


@contextlib.asynccontextmanager
async def running_relay(redis_url: str, every: float = 0.05) -> AsyncIterator[None]:
    """The worker's relay with the live-event publisher, looping in this process (Tortoise
    must be open here on the server's database)."""
    publisher = LiveEventPublisher(redis_url)
    relay.set_event_publisher(publisher)
    stop = asyncio.Event()

    async def loop() -> None:
        while not stop.is_set():
            await relay.relay_events()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        stop.set()
        await task
        relay.set_event_publisher(None)
        await publisher.close()
