//! Links the release console as a position-dependent executable (`-no-pie`) on Linux.
//!
//! Why: a PIE is relocated by the loader at start-up. For this binary that means reading
//! about 1 MB of `.rela.dyn` and writing 0.7 MB of `.data.rel.ro` (private, dirty pages) before
//! `main`: 1.7 MB of the idle console's resident memory (docs/performance.md, "Idle memory").
//! Linked without PIE, the linker resolves those addresses once; the code is still compiled as
//! position-independent (no rebuild of any dependency, and `cargo test` links as before), and
//! shared libraries, heap, stack and mmaps stay randomised; only the executable's own image
//! loads at a fixed address. `AIMDECK_PIE=1` at build time keeps the default PIE.

fn main() {
    println!("cargo:rerun-if-env-changed=AIMDECK_PIE");
    let linux = std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux");
    let release = std::env::var("PROFILE").as_deref() == Ok("release");
    let keep_pie = std::env::var_os("AIMDECK_PIE").is_some_and(|v| v == "1");
    if linux && release && !keep_pie {
        println!("cargo:rustc-link-arg-bin=aimdeck=-no-pie");
    }
}
