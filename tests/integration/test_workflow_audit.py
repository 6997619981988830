"""Starting a run is audited like every other workflow action: by hand under the person who
enrolled (a trigger's under the system, see test_handover), its steps under the run and step."""

from __future__ import annotations

import datetime as dt

from domain.customers import services
from domain.customers.commands import PersonInput
from domain.persistence import models as m
from workflows.runtime.admin import enroll_manually
from workflows.runtime.deploy import deploy_texts

NOW = dt.datetime(2026, 12, 7, 3, 0, tzinfo=dt.UTC)
VIP = """key: vip
subject: customer
trigger: {manual: true}
steps:
  - id: tag
    add_tag: vip
"""


async def test_enrollment_and_steps_are_audited_with_who_and_why(database: str) -> None:
    await deploy_texts({"vip.yaml": VIP}, actor="user:7")
    lan = await services.create_person(PersonInput(first_name="Lan"), actor="user:7")
    run = await enroll_manually("vip", "customer", lan.id, actor="user:7", now=NOW)
    [started] = await m.AuditEntry.filter(action="workflow.enroll")
    assert (started.actor, started.target_type, started.target_id) == (
        "user:7",
        "WorkflowRun",
        run.id,
    )
    assert started.changes == {
        "workflow": [None, "vip"],
        "subject": [None, f"customer:{lan.id}"],
        "trigger": [None, "manual"],
    }
    [tagged] = await m.AuditEntry.filter(target_type="Customer", action="person.update")
    assert tagged.actor == f"workflow:run:{run.id}:step:tag"
    assert tagged.changes["tags"] == [[], ["vip"]]
