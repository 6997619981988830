"""Development stays convenient: introspection, suggestions and GraphiQL's own query work."""

from __future__ import annotations

import httpx
from graphql import get_introspection_query

from tests.helpers import gql


async def test_graphiqls_introspection_query_passes_the_development_limits(
    api: httpx.AsyncClient,
) -> None:
    body = await gql(api, get_introspection_query(descriptions=True))

    names = {t["name"] for t in body["data"]["__schema"]["types"]}
    assert {"Person", "Organization", "Query", "Mutation"} <= names


async def test_suggestions_are_kept_in_development(api: httpx.AsyncClient) -> None:
    body = await gql(api, "{ customerz { totalCount } }", expect_errors=True)

    assert "Did you mean 'customers'?" in body["errors"][0]["message"]
    assert body["errors"][0]["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}
