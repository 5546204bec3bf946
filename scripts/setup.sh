#!/usr/bin/env bash
# Build the environment in .venv: torch/torchvision pinned to the builds these machines carry on disk.
set -euo pipefail
cd "$(dirname "$0")/.."
# pip's notes that say nothing to act on: local package mirrors that lack a package (this machine's pip config),
# and setuptools' generic advice on editable installs. Everything else pip says, errors above all, is kept.
quiet_pip() {
  "$@" 2>&1 | sed -u -e "/^WARNING: Location '.*' is ignored/d" -e '/BuildBackendWarning\|Editable installation\.$/d' \
    -e '/^ *!!$/d' -e '/^ *\*\*\*\*\*\*\*\*/d' -e '/Please be careful with folders in your working directory/d' \
    -e '/name as your package as they may take precedence during imports/d' -e '/with strategy, WheelFile/d' \
    -e '/^ *$/d'
}
python3 -m venv .venv
quiet_pip .venv/bin/pip install --quiet --upgrade "pip>=23.2" setuptools
quiet_pip .venv/bin/pip install --quiet torch==2.14.1 torchvision==0.29.1 -e ".${1:+[$1]}"
