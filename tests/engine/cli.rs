//! `aimdeck probe` and `aimdeck bench` against `aimdeck-sim`, as a script would run them.

use crate::sim_support;

use assert_cmd::Command;
use serde_json::Value;
use sim_support::{SimProcess, free_port};

fn aimdeck() -> Command {
    Command::cargo_bin("aimdeck").expect("aimdeck binary")
}

#[test]
fn bench_reports_what_it_sent_and_latencies_the_server_imposed() {
    let sim = SimProcess::ready(&["serve", "m", "--ttft-ms", "40", "--tokens-per-second", "200"]);
    let out = aimdeck()
        .args([
            "bench",
            &sim.url(),
            "--requests",
            "12",
            "--concurrency",
            "3",
            "--input-tokens",
            "20",
        ])
        .args(["--output-tokens", "8", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["succeeded"], 12);
    assert_eq!(report["failed"], 0);
    assert_eq!(report["model"], "m");
    assert_eq!(report["completion_tokens_received"], 96);
    assert_eq!(report["prompt_tokens_sent"], 240);
    let ttft = report["ttft_s"]["p50"].as_f64().unwrap();
    assert!((0.04..0.5).contains(&ttft), "ttft p50 {ttft}");
    // 200 tokens/s per sequence: 5 ms apart.
    let itl = report["itl_s"]["p50"].as_f64().unwrap();
    assert!((0.003..0.05).contains(&itl), "itl p50 {itl}");
    let e2e = report["e2e_s"]["p99"].as_f64().unwrap();
    assert!(e2e >= ttft + 7.0 * 0.004, "e2e p99 {e2e}");
    assert!(report["output_tokens_per_s"].as_f64().unwrap() > 0.0);

    // The server counted the same traffic.
    let out = aimdeck().args(["probe", &sim.url(), "--json"]).output().unwrap();
    assert!(out.status.success());
    let probe: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(probe["health"], "ready");
    assert_eq!(probe["engine"], "vllm");
    assert_eq!(probe["models"][0]["id"], "m");
    assert_eq!(probe["metrics"]["generation_tokens_total"], 96.0);
    assert_eq!(probe["metrics"]["requests_by_reason"]["length"], 12.0);
}

#[test]
fn bench_on_a_reasoning_stream_times_the_first_thinking_token() {
    // 10 tokens at 20/s after 40 ms: thinking for 5 (40..240 ms), the answer from ~290 ms.
    let sim = SimProcess::ready(&[
        "serve",
        "m",
        "--reasoning-parser",
        "deepseek_r1",
        "--ttft-ms",
        "40",
        "--tokens-per-second",
        "20",
    ]);
    let out = aimdeck()
        .args([
            "bench",
            &sim.url(),
            "--api",
            "chat",
            "--requests",
            "4",
            "--concurrency",
            "2",
            "--input-tokens",
            "8",
        ])
        .args(["--output-tokens", "10", "--goodput", "ttft:5000", "tpot:5000", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["api"], "chat");
    assert_eq!(report["completion_tokens_received"], 40);
    assert_eq!(report["reasoning_tokens_received"], 20);
    let ttft = report["ttft_s"]["max"].as_f64().unwrap();
    assert!(
        (0.04..0.2).contains(&ttft),
        "TTFT at the first thinking token, not the answer's (~0.29 s): {ttft}"
    );
    // TPOT = (latency - TTFT) / 9 = 50 ms per token; ITL is the same gap, chunk to chunk.
    let tpot = report["tpot_s"]["p50"].as_f64().unwrap();
    assert!((0.035..0.1).contains(&tpot), "tpot {tpot}");
    let itl = report["itl_s"]["p50"].as_f64().unwrap();
    assert!((0.035..0.1).contains(&itl), "itl {itl}");
    assert_eq!(report["good_requests"], 4);
    assert_eq!(report["slos"], serde_json::json!({"ttft_ms": 5000.0, "tpot_ms": 5000.0}));
    assert!(report["goodput_requests_per_s"].as_f64().unwrap() > 0.0);

    let out = aimdeck().args(["bench", &sim.url(), "--goodput", "itl:5"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown metric `itl`"));
}

#[test]
fn probe_names_an_sglang_server_and_prints_a_readable_summary() {
    let sim = SimProcess::ready(&[
        "-m",
        "sglang.launch_server",
        "--model-path",
        "Qwen/Qwen3-8B",
        "--enable-metrics",
    ]);
    let out = aimdeck().args(["probe", &sim.url()]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("engine    sglang"), "{text}");
    assert!(text.contains("model     Qwen/Qwen3-8B"), "{text}");
    assert!(text.contains("health    ready"), "{text}");
}

#[test]
fn probe_of_a_closed_port_says_starting_and_fails() {
    let port = free_port();
    let out =
        aimdeck().args(["probe", &format!("http://127.0.0.1:{port}"), "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let probe: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(probe["health"], "starting");
    assert_eq!(probe["health_detail"], "connection refused");
    assert!(probe["metrics"].is_null());
}

#[test]
fn bad_arguments_are_explained() {
    let out = aimdeck().args(["probe", "localhost:8000"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("URL must start with http://"));
    let out = aimdeck().args(["bench", "http://127.0.0.1:1", "--requests", "0"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--requests must be at least 1"));
}

#[test]
fn bench_against_a_failing_server_counts_failures_and_exits_1() {
    let sim = SimProcess::ready(&["serve", "m"]);
    reqwest::blocking_free_post(&format!("{}/sim/fail", sim.url()));
    let out = aimdeck()
        .args([
            "bench",
            &sim.url(),
            "--model",
            "m",
            "--requests",
            "3",
            "--concurrency",
            "1",
            "--json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["failed"], 3);
    assert!(report["errors"][0].as_str().unwrap().contains("500"), "{report}");
}

/// A POST without a blocking reqwest client (the crate is built without that feature).
mod reqwest {
    pub fn blocking_free_post(url: &str) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            ::reqwest::Client::new().post(url).send().await.unwrap();
        });
    }
}

/// Issue 15: on an SGLang 0.5 page `aimdeck probe` reports retractions, read from
/// `sglang:num_retracted_requests_total` (the sim retracts when its KV cache is full).
#[test]
fn probe_reports_sglang_retractions() {
    let sim = SimProcess::ready(&[
        "-m",
        "sglang.launch_server",
        "--model-path",
        "m",
        "--enable-metrics",
        "--kv-cache-tokens",
        "60",
        "--ttft-ms",
        "5",
        "--tokens-per-second",
        "500",
        "--health-delay",
        "0",
    ]);
    let load = aimdeck()
        .args([
            "bench",
            &sim.url(),
            "--requests",
            "8",
            "--concurrency",
            "4",
            "--input-tokens",
            "10",
            "--output-tokens",
            "20",
        ])
        .output()
        .unwrap();
    assert!(load.status.success(), "{}", String::from_utf8_lossy(&load.stderr));
    let out = aimdeck().args(["probe", &sim.url(), "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let probe: Value = serde_json::from_slice(&out.stdout).unwrap();
    let retracted = probe["metrics"]["retractions_total"].as_f64().expect("retractions reported");
    assert!(retracted >= 1.0, "{probe}");
    let text = aimdeck().args(["probe", &sim.url()]).output().unwrap();
    assert!(String::from_utf8_lossy(&text.stdout).contains(&format!("retracted {retracted:.0}")));
}
