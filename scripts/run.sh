#!/usr/bin/env bash
# Main job: set up the environment, then serve the workbench on the embedded defaults
# (SQLite store and demo dataset under ./workspace, local Dask cluster).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
exec .venv/bin/bearing-workbench serve "$@"
