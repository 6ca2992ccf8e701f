//! `aimdeck-sim` speaks the engines' wire formats: the tests check what a client of a real
//! vLLM or SGLang server would see.

mod sim_support;

use std::time::Duration;

use serde_json::{Value, json};
use sim_support::SimProcess;

fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("client")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

/// The value of the one sample line `name{...labels} value` whose labels contain all of `labels`.
fn sample(page: &str, name: &str, labels: &[&str]) -> Vec<f64> {
    page.lines()
        .filter(|line| !line.starts_with('#'))
        .filter(|line| {
            line.starts_with(&format!("{name}{{")) || line.starts_with(&format!("{name} "))
        })
        .filter(|line| labels.iter().all(|l| line.contains(l)))
        .filter_map(|line| line.rsplit(' ').next()?.parse().ok())
        .collect()
}

#[test]
fn vllm_command_line_is_accepted_and_models_lists_the_served_name() {
    let sim = SimProcess::ready(&[
        "serve",
        "meta-llama/Llama-3.1-8B-Instruct",
        "--served-model-name",
        "llama",
        "--tensor-parallel-size",
        "2",
        "--gpu-memory-utilization",
        "0.9",
        "--enable-prefix-caching",
        "--kv-cache-dtype",
        "fp8",
        "--max-model-len",
        "4096",
    ]);
    runtime().block_on(async {
        let models: Value = client()
            .get(format!("{}/v1/models", sim.url()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(models["object"], "list");
        assert_eq!(models["data"][0]["id"], "llama");
        assert_eq!(models["data"][0]["owned_by"], "vllm");
        assert_eq!(models["data"][0]["root"], "meta-llama/Llama-3.1-8B-Instruct");
        assert_eq!(models["data"][0]["max_model_len"], 4096);
    });
}

#[test]
fn sglang_command_line_selects_the_sglang_flavor() {
    let sim = SimProcess::ready(&[
        "-m",
        "sglang.launch_server",
        "--model-path",
        "Qwen/Qwen3-8B",
        "--tp-size",
        "2",
        "--enable-metrics",
    ]);
    runtime().block_on(async {
        let models: Value = client().get(format!("{}/v1/models", sim.url())).send().await.unwrap().json().await.unwrap();
        assert_eq!(models["data"][0]["owned_by"], "sglang");
        let page = client().get(format!("{}/metrics", sim.url())).send().await.unwrap().text().await.unwrap();
        // SGLang 0.5 exports scheduler metrics from attention-TP rank 0 only, with its labels.
        assert_eq!(sample(&page, "sglang:num_running_reqs", &["tp_rank=\"0\"", "moe_ep_rank=\"0\""]).len(), 1);
        assert_eq!(sample(&page, "sglang:num_running_reqs", &["tp_rank=\"1\""]).len(), 0);
        assert!(page.contains("sglang:inter_token_latency_seconds_bucket{engine_type=\"unified\",le=\"0.002\",model_name=\"Qwen/Qwen3-8B\"}"), "{page}");
        assert!(page.contains("# TYPE sglang:num_retracted_requests_total counter"));
        assert!(!page.contains("total_retracted_reqs"));
    });
}

#[test]
fn vllm_entrypoint_model_flag_is_accepted() {
    let sim = SimProcess::ready(&[
        "--model",
        "facebook/opt-125m",
        "--flavor",
        "vllm",
        "--metric-names",
        "legacy",
    ]);
    runtime().block_on(async {
        let page = client()
            .get(format!("{}/metrics", sim.url()))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("# TYPE vllm:gpu_cache_usage_perc gauge"));
        assert!(page.contains("vllm:time_per_output_token_seconds_bucket"));
        assert!(!page.contains("vllm:kv_cache_usage_perc"));
    });
}

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

#[test]
fn chat_streams_server_sent_events_with_usage() {
    let sim = SimProcess::ready(&["serve", "m", "--ttft-ms", "10", "--tokens-per-second", "500"]);
    runtime().block_on(async {
        let body = json!({"model": "m", "messages": [{"role": "user", "content": "hi there"}], "max_tokens": 4,
            "stream": true, "stream_options": {"include_usage": true}});
        let reply = client().post(format!("{}/v1/chat/completions", sim.url())).json(&body).send().await.unwrap();
        assert!(reply.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
        let text = reply.text().await.unwrap();
        let events: Vec<&str> = text.split("\n\n").filter(|e| !e.is_empty()).collect();
        assert_eq!(events.last(), Some(&"data: [DONE]"));
        let chunks: Vec<Value> = events[..events.len() - 1]
            .iter()
            .map(|e| serde_json::from_str(e.strip_prefix("data: ").unwrap()).unwrap())
            .collect();
        assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
        let content: String =
            chunks.iter().filter_map(|c| c["choices"][0]["delta"]["content"].as_str()).collect();
        assert_eq!(content.split_whitespace().count(), 4);
        assert_eq!(chunks[chunks.len() - 2]["choices"][0]["finish_reason"], "length");
        assert_eq!(chunks[chunks.len() - 1]["usage"]["completion_tokens"], 4);
        assert_eq!(chunks[chunks.len() - 1]["usage"]["prompt_tokens"], 2);
    });
}

/// A streamed chat's chunks (without `[DONE]`).
async fn chat_chunks(url: &str, model: &str, max_tokens: u64) -> Vec<Value> {
    let body = json!({"model": model, "messages": [{"role": "user", "content": "think first"}], "max_tokens": max_tokens,
        "stream": true, "stream_options": {"include_usage": true}});
    let text = client()
        .post(format!("{url}/v1/chat/completions"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let events: Vec<&str> = text.split("\n\n").filter(|e| !e.is_empty()).collect();
    assert_eq!(events.last(), Some(&"data: [DONE]"));
    events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(e.strip_prefix("data: ").unwrap()).unwrap())
        .collect()
}

#[test]
fn reasoning_models_stream_thinking_in_each_engines_field() {
    let facts: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/engines/stream-shapes.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let vllm = [
        "serve",
        "m",
        "--reasoning-parser",
        "deepseek_r1",
        "--ttft-ms",
        "5",
        "--tokens-per-second",
        "500",
    ];
    let sglang = [
        "-m",
        "sglang.launch_server",
        "--model-path",
        "m",
        "--reasoning-parser",
        "deepseek-r1",
        "--ttft-ms",
        "5",
        "--tokens-per-second",
        "500",
    ];
    for (engine, argv) in [("vllm", &vllm[..]), ("sglang", &sglang[..])] {
        let fact = &facts[engine];
        let (thinking_field, answer_field) = (
            fact["reasoning_delta_field"].as_str().unwrap(),
            fact["answer_delta_field"].as_str().unwrap(),
        );
        let sim = SimProcess::ready(argv);
        let chunks = runtime().block_on(chat_chunks(&sim.url(), "m", 6));
        let deltas: Vec<&Value> =
            chunks.iter().filter_map(|c| c.pointer("/choices/0/delta")).collect();
        let text_of = |d: &Value, field: &str| {
            d.get(field).and_then(Value::as_str).filter(|t| !t.is_empty()).map(str::to_string)
        };
        let thinking: Vec<String> =
            deltas.iter().filter_map(|d| text_of(d, thinking_field)).collect();
        let answer: Vec<String> = deltas.iter().filter_map(|d| text_of(d, answer_field)).collect();
        assert_eq!((thinking.len(), answer.len()), (3, 3), "{engine}: {chunks:?}");
        // Thinking comes first, and no chunk carries both.
        let first_answer = deltas.iter().position(|d| text_of(d, answer_field).is_some()).unwrap();
        assert!(
            deltas[..first_answer].iter().filter(|d| text_of(d, thinking_field).is_some()).count()
                == 3,
            "{engine}"
        );
        assert!(deltas.iter().all(|d| text_of(d, thinking_field).is_none() || text_of(d, answer_field).is_none()));
        let other = if thinking_field == "reasoning" { "reasoning_content" } else { "reasoning" };
        assert!(deltas.iter().all(|d| d.get(other).is_none()), "{engine} never writes `{other}`");
        if fact["reasoning_delta_always_present"] == true {
            assert!(deltas.iter().all(|d| d.get(thinking_field).is_some()), "{engine}: {deltas:?}");
        }
        let usage = &chunks.last().unwrap()["usage"];
        assert_eq!(usage["completion_tokens"], 6, "{engine}: thinking counts as output: {usage}");
        for field in fact["usage_reasoning_fields"].as_array().unwrap() {
            let pointer = format!("/{}", field.as_str().unwrap().replace('.', "/"));
            assert_eq!(usage.pointer(&pointer), Some(&json!(3)), "{engine}: {field} in {usage}");
        }
    }
    // Without a parser (and on /v1/completions) there is no thinking field at all.
    let plain = SimProcess::ready(&["serve", "m", "--ttft-ms", "5", "--tokens-per-second", "500"]);
    let chunks = runtime().block_on(chat_chunks(&plain.url(), "m", 4));
    assert!(chunks.iter().all(|c| c.pointer("/choices/0/delta/reasoning").is_none()));
    assert!(chunks.last().unwrap()["usage"].get("completion_tokens_details").is_none());
}

#[test]
fn refuses_connections_while_starting_then_serves_health() {
    let sim = SimProcess::spawn(&["serve", "m", "--startup-delay", "800ms"]);
    runtime().block_on(async {
        let err = client().get(format!("{}/health", sim.url())).send().await.unwrap_err();
        assert!(err.is_connect(), "expected a refused connection while starting, got {err}");
    });
    sim.wait_listening(Duration::from_secs(10));
    runtime().block_on(async {
        let reply = client().get(format!("{}/health", sim.url())).send().await.unwrap();
        assert_eq!(reply.status(), 200);
    });
}

#[test]
fn a_failed_engine_answers_503_on_health_and_fails_requests() {
    let sim = SimProcess::ready(&["serve", "m"]);
    runtime().block_on(async {
        let client = client();
        client.post(format!("{}/sim/fail", sim.url())).send().await.unwrap();
        assert_eq!(client.get(format!("{}/health", sim.url())).send().await.unwrap().status(), 503);
        let reply = client
            .post(format!("{}/v1/completions", sim.url()))
            .json(&json!({"prompt": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 500);
        client.post(format!("{}/sim/recover", sim.url())).send().await.unwrap();
        assert_eq!(client.get(format!("{}/health", sim.url())).send().await.unwrap().status(), 200);
    });
}

#[test]
fn bad_requests_get_openai_style_errors() {
    let sim = SimProcess::ready(&["serve", "m", "--max-model-len", "10"]);
    runtime().block_on(async {
        let client = client();
        let url = format!("{}/v1/completions", sim.url());
        let reply = client.post(&url).body("{not json").send().await.unwrap();
        assert_eq!(reply.status(), 400);
        let reply =
            client.post(&url).json(&json!({"model": "other", "prompt": "x"})).send().await.unwrap();
        assert_eq!(reply.status(), 404);
        let body: Value = reply.json().await.unwrap();
        assert_eq!(body["error"]["message"], "The model `other` does not exist.");
        let reply = client
            .post(&url)
            .json(&json!({"prompt": "a b c", "max_tokens": 20}))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 400);
        let body: Value = reply.json().await.unwrap();
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("maximum context length is 10 tokens")
        );
    });
}

#[test]
fn help_says_it_is_a_test_double_and_bad_flags_are_explained() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_aimdeck-sim"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("TEST DOUBLE"));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_aimdeck-sim"))
        .args(["--flavor", "tgi"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("argument --flavor: invalid choice: 'tgi' (choose from 'vllm', 'sglang')")
    );
}

fn sim_output(args: &[&str]) -> (Option<i32>, String) {
    let out =
        std::process::Command::new(env!("CARGO_BIN_EXE_aimdeck-sim")).args(args).output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Issue 15: the sim refuses what the real parsers refuse, in their words and exit status.
#[test]
fn the_sim_refuses_what_the_real_parsers_refuse() {
    let (code, err) = sim_output(&["serve", "M", "--no-such-flag", "3"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("usage: vllm serve"), "{err}");
    assert!(err.contains("vllm serve: error: unrecognized arguments: --no-such-flag 3"), "{err}");
    let sglang = ["-m", "sglang.launch_server", "--model-path", "M"];
    let (code, err) = sim_output(&[&sglang[..], &["--pp", "2"][..]].concat());
    assert_eq!(code, Some(2));
    assert!(
        err.contains("sglang serve: error: ambiguous option: --pp could match ")
            && err.contains("--pp-size"),
        "{err}"
    );
    let (code, err) = sim_output(&[&sglang[..], &["--kv-cache-dtype", "fp8"][..]].concat());
    assert_eq!(code, Some(2));
    assert!(err.contains("argument --kv-cache-dtype: invalid choice: 'fp8' (choose from 'auto', 'fp8_e5m2', 'fp8_e4m3'"), "{err}");
    // vLLM checks parser names after parsing, and Python exits 1 on the KeyError.
    let (code, err) = sim_output(&["serve", "M", "--reasoning-parser", "deepseek-r1"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("invalid reasoning parser: deepseek-r1 (chose from {"), "{err}");
    let (code, err) = sim_output(&["serve", "M", "--engine-version", "0.1.0"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("vllm 0.1.0 is not imitated; known: 0.33.0"), "{err}");
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

/// SGLang's /health generates a token and answers after about a second; vLLM's at once.
#[test]
fn sglang_health_takes_its_generation_time() {
    let sglang = SimProcess::ready(&["-m", "sglang.launch_server", "--model-path", "m"]);
    let vllm = SimProcess::ready(&["serve", "m"]);
    runtime().block_on(async {
        let client = client();
        let started = std::time::Instant::now();
        assert!(
            client
                .get(format!("{}/health", sglang.url()))
                .send()
                .await
                .unwrap()
                .status()
                .is_success()
        );
        assert!(started.elapsed() >= Duration::from_millis(950), "{:?}", started.elapsed());
        let started = std::time::Instant::now();
        assert!(
            client
                .get(format!("{}/health", vllm.url()))
                .send()
                .await
                .unwrap()
                .status()
                .is_success()
        );
        assert!(started.elapsed() < Duration::from_millis(500));
    });
}

#[test]
fn startup_log_walks_through_the_engine_phases() {
    use aimdeck::engine::startup::StartupTracker;
    use aimdeck::model::StartupPhase;
    use std::io::{BufRead, BufReader};
    for flavor in ["vllm", "sglang"] {
        let port = sim_support::free_port().to_string();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_aimdeck-sim"))
            .args([
                "--flavor",
                flavor,
                "--model",
                "m",
                "--host",
                "127.0.0.1",
                "--port",
                &port,
                "--startup-delay",
                "300ms",
            ])
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let mut tracker = StartupTracker::new(0);
        let mut phases = Vec::new();
        for (i, line) in BufReader::new(stderr).lines().enumerate() {
            let line = line.unwrap();
            if tracker.observe_line(&line, i as i64) {
                phases.push(tracker.phase.unwrap());
            }
            if line.contains("Uvicorn running on") {
                break;
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(
            phases,
            vec![StartupPhase::LoadingWeights, StartupPhase::WarmingUp, StartupPhase::Ready],
            "{flavor}"
        );
    }
}

#[test]
fn sigterm_stops_the_sim_promptly() {
    let mut sim = SimProcess::ready(&["serve", "m"]);
    let pid = sim.pid();
    let status =
        std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap();
    assert!(status.success());
    let exit = sim.wait_exit(Duration::from_secs(5)).expect("exited after SIGTERM");
    assert!(exit.success(), "{exit:?}");
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

#[test]
fn fault_flags_fail_then_exit_on_schedule() {
    let mut sim = SimProcess::ready(&["serve", "m", "--fail-after", "300ms", "--exit-after", "1s"]);
    runtime().block_on(async {
        let client = client();
        assert_eq!(client.get(format!("{}/health", sim.url())).send().await.unwrap().status(), 200);
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(client.get(format!("{}/health", sim.url())).send().await.unwrap().status(), 503);
    });
    let status = sim.wait_exit(Duration::from_secs(5)).expect("exits after --exit-after");
    assert_eq!(status.code(), Some(1));
}
