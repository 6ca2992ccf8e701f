//! Watching many endpoints at 1 Hz: CPU time of the monitor (this process) per second of wall
//! time, and how long each poll takes (health, metrics, parsing). The endpoints are
//! `aimdeck-sim` processes on 127.0.0.1, each with some traffic so its histograms move.
//! Target: 200 endpoints under 10% of one core, poll p99 under 250 ms.
//! Run: `cargo build --release --bin aimdeck-sim && cargo bench --bench poll [-- ENDPOINTS SECONDS]`.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aimdeck::monitor::{EndpointMonitor, EndpointTarget, PollConfig};
use tokio::sync::mpsc;

struct Sims(Vec<Child>);

impl Drop for Sims {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn sim_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("bench path");
    // target/release/deps/poll-xxxx -> target/release/aimdeck-sim
    exe.parent().and_then(|p| p.parent()).expect("target dir").join("aimdeck-sim")
}

/// CPU seconds (user + system) this process has used, from /proc/self/stat.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Fields 14 and 15 of the whole line are the 12th and 13th after the command name.
    (ticks(11) + ticks(12)) / 100.0
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let endpoints: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(200);
    let seconds: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(30);
    let binary = sim_binary();
    assert!(
        binary.exists(),
        "build it first: cargo build --release --bin aimdeck-sim ({})",
        binary.display()
    );

    let mut sims = Sims(Vec::new());
    let mut urls = Vec::new();
    for i in 0..endpoints {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let flavor = if i % 2 == 0 { "vllm" } else { "sglang" };
        let child = Command::new(&binary)
            .args([
                "--flavor",
                flavor,
                "--model",
                "m",
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
            ])
            .args(["--data-parallel-size", "2", "--tensor-parallel-size", "2"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start aimdeck-sim");
        sims.0.push(child);
        urls.push(format!("http://127.0.0.1:{port}"));
    }

    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async move {
        // Some traffic on every sim first, so the pages carry filled histograms.
        let client = reqwest::Client::new();
        tokio::time::sleep(Duration::from_millis(500)).await;
        for url in &urls {
            for _ in 0..3 {
                let _ = client
                    .post(format!("{url}/v1/completions"))
                    .json(&serde_json::json!({"prompt": "a b c d", "max_tokens": 4}))
                    .send()
                    .await;
            }
        }
        let (tx, mut rx) = mpsc::channel(4096);
        let mut monitor = EndpointMonitor::new(tx, PollConfig::default()).unwrap();
        for url in &urls {
            monitor.watch(EndpointTarget::from_url(url));
        }
        // Warm-up: connections open, first scrapes done.
        let warm = Instant::now() + Duration::from_secs(3);
        while let Ok(Some(_)) = tokio::time::timeout_at(warm.into(), rx.recv()).await {}

        let cpu_start = cpu_seconds();
        let wall_start = Instant::now();
        let end = wall_start + Duration::from_secs(seconds);
        let mut polls = Vec::new();
        let mut ready = 0usize;
        let mut page_bytes_note = 0usize;
        while let Ok(Some(update)) = tokio::time::timeout_at(end.into(), rx.recv()).await {
            polls.push(update.poll_ms);
            if update.sample.is_some() {
                ready += 1;
            }
            page_bytes_note += 1;
        }
        let wall = wall_start.elapsed().as_secs_f64();
        let cpu = cpu_seconds() - cpu_start;
        drop(monitor);
        polls.sort_by(|a, b| a.total_cmp(b));
        let p = |q: f64| {
            polls.get(((polls.len().max(1) - 1) as f64 * q) as usize).copied().unwrap_or(f64::NAN)
        };
        println!("endpoints                 {endpoints}");
        println!(
            "measured                  {wall:.1} s, {} polls ({:.1}/s), {ready} with metrics",
            polls.len(),
            polls.len() as f64 / wall
        );
        println!("monitor CPU               {:.1}% of one core", 100.0 * cpu / wall);
        println!(
            "poll duration ms          p50 {:.2}  p99 {:.2}  max {:.2}",
            p(0.5),
            p(0.99),
            polls.last().copied().unwrap_or(f64::NAN)
        );
        let _ = page_bytes_note;
    });
}
