#!/usr/bin/env bash
# Set up, then run the test suite (real Blender 4.5 module, real audio).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest "$@"
