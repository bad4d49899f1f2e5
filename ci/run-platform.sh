#!/usr/bin/env bash
# One OS of the GitHub Actions matrix: the tests (JUnit), the harness run
# (JSON report), and the regression gate against the stored baseline
# reports/baselines/<os-name>.json when there is one (`report diff --gate`:
# a result that met its expectation there fails, errs, is skipped or is
# gone). Called from .github/workflows/ci.yml as `ci/run-platform.sh <os-name>`.
set -euo pipefail
os="${1:?usage: ci/run-platform.sh <os-name>}"
cd "$(dirname "$0")/.."
mkdir -p reports
status=0
cargo nextest run --workspace --profile ci || status=$?
# The harness run writes its report even when scenarios fail; keep going so
# both artifacts are uploaded, then fail the job if either step failed.
cargo run --release -p netrepro -- run --report "reports/${os}.json" \
  --junit "reports/${os}.xml" --ctrf "reports/${os}.ctrf.json" --markdown "reports/${os}.md" || status=$?

baseline="reports/baselines/${os}.json"
if [ -f "$baseline" ] && [ -f "reports/${os}.json" ]; then
  NETREPRO_BIN=target/release/netrepro bash ci/gate.sh "$baseline" "reports/${os}.json" "reports/${os}.md" \
    || status=$?
elif [ -f "reports/${os}.json" ]; then
  # No baseline for this OS yet (never fabricated): the first green run's
  # report, uploaded as reports/${os}.json in the netrepro-${os} artifact,
  # becomes it (reports/README.md, "Baselines").
  # shellcheck disable=SC2016 # the backquotes are Markdown
  printf '\n### No regression gate: `%s` does not exist yet\n\nIf this run is green, commit its `reports/%s.json` (artifact `netrepro-%s`) as `%s`.\n' \
    "$baseline" "$os" "$os" "$baseline" >> "reports/${os}.md"
  echo "no baseline $baseline: not gated (see reports/README.md, Baselines)"
fi
exit "$status"
