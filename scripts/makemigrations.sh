#!/usr/bin/env bash
# Generate a migration with Tortoise's built-in command, then order its operations so it applies
# (see scripts/order_migration.py for the Tortoise 1.1.9 bug this works around).
set -euo pipefail
cd "$(dirname "$0")/.."
before=$(ls domain/persistence/migrations/*.py)
DATABASE_URL="sqlite://$(mktemp -d)/makemigrations.sqlite3" .venv/bin/tortoise makemigrations "$@"
for file in domain/persistence/migrations/*.py; do
  if ! grep -qx "$file" <<<"$before"; then .venv/bin/python scripts/order_migration.py "$file"; fi
done
