#!/usr/bin/env bash
# The report step of the GitHub and GitLab examples: reportgen on this pull request's MODEL, with the target
# branch's MODEL as --baseline, writing report/ (report.html, report.json, pr.md). Exits with reportgen's status:
# 0 passed, 3 below the GATE (the report and pr.md are still written), 2 a usage error.
#   MODEL, DATA      the checkpoint and the images, as paths in the repository
#   GATE             optional --fail-under thresholds, space-separated: "accuracy=0.9 recall[cat]=0.8"
#   REPORTGEN_ARGS   optional further options, space-separated: "--arch resnet18 --image-size 224"
set -euo pipefail
: "${MODEL:?set MODEL to the checkpoint path}" "${DATA:?set DATA to the image folder or CSV manifest}"
out=report
args=(-o "$out/report.html" --markdown "$out/pr.md" --quiet)
read -r -a gate <<<"${GATE:-}"  # read, not $GATE unquoted: recall[cat] would be a glob
for threshold in "${gate[@]}"; do args+=(--fail-under "$threshold"); done
read -r -a extra <<<"${REPORTGEN_ARGS:-}"

# Where the comment links to: the run's page lists its artifacts; GitLab serves the file itself.
if [ -n "${GITHUB_RUN_ID:-}" ]; then
  args+=(--report-url "$GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID")
elif [ -n "${CI_JOB_URL:-}" ]; then
  args+=(--report-url "$CI_JOB_URL/artifacts/file/$out/report.html")
fi

# The baseline: MODEL as it is on the target branch, fetched by itself (no full history needed).
base_ref=${GITHUB_BASE_REF:-${CI_MERGE_REQUEST_TARGET_BRANCH_NAME:-}}
baseline="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/baseline-$(basename "$MODEL")"
depth=()
[ "$(git rev-parse --is-shallow-repository)" = true ] && depth=(--depth=1)
if [ -n "$base_ref" ] \
  && git fetch --quiet --no-tags "${depth[@]}" origin "+refs/heads/$base_ref:refs/remotes/origin/$base_ref" \
  && git cat-file -e "origin/$base_ref:$MODEL" 2>/dev/null; then
  git show "origin/$base_ref:$MODEL" >"$baseline"
  if [ "$(head -c 23 "$baseline" | tr -d '\0')" = "version https://git-lfs" ]; then  # an LFS pointer: fetch it
    git lfs smudge -- "$MODEL" <"$baseline" >"$baseline.lfs"
    mv "$baseline.lfs" "$baseline"
  fi
  args+=(--baseline "$baseline")
  echo "baseline: $MODEL on $base_ref"
else
  echo "no baseline: $MODEL is not on ${base_ref:-a target branch}; the report has no comparison"
fi

mkdir -p "$out"
exec reportgen "$MODEL" "$DATA" "${args[@]}" "${extra[@]}"
