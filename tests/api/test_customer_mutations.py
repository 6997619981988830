"""Customer mutations over HTTP: success types, typed errors, and nothing written on failure."""

from __future__ import annotations

import httpx

from domain.persistence import models as m
from tests.helpers import gql

PERSON_RESULT = """
  __typename
  ... on PersonSuccess { created person { id displayName firstName lastName primaryEmail
      primaryPhone phones { number } emails { address primary } tags lifecycleStage
      organization { displayName } createdBy { kind } } }
  ... on ValidationError { field code message }
  ... on NotFoundError { code message }
  ... on ConflictError { field code existingId message }
"""
CREATE_PERSON = (
    f"mutation($input: PersonInput!) {{ createPerson(input: $input) {{ {PERSON_RESULT} }} }}"
)
UPSERT_PERSON = (
    f"mutation($input: PersonInput!) {{ upsertPerson(input: $input) {{ {PERSON_RESULT} }} }}"
)
UPDATE_PERSON = (
    f"mutation($input: UpdatePersonInput!) {{ updatePerson(input: $input) {{ {PERSON_RESULT} }} }}"
)
ORG_RESULT = """
  __typename
  ... on OrganizationSuccess { created organization { id displayName domain industry } }
  ... on ValidationError { field code }
  ... on ConflictError { field code existingId }
"""
CREATE_ORG = (
    "mutation($input: OrganizationInput!) "
    f"{{ createOrganization(input: $input) {{ {ORG_RESULT} }} }}"
)
UPSERT_ORG = (
    "mutation($input: OrganizationInput!) "
    f"{{ upsertOrganization(input: $input) {{ {ORG_RESULT} }} }}"
)


async def _counts() -> tuple[int, int, int]:
    return (
        await m.Customer.all().count(),
        await m.AuditEntry.all().count(),
        await m.DomainEvent.all().count(),
    )


async def test_create_person_normalizes_contact_data(api: httpx.AsyncClient) -> None:
    body = await gql(
        api,
        CREATE_PERSON,
        {
            "input": {
                "firstName": "Văn An",
                "lastName": "Nguyễn",
                "emails": [{"address": " An.Nguyen@Example.VN "}, {"address": "an@home.vn"}],
                "phones": [{"number": "0912 345 678"}],
                "tags": ["VIP", "Hà Nội"],
            }
        },
    )
    result = body["data"]["createPerson"]
    assert result["__typename"] == "PersonSuccess"
    person = result["person"]
    assert person["displayName"] == "Nguyễn Văn An"
    assert person["primaryEmail"] == "an.nguyen@example.vn"
    assert person["primaryPhone"] == "+84912345678"
    assert [e["primary"] for e in person["emails"]] == [True, False]
    assert sorted(person["tags"]) == ["ha-noi", "vip"]
    assert person["lifecycleStage"] == "LEAD"
    assert person["createdBy"]["kind"] == "api"


async def test_invalid_email_is_a_validation_error_and_writes_nothing(
    api: httpx.AsyncClient,
) -> None:
    before = await _counts()
    body = await gql(
        api,
        CREATE_PERSON,
        {
            "input": {
                "firstName": "Bình",
                "emails": [{"address": "not-an-email"}],
            }
        },
    )
    result = body["data"]["createPerson"]
    assert result["__typename"] == "ValidationError"
    assert result["code"] == "INVALID_EMAIL"
    assert result["field"].startswith("emails")
    assert await _counts() == before


async def test_invalid_phone_is_a_validation_error(api: httpx.AsyncClient) -> None:
    body = await gql(
        api, CREATE_PERSON, {"input": {"firstName": "C", "phones": [{"number": "12"}]}}
    )
    result = body["data"]["createPerson"]
    assert (result["__typename"], result["code"]) == ("ValidationError", "INVALID_PHONE")
    assert await m.Customer.all().count() == 0


async def test_duplicate_domain_is_a_conflict_pointing_at_the_holder(
    api: httpx.AsyncClient,
) -> None:
    first = await gql(
        api,
        CREATE_ORG,
        {"input": {"displayName": "Sao Việt", "domain": "https://www.SaoViet.vn/about"}},
    )
    created = first["data"]["createOrganization"]
    assert created["organization"]["domain"] == "saoviet.vn"
    before = await _counts()
    second = await gql(api, CREATE_ORG, {"input": {"displayName": "Copy", "domain": "saoviet.vn"}})
    conflict = second["data"]["createOrganization"]
    assert conflict["__typename"] == "ConflictError"
    assert conflict["field"] == "domain"
    assert conflict["existingId"] == created["organization"]["id"]
    assert await _counts() == before


async def test_upsert_person_matches_primary_email_case_insensitively(
    api: httpx.AsyncClient,
) -> None:
    one = await gql(
        api,
        UPSERT_PERSON,
        {"input": {"firstName": "Hoa", "lastName": "Trần", "emails": [{"address": "hoa@sao.vn"}]}},
    )
    two = await gql(
        api, UPSERT_PERSON, {"input": {"jobTitle": "CEO", "emails": [{"address": "HOA@sao.vn"}]}}
    )
    a, b = one["data"]["upsertPerson"], two["data"]["upsertPerson"]
    assert (a["created"], b["created"]) == (True, False)
    assert a["person"]["id"] == b["person"]["id"]
    assert b["person"]["displayName"] == "Trần Hoa"
    assert await m.Customer.all().count() == 1


async def test_upsert_organization_matches_domain(api: httpx.AsyncClient) -> None:
    one = await gql(
        api, UPSERT_ORG, {"input": {"displayName": "Minh Phát", "domain": "minhphat.vn"}}
    )
    two = await gql(api, UPSERT_ORG, {"input": {"industry": "Software", "domain": "MINHPHAT.vn"}})
    a, b = one["data"]["upsertOrganization"], two["data"]["upsertOrganization"]
    assert (a["created"], b["created"]) == (True, False)
    assert b["organization"]["industry"] == "Software"
    assert b["organization"]["displayName"] == "Minh Phát"


async def test_update_person_with_unknown_or_wrong_type_id(api: httpx.AsyncClient) -> None:
    org = await gql(api, CREATE_ORG, {"input": {"displayName": "X", "domain": "x.vn"}})
    org_id = org["data"]["createOrganization"]["organization"]["id"]
    wrong_type = await gql(
        api, UPDATE_PERSON, {"input": {"id": org_id, "patch": {"jobTitle": "a"}}}
    )
    assert wrong_type["data"]["updatePerson"]["__typename"] == "ValidationError"
    assert wrong_type["data"]["updatePerson"]["code"] == "WRONG_ID_TYPE"
    missing = await gql(
        api, UPDATE_PERSON, {"input": {"id": "UGVyc29uOjk5OTk=", "patch": {"jobTitle": "a"}}}
    )
    assert missing["data"]["updatePerson"]["__typename"] == "NotFoundError"
    garbage = await gql(api, UPDATE_PERSON, {"input": {"id": "%%%", "patch": {"jobTitle": "a"}}})
    assert garbage["data"]["updatePerson"]["code"] == "INVALID_ID"


async def test_person_joins_an_organization_and_update_keeps_other_fields(
    api: httpx.AsyncClient,
) -> None:
    org = await gql(api, CREATE_ORG, {"input": {"displayName": "Bán Lẻ ABC", "domain": "abc.vn"}})
    org_id = org["data"]["createOrganization"]["organization"]["id"]
    person = await gql(
        api,
        CREATE_PERSON,
        {"input": {"firstName": "Lan", "lastName": "Phạm", "emails": [{"address": "lan@abc.vn"}]}},
    )
    pid = person["data"]["createPerson"]["person"]["id"]
    updated = await gql(
        api, UPDATE_PERSON, {"input": {"id": pid, "patch": {"organizationId": org_id}}}
    )
    result = updated["data"]["updatePerson"]["person"]
    assert result["organization"]["displayName"] == "Bán Lẻ ABC"
    assert result["primaryEmail"] == "lan@abc.vn"
    as_employer = await gql(
        api, UPDATE_PERSON, {"input": {"id": pid, "patch": {"organizationId": pid}}}
    )
    assert as_employer["data"]["updatePerson"]["__typename"] == "ValidationError"


async def test_delete_and_restore_customer(api: httpx.AsyncClient) -> None:
    person = await gql(api, CREATE_PERSON, {"input": {"firstName": "Tú"}})
    pid = person["data"]["createPerson"]["person"]["id"]
    mutation = """mutation($id: ID!) { deleteCustomer(input: {id: $id}) {
        __typename ... on CustomerSuccess { customer { id deletedAt } } } }"""
    deleted = await gql(api, mutation, {"id": pid})
    assert deleted["data"]["deleteCustomer"]["customer"]["deletedAt"] is not None
    listed = await gql(api, f'{{ customers {{ totalCount }} node_: node(id: "{pid}") {{ id }} }}')
    assert listed["data"]["customers"]["totalCount"] == 0
    assert listed["data"]["node_"] is None
    with_deleted = await gql(api, "{ customers(includeDeleted: true) { totalCount } }")
    assert with_deleted["data"]["customers"]["totalCount"] == 1
    restore = """mutation($id: ID!) { restoreCustomer(input: {id: $id}) {
        __typename ... on CustomerSuccess { customer { deletedAt } } } }"""
    restored = await gql(api, restore, {"id": pid})
    assert restored["data"]["restoreCustomer"]["customer"]["deletedAt"] is None
    again = await gql(api, "{ customers { totalCount } }")
    assert again["data"]["customers"]["totalCount"] == 1


async def test_wrong_scalar_type_is_a_graphql_validation_error(api: httpx.AsyncClient) -> None:
    body = await gql(
        api, CREATE_PERSON, {"input": {"firstName": 12, "tags": "vip"}}, expect_errors=True
    )
    assert body.get("data") is None
    assert await m.Customer.all().count() == 0


DEFINE = """mutation($input: DefineAttributeInput!) { defineAttribute(input: $input) {
    __typename ... on AttributeDefinitionSuccess { definition { key type choices } }
    ... on ValidationError { field code } ... on ConflictError { field code } } }"""


async def test_typed_custom_attributes(api: httpx.AsyncClient) -> None:
    tier = {
        "entity": "CUSTOMER",
        "key": "tier",
        "label": "Hạng",
        "type": "CHOICE",
        "choices": ["gold", "silver"],
    }
    defined = await gql(api, DEFINE, {"input": tier})
    assert defined["data"]["defineAttribute"]["definition"]["choices"] == ["gold", "silver"]
    again = await gql(api, DEFINE, {"input": tier})
    assert again["data"]["defineAttribute"]["__typename"] == "ConflictError"
    await gql(
        api,
        DEFINE,
        {"input": {"entity": "PERSON", "key": "birthday", "label": "Sinh nhật", "type": "DATE"}},
    )
    listed = await gql(api, "{ attributeDefinitions { key } }")
    assert [d["key"] for d in listed["data"]["attributeDefinitions"]] == ["tier", "birthday"]

    ok = await gql(
        api,
        CREATE_PERSON,
        {"input": {"firstName": "Vy", "attributes": {"tier": "gold", "birthday": "1990-02-03"}}},
    )
    assert ok["data"]["createPerson"]["__typename"] == "PersonSuccess"
    for bad in ({"tier": "platinum"}, {"birthday": "someday"}, {"shoe": 42}):
        before = await m.Customer.all().count()
        body = await gql(api, CREATE_PERSON, {"input": {"firstName": "Vy", "attributes": bad}})
        result = body["data"]["createPerson"]
        assert result["__typename"] == "ValidationError", bad
        assert result["field"].startswith("attributes"), result
        assert await m.Customer.all().count() == before
