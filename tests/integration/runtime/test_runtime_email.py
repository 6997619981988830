"""The e-mail outbox against a real SMTP server: once, retried, never twice."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from app.settings import Settings
from domain.persistence.models import EmailMessage
from tests.integration.runtime.conftest import Mailbox
from workflows.runtime.clock import set_clock
from workflows.runtime.email import (
    RetryPolicy,
    SmtpSettings,
    configure_outbox,
    deliver,
    deliverable_email_ids,
    enqueue_email,
    message_id_for,
    outbox_policy,
)

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
POLICY = RetryPolicy(max_attempts=3, base=dt.timedelta(seconds=10))


def smtp(box: Mailbox) -> SmtpSettings:
    return SmtpSettings.from_url(f"smtp://127.0.0.1:{box.port}")


async def _outbox(key: str = "run:1:step:welcome:1") -> EmailMessage:
    return await enqueue_email(
        idempotency_key=key,
        to_address="lan@example.com",
        subject="Chào mừng",
        text="Xin chào Lan",
        html="<p>Xin chào <b>Lan</b></p>",
    )


async def test_delivers_once_and_redelivery_sends_nothing(database: str, mailbox: Mailbox) -> None:
    message = await _outbox()
    assert (await _outbox()).id == message.id  # same key, same outbox row

    first = await deliver(message.id, now=T0, smtp=smtp(mailbox), policy=POLICY)
    again = await deliver(message.id, now=T0, smtp=smtp(mailbox), policy=POLICY)

    assert (first.status, again.status) == ("SENT", "SKIPPED")
    assert mailbox.message_ids == [message_id_for(message.idempotency_key)]
    received = mailbox.messages[0]
    assert received["Subject"] == "Chào mừng"
    assert received["To"] == "lan@example.com"
    stored = await EmailMessage.get(id=message.id)
    assert (stored.status, stored.attempts) == ("SENT", 1)
    assert stored.sent_at is not None


async def test_retries_with_backoff_while_the_server_is_down(
    database: str, mailbox: Mailbox
) -> None:
    message = await _outbox()
    mailbox.stop()

    failed = await deliver(message.id, now=T0, smtp=smtp(mailbox), policy=POLICY)
    assert failed.status == "PENDING"
    assert failed.retry_at == T0 + dt.timedelta(seconds=10)
    stored = await EmailMessage.get(id=message.id)
    assert (stored.status, stored.attempts, stored.next_attempt_at) == (
        "PENDING",
        1,
        T0 + 10 * dt.timedelta(seconds=1),
    )
    assert stored.last_error

    early = await deliver(message.id, now=T0 + dt.timedelta(seconds=5), smtp=smtp(mailbox))
    assert early.status == "SKIPPED"  # not due yet
    second = await deliver(
        message.id, now=T0 + dt.timedelta(seconds=10), smtp=smtp(mailbox), policy=POLICY
    )
    assert second.retry_at == T0 + dt.timedelta(seconds=30)  # 10 s, then 20 s

    mailbox.start()
    sent = await deliver(
        message.id, now=T0 + dt.timedelta(seconds=30), smtp=smtp(mailbox), policy=POLICY
    )
    assert sent.status == "SENT"
    assert len(mailbox.messages) == 1
    assert (await EmailMessage.get(id=message.id)).attempts == 3


async def test_gives_up_after_max_attempts(database: str, mailbox: Mailbox) -> None:
    message = await _outbox()
    mailbox.stop()
    moment = T0
    outcomes = []
    for _ in range(POLICY.max_attempts):
        outcome = await deliver(message.id, now=moment, smtp=smtp(mailbox), policy=POLICY)
        outcomes.append(outcome.status)
        moment = outcome.retry_at or moment
    assert outcomes == ["PENDING", "PENDING", "FAILED"]
    mailbox.start()
    assert (await deliver(message.id, now=moment + dt.timedelta(days=1))).status == "SKIPPED"
    assert mailbox.messages == []


async def test_a_crash_after_the_server_accepted_resends_with_the_same_message_id(
    database: str, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = await _outbox()
    # The crash window: the server has said 250, the process dies before "SENT" commits.
    original_update = EmailMessage.filter

    class Crash(Exception):
        pass

    def crash_on_sent(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        query = original_update(*args, **kwargs)
        if kwargs.get("status") == "SENDING" and len(mailbox.messages) == 1:
            raise Crash
        return query

    monkeypatch.setattr(EmailMessage, "filter", crash_on_sent)
    with pytest.raises(Crash):
        await deliver(message.id, now=T0, smtp=smtp(mailbox), policy=POLICY)
    monkeypatch.undo()
    assert (await EmailMessage.get(id=message.id)).status == "SENDING"

    # While it might still be in flight, nobody touches it; once stale, it is sent again.
    soon = T0 + dt.timedelta(minutes=5)
    assert (await deliver(message.id, now=soon, smtp=smtp(mailbox))).status == "SKIPPED"
    assert await deliverable_email_ids(soon, grace=dt.timedelta(seconds=60)) == []
    later = T0 + POLICY.stale_after
    assert await deliverable_email_ids(later, grace=dt.timedelta(seconds=60)) == [message.id]
    assert (await deliver(message.id, now=later, smtp=smtp(mailbox))).status == "SENT"

    assert len(mailbox.messages) == 2
    assert set(mailbox.message_ids) == {message_id_for(message.idempotency_key)}


async def test_sweep_finds_pending_messages_whose_queue_message_was_lost(database: str) -> None:
    message = await _outbox()
    created = (await EmailMessage.get(id=message.id)).created_at
    grace = dt.timedelta(seconds=60)
    assert await deliverable_email_ids(created, grace=grace) == []
    assert await deliverable_email_ids(created + grace, grace=grace) == [message.id]


@pytest.fixture
def controlled_clock() -> Iterator[list[dt.datetime]]:
    """The runtime's clock set to ``moment[0]``, which the test moves; the system's after."""
    moment = [T0]
    set_clock(lambda: moment[0])
    try:
        yield moment
    finally:
        set_clock(None)


async def test_delivery_runs_on_the_injected_clock(
    database: str, mailbox: Mailbox, controlled_clock: list[dt.datetime]
) -> None:
    """No ``now`` passed (as the worker's actor calls it): the runtime clock decides what is
    due and stamps the attempt, so a controlled clock drives retries without sleeping."""
    message = await _outbox()
    mailbox.stop()
    failed = await deliver(message.id, smtp=smtp(mailbox), policy=POLICY)
    assert failed.retry_at == T0 + dt.timedelta(seconds=10)
    mailbox.start()

    controlled_clock[0] = T0 + dt.timedelta(seconds=9)
    assert (await deliver(message.id, smtp=smtp(mailbox), policy=POLICY)).status == "SKIPPED"
    controlled_clock[0] = T0 + dt.timedelta(seconds=10)
    assert (await deliver(message.id, smtp=smtp(mailbox), policy=POLICY)).status == "SENT"

    stored = await EmailMessage.get(id=message.id)
    assert (stored.sending_since, stored.sent_at) == (controlled_clock[0], controlled_clock[0])
    assert mailbox.messages[0]["Date"].datetime == controlled_clock[0]


async def test_outbox_stale_after_is_configurable(
    database: str, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = await _outbox()
    await EmailMessage.filter(id=message.id).update(status="SENDING", sending_since=T0)
    two_minutes = T0 + dt.timedelta(minutes=2)
    grace = dt.timedelta(seconds=60)
    assert outbox_policy().stale_after == dt.timedelta(minutes=10)
    assert await deliverable_email_ids(two_minutes, grace=grace) == []

    monkeypatch.setenv("RAPPORT_EMAIL_STALE_AFTER_SECONDS", "90")
    configure_outbox(stale_after=dt.timedelta(seconds=Settings().email_stale_after_seconds))
    try:
        assert await deliverable_email_ids(two_minutes, grace=grace) == [message.id]
        resent = await deliver(message.id, now=two_minutes, smtp=smtp(mailbox))
        assert resent.status == "SENT"
    finally:
        configure_outbox(stale_after=dt.timedelta(minutes=10))
    with pytest.raises(ValueError, match="positive"):
        configure_outbox(stale_after=dt.timedelta(0))
