"""The fast resolvers and look-ahead prefetching give exactly what Strawberry's own resolvers
give, for the same documents, and never cost more statements."""

from __future__ import annotations

from typing import Any

import pytest

from domain.persistence.statement_log import StatementLog
from gql.context import Context
from gql.schema import build_schema
from tests.api.graph import build_graph
from tests.api.test_query_cost import REFERENCE

FAST = build_schema()
REFERENCE_SCHEMA = build_schema(fast_resolvers=False)

DOCUMENTS: list[tuple[str, dict[str, Any]]] = [
    (REFERENCE, {"first": 20}),
    (
        """query($withDeals: Boolean!, $skipOwner: Boolean!, $n: Int!) {
          people(first: 5, orderBy: [{field: DISPLAY_NAME, direction: DESC}]) {
            edges { node { ...Who
              recent: interactions(last: $n) { totalCount edges { node { subject } } }
              oldest: interactions(first: 1) { edges { node { subject occurredAt } } }
              opportunities @include(if: $withDeals) { edges { node { ...Deal } } }
              owner @skip(if: $skipOwner) { name }
            } } } }
        fragment Who on Person { id displayName organization { displayName
          people(first: 2) { totalCount edges { node { displayName owner { name } } } } } }
        fragment Deal on Opportunity { name status stage { name pipeline { name
          stages { name probability } } } owner { team { lead { name } members { name } } } }""",
        {"withDeals": True, "skipOwner": True, "n": 2},
    ),
    (
        """{ organizations { edges { node { displayName
             ... on Customer { owner { name teams { name } } }
             people(filter: {tags: {has: "vip"}}) { totalCount edges { node { displayName
               timeline(first: 3) { edges { node { __typename
                 ... on Interaction { subject user { name } } } } } } } } } } } }""",
        {},
    ),
    (
        """{ opportunities(first: 10) { edges { node { name customer { displayName
             ... on Person { organization { displayName } } } stageHistory { toStage { name } }
             } } } }""",
        {},
    ),
    ("{ customers { edges { node { interactions(last: 500) { totalCount } } } } }", {}),
    (
        """{ interactions(first: 10, orderBy: [{field: OCCURRED_AT, direction: DESC}]) {
             edges { node { subject customer { displayName owner { name } } } } } }""",
        {},
    ),
]


async def _run(schema: Any, document: str, variables: dict[str, Any]) -> tuple[Any, int]:
    with StatementLog() as log:
        result = await schema.execute(
            document, variable_values=variables, context_value=Context(None, None)
        )
    errors = [(e.message, e.path, (e.extensions or {}).get("code")) for e in result.errors or []]
    return (result.data, errors), log.count


@pytest.mark.parametrize("index", range(len(DOCUMENTS)))
async def test_fast_path_matches_strawberry_resolvers(database: str, index: int) -> None:
    await build_graph(people=8, interactions_per_person=4)
    document, variables = DOCUMENTS[index]
    expected, reference_cost = await _run(REFERENCE_SCHEMA, document, variables)
    got, fast_cost = await _run(FAST, document, variables)
    assert got == expected
    assert fast_cost <= reference_cost
