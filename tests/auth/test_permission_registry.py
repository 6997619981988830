"""The permission data, its documentation and the schema agree: every root field is declared,
no declaration is stale, docs/permissions.md is what the data renders, and an undeclared field
stops the schema from building."""

from __future__ import annotations

from pathlib import Path

import pytest
import strawberry

from domain.identity.permissions import MATRIX, RESOURCES, ROLES, role_allows
from gql.permissions import ROOTS, UndeclaredPermission, install_permissions
from gql.permissions_doc import render_permissions
from gql.schema import schema

DOC = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"


def test_docs_permissions_md_is_rendered_from_the_data() -> None:
    assert DOC.read_text(encoding="utf-8") == render_permissions(), (
        "docs/permissions.md is out of date: run `crm export-permissions docs/permissions.md`"
    )


@pytest.mark.parametrize("root", sorted(ROOTS))
def test_every_root_field_is_declared_and_no_declaration_is_stale(root: str) -> None:
    graphql_type = schema._schema.type_map.get(root)
    fields = set(getattr(graphql_type, "fields", {}) or {})
    assert fields == set(ROOTS[root])


def test_matrix_names_only_known_roles_resources_and_operations() -> None:
    assert set(MATRIX) == set(ROLES)
    for grants in MATRIX.values():
        assert set(grants) <= set(RESOURCES)
        assert all(set(letters) <= set("CRUD") for letters in grants.values())
    assert all(role_allows("ADMIN", op, r) for op in ("read", "delete") for r in RESOURCES)
    assert not role_allows("ANALYST", "update", "Customer")
    assert not role_allows(None, "read", "Customer")


def test_a_schema_with_an_undeclared_root_field_does_not_build() -> None:
    @strawberry.type
    class Query:
        customers: int = 0
        secret_backdoor: int = 0

    with pytest.raises(UndeclaredPermission, match="secretBackdoor"):
        install_permissions(strawberry.Schema(query=Query))
