"""Imports point one way: app -> gql -> workflows -> domain; the workflow language and engine
import no I/O at all.

Each layer is imported, every module of it, in a fresh interpreter; the test then looks at
``sys.modules`` for anything the layer must not pull in, directly or transitively.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: The workflow language and engine are pure (architecture.md): no database, no broker, no
#: runtime, so validating, simulating and the engine's tests need none of them.
_IO = ["tortoise", "asyncpg", "aiosqlite", "dramatiq", "redis", "domain.persistence"]

FORBIDDEN = {
    "domain": ["app", "gql", "workflows", "strawberry", "dramatiq"],
    "workflows": ["app", "gql"],
    "workflows.language": ["app", "gql", "workflows.runtime", *_IO],
    "workflows.engine": ["app", "gql", "workflows.runtime", *_IO],
    "gql": ["app"],
}

PROBE = """
import importlib, json, pkgutil, sys
package = importlib.import_module(sys.argv[1])
for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
    importlib.import_module(module.name)
print(json.dumps(sorted(sys.modules)))
"""


def _modules_loaded_by(package: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, package],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"importing {package} failed:\n{result.stderr}"
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_only_layers_below(layer: str) -> None:
    loaded = _modules_loaded_by(layer)

    leaks = sorted(
        name
        for name in loaded
        for banned in FORBIDDEN[layer]
        if name == banned or name.startswith(banned + ".")
    )
    assert not leaks, f"{layer} must not import {FORBIDDEN[layer]}, but loaded: {leaks}"
