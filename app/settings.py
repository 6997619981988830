"""Process settings, read from environment variables (and a ``.env`` file if present)."""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from domain.persistence.config import DEFAULT_DATABASE_URL

#: Production's rate limit per principal: a sustained 10 requests a second, bursts of 60.
PRODUCTION_RATE_PER_SECOND = 10.0
PRODUCTION_RATE_BURST = 60


class Settings(BaseSettings):
    """Everything a Rapport process needs to know about its environment.

    Each field is read from the environment variable named in its alias; keyword arguments
    (``Settings(database_url=...)``) override the environment, which is what tests do.
    """

    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", populate_by_name=True, frozen=True
    )

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        validation_alias=AliasChoices("database_url", "DATABASE_URL"),
        description="Tortoise URL: sqlite://path or postgres://user:pass@host:5432/db",
    )
    redis_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("redis_url", "REDIS_URL"),
        description="Redis for the task queue; unset means no Redis check in /readyz",
    )
    host: str = Field(default="127.0.0.1", validation_alias=AliasChoices("host", "RAPPORT_HOST"))
    port: int = Field(default=8000, validation_alias=AliasChoices("port", "RAPPORT_PORT"))
    env: Literal["development", "production"] = Field(
        default="development", validation_alias=AliasChoices("env", "RAPPORT_ENV")
    )
    demo_scale: float = Field(
        default=1.0,
        gt=0,
        validation_alias=AliasChoices("demo_scale", "RAPPORT_DEMO_SCALE"),
        description="Default size factor of `crm seed --demo`",
    )
    max_body_bytes: int = Field(
        default=8 * 1024 * 1024,
        gt=0,
        validation_alias=AliasChoices("max_body_bytes", "RAPPORT_MAX_BODY_BYTES"),
        description="Requests larger than this are refused before GraphQL parses them "
        "(sized for importCustomers' 10,000 rows)",
    )
    log_level: str = Field(default="info", validation_alias=AliasChoices("log_level", "LOG_LEVEL"))

    # Query limits: unset means the environment's default (``app.main.api_policy``).
    max_query_depth: int | None = Field(
        default=None,
        gt=0,
        validation_alias=AliasChoices("max_query_depth", "RAPPORT_MAX_QUERY_DEPTH"),
    )
    max_query_aliases: int | None = Field(
        default=None,
        ge=0,
        validation_alias=AliasChoices("max_query_aliases", "RAPPORT_MAX_QUERY_ALIASES"),
    )
    max_query_tokens: int | None = Field(
        default=None,
        gt=0,
        validation_alias=AliasChoices("max_query_tokens", "RAPPORT_MAX_QUERY_TOKENS"),
    )
    max_query_cost: int | None = Field(
        default=None,
        gt=0,
        validation_alias=AliasChoices("max_query_cost", "RAPPORT_MAX_QUERY_COST"),
        description="Records an operation may resolve, page sizes multiplied through nesting",
    )
    cors_origins: Annotated[tuple[str, ...] | None, NoDecode] = Field(
        default=None,
        validation_alias=AliasChoices("cors_origins", "RAPPORT_CORS_ORIGINS"),
        description="Comma-separated origins allowed to call the API from a browser (CORS and "
        "WebSocket); unset: any origin in development, none in production",
    )
    rate_limit_per_second: float | None = Field(
        default=None,
        ge=0,
        validation_alias=AliasChoices("rate_limit_per_second", "RAPPORT_RATE_LIMIT_PER_SECOND"),
        description="Sustained requests a second per principal (0: no limit); needs REDIS_URL. "
        "Unset: 10 in production, no limit in development",
    )
    rate_limit_burst: int | None = Field(
        default=None,
        ge=1,
        validation_alias=AliasChoices("rate_limit_burst", "RAPPORT_RATE_LIMIT_BURST"),
        description="Requests a principal may send at once before the sustained rate applies",
    )

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(origin.strip() for origin in value.split(",") if origin.strip())
        return value

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def allowed_origins(self) -> tuple[str, ...]:
        if self.cors_origins is not None:
            return self.cors_origins
        return () if self.is_production else ("*",)

    @property
    def rate_limit(self) -> tuple[float, int] | None:
        """(tokens a second, burst) per principal, or None when requests are not limited."""
        if self.rate_limit_per_second is None:
            rate = PRODUCTION_RATE_PER_SECOND if self.is_production else 0.0
        else:
            rate = self.rate_limit_per_second
        if rate <= 0 or not self.redis_url:
            return None
        burst = self.rate_limit_burst or max(PRODUCTION_RATE_BURST, math.ceil(rate))
        return rate, burst
