#!/usr/bin/env bash
# Build the environment in .venv: torch/torchvision pinned to the builds these machines carry on disk.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install --quiet --upgrade "pip>=23.2" setuptools
.venv/bin/pip install --quiet torch==2.14.1 torchvision==0.29.1 -e ".${1:+[$1]}"
