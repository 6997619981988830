"""End to end with real processes (the API, ``crm worker``, ``crm scheduler``, Redis, SMTP):
a renewal reminder's timer moves when the renewal date is changed over GraphQL, and fires at
the new time, not the old one. Time moves through ``RAPPORT_CLOCK_FILE``
(:mod:`workflows.runtime.clock`), shared by every process."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx
import pytest

from domain.customers.attributes import create_attribute_definition
from domain.persistence import models as m
from tests.integration.runtime.conftest import Mailbox
from tests.integration.runtime.test_e2e_welcome import (  # noqa: F401 (fixtures)
    SharedClock,
    _next_monday_ten,
    _wait_for,
    clock,
    processes,
)
from workflows.runtime.dates import timer_key
from workflows.runtime.deploy import deploy_texts

ICT = dt.timezone(dt.timedelta(hours=7))
FLOW = """\
key: renewal-reminder
trigger:
  date: {field: subject.attributes.renewal_date, offset: -7d, at: "10:00"}
steps:
  - {id: remind, send_email: {template: renewal-soon, to: subject}}
"""
TEMPLATES = """\
templates:
  renewal-soon: {subject: "Gia hạn sắp tới", text: "Còn 7 ngày"}
"""
CREATE = """mutation($date: String!) { createPerson(input: {firstName: "Lan",
  emails: [{address: "lan@khach.vn"}], emailOptIn: true, attributes: {renewal_date: $date}}) {
  ... on PersonSuccess { person { id } } } }"""
RENEW = """mutation($id: ID!, $date: String!) {
  updatePerson(input: {id: $id, patch: {attributes: {renewal_date: $date}}}) { __typename } }"""


@pytest.mark.slow
async def test_a_moved_renewal_date_moves_the_reminder(
    processes: str,  # noqa: F811
    mailbox: Mailbox,
    clock: SharedClock,  # noqa: F811
) -> None:
    monday = _next_monday_ten()
    await create_attribute_definition(
        entity="CUSTOMER", key="renewal_date", label="Renewal", type="DATE", actor="user:test"
    )
    deployed = await deploy_texts(
        {"renewal.yaml": FLOW, "templates.yaml": TEMPLATES}, actor="user:test", now=monday
    )
    assert deployed.problems == []
    first, moved = monday.date() + dt.timedelta(days=10), monday.date() + dt.timedelta(days=20)
    async with httpx.AsyncClient(base_url=processes, timeout=10) as client:
        created = await client.post(
            "/graphql", json={"query": CREATE, "variables": {"date": first.isoformat()}}
        )
        person_id = created.json()["data"]["createPerson"]["person"]["id"]
        customer = await m.Customer.get(primary_email="lan@khach.vn")
        key = timer_key("renewal-reminder", "customer", customer.id)

        def due(day: dt.date) -> dt.datetime:
            return dt.datetime.combine(day - dt.timedelta(days=7), dt.time(10), tzinfo=ICT)

        async def armed_at(moment: dt.datetime) -> bool:
            timer = await m.Timer.filter(key=key, status="PENDING").first()
            return timer is not None and timer.due_at == moment

        await _wait_for(lambda: armed_at(due(first)))
        renewed = await client.post(
            "/graphql",
            json={"query": RENEW, "variables": {"id": person_id, "date": moved.isoformat()}},
        )
        assert renewed.json()["data"]["updatePerson"]["__typename"] == "PersonSuccess"
        await _wait_for(lambda: armed_at(due(moved)))
    assert await m.Timer.filter(key=key, status="PENDING").count() == 1

    clock.set(due(first) + dt.timedelta(minutes=1))  # the old time: nothing
    await asyncio.sleep(1.5)
    assert mailbox.messages == []
    clock.set(due(moved) + dt.timedelta(minutes=1))  # the new time: the reminder

    async def reminded() -> bool:
        return len(mailbox.messages) >= 1

    await _wait_for(reminded)
    await asyncio.sleep(0.5)
    assert [str(msg["Subject"]) for msg in mailbox.messages] == ["Gia hạn sắp tới"]
    assert (await m.WorkflowRun.get(subject_id=customer.id)).state == "COMPLETED"
