"""Production is strict unless told otherwise; each limit can be set through the environment."""

from __future__ import annotations

import pytest

from app.main import api_policy
from app.settings import Settings
from gql.security.policy import DEVELOPMENT_LIMITS, PRODUCTION_LIMITS


def test_environment_defaults() -> None:
    production = Settings(env="production", redis_url="redis://redis:6379/0")
    development = Settings(env="development", redis_url="redis://redis:6379/0")

    assert api_policy(production).limits == PRODUCTION_LIMITS
    assert not api_policy(production).introspection
    assert not api_policy(production).field_suggestions
    assert production.allowed_origins == ()
    assert production.rate_limit == (10.0, 60)
    assert api_policy(development).limits == DEVELOPMENT_LIMITS
    assert api_policy(development).introspection
    assert development.allowed_origins == ("*",)
    assert development.rate_limit is None


def test_variables_override_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAPPORT_ENV", "production")
    monkeypatch.setenv("REDIS_URL", "redis://redis:6379/0")
    monkeypatch.setenv("RAPPORT_MAX_QUERY_COST", "1234")
    monkeypatch.setenv("RAPPORT_MAX_QUERY_ALIASES", "0")
    monkeypatch.setenv("RAPPORT_CORS_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("RAPPORT_RATE_LIMIT_PER_SECOND", "2.5")
    monkeypatch.setenv("RAPPORT_RATE_LIMIT_BURST", "5")

    settings = Settings()

    limits = api_policy(settings).limits
    assert (limits.max_cost, limits.max_aliases) == (1234, 0)
    assert limits.max_depth == PRODUCTION_LIMITS.max_depth
    assert settings.allowed_origins == ("https://a.example", "https://b.example")
    assert settings.rate_limit == (2.5, 5)


def test_no_rate_limit_without_redis_or_with_a_zero_rate() -> None:
    assert Settings(env="production", redis_url=None).rate_limit is None
    zero = Settings(env="production", redis_url="redis://r:6379/0", rate_limit_per_second=0)
    assert zero.rate_limit is None
