from __future__ import annotations

import pytest

from domain.customers.commands import OrganizationInput, PersonInput
from domain.customers.importing import MAX_IMPORT_ROWS, import_customers
from domain.customers.services import create_organization, create_person, delete_customer
from domain.errors import ValidationFailed
from domain.persistence.models import AuditEntry, Customer, DomainEvent

pytestmark = pytest.mark.usefixtures("db")


async def test_mixed_rows_give_per_row_results_and_write_only_valid_ones() -> None:
    existing = await create_person(PersonInput(first_name="Old", emails=["old@x.vn"]), actor="t")
    acme = await create_organization(
        OrganizationInput(display_name="Acme", domain="acme.vn"), actor="t"
    )
    before = await Customer.all().count()
    rows = [
        {"kind": "PERSON", "first_name": "An", "last_name": "Nguyễn", "emails": ["an@x.vn"]},
        {"kind": "PERSON", "first_name": "Bad", "emails": ["not-an-email"]},
        {"kind": "PERSON", "job_title": "CEO", "emails": ["OLD@x.vn"], "organization_id": acme.id},
        {"kind": "ROBOT", "first_name": "R"},
        {"kind": "ORGANIZATION", "display_name": "Beta", "domain": "https://beta.vn"},
        {"kind": "ORGANIZATION", "industry": "Retail", "domain": "acme.vn"},
        {"kind": "PERSON", "first_name": "X", "shoe_size": 42},
        {"kind": "PERSON", "first_name": "An", "phones": ["0912345678"], "emails": ["an@x.vn"]},
        PersonInput(first_name="Typed", tags=["import"], owner_id=12345),
    ]
    results = await import_customers(rows, actor="import:batch-1")

    assert [r.status for r in results] == [
        "CREATED",
        "REJECTED",
        "UPDATED",
        "REJECTED",
        "CREATED",
        "UPDATED",
        "REJECTED",
        "UPDATED",
        "REJECTED",
    ]
    assert [(e.field, e.code) for e in results[1].errors] == [("emails[0]", "INVALID_EMAIL")]
    assert results[3].errors[0].code == "INVALID_KIND"
    assert results[6].errors[0].field == "shoe_size"
    assert results[8].errors[0].field == "ownerId"
    assert results[2].customer_id == existing.id
    assert results[5].customer_id == acme.id
    assert results[7].customer_id == results[0].customer_id
    assert await Customer.all().count() == before + 2

    an = await Customer.get(id=results[0].customer_id)
    assert (an.display_name, an.primary_phone, an.created_by) == (
        "Nguyễn An",
        "+84912345678",
        "import:batch-1",
    )
    assert an.search_text == "nguyen an an@x.vn 84912345678"
    beta = await Customer.get(id=results[4].customer_id)
    assert (beta.domain, beta.display_name_fold) == ("beta.vn", "beta")
    old = await Customer.get(id=existing.id)
    assert (old.job_title, old.organization_id, old.updated_by) == (
        "CEO",
        acme.id,
        "import:batch-1",
    )
    assert (await Customer.get(id=acme.id)).industry_fold == "retail"
    created_events = await DomainEvent.filter(type="customer.created", actor="import:batch-1")
    assert {e.subject_id for e in created_events} == {results[0].customer_id, beta.id}
    assert await AuditEntry.filter(actor="import:batch-1").count() == 5


async def test_deleted_domain_is_rejected_with_conflict() -> None:
    org = await create_organization(OrganizationInput(display_name="A", domain="a.vn"), actor="t")
    await delete_customer(org.id, actor="t")
    [result] = await import_customers(
        [OrganizationInput(display_name="A2", domain="a.vn")], actor="t"
    )
    assert (result.status, result.errors[0].code) == ("REJECTED", "CONFLICT")


async def test_too_many_rows() -> None:
    with pytest.raises(ValidationFailed) as error:
        await import_customers([PersonInput(first_name="x")] * (MAX_IMPORT_ROWS + 1), actor="t")
    assert error.value.code == "OUT_OF_RANGE"


async def test_ten_thousand_rows_in_one_call() -> None:
    # Correctness only; how long it takes is a benchmark's business (about 4 s here).
    rows = [
        PersonInput(first_name=f"Khách {i}", last_name="Trần", emails=[f"k{i}@example.vn"])
        for i in range(MAX_IMPORT_ROWS)
    ]
    results = await import_customers(rows, actor="import:big")
    assert all(r.status == "CREATED" for r in results)
    assert len({r.customer_id for r in results}) == MAX_IMPORT_ROWS
    again = await import_customers(
        [PersonInput(job_title="Dev", emails=[f"K{i}@example.vn"]) for i in range(2000)],
        actor="import:big",
    )
    assert all(r.status == "UPDATED" for r in again)
    assert await Customer.filter(job_title="Dev").count() == 2000
