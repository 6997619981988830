from __future__ import annotations

import pytest

from domain.customers.commands import Labeled, OrganizationInput, PersonInput, SourceInput
from domain.customers.services import (
    add_tags,
    create_organization,
    create_person,
    delete_customer,
    restore_customer,
    unsubscribe,
    update_person,
    upsert_organization,
    upsert_person,
)
from domain.errors import Conflict, ValidationFailed
from domain.persistence.models import AuditEntry, Customer, DomainEvent
from domain.staff.users import create_user

pytestmark = pytest.mark.usefixtures("db")


async def counts() -> tuple[int, int, int]:
    return (
        await Customer.all().count(),
        await AuditEntry.all().count(),
        await DomainEvent.all().count(),
    )


async def test_person_family_first_display_name_and_folds() -> None:
    person = await create_person(
        PersonInput(
            first_name="Văn An",
            last_name="Nguyễn",
            emails=["  An.Nguyen@Example.COM ", Labeled("an@home.vn", "home")],
            phones=["0912 345 678"],
            address={"city": "Hồ Chí Minh"},
            country="vn",
            timezone="Asia/Ho_Chi_Minh",
        ),
        actor="user:1",
    )
    assert person.display_name == "Nguyễn Văn An"
    assert person.display_name_fold == "nguyen van an"
    assert person.primary_email == "an.nguyen@example.com"
    assert [e["address"] for e in person.emails] == ["an.nguyen@example.com", "an@home.vn"]
    assert person.primary_phone == "+84912345678"
    assert person.country == "VN"
    assert person.city_fold == "ho chi minh"
    assert "nguyen van an" in person.search_text
    assert "84912345678" in person.search_text
    assert person.created_by == "user:1"


async def test_person_given_first_and_explicit_display_name() -> None:
    john = await create_person(
        PersonInput(first_name="John", last_name="Smith", name_order="GIVEN_FIRST"), actor="t"
    )
    assert john.display_name == "John Smith"
    named = await create_person(
        PersonInput(first_name="An", last_name="Lê", display_name="Anh Lê"), actor="t"
    )
    assert named.display_name == "Anh Lê"
    renamed = await update_person(named.id, PersonInput(first_name="Bình"), actor="t")
    assert renamed.display_name == "Anh Lê"  # explicit names survive renames


async def test_rename_rederives_display_name() -> None:
    person = await create_person(PersonInput(first_name="An", last_name="Trần"), actor="t")
    person = await update_person(person.id, PersonInput(first_name="Bình"), actor="user:2")
    assert person.display_name == "Trần Bình"
    assert person.updated_by == "user:2"
    entry = await AuditEntry.filter(target_id=person.id, action="person.update").get()
    assert entry.changes["first_name"] == ["An", "Bình"]
    event = await DomainEvent.filter(subject_id=person.id, type="customer.updated").get()
    assert event.payload["changes"]["display_name"] == ["Trần An", "Trần Bình"]


@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        (PersonInput(first_name="A", emails=["ok@x.vn", "nope"]), "emails[1]", "INVALID_EMAIL"),
        (PersonInput(first_name="A", phones=["12"]), "phones[0]", "INVALID_PHONE"),
        (PersonInput(first_name="A", country="XX"), "country", "INVALID_COUNTRY"),
        (PersonInput(first_name="A", timezone="Mars/Base"), "timezone", "INVALID_TIMEZONE"),
        (PersonInput(first_name="A", lifecycle_stage="HOT"), "lifecycleStage", "INVALID_KIND"),
        (PersonInput(first_name="A", tags=["ok", "!!"]), "tags[1]", "INVALID_TAG"),
        (PersonInput(first_name="A", owner_id=999), "ownerId", "NOT_FOUND"),
        (PersonInput(first_name="A", attributes={"x": 1}), "attributes.x", "UNKNOWN_ATTRIBUTE"),
        (PersonInput(), "firstName", "REQUIRED"),
    ],
)
async def test_invalid_person_input_writes_nothing(
    data: PersonInput, field: str, code: str
) -> None:
    before = await counts()
    with pytest.raises(ValidationFailed) as error:
        await create_person(data, actor="t")
    assert (error.value.field, error.value.code) == (field, code)
    assert await counts() == before


async def test_person_organization_must_be_an_organization() -> None:
    other = await create_person(PersonInput(first_name="A"), actor="t")
    with pytest.raises(ValidationFailed) as error:
        await create_person(PersonInput(first_name="B", organization_id=other.id), actor="t")
    assert error.value.code == "INVALID_KIND"


async def test_owner_must_be_active() -> None:
    user = await create_user(name="Bob", email="bob@crm.vn", role="SALES", actor="t")
    user.active = False
    await user.save()
    with pytest.raises(ValidationFailed) as error:
        await create_person(PersonInput(first_name="A", owner_id=user.id), actor="t")
    assert error.value.code == "INACTIVE"


async def test_domain_normalized_and_unique_even_when_deleted() -> None:
    org = await create_organization(
        OrganizationInput(display_name="Acme", domain="https://www.ACME.vn/about"), actor="t"
    )
    assert org.domain == "acme.vn"
    with pytest.raises(Conflict) as error:
        await create_organization(OrganizationInput(display_name="X", domain="acme.vn"), actor="t")
    assert error.value.existing_id == org.id
    await delete_customer(org.id, actor="t")
    with pytest.raises(Conflict) as error:
        await create_organization(OrganizationInput(display_name="X", domain="acme.vn"), actor="t")
    assert "restore" in error.value.message
    restored = await restore_customer(org.id, actor="t")
    assert restored.deleted_at is None
    types = await DomainEvent.filter(subject_id=org.id).values_list("type", flat=True)
    assert {"customer.deleted", "customer.restored"} <= set(types)


async def test_parent_cycle_rejected() -> None:
    from domain.customers.services import update_organization

    a = await create_organization(OrganizationInput(display_name="A"), actor="t")
    b = await create_organization(OrganizationInput(display_name="B", parent_id=a.id), actor="t")
    with pytest.raises(ValidationFailed) as error:
        await update_organization(a.id, OrganizationInput(parent_id=b.id), actor="t")
    assert error.value.code == "CYCLE"


async def test_upsert_person_matches_primary_email_case_insensitively() -> None:
    first, created = await upsert_person(
        PersonInput(first_name="An", emails=["An@X.vn"]), actor="t"
    )
    assert created
    again, created = await upsert_person(
        PersonInput(job_title="CEO", emails=["an@x.VN"]), actor="t"
    )
    assert not created
    assert again.id == first.id
    assert again.job_title == "CEO"


async def test_upsert_organization_matches_domain() -> None:
    org, created = await upsert_organization(
        OrganizationInput(display_name="Acme", domain="acme.vn"), actor="t"
    )
    assert created
    same, created = await upsert_organization(
        OrganizationInput(industry="Retail", domain="WWW.acme.vn"), actor="t"
    )
    assert (same.id, created, same.industry_fold) == (org.id, False, "retail")


async def test_lifecycle_tags_and_unsubscribe_events() -> None:
    person = await create_person(
        PersonInput(
            first_name="A",
            email_opt_in=True,
            sms_opt_in=True,
            source=SourceInput(channel="web", utm={"utm_source": "fb"}),
        ),
        actor="t",
    )
    await update_person(person.id, PersonInput(lifecycle_stage="mql"), actor="t")
    await add_tags(person.id, ["VIP Khách"], actor="t")
    person = await unsubscribe(person.id, actor="t")
    assert person.unsubscribed_at is not None
    assert not person.email_opt_in
    assert not person.sms_opt_in
    assert person.tags == "|vip-khach|"
    types = await DomainEvent.filter(subject_id=person.id).values_list("type", flat=True)
    assert {"customer.stage_changed", "customer.tag_added", "customer.unsubscribed"} <= set(types)
