#!/usr/bin/env bash
# Build the test environment (incl. Debian's chromium for the browser tests) and run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
fi
bash scripts/setup.sh test
.venv/bin/python -m pytest -q "$@"
