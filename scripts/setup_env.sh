#!/usr/bin/env bash
# Create (or reuse) .venv and install the workbench with pinned dependencies.
# Re-installs only when pyproject.toml or the constraints change.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
    echo "creating .venv with $($PYTHON --version)"
    "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed-$(cat pyproject.toml requirements/constraints.txt | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
    echo "installing pinned dependencies (first run takes a minute or two)"
    # torch is pinned in the constraints: an unpinned torch pulls several GB of CUDA packages.
    # (grep drops notices about absent local package mirrors; pipefail keeps pip's exit status.)
    .venv/bin/python -m pip install -q -c requirements/constraints.txt -e ".[app,test]" 2>&1 \
        | { grep -v "is ignored: it is neither a file nor a directory" || true; }
    rm -f .venv/.installed-*
    touch "$stamp"
fi
