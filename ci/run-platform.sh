#!/usr/bin/env bash
# One OS of the GitHub Actions matrix: the tests (JUnit) and the harness run
# (JSON report). Called from .github/workflows/ci.yml as `ci/run-platform.sh <os-name>`.
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
exit "$status"
