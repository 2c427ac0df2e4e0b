#!/usr/bin/env bash
# Whole test suite: set up the environment, lint, check the layer contract, run pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
echo "== ruff"
.venv/bin/ruff check bearing_workbench tests bench
echo "== import-linter (layer contract)"
.venv/bin/lint-imports
echo "== pytest"
exec .venv/bin/python -m pytest "$@"
