"""Process settings, read from environment variables (and a ``.env`` file if present)."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.persistence.config import DEFAULT_DATABASE_URL


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

    @property
    def is_production(self) -> bool:
        return self.env == "production"


#: Development without RAPPORT_SECRET_KEY: tokens are valid for this process's lifetime only.
_PROCESS_SECRET = secrets.token_urlsafe(48)
