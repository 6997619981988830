"""The live-events benchmark (bench/live_events.py) at a tiny size: production's process layout
(redis-server, ``crm scheduler``, ``crm worker``, uvicorn) delivering every event to every
socket."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_event_reaches_every_socket_through_real_processes() -> None:
    result = subprocess.run(
        [sys.executable, "bench/live_events.py", "--subscribers", "2", "--events", "3"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    row = re.search(r"^\| 2 \| (\d+)% \| (\d+) ms \|", result.stdout, re.MULTILINE)
    assert row is not None, result.stdout
    assert row.group(1) == "100"
    # The scheduler kicks the relay at most every second: an event takes about that long.
    assert int(row.group(2)) < 5000
