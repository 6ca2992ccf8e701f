//! Recipe library speed: loading and validating every built-in must take under 20 ms (issue 3),
//! since the console does it at start-up. Run with `cargo bench --bench recipes`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use aimdeck::recipes::builtin::BUILTIN;
use aimdeck::recipes::select::{Hardware, SelectQuery, select};
use aimdeck::recipes::{estimate, gpus, load_builtin, validate};

fn measure<T>(name: &str, iterations: u32, mut work: impl FnMut() -> T) -> Duration {
    // One untimed run so page faults and lazy statics do not count.
    black_box(work());
    let mut samples = Vec::with_capacity(iterations as usize);
    for _ in 0..iterations {
        let start = Instant::now();
        black_box(work());
        samples.push(start.elapsed());
    }
    samples.sort();
    let median = samples[samples.len() / 2];
    let worst = samples[samples.len() - 1];
    println!("{name:<44} {:>10.1} µs {:>10.1} µs {:>8}", us(median), us(worst), iterations);
    median
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    println!("{:<44} {:>13} {:>13} {:>8}", "operation", "median", "worst", "runs");
    let load = measure(&format!("load + validate {} built-ins", BUILTIN.len()), 50, load_builtin);
    let library = load_builtin();
    let query =
        SelectQuery { model: "meta-llama/Llama-3.1-70B-Instruct".into(), ..Default::default() };
    let hardware = Hardware { gpu: "MI300X".into(), total: 8, free: 8, memory_bytes: None };
    measure("select Llama-3.1-70B on 8x MI300X", 200, || {
        select(&library, &query, Some(&hardware), None)
    });
    let recipe = &library.recipes[0].recipe;
    let gpu = gpus::by_name(&recipe.gpu).expect("catalog GPU");
    measure("one fit estimate", 10_000, || estimate(&validate::fit_input(recipe, gpu)));
    let target = Duration::from_millis(20);
    println!();
    println!(
        "target: load + validate all built-ins < {} ms: {}",
        ms(target),
        if load < target { "met" } else { "MISSED" }
    );
}
