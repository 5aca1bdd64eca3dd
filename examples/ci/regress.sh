#!/usr/bin/env bash
# Benchmark a baseline and a candidate server with the same scenario, compare the results
# with `runner diff` under the scenario's gate, and (when PR_NUMBER is set) post the
# comparison as a pull-request comment with the gh CLI.
#
#   examples/ci/regress.sh SCENARIO BASELINE_URL CANDIDATE_URL [OUT_DIR]
#
# The scenario reaches its server through ${TARGET_URL} (see scenario.yaml here). Exit code:
# 0 no regression, 4 a gate rule was crossed, anything else a failure of the runs.
# Environment: RUNNER (the runner binary, default `runner`), DIFF_ARGS (more `runner diff`
# flags, e.g. "--fail-on p99_ttft_ms:+10%"), PR_NUMBER (post the Markdown there with gh).
set -euo pipefail

if [ $# -lt 3 ]; then
    echo "usage: $0 SCENARIO BASELINE_URL CANDIDATE_URL [OUT_DIR]" >&2
    exit 2
fi
scenario=$1
baseline_url=$2
candidate_url=$3
out=${4:-regress-results}
runner=${RUNNER:-runner}
mkdir -p "$out"

echo "== baseline: $baseline_url" >&2
TARGET_URL=$baseline_url "$runner" run "$scenario" --output "$out/baseline" --fresh \
    --label role=baseline --label url="$baseline_url" >"$out/baseline.log"
echo "== candidate: $candidate_url" >&2
TARGET_URL=$candidate_url "$runner" run "$scenario" --output "$out/candidate" --fresh \
    --label role=candidate --label url="$candidate_url" >"$out/candidate.log"

# The gate is the scenario's `gate.fail_on` (read with --scenario) plus DIFF_ARGS.
code=0
# shellcheck disable=SC2086  # DIFF_ARGS is a list of flags
TARGET_URL=$candidate_url "$runner" diff "$out/baseline" "$out/candidate" \
    --scenario "$scenario" --format markdown ${DIFF_ARGS:-} >"$out/diff.md" || code=$?
cat "$out/diff.md"

if [ -n "${PR_NUMBER:-}" ]; then
    gh pr comment "$PR_NUMBER" --body-file "$out/diff.md"
fi
case $code in
    0) echo "no regression" >&2 ;;
    4) echo "regression: a gate rule was crossed (see above)" >&2 ;;
    *) echo "runner diff failed (exit $code)" >&2 ;;
esac
exit "$code"
