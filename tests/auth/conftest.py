"""The auth suites run the app as production does: no trusted principal without credentials,
and a known signing key (so a test can mint an expired or foreign-signed token)."""

from __future__ import annotations

import pytest

from app.settings import Settings

SECRET = "test-signing-key-0123456789abcdef0123456789"


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(
        database_url=db_url,
        redis_url=None,
        env="development",
        log_level="info",
        secret_key=SECRET,
        unauthenticated_role=None,
    )
