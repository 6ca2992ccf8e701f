#!/usr/bin/env bash
# CI's short fuzz pass: build the one fuzz binary, run every target over its committed corpus
# for FUZZ_SECONDS (default 15) each; fails on a crash, a hang (> 1 s an input) or more than
# 512 MB. The long runs (10^7 executions each) are in docs/reliability.md.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${FUZZ_SECONDS:-15}"
started=$SECONDS
scripts/fuzz.sh build
echo "fuzz: built in $((SECONDS - started)) s"
failed=()
mkdir -p fuzz/target
for target in $(scripts/fuzz.sh list); do
  log="fuzz/target/$target.log"
  if scripts/fuzz.sh run "$target" -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1; then
    echo "fuzz: $target ok ($(grep -oE 'stat::number_of_executed_units: [0-9]+' "$log" | grep -oE '[0-9]+$') runs)"
  else
    echo "fuzz: $target FAILED; the end of its log:"
    tail -n 40 "$log"
    failed+=("$target")
  fi
done
echo "fuzz: ${#failed[@]} failed, $((SECONDS - started)) s in all"
((${#failed[@]} == 0))
