#!/usr/bin/env bash
# Whole test suite: set up the environment and system packages, lint, check the layer contract, run pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
# Debian packages some tests need (PostgreSQL, Chromium, poppler): installed when run as root, else
# those tests skip.
bash scripts/system_deps.sh
echo "== ruff"
.venv/bin/ruff check bearing_workbench tests bench
echo "== import-linter (layer contract)"
.venv/bin/lint-imports
echo "== pytest"
exec .venv/bin/python -m pytest "$@"
