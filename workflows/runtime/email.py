"""Delivering the e-mail outbox through SMTP, once per message as far as SMTP allows.

A message moves ``PENDING -> SENDING -> SENT`` with a commit at each arrow, so a crash never
loses one: a ``PENDING`` message is picked up by the next delivery, a ``SENDING`` one after
``stale_after``. A failed attempt goes back to ``PENDING`` with ``next_attempt_at`` (exponential
back-off) until ``max_attempts``, then ``FAILED``. ``SENT`` is final: redelivering the same
message id sends nothing. A message sent by a workflow step carries the step's id and its
``retry`` policy; when it fails for good its run gets ``ActionFailed`` in the transaction that
marks it ``FAILED`` (:func:`report_failure`), so the run follows the step's ``on_failure`` or
ends as ``FAILED``.

The crash window. SMTP has no two-phase commit: if the process dies after the server accepted
the message (``250`` after ``DATA``) and before ``SENT`` commits, the row stays ``SENDING`` and
we cannot know whether the mail left. We choose at-least-once: after ``stale_after`` (default
10 minutes, far longer than any SMTP transaction, so a slow live attempt is not doubled) the
message is sent again **with the same** ``Message-ID``, which is derived from the idempotency
key alone. Receivers and mail clients that de-duplicate on Message-ID (Gmail, most MTAs'
duplicate filters, every threading client) then show it once; others may show it twice. The
window is the few milliseconds between the server's ``250`` and our commit, and only a crash
in it duplicates.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
from dataclasses import dataclass, replace
from email.message import EmailMessage as MimeMessage
from email.utils import format_datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import aiosmtplib
from tortoise.expressions import F, Q
from tortoise.models import Model
from tortoise.transactions import in_transaction

from domain.persistence.models import EmailMessage, WorkflowRunStep
from workflows.language.durations import parse_duration
from workflows.runtime.clock import utcnow
from workflows.runtime.timers import utc

logger = logging.getLogger(__name__)

DEFAULT_SMTP_URL = "smtp://127.0.0.1:1025"
DEFAULT_FROM = "Rapport <no-reply@rapport.invalid>"
MESSAGE_ID_DOMAIN = "rapport.invalid"


@dataclass(frozen=True)
class RetryPolicy:
    """Attempt ``n`` (1-based) that fails waits ``base * 2**(n-1)`` (at most ``cap``)."""

    max_attempts: int = 6
    base: dt.timedelta = dt.timedelta(seconds=30)
    cap: dt.timedelta = dt.timedelta(hours=1)
    #: A SENDING message older than this is presumed crashed in flight and sent again.
    stale_after: dt.timedelta = dt.timedelta(minutes=10)

    def backoff(self, attempt: int) -> dt.timedelta:
        return min(self.base * 2 ** max(attempt - 1, 0), self.cap)

    def overridden(self, retry: dict[str, Any] | None) -> RetryPolicy:
        """This policy with a step's ``retry: {attempts, backoff, max_backoff}`` applied."""
        if not retry:
            return self
        policy = self
        if retry.get("attempts") is not None:
            policy = replace(policy, max_attempts=int(retry["attempts"]))
        if retry.get("backoff") is not None:
            policy = replace(policy, base=parse_duration(retry["backoff"]))
        if retry.get("max_backoff") is not None:
            policy = replace(policy, cap=parse_duration(retry["max_backoff"]))
        return policy


#: The outbox's policy when a caller passes none (see :func:`configure_outbox`).
_outbox_policy = RetryPolicy()


def configure_outbox(*, stale_after: dt.timedelta) -> None:
    """Set this process's outbox ``stale_after`` (the worker and the scheduler read it from
    ``RAPPORT_EMAIL_STALE_AFTER_SECONDS``). Both must agree: the scheduler's sweep re-sends
    a SENDING message older than it, and :func:`deliver` takes such a message over."""
    if stale_after <= dt.timedelta(0):
        raise ValueError(f"stale_after must be positive, not {stale_after}")
    global _outbox_policy
    _outbox_policy = replace(_outbox_policy, stale_after=stale_after)


def outbox_policy() -> RetryPolicy:
    return _outbox_policy


@dataclass(frozen=True)
class SmtpSettings:
    hostname: str
    port: int
    username: str | None = None
    password: str | None = None
    use_tls: bool = False
    start_tls: bool | None = None
    timeout: float = 30.0

    @classmethod
    def from_url(cls, url: str) -> SmtpSettings:
        """``smtp://[user:pass@]host:port`` (STARTTLS if offered) or ``smtps://...`` (TLS)."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError(f"SMTP_URL must be smtp:// or smtps://, not {url!r}")
        return cls(
            hostname=parts.hostname or "127.0.0.1",
            port=parts.port or (465 if parts.scheme == "smtps" else 25),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            use_tls=parts.scheme == "smtps",
        )

    @classmethod
    def from_env(cls) -> SmtpSettings:
        return cls.from_url(os.environ.get("SMTP_URL", DEFAULT_SMTP_URL))


def message_id_for(idempotency_key: str) -> str:
    """The Message-ID of every attempt at one outbox message: a hash of its idempotency key."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    return f"<{digest}@{MESSAGE_ID_DOMAIN}>"


async def enqueue_email(
    *,
    idempotency_key: str,
    to_address: str,
    subject: str,
    text: str,
    html: str | None = None,
    run_id: int | None = None,
    from_address: str | None = None,
    step_id: str | None = None,
    retry: dict[str, Any] | None = None,
) -> EmailMessage:
    """Add a message to the outbox (inside the caller's transaction); an existing message with
    the same idempotency key is returned unchanged. Send ``send_email`` after the commit.

    ``step_id`` (with ``run_id``) is the workflow step told when delivery gives up; ``retry``
    is its ``{attempts, backoff, max_backoff}``, overriding the default policy."""
    message, _ = await EmailMessage.get_or_create(
        idempotency_key=idempotency_key,
        defaults={
            "to_address": to_address,
            "subject": subject,
            "text": text,
            "html": html,
            "run_id": run_id,
            "from_address": from_address,
            "message_id": message_id_for(idempotency_key),
            "step_id": step_id,
            "retry_policy": retry,
        },
    )
    return message


def _mime(message: EmailMessage, now: dt.datetime) -> MimeMessage:
    mime = MimeMessage()
    mime["From"] = message.from_address or os.environ.get("EMAIL_FROM", DEFAULT_FROM)
    mime["To"] = message.to_address
    mime["Subject"] = message.subject
    mime["Date"] = format_datetime(now)
    mime["Message-ID"] = message.message_id or message_id_for(message.idempotency_key)
    mime.set_content(message.text)
    if message.html:
        mime.add_alternative(message.html, subtype="html")
    return mime


@dataclass(frozen=True)
class Delivery:
    """What one call to :func:`deliver` did; ``retry_at`` is set when it should be retried."""

    status: str  # SENT | PENDING | FAILED | SKIPPED
    retry_at: dt.datetime | None = None


async def deliver(
    message_id: int,
    *,
    now: dt.datetime | None = None,
    smtp: SmtpSettings | None = None,
    policy: RetryPolicy | None = None,
) -> Delivery:
    """Send outbox message ``message_id`` if it is due, recording the outcome.

    ``SKIPPED`` means there was nothing to do: already sent or failed, not yet due for a
    retry, or being sent right now by someone else (``SENDING`` for less than
    ``policy.stale_after``).
    """
    policy = policy or _outbox_policy
    now = utc(now or utcnow())
    due = Q(status="PENDING") & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    stale = Q(status="SENDING", sending_since__lte=now - policy.stale_after)
    # Commit 1: take the message. The conditional update makes concurrent deliveries of the
    # same id exclusive (the loser updates no row).
    taken = await EmailMessage.filter(Q(id=message_id) & (due | stale)).update(
        status="SENDING", sending_since=now, attempts=F("attempts") + 1
    )
    if not taken:
        return Delivery("SKIPPED")
    message = await EmailMessage.get(id=message_id)
    policy = policy.overridden(message.retry_policy)
    settings = smtp or SmtpSettings.from_env()
    try:
        await aiosmtplib.send(
            _mime(message, now),
            hostname=settings.hostname,
            port=settings.port,
            username=settings.username,
            password=settings.password,
            use_tls=settings.use_tls,
            start_tls=settings.start_tls,
            timeout=settings.timeout,
        )
    except (aiosmtplib.SMTPException, OSError) as exc:
        return await _record_failure(message, now, policy, f"{type(exc).__name__}: {exc}")
    # Commit 2: the server accepted it.
    await EmailMessage.filter(id=message_id, status="SENDING").update(
        status="SENT", sent_at=utc(utcnow()), last_error=None
    )
    return Delivery("SENT")


async def _record_failure(
    message: EmailMessage, now: dt.datetime, policy: RetryPolicy, error: str
) -> Delivery:
    if message.attempts >= policy.max_attempts:
        logger.warning(
            "email %s failed for good after %s attempts: %s", message.id, message.attempts, error
        )
        async with in_transaction():
            failed = await EmailMessage.filter(id=message.id, status="SENDING").update(
                status="FAILED", last_error=error, next_attempt_at=None
            )
            if failed and message.run_id is not None and message.step_id is not None:
                await report_failure(
                    message.run_id,
                    message.step_id,
                    "send_email",
                    message.idempotency_key,
                    error,
                    now,
                )
        return Delivery("FAILED")
    retry_at = now + policy.backoff(message.attempts)
    logger.info(
        "email %s attempt %s failed (%s); retry at %s",
        message.id,
        message.attempts,
        error,
        retry_at,
    )
    await EmailMessage.filter(id=message.id, status="SENDING").update(
        status="PENDING", last_error=error, next_attempt_at=retry_at
    )
    return Delivery("PENDING", retry_at=retry_at)


async def report_failure(
    run_id: int, step_id: str, kind: str, key: str, error: str, now: dt.datetime
) -> None:
    """An outboxed action of run ``run_id`` gave up: feed the run ``ActionFailed`` (its step's
    ``on_failure``, else FAILED). Call it in the transaction that marks the action FAILED, so
    the run learns it exactly once. A run that has already ended cannot take ``on_failure``
    any more; the failure is written to its history instead of being lost."""
    # Imported here: runs -> actions -> email would otherwise be an import cycle.
    from domain.persistence.models import WorkflowRun
    from workflows.engine import ActionFailed
    from workflows.engine.model import ENDED
    from workflows.runtime.runs import apply_input

    run = await WorkflowRun.get_or_none(id=run_id)
    if run is None:
        return
    if run.state in ENDED:
        await WorkflowRunStep.get_or_create(
            run_id=run_id,
            input_key=f"{key}:failed-after-end",
            defaults={
                "step_id": step_id,
                "kind": kind,
                "outcome": "FAILED",
                "detail": {"error": error, "handled": False, "after_run_ended": True},
                "at": now,
            },
        )
        return
    await apply_input(run, ActionFailed(step_id=step_id, error=error, now=now), now)


async def deliverable_email_ids(
    now: dt.datetime, *, policy: RetryPolicy | None = None, grace: dt.timedelta, limit: int = 100
) -> list[int]:
    """Outbox messages nobody seems to be delivering: PENDING and due for more than ``grace``
    (their message was lost, or never sent), or SENDING for longer than ``stale_after``.

    The scheduler enqueues ``send_email`` for them; :func:`deliver` makes duplicates harmless.
    """
    policy = policy or _outbox_policy
    return await unattended_ids(
        EmailMessage, utc(now), stale_after=policy.stale_after, grace=grace, limit=limit
    )


async def unattended_ids(
    outbox: type[Model],
    now: dt.datetime,
    *,
    stale_after: dt.timedelta,
    grace: dt.timedelta,
    limit: int,
) -> list[int]:
    """Rows of an outbox (e-mails, webhooks: same status columns) nobody seems to be delivering:
    PENDING and due for more than ``grace``, or SENDING for longer than ``stale_after``."""
    overdue = Q(status="PENDING") & (
        Q(next_attempt_at__isnull=True, created_at__lte=now - grace)
        | Q(next_attempt_at__lte=now - grace)
    )
    stale = Q(status="SENDING", sending_since__lte=now - stale_after)
    ids = (
        await outbox.filter(overdue | stale)
        .order_by("id")
        .limit(limit)
        .values_list("id", flat=True)
    )
    return [int(row_id) for row_id in ids]  # type: ignore[call-overload]
