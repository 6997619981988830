"""Process settings, read from environment variables (and a ``.env`` file if present)."""

from __future__ import annotations

import datetime as dt
import math
import secrets
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
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
    timer_lease_seconds: float = Field(
        default=30.0,
        gt=0,
        validation_alias=AliasChoices("timer_lease_seconds", "RAPPORT_TIMER_LEASE_SECONDS"),
        description="How long a claimed timer is leased to its queue message before the "
        "scheduler may claim it again (a lost message delays a timer by at most this)",
    )
    scheduler_max_queued: int = Field(
        default=1000,
        gt=0,
        validation_alias=AliasChoices("scheduler_max_queued", "RAPPORT_SCHEDULER_MAX_QUEUED"),
        description="The scheduler claims no more due timers while the worker queue holds "
        "this many messages; keep it below what the workers do in one lease",
    )
    email_stale_after_seconds: float = Field(
        default=600.0,
        gt=0,
        validation_alias=AliasChoices(
            "email_stale_after_seconds", "RAPPORT_EMAIL_STALE_AFTER_SECONDS"
        ),
        description="An outbox e-mail SENDING for longer than this is presumed crashed in "
        "flight and sent again (same Message-ID); keep it well above the 30 s SMTP timeout",
    )
    metrics_host: str = Field(
        default="127.0.0.1",
        validation_alias=AliasChoices("metrics_host", "RAPPORT_METRICS_HOST"),
        description="Address the worker's and the scheduler's Prometheus endpoints bind to "
        "(0.0.0.0 in a container)",
    )
    log_level: str = Field(default="info", validation_alias=AliasChoices("log_level", "LOG_LEVEL"))
    secret_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("secret_key", "RAPPORT_SECRET_KEY"),
        description="Signs access tokens; required in production (every replica shares it). "
        "Unset in development: a random key per process (tokens die with the process).",
    )
    access_token_minutes: int = Field(
        default=15,
        gt=0,
        validation_alias=AliasChoices("access_token_minutes", "RAPPORT_ACCESS_TOKEN_MINUTES"),
    )
    refresh_token_days: int = Field(
        default=30,
        gt=0,
        validation_alias=AliasChoices("refresh_token_days", "RAPPORT_REFRESH_TOKEN_DAYS"),
    )
    unauthenticated_role: (
        Literal["ADMIN", "MANAGER", "SALES", "SUPPORT", "MARKETING", "ANALYST"] | None
    ) = Field(
        default=None,
        validation_alias=AliasChoices("unauthenticated_role", "RAPPORT_UNAUTHENTICATED_ROLE"),
        description="Tests only: requests without credentials act as a trusted principal "
        "(actor 'api') with this role. The API refuses to start with it in production.",
    )

    def check_api_security(self) -> None:
        """Refuse to serve the API in production without a shared signing key, or with the
        tests' trusted unauthenticated principal (workers and the scheduler do not need these).
        """
        if not self.is_production:
            return
        if self.unauthenticated_role is not None:
            raise ValueError("RAPPORT_UNAUTHENTICATED_ROLE is not allowed in production")
        if self.secret_key is None or len(self.secret_key.get_secret_value()) < 32:
            raise ValueError("production needs RAPPORT_SECRET_KEY (at least 32 characters)")

    @property
    def token_secret(self) -> str:
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        return _PROCESS_SECRET

    @property
    def access_token_ttl(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.access_token_minutes)

    @property
    def refresh_token_ttl(self) -> dt.timedelta:
        return dt.timedelta(days=self.refresh_token_days)

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


#: Development without RAPPORT_SECRET_KEY: tokens are valid for this process's lifetime only.
_PROCESS_SECRET = secrets.token_urlsafe(48)
