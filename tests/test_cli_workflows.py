"""`crm workflows validate` as a user runs it: a real process, its output and exit status."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _crm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def test_bundled_workflows_validate(tmp_path: Path) -> None:
    result = _crm("workflows", "validate", "workflows/definitions")
    assert result.returncode == 0, result.stdout + result.stderr
    shipped = len(list((ROOT / "workflows" / "definitions").glob("*.yaml")))
    assert f"{shipped} files OK" in result.stdout


def test_every_problem_is_reported_with_its_position(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "key: Bad Key\nname: x\ntrigger: {event: customer.nope}\nsteps:\n  - wait: 0d\n",
        encoding="utf-8",
    )
    result = _crm("workflows", "validate", str(bad))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{bad}:1:6: key: ")
    assert lines[1].startswith(f"{bad}:3:18: trigger.event: unknown event 'customer.nope'")
    assert lines[2].startswith(f"{bad}:5:11: steps[0].wait: ")
    assert lines[3] == "3 problems"
