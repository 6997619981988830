"""One Redis subscription per API process, fanned out to every GraphQL subscription in it.

A connection per subscriber would cost Redis a client per open browser tab; the hub holds one
``SUBSCRIBE`` and copies each live event into a bounded queue per subscriber.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from redis.asyncio import Redis

from workflows.runtime.live_events import CHANNEL, LiveEvent

logger = logging.getLogger(__name__)

#: Events a subscriber may fall behind by before its oldest are dropped.
QUEUE_SIZE = 1000
#: How long a new subscriber waits for the hub's subscription to be confirmed by Redis.
READY_TIMEOUT = 10.0
#: Pause before reconnecting after Redis failed.
RECONNECT_DELAY = 1.0


class LiveEventHub:
    """Started on the first subscriber, listening until :meth:`close` (application shutdown)."""

    def __init__(self, redis_url: str, *, queue_size: int = QUEUE_SIZE) -> None:
        self.redis_url = redis_url
        self.queue_size = queue_size
        self._queues: set[asyncio.Queue[LiveEvent]] = set()
        self._listener: asyncio.Task[None] | None = None
        self._ready: asyncio.Event | None = None

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[AsyncIterator[LiveEvent]]:
        """Yield the events published from the moment Redis confirmed the hub's subscription."""
        queue: asyncio.Queue[LiveEvent] = asyncio.Queue(self.queue_size)
        self._queues.add(queue)
        try:
            await asyncio.wait_for(self._started().wait(), READY_TIMEOUT)
            yield _drain(queue)
        finally:
            self._queues.discard(queue)

    @property
    def subscribers(self) -> int:
        return len(self._queues)

    def _started(self) -> asyncio.Event:
        if self._ready is None:
            self._ready = asyncio.Event()
        if self._listener is None or self._listener.done():
            self._listener = asyncio.create_task(self._listen(self._ready), name="live-event-hub")
        return self._ready

    async def _listen(self, ready: asyncio.Event) -> None:
        while True:
            client = Redis.from_url(self.redis_url)
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    async for message in pubsub.listen():
                        if message["type"] == "subscribe":
                            ready.set()
                        elif message["type"] == "message":
                            self._fan_out(LiveEvent.decode(message["data"]))
            except asyncio.CancelledError:
                raise
            except Exception:
                # Events published while disconnected are lost to live subscribers; clients
                # refetch on reconnect, as after any gap.
                logger.exception("live events: Redis subscription failed; reconnecting")
                ready.clear()
                await asyncio.sleep(RECONNECT_DELAY)
            finally:
                await client.aclose()

    def _fan_out(self, event: LiveEvent) -> None:
        for queue in tuple(self._queues):
            if queue.full():
                # A subscriber this far behind is not reading; dropping its oldest event keeps
                # the process's memory bounded whatever one client does.
                queue.get_nowait()
                logger.warning("live events: a subscriber fell %d events behind", queue.maxsize)
            queue.put_nowait(event)

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None


async def _drain(queue: asyncio.Queue[LiveEvent]) -> AsyncIterator[LiveEvent]:
    while True:
        yield await queue.get()
