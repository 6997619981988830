"""The webhook outbox against a real HTTP receiver on loopback: signed, retried with back-off
under one idempotency key, and a permanent failure handed to the run (``on_failure`` or FAILED).
Time is driven by explicit ``now`` arguments."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from dramatiq import Message
from dramatiq.brokers.stub import StubBroker

from domain.customers import services
from domain.customers.commands import PersonInput
from domain.persistence import models as m
from tests.integration.runtime.conftest import free_port
from workflows.runtime import actors
from workflows.runtime.deploy import deploy_texts
from workflows.runtime.runs import enroll
from workflows.runtime.subjects import load_subject
from workflows.runtime.webhooks import (
    DEV_SECRET,
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    RetryPolicy,
    deliver_webhook,
    deliverable_webhook_ids,
    enqueue_webhook,
    verify_signature,
)

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
SECRET = "test-webhook-secret"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """An HTTP server on loopback that records every POST and answers ``status`` (200 unless
    told), or 500 while ``fail_next`` > 0."""

    url: str = ""
    requests: list[Received] = field(default_factory=list)
    status: int = 200
    fail_next: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self) -> int:
        with self.lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return 500
            return self.status


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    box = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            box.requests.append(Received(self.path, dict(self.headers.items()), raw))
            status = box.answer()
            payload = b"ok" if status < 300 else b"nope"
            self.send_response(status)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    box.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield box
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5.0) as http:
        yield http


@pytest.fixture(autouse=True)
def secret(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("WEBHOOK_SECRET", SECRET)
    return SECRET


POLICY = RetryPolicy(max_attempts=3, base=dt.timedelta(seconds=10))


async def _delivery(url: str, key: str = "7:notify:1", **extra: Any) -> m.WebhookDelivery:
    return await enqueue_webhook(
        idempotency_key=key,
        url=url,
        body={"customer": {"id": 7, "name": "Trần Lan"}, "event": "signed-up"},
        headers={"X-Team": "growth", "Idempotency-Key": "forged"},
        **extra,
    )


async def test_signed_post_delivered_once(
    database: str, receiver: Receiver, client: httpx.AsyncClient
) -> None:
    delivery = await _delivery(f"{receiver.url}/hook")
    assert (await _delivery(f"{receiver.url}/other")).id == delivery.id  # same key, same row

    first = await deliver_webhook(delivery.id, now=T0, client=client, policy=POLICY)
    again = await deliver_webhook(delivery.id, now=T0, client=client, policy=POLICY)

    assert (first.status, again.status) == ("SENT", "SKIPPED")
    [request] = receiver.requests
    assert request.path == "/hook"
    assert json.loads(request.body) == {
        "customer": {"id": 7, "name": "Trần Lan"},
        "event": "signed-up",
    }
    assert verify_signature(request.body, request.headers[SIGNATURE_HEADER], SECRET)
    assert not verify_signature(request.body, request.headers[SIGNATURE_HEADER], DEV_SECRET)
    assert request.headers[SIGNATURE_HEADER].startswith("sha256=")
    assert request.headers[TIMESTAMP_HEADER] == str(int(T0.timestamp()))
    assert request.headers[IDEMPOTENCY_HEADER] == "7:notify:1"  # the step cannot forge it
    assert request.headers["X-Team"] == "growth"
    assert request.headers["Content-Type"] == "application/json"
    stored = await m.WebhookDelivery.get(id=delivery.id)
    assert (stored.status, stored.attempts, stored.last_status_code) == ("SENT", 1, 200)
    assert stored.sent_at == T0


async def test_retried_after_500_with_backoff_under_one_key(
    database: str, receiver: Receiver, client: httpx.AsyncClient
) -> None:
    delivery = await _delivery(receiver.url)
    receiver.fail_next = 2

    first = await deliver_webhook(delivery.id, now=T0, client=client, policy=POLICY)
    assert (first.status, first.retry_at) == ("PENDING", T0 + dt.timedelta(seconds=10))
    stored = await m.WebhookDelivery.get(id=delivery.id)
    assert (stored.status, stored.last_status_code) == ("PENDING", 500)
    assert stored.last_error == "HTTP 500: nope"

    early = await deliver_webhook(
        delivery.id, now=T0 + dt.timedelta(seconds=5), client=client, policy=POLICY
    )
    assert early.status == "SKIPPED"
    second = await deliver_webhook(
        delivery.id, now=T0 + dt.timedelta(seconds=10), client=client, policy=POLICY
    )
    assert second.retry_at == T0 + dt.timedelta(seconds=30)  # 10 s, then 20 s
    # overdue for the sweep only after the grace period
    assert (
        await deliverable_webhook_ids(T0 + dt.timedelta(seconds=30), grace=dt.timedelta(seconds=60))
        == []
    )
    assert await deliverable_webhook_ids(
        T0 + dt.timedelta(seconds=91), grace=dt.timedelta(seconds=60)
    ) == [delivery.id]
    third = await deliver_webhook(
        delivery.id, now=T0 + dt.timedelta(seconds=30), client=client, policy=POLICY
    )
    assert third.status == "SENT"
    assert len(receiver.requests) == 3
    assert {r.headers[IDEMPOTENCY_HEADER] for r in receiver.requests} == {"7:notify:1"}
    assert len({r.body for r in receiver.requests}) == 1
    for request in receiver.requests:
        assert verify_signature(request.body, request.headers[SIGNATURE_HEADER], SECRET)
    assert (await m.WebhookDelivery.get(id=delivery.id)).attempts == 3


async def test_connection_refused_is_retried_then_fails(
    database: str, client: httpx.AsyncClient
) -> None:
    delivery = await _delivery(f"http://127.0.0.1:{free_port()}/hook")
    moment, outcomes = T0, []
    for _ in range(POLICY.max_attempts):
        outcome = await deliver_webhook(delivery.id, now=moment, client=client, policy=POLICY)
        outcomes.append(outcome.status)
        moment = outcome.retry_at or moment
    assert outcomes == ["PENDING", "PENDING", "FAILED"]
    stored = await m.WebhookDelivery.get(id=delivery.id)
    assert stored.status == "FAILED"
    assert "ConnectError" in (stored.last_error or "")
    assert (await deliver_webhook(delivery.id, now=moment, client=client)).status == "SKIPPED"


@pytest.mark.parametrize(("status", "retried"), [(400, False), (410, False), (429, True)])
async def test_client_errors_fail_at_once_except_408_429(
    database: str, receiver: Receiver, client: httpx.AsyncClient, status: int, retried: bool
) -> None:
    receiver.status = status
    delivery = await _delivery(receiver.url)
    outcome = await deliver_webhook(delivery.id, now=T0, client=client, policy=POLICY)
    assert outcome.status == ("PENDING" if retried else "FAILED")
    assert (await m.WebhookDelivery.get(id=delivery.id)).last_status_code == status


async def test_step_retry_policy_overrides_the_default(
    database: str, receiver: Receiver, client: httpx.AsyncClient
) -> None:
    receiver.status = 503
    delivery = await _delivery(
        receiver.url, retry={"attempts": 2, "backoff": "1m", "max_backoff": "1m"}
    )
    first = await deliver_webhook(delivery.id, now=T0, client=client, policy=POLICY)
    assert first.retry_at == T0 + dt.timedelta(minutes=1)
    second = await deliver_webhook(delivery.id, now=first.retry_at, client=client, policy=POLICY)
    assert second.status == "FAILED"


# ---- through workflows ------------------------------------------------------------------


def _workflow(key: str, url: str, *, handled: bool) -> str:
    on_failure = "    on_failure: [{add_tag: webhook-failed}]\n" if handled else ""
    return (
        f"key: {key}\n"
        "subject: customer\n"
        "trigger: {manual: true}\n"
        "steps:\n"
        "  - id: tell-crm\n"
        "    webhook:\n"
        f"      url: {url}/hooks/{key}\n"
        '      body: {customerId: "${ subject.id }", name: "${ subject.displayName }"}\n'
        "      headers: {X-Source: rapport}\n"
        "    retry: {attempts: 2, backoff: 1m, max_backoff: 1m}\n"
        f"{on_failure}"
        "  - id: later\n"
        "    wait: 1d\n"
    )


async def _customer(address: str) -> m.Customer:
    return await services.create_person(
        PersonInput(first_name="Lan", last_name="Trần", emails=[address], email_opt_in=True),
        actor="user:test",
    )


async def _start(key: str, customer: m.Customer) -> m.WorkflowRun:
    row = await m.Workflow.get(key=key)
    run = await enroll(row, "customer", customer.id, T0)
    assert run is not None
    return run


async def _fail_for_good(delivery: m.WebhookDelivery, client: httpx.AsyncClient) -> None:
    moment = T0
    first = await deliver_webhook(delivery.id, now=moment, client=client)
    assert first.status == "PENDING"
    assert first.retry_at == T0 + dt.timedelta(minutes=1)
    second = await deliver_webhook(delivery.id, now=first.retry_at, client=client)
    assert second.status == "FAILED"


async def test_permanent_failure_follows_on_failure_or_fails_the_run(
    database: str, receiver: Receiver, client: httpx.AsyncClient
) -> None:
    result = await deploy_texts(
        {
            "handled.yaml": _workflow("hook-handled", receiver.url, handled=True),
            "unhandled.yaml": _workflow("hook-unhandled", receiver.url, handled=False),
        },
        actor="user:test",
    )
    assert not result.problems, result.problems
    receiver.status = 500
    lan = await _customer("lan@khach.vn")
    handled = await _start("hook-handled", lan)
    unhandled = await _start("hook-unhandled", lan)
    assert (handled.state, unhandled.state) == ("WAITING", "WAITING")

    hook = await m.WebhookDelivery.get(run_id=handled.id)
    assert hook.step_id == "tell-crm"
    assert hook.idempotency_key == f"{handled.id}:tell-crm:1"
    assert hook.body == {"customerId": lan.id, "name": "Trần Lan"}
    await _fail_for_good(hook, client)
    handled = await m.WorkflowRun.get(id=handled.id)
    assert handled.state == "WAITING"  # on_failure ran, then the steps after the webhook
    assert "webhook-failed" in (await _tags(lan.id))
    outcomes = await m.WorkflowRunStep.filter(run_id=handled.id, step_id="tell-crm").values_list(
        "outcome", flat=True
    )
    assert "FAILED" in outcomes

    other = await m.WebhookDelivery.get(run_id=unhandled.id)
    await _fail_for_good(other, client)
    unhandled = await m.WorkflowRun.get(id=unhandled.id)
    assert unhandled.state == "FAILED"
    assert unhandled.ended_at is not None
    assert "tell-crm" in (unhandled.state_json.get("ended_reason") or "")

    # both runs got their webhook four times (two attempts each), same key within a run
    assert len(receiver.requests) == 4
    keys = [r.headers[IDEMPOTENCY_HEADER] for r in receiver.requests]
    assert keys.count(hook.idempotency_key) == 2
    assert all(r.headers["X-Source"] == "rapport" for r in receiver.requests)
    # a failure delivered again (a redelivered message) changes nothing
    assert (await deliver_webhook(other.id, now=T0 + dt.timedelta(hours=1))).status == "SKIPPED"


async def _tags(customer_id: int) -> list[str]:
    subject = await load_subject("customer", customer_id)
    assert subject is not None
    return list(subject.get("tags") or [])


async def test_failure_after_the_run_ended_is_recorded(
    database: str, receiver: Receiver, client: httpx.AsyncClient
) -> None:
    text = _workflow("hook-last", receiver.url, handled=True).split("  - id: later")[0]
    assert not (await deploy_texts({"last.yaml": text}, actor="user:test")).problems
    receiver.status = 500
    run = await _start("hook-last", await _customer("minh@khach.vn"))
    assert run.state == "COMPLETED"  # the webhook does not hold the run
    await _fail_for_good(await m.WebhookDelivery.get(run_id=run.id), client)
    assert (await m.WorkflowRun.get(id=run.id)).state == "COMPLETED"
    step = await m.WorkflowRunStep.get(run_id=run.id, step_id="tell-crm", outcome="FAILED")
    assert step.detail["after_run_ended"] is True


async def test_worker_enqueues_committed_webhooks_after_commit(
    database: str, receiver: Receiver
) -> None:
    assert not (
        await deploy_texts(
            {"wf.yaml": _workflow("hook-actor", receiver.url, handled=True)}, actor="user:test"
        )
    ).problems
    broker = StubBroker()
    broker.emit_after("process_boot")
    declared = actors.declare_actors(broker)
    row = await m.Workflow.get(key="hook-actor")
    run = await actors._with_outbox(enroll(row, "customer", (await _customer("a@b.vn")).id, T0))
    assert run is not None
    delivery = await m.WebhookDelivery.get(run_id=run.id)
    [message] = broker.queues[actors.QUEUE].queue  # type: ignore[attr-defined]
    decoded = Message.decode(message)
    assert decoded.actor_name == declared.deliver_webhook.actor_name
    assert list(decoded.args) == [delivery.id]
    # the actor itself posts it
    await actors._deliver_webhook(delivery.id)
    assert (await m.WebhookDelivery.get(id=delivery.id)).status == "SENT"
    assert len(receiver.requests) == 1
