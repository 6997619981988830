"""`crm users create-admin` and `set-password` as an operator runs them: a real process, the
password on stdin (never in argv), then a real login with it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from domain.identity.sessions import login
from domain.identity.tokens import TokenConfig
from domain.persistence.db import close_database, open_database
from domain.persistence.models import AuthSession, User

ROOT = Path(__file__).resolve().parents[2]


def _crm(database_url: str, *args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    env.pop("RAPPORT_PASSWORD", None)
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "users", *args, "--password-stdin"],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )


async def test_create_admin_then_log_in_and_reset_the_password(tmp_path: Path) -> None:
    url = "sqlite://" + str(tmp_path / "cli.sqlite3")
    admin = ("create-admin", "--email", "Chi.Le@Rapport.vn", "--name", "Lê Chi")
    short = _crm(url, *admin, stdin="short\n")
    assert short.returncode == 1
    assert "at least 10 characters" in short.stderr
    created = _crm(url, *admin, stdin="một mật khẩu dài\n")
    assert created.returncode == 0, created.stderr
    again = _crm(url, *admin, stdin="một mật khẩu dài\n")
    assert again.returncode == 1
    assert "exists" in again.stderr

    config = TokenConfig(secret="cli-test-secret-0123456789abcdefghij")
    await open_database(url, migrate=False)
    try:
        user = await User.get(email="chi.le@rapport.vn")
        assert (user.role, user.name) == ("ADMIN", "Lê Chi")
        assert "một mật khẩu dài" not in (user.password_hash or "")
        issued = await login(config, "chi.le@rapport.vn", "một mật khẩu dài")
        assert issued.user.id == user.id
    finally:
        await close_database()

    reset = _crm(url, "set-password", "--email", "chi.le@rapport.vn", stdin="mật khẩu mới 2026\n")
    assert reset.returncode == 0, reset.stderr
    await open_database(url, migrate=False)
    try:
        assert (await login(config, "chi.le@rapport.vn", "mật khẩu mới 2026")).user.role == "ADMIN"
        old = await AuthSession.get(id=issued.session_id)
        assert old.revoked_reason == "password_changed"
    finally:
        await close_database()
