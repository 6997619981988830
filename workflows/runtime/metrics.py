"""Prometheus metrics of the worker and the scheduler (``prometheus-client``).

Each process serves its own registry on ``--metrics-port`` (``crm worker`` / ``crm scheduler``);
nothing is served when the port is 0. Timer lateness is the spec's "timers fire on time"
guarantee made visible: ``rapport_timer_lateness_seconds`` is observed once per timer that
fires (after its transaction commits), and the scheduler exports how late due timers already
were when it claimed them and how deep the worker queue is. Dramatiq's own Prometheus
middleware is not used: it only serves through the ``dramatiq`` command's forked exposition
process, which ``crm worker`` does not run.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from dramatiq import Middleware
from prometheus_client import Counter, Gauge, Histogram, start_http_server

logger = logging.getLogger(__name__)

#: From 10 ms (a timer fired by an idle system) to an hour (a long outage being caught up).
LATENESS_BUCKETS = (
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0,
)  # fmt: skip

TIMER_LATENESS = Histogram(
    "rapport_timer_lateness_seconds",
    "Seconds between a timer's due time and its firing (fired_at - due_at), per fired timer",
    ["purpose"],
    buckets=LATENESS_BUCKETS,
)
STALE_TIMER_MESSAGES = Counter(
    "rapport_timer_stale_messages_total",
    "Timer messages that fired nothing: the timer was already fired, cancelled or replaced",
)
SUPERSEDED_CLAIMS = Counter(
    "rapport_timer_superseded_claims_total",
    "Timers fired by the message of an older claim: it waited in the queue longer than the "
    "lease (raise the lease, or lower RAPPORT_SCHEDULER_MAX_QUEUED)",
)
CLAIM_LATENESS = Histogram(
    "rapport_scheduler_claim_lateness_seconds",
    "How late each due timer already was when the scheduler claimed it",
    buckets=LATENESS_BUCKETS,
)
TIMERS_ENQUEUED = Counter(
    "rapport_scheduler_timers_enqueued_total", "Timers claimed and handed to the workers"
)
QUEUE_DEPTH = Gauge(
    "rapport_worker_queue_depth", "Messages waiting in the workers' queue (scheduler's view)"
)
SCHEDULER_HELD_BACK = Counter(
    "rapport_scheduler_backpressure_ticks_total",
    "Scheduler rounds that claimed nothing because the worker queue was full",
)
TICK_SECONDS = Histogram(
    "rapport_scheduler_tick_seconds", "Duration of one scheduler round (claims and sends)"
)
MESSAGES = Counter(
    "rapport_worker_messages_total", "Messages processed by the worker", ["actor", "outcome"]
)
MESSAGE_SECONDS = Histogram(
    "rapport_worker_message_seconds", "Processing time of one message", ["actor"]
)


def timer_fired(purpose: str, lateness: float) -> None:
    TIMER_LATENESS.labels(purpose=purpose).observe(max(lateness, 0.0))


def serve(port: int, host: str = "127.0.0.1") -> None:
    """Expose this process's metrics on ``http://host:port/metrics`` (0: don't)."""
    if port:
        start_http_server(port, addr=host)
        logger.info("metrics on http://%s:%s/metrics", host, port)


class MessageMetrics(Middleware):
    """Counts and times every message the worker processes, per actor and outcome."""

    def __init__(self) -> None:
        # By message id, not in the message's options: those travel with a retried message.
        self._started: dict[str, float] = {}

    def before_process_message(self, broker: Any, message: Any) -> None:
        self._started[message.message_id] = time.perf_counter()

    def after_process_message(
        self, broker: Any, message: Any, *, result: Any = None, exception: Any = None
    ) -> None:
        started = self._started.pop(message.message_id, None)
        if started is not None:
            MESSAGE_SECONDS.labels(actor=message.actor_name).observe(time.perf_counter() - started)
        outcome = "failed" if exception is not None else "done"
        MESSAGES.labels(actor=message.actor_name, outcome=outcome).inc()

    def after_skip_message(self, broker: Any, message: Any) -> None:
        self._started.pop(message.message_id, None)
        MESSAGES.labels(actor=message.actor_name, outcome="skipped").inc()
