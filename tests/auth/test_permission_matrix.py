"""Every role against every query and mutation, over HTTP, expecting what the documented matrix
says (docs/permissions.md is rendered from the same data and checked against it).

Documents are generated from the schema: each root field with placeholder values for its
required arguments. "Allowed" means the request got past the permission layer (a placeholder
may still be invalid or missing: a ValidationError or NotFoundError is an allowed answer);
"denied" means PERMISSION_DENIED and nothing else.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    get_named_type,
)
from graphql.pyutils import Undefined

from domain.identity.passwords import hash_password
from domain.identity.permissions import ROLES, role_allows
from domain.staff.users import create_user
from gql.ids import encode_id
from gql.permissions import PUBLIC_FIELDS, ROOTS
from gql.schema import schema
from tests.auth.helpers import login, post

PASSWORD = "matrix-password-1"
SCALARS = {
    "String": '"x"',
    "ID": json.dumps(encode_id("Person", 999_999)),
    "Int": "1",
    "Float": "1.0",
    "Boolean": "false",
    "DateTime": '"2030-01-01T00:00:00+00:00"',
    "Date": '"2030-01-01"',
    "Decimal": '"1"',
    "JSON": "{}",
}
#: Run last: it ends the session the other requests use.
LAST = ("logout",)


def _literal(graphql_type: Any) -> str:
    if isinstance(graphql_type, GraphQLNonNull):
        return _literal(graphql_type.of_type)
    if isinstance(graphql_type, GraphQLList):
        return f"[{_literal(graphql_type.of_type)}]"
    if isinstance(graphql_type, GraphQLEnumType):
        return next(iter(graphql_type.values))
    if isinstance(graphql_type, GraphQLInputObjectType):
        required = [
            f"{name}: {_literal(field.type)}"
            for name, field in graphql_type.fields.items()
            if isinstance(field.type, GraphQLNonNull) and field.default_value is Undefined
        ]
        return "{" + ", ".join(required) + "}"
    assert isinstance(graphql_type, GraphQLScalarType), graphql_type
    return SCALARS[graphql_type.name]


def _document(root: str, name: str, field: GraphQLField) -> str:
    arguments = [
        f"{arg_name}: {_literal(arg.type)}"
        for arg_name, arg in field.args.items()
        if isinstance(arg.type, GraphQLNonNull) and arg.default_value is Undefined
    ]
    call = f"{name}({', '.join(arguments)})" if arguments else name
    returned = get_named_type(field.type)
    selection = (
        "" if isinstance(returned, GraphQLScalarType | GraphQLEnumType) else " { __typename }"
    )
    keyword = "query" if root == "Query" else "mutation"
    return f"{keyword} {{ {call}{selection} }}"


def _operations() -> list[tuple[str, str, str]]:
    found = []
    for root in ("Query", "Mutation"):
        graphql_type = schema._schema.type_map[root]
        assert isinstance(graphql_type, GraphQLObjectType)
        for name, field in graphql_type.fields.items():
            found.append((root, name, _document(root, name, field)))
    return sorted(found, key=lambda op: (op[1] in LAST, op[0], op[1]))


def expected_allowed(role: str, root: str, name: str) -> bool:
    if name in PUBLIC_FIELDS:
        return True
    return all(role_allows(role, op, resource) for op, resource in ROOTS[root][name])


def _denied(body: dict[str, Any], name: str) -> bool:
    codes = {
        error.get("extensions", {}).get("code")
        for error in body.get("errors") or ()
        if (error.get("path") or [name])[0] == name
    }
    data = (body.get("data") or {}).get(name)
    typename = data.get("__typename") if isinstance(data, dict) else None
    return "PERMISSION_DENIED" in codes or typename == "PermissionDeniedError"


@pytest.mark.parametrize("role", ROLES)
async def test_each_role_gets_exactly_what_the_matrix_grants(
    api: httpx.AsyncClient, role: str
) -> None:
    email = f"{role.lower()}@matrix.rapport.vn"
    await create_user(
        name=f"{role} tester",
        email=email,
        role=role,
        password_hash=hash_password(PASSWORD),
        actor="test",
    )
    token = (await login(api, email, PASSWORD))["accessToken"]
    mismatches = []
    operations = _operations()
    assert len(operations) > 50
    for root, name, document in operations:
        response = await post(api, document, token=token)
        assert response.status_code == 200, (name, response.status_code, response.text)
        body = response.json()
        internal = [
            e for e in body.get("errors") or () if e.get("extensions", {}).get("code") == "INTERNAL"
        ]
        assert not internal, (name, document, internal)
        allowed = not _denied(body, name)
        if allowed != expected_allowed(role, root, name):
            mismatches.append((root, name, "allowed" if allowed else "denied", body))
    assert not mismatches, mismatches


async def test_the_matrix_denies_something_to_every_role_but_admin() -> None:
    for role in ROLES:
        denied = [name for root, name, _ in _operations() if not expected_allowed(role, root, name)]
        assert bool(denied) == (role != "ADMIN"), (role, denied)
