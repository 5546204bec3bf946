#!/usr/bin/env bash
# The comment step, run after the report step even when it failed: report/pr.md becomes the pull request's one
# reportgen comment (a rerun edits it). No pr.md (the report step stopped early) and forks are skipped, not errors.
#   MARKER   optional: names the comment, for a second report in the same pull request (default "report")
set -euo pipefail
if [ ! -s report/pr.md ]; then
  echo "no report/pr.md (the report step stopped before writing it): no comment"
  exit 0
fi
exec reportgen comment report/pr.md --marker "${MARKER:-report}"
