//! The `/metrics` pages: counters that follow the traffic, and the real releases' families, labels and buckets.

use super::*;

#[test]
fn metrics_move_with_the_traffic_served() {
    let sim = SimProcess::ready(&[
        "serve",
        "m",
        "--ttft-ms",
        "30",
        "--tokens-per-second",
        "200",
        "--data-parallel-size",
        "2",
    ]);
    runtime().block_on(async {
        let client = client();
        let mut tasks = Vec::new();
        for i in 0..6 {
            let client = client.clone();
            let url = format!("{}/v1/completions", sim.url());
            tasks.push(tokio::spawn(async move {
                let body = json!({"model": "m", "prompt": format!("one two three four {i}"), "max_tokens": 10});
                let reply: Value = client.post(url).json(&body).send().await.unwrap().json().await.unwrap();
                reply
            }));
        }
        for task in tasks {
            let reply = task.await.unwrap();
            assert_eq!(reply["usage"]["prompt_tokens"], 5);
            assert_eq!(reply["usage"]["completion_tokens"], 10);
            assert_eq!(reply["choices"][0]["finish_reason"], "length");
        }
        let page = client.get(format!("{}/metrics", sim.url())).send().await.unwrap().text().await.unwrap();
        let sum = |name: &str, labels: &[&str]| sample(&page, name, labels).iter().sum::<f64>();
        assert_eq!(sum("vllm:prompt_tokens_total", &[]), 30.0);
        assert_eq!(sum("vllm:generation_tokens_total", &[]), 60.0);
        assert_eq!(sum("vllm:request_success_total", &["finished_reason=\"length\""]), 6.0);
        assert_eq!(sum("vllm:time_to_first_token_seconds_count", &[]), 6.0);
        assert_eq!(sum("vllm:inter_token_latency_seconds_count", &[]), 54.0);
        // Spread over both data-parallel engines.
        assert_eq!(sample(&page, "vllm:prompt_tokens_total", &["engine=\"1\""]), vec![15.0]);
        // TTFT >= 30 ms lands above the 0.02 bucket and (on an idle host) within 0.25 s.
        assert_eq!(sum("vllm:time_to_first_token_seconds_bucket", &["le=\"0.02\""]), 0.0);
        assert_eq!(sum("vllm:time_to_first_token_seconds_bucket", &["le=\"0.25\""]), 6.0);
    });
}

/// The families, label names and bucket bounds of a sim page, checked against the fixture of
/// the release it imitates (tests/fixtures/engines/, read from the wheels).
fn assert_page_matches_fixture(page: &str, engine: aimdeck::model::EngineKind) {
    use std::collections::{BTreeMap, BTreeSet};
    let facts = aimdeck::engine::facts::newest(engine);
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut labels: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut bounds: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for line in page.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            types.insert(name.to_string(), kind.to_string());
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let (series, _) = line.rsplit_once(' ').unwrap();
        let (name, label_text) =
            series.split_once('{').map_or((series, ""), |(n, l)| (n, l.trim_end_matches('}')));
        let family = types.keys().find(|f| {
            name == f.as_str()
                || name
                    .strip_prefix(f.as_str())
                    .is_some_and(|s| ["_bucket", "_sum", "_count"].contains(&s))
        });
        let family =
            family.unwrap_or_else(|| panic!("{name}: a sample without its # TYPE")).clone();
        for pair in label_text.split("\",").filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once("=\"").unwrap();
            if key == "le" {
                let value = value.trim_end_matches('"');
                if value != "+Inf" {
                    let b = bounds.entry(family.clone()).or_default();
                    let v: f64 = value.parse().unwrap();
                    if !b.contains(&v) {
                        b.push(v);
                    }
                }
            } else {
                labels.entry(family.clone()).or_default().insert(key.to_string());
            }
        }
    }
    assert!(types.len() >= 10, "{page}");
    for (family, kind) in &types {
        let fact = facts.family(family).unwrap_or_else(|| {
            panic!("{family}: not a family of {} {}", facts.engine, facts.version)
        });
        assert_eq!(&fact.kind, kind, "{family}");
        let want: BTreeSet<String> = fact.labels.iter().cloned().collect();
        let got = labels.get(family).cloned().unwrap_or_default();
        if family == "vllm:cache_config_info" {
            // Its labels are the keys of CacheConfig.metrics_info() plus `engine`.
            assert!(got.contains("engine"), "{family}: {got:?}");
            continue;
        }
        // SGLang adds `dp_rank` to scheduler metrics under data parallelism (an optional label).
        let got_required: BTreeSet<String> =
            got.iter().filter(|l| l.as_str() != "dp_rank").cloned().collect();
        assert_eq!(got_required, want, "{family}: labels");
        if let (Some(want), Some(got)) = (fact.buckets.as_ref(), bounds.get(family)) {
            assert_eq!(got, want, "{family}: bucket bounds");
        }
    }
}

#[test]
fn sim_pages_match_the_real_releases_families_labels_and_buckets() {
    use aimdeck::model::EngineKind;
    let vllm = SimProcess::ready(&[
        "serve",
        "m",
        "--data-parallel-size",
        "2",
        "--ttft-ms",
        "5",
        "--tokens-per-second",
        "500",
    ]);
    let sglang = SimProcess::ready(&[
        "-m",
        "sglang.launch_server",
        "--model-path",
        "m",
        "--tp-size",
        "2",
        "--dp-size",
        "2",
        "--health-delay",
        "0",
    ]);
    runtime().block_on(async {
        let client = client();
        for sim in [&vllm, &sglang] {
            let body = json!({"prompt": "a b c", "max_tokens": 3});
            client.post(format!("{}/v1/completions", sim.url())).json(&body).send().await.unwrap();
        }
        let page = client
            .get(format!("{}/metrics", vllm.url()))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_page_matches_fixture(&page, EngineKind::Vllm);
        for reason in ["stop", "length", "abort", "error", "repetition"] {
            assert_eq!(
                sample(
                    &page,
                    "vllm:request_success_total",
                    &[&format!("finished_reason=\"{reason}\"")]
                )
                .len(),
                2,
                "{reason}"
            );
        }
        let page = client
            .get(format!("{}/metrics", sglang.url()))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_page_matches_fixture(&page, EngineKind::Sglang);
        // Rank 0 of each of the two dp ranks, not one series per tp rank.
        assert_eq!(sample(&page, "sglang:num_running_reqs", &[]).len(), 2);
    });
}

#[test]
fn a_full_kv_cache_preempts_and_the_counter_moves() {
    let sim = SimProcess::ready(&[
        "serve",
        "m",
        "--kv-cache-tokens",
        "60",
        "--ttft-ms",
        "5",
        "--tokens-per-second",
        "500",
    ]);
    runtime().block_on(async {
        let client = client();
        let mut tasks = Vec::new();
        for _ in 0..4 {
            let (client, url) = (client.clone(), format!("{}/v1/completions", sim.url()));
            tasks.push(tokio::spawn(async move {
                let body = json!({"prompt": "a b c d e f g h i j", "max_tokens": 20});
                client.post(url).json(&body).send().await.unwrap().json::<Value>().await.unwrap()
            }));
        }
        for task in tasks {
            assert_eq!(task.await.unwrap()["usage"]["completion_tokens"], 20);
        }
        let page = client
            .get(format!("{}/metrics", sim.url()))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let preemptions: f64 = sample(&page, "vllm:num_preemptions_total", &[]).iter().sum();
        assert!(preemptions >= 1.0, "4 x 30 tokens in a 60-token cache: {preemptions} preemptions");
        assert_eq!(sample(&page, "vllm:generation_tokens_total", &[]).iter().sum::<f64>(), 80.0);
    });
}
