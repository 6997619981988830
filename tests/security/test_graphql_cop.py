"""The graphql-cop checks against the production server, over a real port.

Each attack is sent by a signed-in ADMIN (so it is refused for its own reason, not for want of
credentials), is refused with its status and code, and the server answers a normal query right
after it. Bad credentials are in ``test_authentication.py``.
"""

from __future__ import annotations

import httpx
import pytest

from tests.api.test_query_cost import REFERENCE
from tests.security.conftest import assert_still_serving, only_error

#: ``first: 100`` nested four connections deep: 100 + 100² + 100³ + 100⁴ records at worst.
COST_EXPLOSION = """
{ organizations(first: 100) { edges { node {
    people(first: 100) { edges { node {
      opportunities(first: 100) { edges { node {
        customer { tasks(first: 100) { edges { node { id title } } } }
      } } }
    } } }
} } } }
"""


def _post(client: httpx.Client, query: str, **variables: object) -> httpx.Response:
    return client.post("/graphql", json={"query": query, "variables": variables or None})


def test_introspection_is_refused(client: httpx.Client) -> None:
    for query in ("{ __schema { types { name } } }", '{ __type(name: "Person") { name } }'):
        response = _post(client, query)

        assert response.status_code == 200
        error = only_error(response)
        assert "introspection has been disabled" in str(error["message"])
        assert error["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}
    assert_still_serving(client)


@pytest.mark.parametrize(
    "query",
    [
        "{ customerz { totalCount } }",
        "{ customers(fisrt: 1) { totalCount } }",
        "{ customers(orderBy: [{field: UPDATED_ATT}]) { totalCount } }",
        '{ people(filter: {displayNam: {eq: "x"}}) { totalCount } }',
    ],
    ids=["field", "argument", "enum value", "input field"],
)
def test_no_field_suggestions(client: httpx.Client, query: str) -> None:
    response = _post(client, query)

    error = only_error(response)
    assert error["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}
    assert "Did you mean" not in str(error["message"]), error
    assert_still_serving(client)


def test_alias_overloading_is_refused(client: httpx.Client) -> None:
    aliases = " ".join(f"a{i}: customers(first: 1) {{ totalCount }}" for i in range(200))

    response = _post(client, f"{{ {aliases} }}")

    assert response.status_code == 200
    error = only_error(response)
    assert error["extensions"] == {"code": "TOO_MANY_ALIASES", "limit": 30, "actual": 200}
    assert_still_serving(client)


def test_deep_query_is_refused(client: httpx.Client) -> None:
    # person -> organization -> people -> ... : depth grows by four fields per turn
    nested = "id"
    for _ in range(6):
        nested = f"organization {{ people {{ edges {{ node {{ {nested} }} }} }} }}"
    query = f"{{ people(first: 1) {{ edges {{ node {{ {nested} }} }} }} }}"

    error = only_error(_post(client, query))

    assert error["extensions"] == {"code": "QUERY_TOO_DEEP", "limit": 15, "actual": 28}
    assert_still_serving(client)


def test_circular_fragments_are_refused(client: httpx.Client) -> None:
    query = """
    query { people(first: 1) { edges { node { ...A } } } }
    fragment A on Person { organization { people { edges { node { ...B } } } } }
    fragment B on Person { ...A }
    """

    error = only_error(_post(client, query))

    assert "Cannot spread fragment 'A' within itself" in str(error["message"])
    assert error["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}
    assert_still_serving(client)


def test_array_batching_is_refused(client: httpx.Client) -> None:
    batch = [{"query": "{ customers(first: 1) { totalCount } }"}] * 50

    response = client.post("/graphql", json=batch)

    assert response.status_code == 400
    assert response.json() == {
        "errors": [{"message": "Batching is not enabled", "extensions": {"code": "BAD_REQUEST"}}]
    }
    assert_still_serving(client)


def test_mutation_over_get_is_405(client: httpx.Client) -> None:
    mutation = 'mutation { createTeam(input: {name: "Via GET"}) { __typename } }'

    response = client.get("/graphql", params={"query": mutation})

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["extensions"] == {"code": "METHOD_NOT_ALLOWED"}
    query = client.get("/graphql", params={"query": "{ teams(first: 5) { totalCount } }"})
    assert query.json() == {"data": {"teams": {"totalCount": 0}}}
    put = client.put("/graphql", json={"query": mutation})
    assert put.status_code == 405
    assert put.headers["allow"] == "GET, POST"
    assert_still_serving(client)


def test_oversized_body_is_413(client: httpx.Client) -> None:
    padding = "#" * (8 * 1024 * 1024)  # a comment: valid GraphQL, too large to read

    response = client.post("/graphql", json={"query": f"{padding}\n{{ __typename }}"})

    assert response.status_code == 413
    assert response.headers["x-request-id"]
    assert_still_serving(client)


def test_cost_explosion_is_refused(client: httpx.Client) -> None:
    error = only_error(_post(client, COST_EXPLOSION))

    assert error["extensions"] == {
        "code": "QUERY_TOO_COMPLEX",
        "limit": 50_000,
        "actual": 100 + 100**2 + 2 * 100**3 + 100**4,
    }
    assert_still_serving(client)


def test_the_reference_spa_query_passes_at_full_pages(client: httpx.Client) -> None:
    response = _post(client, REFERENCE, first=100)

    assert response.status_code == 200
    assert response.json() == {"data": {"customers": {"totalCount": 0, "edges": []}}}


def test_token_flood_is_refused_without_echoing_it(client: httpx.Client) -> None:
    fields = " ".join(["id"] * 100_000)

    error = only_error(_post(client, f"{{ customers {{ edges {{ node {{ {fields} }} }} }} }}"))

    assert error["extensions"] == {"code": "TOO_MANY_TOKENS", "limit": 5000}
    giant_name = "x" * 1_000_000
    error = only_error(_post(client, f"{{ {giant_name}( }}"))
    assert error["extensions"] == {"code": "GRAPHQL_PARSE_FAILED"}
    assert len(str(error["message"])) <= 300
    assert_still_serving(client)


def test_every_response_has_a_request_id(client: httpx.Client) -> None:
    own = client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"X-Request-Id": "trace-42"}
    )
    forged = client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"X-Request-Id": "not an id; 2"}
    )
    fresh = [client.get("/healthz"), client.get("/nowhere"), client.post("/graphql", json=[])]

    assert own.headers["x-request-id"] == "trace-42"
    assert forged.headers["x-request-id"] not in ("not an id; 2", "")
    ids = {response.headers["x-request-id"] for response in fresh}
    assert len(ids) == 3
    assert all(len(request_id) == 32 for request_id in ids)


def test_refusals_are_400_for_clients_of_the_graphql_response_media_type(
    client: httpx.Client,
) -> None:
    accept = {"Accept": "application/graphql-response+json, application/json;q=0.9"}

    refused = client.post("/graphql", json={"query": COST_EXPLOSION}, headers=accept)
    field_error = client.post(
        "/graphql", json={"query": "{ tasks(first: 1000) { totalCount } }"}, headers=accept
    )

    assert refused.status_code == 400
    assert refused.headers["content-type"] == "application/graphql-response+json"
    assert "data" not in refused.json()
    assert refused.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert field_error.status_code == 200  # it ran: a field failed, with a typed error
    assert field_error.json()["data"] is None
    assert field_error.json()["errors"][0]["extensions"]["code"] == "PAGE_SIZE_OUT_OF_RANGE"
    assert_still_serving(client)
