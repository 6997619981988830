"""Tortoise configuration built from a database URL.

SQLite gets WAL journaling and a busy timeout so the API, the worker and the scheduler can write
to one file at once; PostgreSQL gets a pool sized for an API process plus worker threads.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tortoise.backends.base.config_generator import expand_db_url

DEFAULT_DATABASE_URL = "sqlite://.rapport/rapport.sqlite3"
MODEL_MODULES = ["domain.persistence.models"]
MIGRATIONS_MODULE = "domain.persistence.migrations"

SQLITE_PRAGMAS = {"journal_mode": "WAL", "busy_timeout": "10000", "synchronous": "NORMAL"}


def is_sqlite(db_url: str) -> bool:
    return db_url.startswith("sqlite:")


def _with_defaults(db_url: str, defaults: dict[str, str]) -> str:
    parts = urlsplit(db_url)
    query = dict(parse_qsl(parts.query))
    for key, value in defaults.items():
        query.setdefault(key, value)
    return urlunsplit(parts._replace(query=urlencode(query)))


def normalize_db_url(db_url: str) -> str:
    """Accept ``postgresql://`` (what most tools print) and add our connection defaults."""
    if db_url.startswith("postgresql://"):
        db_url = "postgres://" + db_url.removeprefix("postgresql://")
    if is_sqlite(db_url):
        path = db_url.split("://", 1)[1].split("?", 1)[0]
        if path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        return _with_defaults(db_url, SQLITE_PRAGMAS)
    return _with_defaults(db_url, {"minsize": "1", "maxsize": "10"})


def _connection(db_url: str) -> str | dict[str, Any]:
    url = normalize_db_url(db_url)
    if not is_sqlite(url):
        return url
    # Our SQLite engine: Tortoise's, with a transaction context that cannot leak its lock.
    return {**expand_db_url(url), "engine": "domain.persistence.sqlite_engine"}


def tortoise_config(db_url: str) -> dict[str, Any]:
    return {
        "connections": {"default": _connection(db_url)},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": MIGRATIONS_MODULE,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


#: Used by the ``tortoise`` CLI (``[tool.tortoise]`` in pyproject.toml).
TORTOISE_ORM = tortoise_config(os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL))
