#!/usr/bin/env bash
# The regression gate: `netrepro report diff --gate BASELINE REPORT`. Prints
# the change list, keeps it beside the report (REPORT without .json +
# .baseline-diff.txt), appends a section to MARKDOWN if given (a job
# summary), and exits with diff's code: 0 no regression, 1 regression, 2 a
# file could not be read. Used by ci/action/run.sh, ci/run-platform.sh and
# .ci/run. NETREPRO_BIN: the netrepro binary (default: netrepro on PATH).
# Usage: ci/gate.sh BASELINE REPORT [MARKDOWN]
set -euo pipefail
baseline="${1:?usage: ci/gate.sh BASELINE REPORT [MARKDOWN]}"
report="${2:?usage: ci/gate.sh BASELINE REPORT [MARKDOWN]}"
md="${3:-}"
out="${report%.json}.baseline-diff.txt"
code=0
"${NETREPRO_BIN:-netrepro}" report diff --gate "$baseline" "$report" > "$out" || code=$?
cat "$out"
if [ -n "$md" ]; then
  case "$code" in
    0) verdict="no regression" ;;
    1) verdict="REGRESSION, the job fails" ;;
    *) verdict="could not compare (exit $code)" ;;
  esac
  # shellcheck disable=SC2016 # the backquotes are Markdown
  {
    printf '\n### Regression gate against `%s`: %s\n\n' "$baseline" "$verdict"
    printf 'A result that met its expectation there and fails, errs, is skipped or is gone now is a regression (`netrepro report diff --gate`).\n\n~~~\n'
    head -n 200 "$out"
    printf '~~~\n'
  } >> "$md"
fi
exit "$code"
