"""The committed schema.graphql is exactly the schema the code serves.

Clients and reviewers read schema.graphql; a change to the API shows up in its diff.
"""

from __future__ import annotations

from pathlib import Path

from strawberry.printer import print_schema

from gql.schema import schema

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"


def test_committed_schema_matches_the_code() -> None:
    committed = SCHEMA_FILE.read_text(encoding="utf-8") if SCHEMA_FILE.exists() else ""

    assert print_schema(schema) + "\n" == committed, (
        "schema.graphql is out of date: run `crm export-schema schema.graphql` and commit it"
    )
