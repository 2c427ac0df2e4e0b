#!/usr/bin/env bash
# Main job: set up the environment, then serve the workbench apps on the embedded defaults: Voilà on
# 127.0.0.1:8866 behind a token (the URL printed holds it), one local Dask cluster shared by the apps,
# the SQLite store and the demo dataset under ./workspace (generated on first start). Ctrl-C stops it all.
# Options go to `bearing-workbench serve` (--port, --token, --workers, --demo-per-class ...).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
exec .venv/bin/bearing-workbench serve "$@"
