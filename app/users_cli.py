"""``crm users``: staff accounts from the command line (the first admin, password resets)."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Annotated

import typer
from rich.console import Console

from app.settings import Settings

users_cli = typer.Typer(help="Staff accounts: the first admin, passwords.", no_args_is_help=True)
console = Console(stderr=True)

PASSWORD_ENV = "RAPPORT_PASSWORD"


def read_password(*, from_stdin: bool, given: str | None = None) -> str:
    """The password from stdin (``--password-stdin``), ``$RAPPORT_PASSWORD``, or a prompt.

    Never from a command-line argument: it would show in ``ps`` and the shell history.
    """
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if given is None:
        given = os.environ.get(PASSWORD_ENV)
    if given:
        return given
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


async def _create_admin(settings: Settings, *, email: str, name: str, password: str) -> int:
    from domain.identity.passwords import hash_password
    from domain.persistence.db import close_database, open_database
    from domain.staff.users import create_user

    password_hash = hash_password(password)
    await open_database(settings.database_url, migrate=True)
    try:
        user = await create_user(
            name=name, email=email, role="ADMIN", password_hash=password_hash, actor="cli"
        )
        return user.id
    finally:
        await close_database()


async def _set_password(settings: Settings, *, email: str, password: str) -> int:
    from domain.contact import normalize_email
    from domain.errors import NotFound
    from domain.identity.sessions import set_password
    from domain.persistence.db import close_database, open_database
    from domain.persistence.models import User

    await open_database(settings.database_url, migrate=False)
    try:
        user = await User.filter(email=normalize_email(email), deleted_at=None).first()
        if user is None:
            raise NotFound("User", email)
        await set_password(user.id, password, actor="cli")
        return user.id
    finally:
        await close_database()


def _fail(exc: Exception) -> None:
    message = getattr(exc, "message", str(exc))
    console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code=1)


@users_cli.command("create-admin")
def create_admin(
    email: Annotated[str, typer.Option(help="The admin's e-mail (their login).")],
    name: Annotated[str, typer.Option(help="The admin's name.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Create an ADMIN user who can log in (password from stdin, $RAPPORT_PASSWORD or a prompt)."""
    from domain.errors import DomainError

    password = read_password(from_stdin=password_stdin)
    try:
        user_id = asyncio.run(_create_admin(Settings(), email=email, name=name, password=password))
    except DomainError as exc:
        _fail(exc)
    console.print(f"Created admin user {user_id} ({email}).")


@users_cli.command("set-password")
def set_password_command(
    email: Annotated[str, typer.Option(help="The user's e-mail.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Set a user's password and end their sessions."""
    from domain.errors import DomainError

    password = read_password(from_stdin=password_stdin)
    try:
        user_id = asyncio.run(_set_password(Settings(), email=email, password=password))
    except DomainError as exc:
        _fail(exc)
    console.print(f"Password of user {user_id} set; their sessions ended.")


async def _deactivate(
    settings: Settings, *, email: str, to: str | None, round_robin: bool
) -> tuple[int, dict[str, int], int]:
    from domain.contact import normalize_email
    from domain.errors import NotFound
    from domain.persistence.db import close_database, open_database
    from domain.persistence.models import User
    from domain.staff.handover import ROUND_ROBIN_IN_TEAM, hand_over_and_deactivate

    async def user_id(address: str, field: str) -> int:
        user = await User.filter(email=normalize_email(address, field=field), deleted_at=None)
        if not user:
            raise NotFound("User", address)
        return user[0].id

    await open_database(settings.database_url, migrate=False)
    try:
        result = await hand_over_and_deactivate(
            await user_id(email, "email"),
            reassign_to=await user_id(to, "to") if to else None,
            strategy=ROUND_ROBIN_IN_TEAM if round_robin else None,
            actor="cli",
        )
        return result.user.id, result.reassigned, result.redirected_emails
    finally:
        await close_database()


@users_cli.command("deactivate")
def deactivate(
    email: Annotated[str, typer.Option(help="The departing user's e-mail.")],
    to: Annotated[str | None, typer.Option(help="E-mail of the user who takes over.")] = None,
    round_robin: Annotated[
        bool, typer.Option("--round-robin", help="Spread over the active members of their teams.")
    ] = False,
) -> None:
    """Hand a user's customers, open deals and open tasks over, then deactivate them."""
    from domain.errors import DomainError

    try:
        user_id, reassigned, redirected = asyncio.run(
            _deactivate(Settings(), email=email, to=to, round_robin=round_robin)
        )
    except DomainError as exc:
        _fail(exc)
    moved = ", ".join(f"{count} {kind}" for kind, count in reassigned.items())
    console.print(
        f"Deactivated user {user_id}; reassigned {moved}; {redirected} e-mails redirected."
    )
