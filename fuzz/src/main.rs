//! One libFuzzer binary for every reader; `AIMDECK_FUZZ_TARGET` picks the reader (so CI links
//! once). Each target's seeds are in `corpus/<target>/`; `scripts/fuzz.sh` runs them.
//! Documents that come in several parts (amd-smi's four, a Hub answer and its headers) are
//! split on NUL bytes, which none of the real documents contain.
#![no_main]

mod targets;

use std::sync::OnceLock;

static TARGET: OnceLock<fn(&[u8])> = OnceLock::new();

libfuzzer_sys::fuzz_target!(
    init: {
        let name = std::env::var("AIMDECK_FUZZ_TARGET").unwrap_or_default();
        let Some(run) = targets::by_name(&name) else {
            eprintln!(
                "AIMDECK_FUZZ_TARGET={name:?} is not a target; one of: {}",
                targets::NAMES.join(", ")
            );
            std::process::exit(2);
        };
        let _ = TARGET.set(run);
    },
    |data: &[u8]| {
        if let Some(run) = TARGET.get() {
            run(data);
        }
    }
);
