"""Process settings, read from environment variables (and a ``.env`` file if present)."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field
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

    @property
    def is_production(self) -> bool:
        return self.env == "production"
