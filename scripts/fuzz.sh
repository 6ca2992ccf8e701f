#!/usr/bin/env bash
# Coverage-guided fuzzing of the readers on stable Rust (docs/reliability.md, "Fuzzing").
#   scripts/fuzz.sh build                 build target/release/aimdeck-fuzz (instrumented)
#   scripts/fuzz.sh list                  the targets
#   scripts/fuzz.sh run TARGET [ARGS...]  fuzz TARGET from fuzz/corpus/TARGET; libFuzzer ARGS
#                                         (e.g. -runs=10000000); new inputs go to
#                                         fuzz/target/corpus/TARGET, crashes to fuzz/artifacts/
#   scripts/fuzz.sh seed                  rebuild fuzz/corpus/ from tests/fixtures (-merge=1)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=target/release/aimdeck-fuzz
limits=(-timeout=1 -rss_limit_mb=512 -malloc_limit_mb=512)

build() {
  # The wrapper instruments aimdeck and the fuzz crate only (scripts/fuzz_rustc.sh). The root's
  # target/ is shared: the dependencies built by the root's `cargo build --release` (same profile,
  # same flags; cargo does not fingerprint the wrapper) are reused, so only libFuzzer, aimdeck
  # (its own copy: the profile's assertions give it another hash) and the fuzz crate compile.
  (cd fuzz && CARGO_TARGET_DIR="$PWD/../target" RUSTC_WRAPPER="$PWD/../scripts/fuzz_rustc.sh" \
    cargo build --release --quiet)
}

targets() {
  ls fuzz/corpus
}

case "${1:-}" in
  build) build ;;
  list) targets ;;
  run)
    target="${2:?usage: scripts/fuzz.sh run TARGET [libFuzzer args]}"
    shift 2
    [[ -d "fuzz/corpus/$target" ]] || { echo "no corpus for $target; targets: $(targets | xargs)" >&2; exit 2; }
    mkdir -p "fuzz/target/corpus/$target" "fuzz/artifacts/$target"
    AIMDECK_FUZZ_TARGET="$target" exec "$bin" "${limits[@]}" \
      -artifact_prefix="fuzz/artifacts/$target/" "$@" \
      "fuzz/target/corpus/$target" "fuzz/corpus/$target"
    ;;
  seed)
    python3 fuzz/seeds/make.py
    for dir in fuzz/seeds/out/*/; do
      target=$(basename "$dir")
      rm -rf "fuzz/corpus/$target"
      mkdir -p "fuzz/corpus/$target"
      AIMDECK_FUZZ_TARGET="$target" "$bin" "${limits[@]}" -merge=1 "fuzz/corpus/$target" "$dir" 2>&1 \
        | grep -E '^MERGE-OUTER: [0-9]+ new files' || true
    done
    ;;
  *)
    sed -n '2,8p' "$0" >&2
    exit 2
    ;;
esac
