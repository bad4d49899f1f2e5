#!/usr/bin/env bash
# The GitHub Action's run step (action.yml), runnable anywhere: runs
# `netrepro run` with the action's inputs, writes the reports, appends the
# Markdown summary to $GITHUB_STEP_SUMMARY, optionally gates on a stored
# baseline (ci/gate.sh: `report diff --gate`), and exits with netrepro's
# exit code (0 every expectation met; 1 some scenario failed or the gate
# found a regression; 2 usage or input error; 4 a report could not be
# written; 5 harness error).
#
# Inputs are environment variables (all optional):
#   NETREPRO_BIN            netrepro binary (default: netrepro on PATH)
#   NETREPRO_TARGET_CMD     command line of your server ({port}, {upstream} ...)
#   NETREPRO_TARGET_ADDR    HOST:PORT of a server that is already running
#   NETREPRO_SCENARIOS      scenario files or folders, separated by spaces or
#                           newlines (default: the catalog beside this script)
#   NETREPRO_EXPECT         expected verdicts, comma-separated (survived, crashed,hung ...)
#   NETREPRO_PROTO          tcp | udp          NETREPRO_MODE   echo | forward
#   NETREPRO_FILTER         only scenarios whose name contains this text
#   NETREPRO_PROBE_SEND / NETREPRO_PROBE_EXPECT   the probe for non-echo protocols
#   NETREPRO_BASELINE       a JSON report to gate against (report diff --gate)
#   NETREPRO_REPORT_DIR     where the reports go (default: netrepro-reports)
#   GITHUB_STEP_SUMMARY     file the Markdown summary is appended to
#   GITHUB_OUTPUT           file the report paths and exit code are written to
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin="${NETREPRO_BIN:-netrepro}"
dir="${NETREPRO_REPORT_DIR:-netrepro-reports}"
json="$dir/report.json" junit="$dir/junit.xml" ctrf="$dir/report.ctrf.json"
md="$dir/summary.md"

if [ -n "${NETREPRO_SCENARIOS:-}" ]; then
  # Split on purpose: paths are separated by spaces or newlines (and a
  # glob such as scenarios/tcp/rst-*.toml expands).
  # shellcheck disable=SC2206
  scenarios=($NETREPRO_SCENARIOS)
else
  scenarios=("$here/../../scenarios")
fi

args=(run --report "$json" --junit "$junit" --ctrf "$ctrf" --markdown "$md")
opt() { if [ -n "$2" ]; then args+=("$1" "$2"); fi; }
opt --target-cmd "${NETREPRO_TARGET_CMD:-}"
opt --target-addr "${NETREPRO_TARGET_ADDR:-}"
opt --expect "${NETREPRO_EXPECT:-}"
opt --proto "${NETREPRO_PROTO:-}"
opt --mode "${NETREPRO_MODE:-}"
opt --filter "${NETREPRO_FILTER:-}"
opt --probe-send "${NETREPRO_PROBE_SEND:-}"
opt --probe-expect "${NETREPRO_PROBE_EXPECT:-}"
args+=("${scenarios[@]}")

summary() { if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then cat >> "$GITHUB_STEP_SUMMARY"; else cat > /dev/null; fi; }

mkdir -p "$dir"
# A stale report from an earlier run must not be uploaded as this run's.
rm -f "$json" "$junit" "$ctrf" "$md" "$dir/report.baseline-diff.txt"
printf '+ %s' "$bin"; printf ' %q' "${args[@]}"; printf '\n'
code=0
"$bin" "${args[@]}" || code=$?

if [ -f "$md" ]; then
  summary < "$md"
else
  printf '**netrepro exited %s before writing its summary**: see the step log.\n' "$code" | summary
fi

# The gate: only when the run itself produced a report to compare.
if [ -n "${NETREPRO_BASELINE:-}" ] && [ -f "$json" ]; then
  gcode=0
  NETREPRO_BIN="$bin" bash "$here/../gate.sh" "$NETREPRO_BASELINE" "$json" "${GITHUB_STEP_SUMMARY:-}" || gcode=$?
  if [ "$code" -eq 0 ]; then code=$gcode; fi
fi

if [ -n "${GITHUB_OUTPUT:-}" ]; then
  {
    echo "report=$json"
    echo "junit=$junit"
    echo "ctrf=$ctrf"
    echo "markdown=$md"
    echo "exit-code=$code"
  } >> "$GITHUB_OUTPUT"
fi
exit "$code"
