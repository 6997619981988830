"""E-mail steps that can never be delivered (the SMTP server is down): retried per the step's
``retry``, then the run follows ``on_failure`` or ends FAILED, together with the outbox row."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from domain.customers import services
from domain.customers.commands import PersonInput
from domain.persistence import models as m
from tests.integration.runtime.conftest import Mailbox, free_port
from workflows.language.validate import BUNDLED_DIR
from workflows.runtime import runs
from workflows.runtime.deploy import deploy_texts
from workflows.runtime.email import SmtpSettings, deliver
from workflows.runtime.subjects import load_subject

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
#: Nothing listens here: every attempt is refused.
DOWN = SmtpSettings.from_url(f"smtp://127.0.0.1:{free_port()}")


def _workflow(key: str, *, handled: bool) -> str:
    on_failure = "    on_failure: [{add_tag: email-failed}]\n" if handled else ""
    return (
        f"key: {key}\n"
        "subject: customer\n"
        "trigger: {manual: true}\n"
        "steps:\n"
        "  - id: welcome\n"
        "    send_email: {template: welcome-lead, to: subject}\n"
        "    retry: {attempts: 2, backoff: 1m, max_backoff: 1m}\n"
        f"{on_failure}"
        "  - id: later\n"
        "    wait: 1d\n"
    )


async def _deploy() -> None:
    texts = {
        "templates.yaml": (Path(BUNDLED_DIR) / "templates.yaml").read_text(encoding="utf-8"),
        "unhandled.yaml": _workflow("mail-unhandled", handled=False),
        "handled.yaml": _workflow("mail-handled", handled=True),
    }
    result = await deploy_texts(texts, actor="user:test")
    assert not result.problems, result.problems


async def _start(key: str, address: str) -> tuple[m.WorkflowRun, m.EmailMessage, int]:
    customer = await services.create_person(
        PersonInput(first_name="Lan", last_name="Trần", emails=[address], email_opt_in=True),
        actor="user:test",
    )
    run = await runs.enroll(await m.Workflow.get(key=key), "customer", customer.id, T0)
    assert run is not None
    assert run.state == "WAITING"
    message = await m.EmailMessage.get(run_id=run.id)
    assert message.step_id == "welcome"
    assert message.retry_policy == {"attempts": 2, "backoff": "1m", "max_backoff": "1m"}
    return run, message, customer.id


async def test_undeliverable_email_fails_the_run(database: str) -> None:
    await _deploy()
    run, message, _ = await _start("mail-unhandled", "lan@khach.vn")

    first = await deliver(message.id, now=T0, smtp=DOWN)
    assert first.status == "PENDING"
    assert first.retry_at == T0 + dt.timedelta(minutes=1)  # the step's back-off, not 30 s
    assert (await m.WorkflowRun.get(id=run.id)).state == "WAITING"
    second = await deliver(message.id, now=first.retry_at, smtp=DOWN)
    assert second.status == "FAILED"  # the step's 2 attempts, not the default 6

    stored = await m.EmailMessage.get(id=message.id)
    assert (stored.status, stored.attempts) == ("FAILED", 2)
    run = await m.WorkflowRun.get(id=run.id)
    assert run.state == "FAILED"
    assert run.ended_at is not None
    assert "welcome" in run.state_json["ended_reason"]
    step = await m.WorkflowRunStep.get(run_id=run.id, step_id="welcome", outcome="FAILED")
    assert step.detail["handled"] is False
    # the wait after the e-mail never fires
    assert await m.Timer.filter(run_id=run.id, status="PENDING").count() == 0


async def test_undeliverable_email_takes_on_failure(database: str, mailbox: Mailbox) -> None:
    await _deploy()
    run, message, customer_id = await _start("mail-handled", "minh@khach.vn")
    moment = T0
    for _ in range(2):
        moment = (await deliver(message.id, now=moment, smtp=DOWN)).retry_at or moment
    run = await m.WorkflowRun.get(id=run.id)
    assert run.state == "WAITING"  # on_failure, then the wait after the e-mail
    subject = await load_subject("customer", customer_id)
    assert subject is not None
    assert "email-failed" in subject["tags"]
    # the server comes back: a FAILED message stays failed, nothing is sent
    smtp = SmtpSettings.from_url(f"smtp://127.0.0.1:{mailbox.port}")
    assert (await deliver(message.id, now=moment + dt.timedelta(hours=1), smtp=smtp)).status == (
        "SKIPPED"
    )
    assert mailbox.messages == []


async def test_failed_mark_and_run_commit_together(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _deploy()
    run, message, _ = await _start("mail-unhandled", "an@khach.vn")
    first = await deliver(message.id, now=T0, smtp=DOWN)
    assert first.retry_at is not None

    class Boom(Exception):
        pass

    async def broken(*args: object, **kwargs: object) -> None:
        raise Boom

    monkeypatch.setattr(runs, "apply_input", broken)
    with pytest.raises(Boom):
        await deliver(message.id, now=first.retry_at, smtp=DOWN)
    # neither the FAILED mark nor the run changed: the message is still in flight, and is
    # taken again once it is stale
    assert (await m.EmailMessage.get(id=message.id)).status == "SENDING"
    assert (await m.WorkflowRun.get(id=run.id)).state == "WAITING"
    monkeypatch.undo()
    later = first.retry_at + dt.timedelta(minutes=11)
    assert (await deliver(message.id, now=later, smtp=DOWN)).status == "FAILED"
    assert (await m.WorkflowRun.get(id=run.id)).state == "FAILED"
