#!/usr/bin/env bash
# RUSTC_WRAPPER for the fuzz build: adds libFuzzer's coverage instrumentation (SanitizerCoverage,
# the flags cargo-fuzz passes, all accepted by stable rustc) to aimdeck and the fuzz crate only,
# so the dependencies build with the ordinary flags. AIMDECK_FUZZ_SCCACHE=1 chains to sccache
# (off by default: on a shared machine its queue held small crates behind others' builds).
set -euo pipefail
rustc="$1"
shift
extra=()
for ((i = 1; i <= $#; i++)); do
  if [[ "${!i}" == "--crate-name" ]]; then
    j=$((i + 1))
    case "${!j}" in
      aimdeck | aimdeck_fuzz)
        extra=(-Cpasses=sancov-module
          -Cllvm-args=-sanitizer-coverage-level=4
          -Cllvm-args=-sanitizer-coverage-inline-8bit-counters
          -Cllvm-args=-sanitizer-coverage-pc-table
          -Cllvm-args=-sanitizer-coverage-trace-compares
          --cfg fuzzing)
        ;;
    esac
    break
  fi
done
if [[ "${AIMDECK_FUZZ_SCCACHE:-0}" == 1 ]]; then
  exec sccache "$rustc" "$@" "${extra[@]}"
fi
exec "$rustc" "$@" "${extra[@]}"
