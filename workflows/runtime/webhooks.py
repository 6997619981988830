"""The webhook outbox: a signed JSON POST per ``webhook`` step, retried with back-off.

A delivery is written by :func:`enqueue_webhook` in the transaction that runs the step, under
the step's idempotency key (run, step, visit), and posted by the ``deliver_webhook`` actor
after the commit. Like the e-mail outbox it moves ``PENDING -> SENDING -> SENT`` with a commit
at each arrow; a failed attempt goes back to ``PENDING`` with ``next_attempt_at`` (exponential
back-off per the step's ``retry``, else :data:`DEFAULT_POLICY`), and after the last attempt
to ``FAILED``, in the same transaction as the run's ``ActionFailed`` (its ``on_failure``
steps, else the run ends ``FAILED``).

What counts as a failure: a 2xx answer is success. 5xx, 408, 429, timeouts and connection
errors are retried. Any other answer (3xx, 4xx) fails at once: the receiver said no, and
asking again will not change its mind.

Every attempt carries the same ``Idempotency-Key`` header (the delivery's key), so a receiver
can drop the duplicate that at-least-once delivery allows (a crash after the receiver
answered and before ``SENT`` committed re-posts after ``stale_after``). Each request is
signed: ``X-Rapport-Signature: sha256=<hex HMAC-SHA256 of the raw body>`` with the secret
``WEBHOOK_SECRET`` (environment; :data:`DEV_SECRET` when unset, for development only), and
``X-Rapport-Timestamp`` (Unix seconds of the attempt) lets receivers refuse stale replays.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import os
from typing import Any

import httpx
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from domain.persistence.models import WebhookDelivery
from workflows.runtime.email import Delivery, RetryPolicy, report_failure, unattended_ids
from workflows.runtime.timers import utc

logger = logging.getLogger(__name__)

#: The signing secret when ``WEBHOOK_SECRET`` is not set. Development and tests only:
#: production deployments must set their own.
DEV_SECRET = "rapport-dev-webhook-secret"
SIGNATURE_HEADER = "X-Rapport-Signature"
TIMESTAMP_HEADER = "X-Rapport-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"
USER_AGENT = "Rapport-Webhooks/1"
#: A step without ``retry``: 6 attempts, 30 s doubling up to 1 h (about 15 minutes in all).
DEFAULT_POLICY = RetryPolicy()
#: Seconds for the whole request (connect, send, answer).
DEFAULT_TIMEOUT = 10.0
#: Kept of a failed answer's body in ``last_error``.
ERROR_BODY_CHARS = 500


def webhook_secret() -> str:
    return os.environ.get("WEBHOOK_SECRET") or DEV_SECRET


def encode_body(body: Any) -> bytes:
    """The exact bytes posted (and signed): compact JSON, UTF-8."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def signature(body: bytes, secret: str | None = None) -> str:
    """``sha256=<hex>``: the value of ``X-Rapport-Signature`` for ``body``."""
    key = (secret or webhook_secret()).encode()
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, header: str | None, secret: str | None = None) -> bool:
    """For receivers (and tests): does ``header`` sign ``body`` with ``secret``?"""
    return header is not None and hmac.compare_digest(signature(body, secret), header)


async def enqueue_webhook(
    *,
    idempotency_key: str,
    url: str,
    body: Any,
    headers: dict[str, str] | None = None,
    run_id: int | None = None,
    step_id: str | None = None,
    retry: dict[str, Any] | None = None,
) -> WebhookDelivery:
    """Add a delivery to the outbox (inside the caller's transaction); an existing delivery
    with the same idempotency key is returned unchanged. Send ``deliver_webhook`` after the
    commit. ``retry`` is the step's ``{attempts, backoff, max_backoff}``."""
    delivery, _ = await WebhookDelivery.get_or_create(
        idempotency_key=idempotency_key,
        defaults={
            "url": url,
            "body": body,
            "headers": dict(headers or {}),
            "run_id": run_id,
            "step_id": step_id,
            "retry_policy": retry,
        },
    )
    return delivery


def _request_headers(delivery: WebhookDelivery, raw: bytes, now: dt.datetime) -> dict[str, str]:
    headers = {str(k): str(v) for k, v in (delivery.headers or {}).items()}
    # Ours last: a step's headers cannot forge the signature or the key.
    own = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: signature(raw),
        TIMESTAMP_HEADER: str(int(now.timestamp())),
        IDEMPOTENCY_HEADER: delivery.idempotency_key,
    }
    lowered = {name.lower() for name in own}
    headers = {k: v for k, v in headers.items() if k.lower() not in lowered}
    return {**headers, **own}


def _retryable(status_code: int) -> bool:
    return status_code >= 500 or status_code in (408, 429)


async def deliver_webhook(
    delivery_id: int,
    *,
    now: dt.datetime,
    client: httpx.AsyncClient | None = None,
    policy: RetryPolicy | None = None,
) -> Delivery:
    """Post delivery ``delivery_id`` if it is due, recording the outcome.

    ``SKIPPED``: nothing to do (already sent or failed, not yet due, or being posted right now
    by someone else). ``PENDING`` with ``retry_at``: failed, to be retried then. ``policy`` is
    the default for deliveries whose step gave no ``retry``.
    """
    base = policy or DEFAULT_POLICY
    now = utc(now)
    due = Q(status="PENDING") & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    stale = Q(status="SENDING", sending_since__lte=now - base.stale_after)
    taken = await WebhookDelivery.filter(Q(id=delivery_id) & (due | stale)).update(
        status="SENDING", sending_since=now, attempts=F("attempts") + 1
    )
    if not taken:
        return Delivery("SKIPPED")
    delivery = await WebhookDelivery.get(id=delivery_id)
    policy = base.overridden(delivery.retry_policy)
    raw = encode_body(delivery.body)
    headers = _request_headers(delivery, raw, now)
    try:
        if client is None:
            async with httpx.AsyncClient(timeout=DEFAULT_TIMEOUT) as own_client:
                response = await own_client.post(delivery.url, content=raw, headers=headers)
        else:
            response = await client.post(delivery.url, content=raw, headers=headers)
    except httpx.HTTPError as exc:  # timeouts, refused connections, protocol errors
        return await _record_failure(
            delivery, now, policy, f"{type(exc).__name__}: {exc}", None, retry=True
        )
    if 200 <= response.status_code < 300:
        await WebhookDelivery.filter(id=delivery_id, status="SENDING").update(
            status="SENT",
            sent_at=now,
            last_status_code=response.status_code,
            last_error=None,
            next_attempt_at=None,
        )
        return Delivery("SENT")
    error = f"HTTP {response.status_code}: {response.text[:ERROR_BODY_CHARS]}".rstrip(": ")
    return await _record_failure(
        delivery, now, policy, error, response.status_code, retry=_retryable(response.status_code)
    )


async def _record_failure(
    delivery: WebhookDelivery,
    now: dt.datetime,
    policy: RetryPolicy,
    error: str,
    status_code: int | None,
    *,
    retry: bool,
) -> Delivery:
    if retry and delivery.attempts < policy.max_attempts:
        retry_at = now + policy.backoff(delivery.attempts)
        logger.info(
            "webhook %s attempt %s failed (%s); retry at %s",
            delivery.id,
            delivery.attempts,
            error,
            retry_at,
        )
        await WebhookDelivery.filter(id=delivery.id, status="SENDING").update(
            status="PENDING",
            last_error=error,
            last_status_code=status_code,
            next_attempt_at=retry_at,
        )
        return Delivery("PENDING", retry_at=retry_at)
    logger.warning(
        "webhook %s to %s failed for good after %s attempts: %s",
        delivery.id,
        delivery.url,
        delivery.attempts,
        error,
    )
    async with in_transaction():
        failed = await WebhookDelivery.filter(id=delivery.id, status="SENDING").update(
            status="FAILED", last_error=error, last_status_code=status_code, next_attempt_at=None
        )
        if failed and delivery.run_id is not None and delivery.step_id is not None:
            await report_failure(
                delivery.run_id, delivery.step_id, "webhook", delivery.idempotency_key, error, now
            )
    return Delivery("FAILED")


async def deliverable_webhook_ids(
    now: dt.datetime, *, policy: RetryPolicy | None = None, grace: dt.timedelta, limit: int = 100
) -> list[int]:
    """Deliveries nobody seems to be posting: PENDING and due for more than ``grace`` (their
    message was lost), or SENDING for longer than ``stale_after``. For the scheduler's sweep,
    like :func:`workflows.runtime.email.deliverable_email_ids`."""
    policy = policy or DEFAULT_POLICY
    return await unattended_ids(
        WebhookDelivery, utc(now), stale_after=policy.stale_after, grace=grace, limit=limit
    )
