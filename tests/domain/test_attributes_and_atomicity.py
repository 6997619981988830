from __future__ import annotations

from typing import Any

import pytest

import domain.customers.services as services
from domain.customers.attributes import create_attribute_definition
from domain.customers.commands import PersonInput
from domain.customers.services import create_person, update_person
from domain.errors import Conflict, ValidationFailed
from domain.persistence.models import AuditEntry, Customer, DomainEvent

pytestmark = pytest.mark.usefixtures("db")


async def define_all() -> None:
    for key, kind in (
        ("nickname", "STRING"),
        ("score", "NUMBER"),
        ("vip", "BOOLEAN"),
        ("birthday", "DATE"),
    ):
        await create_attribute_definition(entity="PERSON", key=key, label=key, type=kind, actor="t")
    await create_attribute_definition(
        entity="CUSTOMER",
        key="segment",
        label="Segment",
        type="CHOICE",
        choices=["Bán lẻ", "Doanh nghiệp"],
        actor="t",
    )


async def test_typed_attributes_are_coerced_and_merged() -> None:
    await define_all()
    person = await create_person(
        PersonInput(
            first_name="A",
            attributes={
                "nickname": "Bé",
                "score": "12",
                "vip": "true",
                "birthday": "1990-05-01",
                "segment": "ban le",
            },
        ),
        actor="t",
    )
    assert person.attributes == {
        "nickname": "Bé",
        "score": 12,
        "vip": True,
        "birthday": "1990-05-01",
        "segment": "Bán lẻ",
    }
    person = await update_person(
        person.id, PersonInput(attributes={"nickname": None, "score": 3.5}), actor="t"
    )
    assert person.attributes == {
        "score": 3.5,
        "vip": True,
        "birthday": "1990-05-01",
        "segment": "Bán lẻ",
    }


@pytest.mark.parametrize(
    ("attributes", "code"),
    [
        ({"score": "many"}, "INVALID_TYPE"),
        ({"vip": "yes"}, "INVALID_TYPE"),
        ({"birthday": "01/05/1990"}, "INVALID_TYPE"),
        ({"segment": "Khác"}, "INVALID_CHOICE"),
        ({"nickname": 5}, "INVALID_TYPE"),
    ],
)
async def test_invalid_attribute_values(attributes: dict[str, Any], code: str) -> None:
    await define_all()
    with pytest.raises(ValidationFailed) as error:
        await create_person(PersonInput(first_name="A", attributes=attributes), actor="t")
    assert error.value.code == code
    assert error.value.field == f"attributes.{next(iter(attributes))}"


async def test_attribute_definition_rules() -> None:
    with pytest.raises(ValidationFailed):
        await create_attribute_definition(
            entity="PERSON", key="Bad Key", label="x", type="STRING", actor="t"
        )
    with pytest.raises(ValidationFailed):
        await create_attribute_definition(
            entity="PERSON", key="c", label="x", type="CHOICE", actor="t"
        )
    await create_attribute_definition(entity="PERSON", key="k", label="x", type="STRING", actor="t")
    with pytest.raises(Conflict):
        await create_attribute_definition(
            entity="PERSON", key="k", label="x", type="STRING", actor="t"
        )


async def test_change_audit_and_event_commit_or_roll_back_together(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def failing_record_many(*args: object, **kwargs: object) -> None:
        await AuditEntry.create(actor="t", action="partial", target_type="Customer", target_id=0)
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr(services, "record_many", failing_record_many)
    with pytest.raises(RuntimeError):
        await create_person(PersonInput(first_name="A"), actor="t")
    assert await Customer.all().count() == 0
    assert await AuditEntry.all().count() == 0
    monkeypatch.undo()

    person = await create_person(PersonInput(first_name="A"), actor="t")
    audit = await AuditEntry.get(target_id=person.id, action="person.create")
    event = await DomainEvent.get(subject_id=person.id, type="customer.created")
    assert audit.changes["display_name"] == [None, "A"]
    assert event.payload["changes"]["first_name"] == [None, "A"]
    assert event.actor == "t"
