"""The ASGI app: probes, GraphiQL in development only; in process and over a real port."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from app.settings import Settings
from domain.persistence.statement_log import StatementLog
from tests.helpers import app_client, gql

BROWSER = {"accept": "text/html"}


async def test_healthz_answers(api: httpx.AsyncClient) -> None:
    response = await api.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_checks_the_database(api: httpx.AsyncClient) -> None:
    response = await api.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}


async def test_readyz_reports_an_unreachable_redis(settings: Settings) -> None:
    unreachable = settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})

    async with app_client(unreachable) as client:
        response = await client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "redis": "unavailable"}


async def test_graphql_answers_a_query(api: httpx.AsyncClient) -> None:
    body = await gql(api, "{ __typename }")

    assert body["data"] == {"__typename": "Query"}


async def test_graphiql_is_served_in_development(api: httpx.AsyncClient) -> None:
    response = await api.get("/graphql", headers=BROWSER)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()


async def test_graphiql_is_not_served_in_production(settings: Settings) -> None:
    production = settings.model_copy(
        update={
            "env": "production",
            "unauthenticated_role": None,
            "secret_key": SecretStr("production-signing-key-0123456789abcdef"),
        }
    )

    async with app_client(production) as client:
        response = await client.get("/graphql", headers=BROWSER)

    assert "graphiql" not in response.text.lower()
    assert not response.headers.get("content-type", "").startswith("text/html")


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_over_a_real_port(live_server: str, path: str) -> None:
    response = httpx.get(f"{live_server}{path}", timeout=5)

    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_graphql_over_a_real_port(live_server: str) -> None:
    response = httpx.post(f"{live_server}/graphql", json={"query": "{ __typename }"}, timeout=5)

    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_readyz_runs_one_statement(
    api: httpx.AsyncClient, sql_statements: type[StatementLog]
) -> None:
    with sql_statements() as log:
        await api.get("/readyz")

    assert log.statements == ["SELECT 1"]


async def test_each_test_gets_an_empty_migrated_database(
    database: str, sql_statements: type[StatementLog]
) -> None:
    from domain.persistence.models import Customer

    with sql_statements() as log:
        exists = await Customer.exists()

    assert not exists
    assert log.count == 1
