//! Parsing a 100 KB `/metrics` page (target: under 1 ms), with `nom-openmetrics` on the same
//! page for comparison. Run: `cargo bench --bench metrics`.

use std::hint::black_box;
use std::time::Instant;

use aimdeck::engine::metrics;

/// A page of about `bytes`, made of the recorded vLLM page with its engines renumbered, so it
/// has the label mix of a real many-engine server.
fn page(bytes: usize) -> String {
    let one = include_str!("../tests/fixtures/metrics/sim-vllm-current-dp2.txt");
    let mut text = String::with_capacity(bytes + one.len());
    let mut copy = 0;
    while text.len() < bytes {
        text.push_str(&one.replace("engine=\"", &format!("engine=\"{copy}")));
        copy += 1;
    }
    // Cut at the last whole line within `bytes`.
    let end = text[..bytes.min(text.len())].rfind('\n').map_or(0, |i| i + 1);
    text.truncate(end);
    text
}

fn measure(name: &str, bytes: usize, iterations: u32, mut f: impl FnMut()) {
    for _ in 0..iterations / 10 {
        f();
    }
    let mut times = Vec::with_capacity(iterations as usize);
    for _ in 0..iterations {
        let start = Instant::now();
        f();
        times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    let p = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
    println!(
        "{name:<34} {:>7} KB {:>9.3} {:>9.3} {:>9.3}",
        bytes / 1024,
        p(0.5),
        p(0.99),
        times[times.len() - 1]
    );
}

fn main() {
    println!("{:<34} {:>10} {:>9} {:>9} {:>9}", "case", "page", "p50 ms", "p99 ms", "max ms");
    for size in [100 * 1024, 1024 * 1024] {
        let text = page(size);
        let iterations = if size > 200 * 1024 { 50 } else { 500 };
        measure("aimdeck parse", text.len(), iterations, || {
            black_box(metrics::parse(black_box(&text)).map(|p| p.samples.len()).ok());
        });
        measure("aimdeck parse + snapshot", text.len(), iterations, || {
            let page = metrics::parse(black_box(&text)).expect("page");
            black_box(metrics::snapshot(&page));
        });
        measure("nom-openmetrics 0.3 prometheus()", text.len(), iterations, || {
            black_box(
                nom_openmetrics::parser::prometheus(black_box(&text)).map(|(_, f)| f.len()).ok(),
            );
        });
    }
    // Pages real servers send that a strict parser may refuse: (case, page).
    let text = page(100 * 1024);
    let cut_mid_line =
        format!("{}vllm:num_requests_running{{engine=\"0\",model_na", &text[..text.len() / 2]);
    let with_timestamp = format!("{text}up 1 1700000000000\n");
    let empty_family_at_end = format!(
        "{text}# HELP vllm:lora_requests_info Running stats on LoRA requests.\n# TYPE vllm:lora_requests_info gauge\n"
    );
    println!("\n{:<28} {:>22} {:>18}", "page", "nom-openmetrics", "aimdeck samples");
    for (case, page) in [
        ("whole", text.as_str()),
        ("cut mid-line (stalled)", cut_mid_line.as_str()),
        ("sample with a timestamp", with_timestamp.as_str()),
        ("HELP/TYPE with no samples", empty_family_at_end.as_str()),
    ] {
        let theirs = match nom_openmetrics::parser::prometheus(page) {
            Ok((_, families)) => format!("{} families", families.len()),
            Err(_) => "error (page lost)".to_string(),
        };
        let ours = metrics::parse(page)
            .map(|p| p.samples.len().to_string())
            .unwrap_or_else(|e| e.to_string());
        println!("{case:<28} {theirs:>22} {ours:>18}");
    }
}
