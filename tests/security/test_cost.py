"""The computed cost and the shape limits, on the real schema (no server, no database)."""

from __future__ import annotations

import pytest
from graphql import GraphQLSchema, parse, validate

from gql.schema import build_schema
from gql.security.cost import UNPAGED_LIST_SIZE, operation_cost
from gql.security.limits import QueryLimits, shape_rule
from gql.security.policy import PRODUCTION_LIMITS
from tests.api.test_query_cost import REFERENCE
from tests.security.test_graphql_cop import COST_EXPLOSION


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return build_schema()._schema


def cost(schema: GraphQLSchema, query: str, **variables: object) -> int:
    return operation_cost(schema, parse(query), None, variables)


def test_the_reference_query_fits_the_production_limit(schema: GraphQLSchema) -> None:
    # per customer: itself, owner and team, organization, 100 deals with their stage, 5 interactions
    assert cost(schema, REFERENCE, first=10) == 10 * (1 + 2 + 1 + 100 * 2 + 5)
    assert cost(schema, REFERENCE, first=100) == 20_900
    assert cost(schema, REFERENCE, first=100) <= PRODUCTION_LIMITS.max_cost


def test_page_sizes_multiply_through_nesting(schema: GraphQLSchema) -> None:
    assert cost(schema, COST_EXPLOSION) == 100 + 100**2 + 2 * 100**3 + 100**4
    two_levels = (
        "{ people(first: 10) { edges { node { opportunities(first: 3) { totalCount } } } } }"
    )
    assert cost(schema, two_levels) == 10 * (1 + 3)


def test_page_size_comes_from_variables_then_defaults_then_the_cap(schema: GraphQLSchema) -> None:
    query = "query ($n: Int = 7) { tasks(first: $n) { edges { node { id } } } }"

    assert cost(schema, query, n=3) == 3
    assert cost(schema, query) == 7
    assert cost(schema, "{ tasks { totalCount } }") == 100
    assert cost(schema, "{ tasks(last: 4) { totalCount } }") == 4
    assert cost(schema, "{ tasks(first: 100000) { totalCount } }") == 100  # refused anyway
    assert cost(schema, '{ search(query: "a") { score } }') == 20  # the argument's default


def test_fragments_and_lists(schema: GraphQLSchema) -> None:
    query = """
    { a: people(first: 5) { ...P } b: people(first: 2) { ...P } }
    fragment P on PersonConnection { edges { node { owner { id } } } }
    """
    assert cost(schema, query) == 5 * 2 + 2 * 2
    assert cost(schema, '{ nodes(ids: ["a", "b", "c"]) { id } }') == 3
    assert cost(schema, "{ pipelines { stages { id } } }") == UNPAGED_LIST_SIZE * (
        1 + UNPAGED_LIST_SIZE
    )
    assert cost(schema, "{ __schema { types { fields { name } } } }") == 0


def _shape_errors(schema: GraphQLSchema, query: str, limits: QueryLimits) -> list[object]:
    return [e.extensions for e in validate(schema, parse(query), [shape_rule(limits)])]


def test_depth_and_aliases_count_through_fragments(schema: GraphQLSchema) -> None:
    limits = QueryLimits(max_depth=4, max_aliases=2, max_tokens=1000, max_cost=1000)
    query = """
    { x: people { ...E } y: people { ...E } }
    fragment E on PersonConnection { edges { node { z: owner { id } } } }
    """

    assert _shape_errors(schema, query, limits) == [
        {"code": "QUERY_TOO_DEEP", "limit": 4, "actual": 5},
        {"code": "TOO_MANY_ALIASES", "limit": 2, "actual": 4},
    ]


def test_cyclic_fragments_do_not_hang_the_limits(schema: GraphQLSchema) -> None:
    query = "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }"

    assert _shape_errors(schema, query, PRODUCTION_LIMITS) == []
    assert operation_cost(schema, parse(query)) == 0
