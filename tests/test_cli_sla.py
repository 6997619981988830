"""A fresh installation has working SLAs: ``crm migrate`` deploys the shipped policies and SLA
workflows once, and ``crm workflows deploy`` replaces the policies with a new version."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _crm(database: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
        env={**os.environ, "DATABASE_URL": f"sqlite://{database}", "RAPPORT_ENV": "development"},
    )


def test_migrate_deploys_the_shipped_sla_once_and_deploy_replaces_it(tmp_path: Path) -> None:
    database = tmp_path / "fresh.sqlite3"
    first = _crm(database, "migrate")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Shipped SLA policies deployed (v1)" in first.stderr  # the console is stderr
    again = _crm(database, "migrate")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Shipped SLA policies" not in again.stderr  # never twice, never over the user's

    with sqlite3.connect(database) as db:
        (definition,) = db.execute("SELECT definition FROM sla_policy_sets").fetchone()
        workflows = {row[0] for row in db.execute("SELECT key FROM workflows")}
    assert [p["key"] for p in json.loads(definition)["policies"]] == ["gold", "standard"]
    assert workflows == {"gold-breach-escalation", "sla-warning"}

    policies = tmp_path / "policies.yaml"
    policies.write_text(
        "sla_policies:\n  - key: all\n    applies_when: 'true'\n"
        "    targets: {NORMAL: {first_reply: 90m}}\n",
        encoding="utf-8",
    )
    deployed = _crm(database, "workflows", "deploy", str(policies))
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    assert deployed.stdout.strip() == "sla-policies v2 (new)"
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT number, definition FROM sla_policy_sets ORDER BY number")
        latest = json.loads(rows.fetchall()[-1][1])
    assert latest["policies"][0]["targets"] == {"NORMAL": {"first_reply": 90}}
