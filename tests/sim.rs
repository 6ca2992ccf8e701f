//! `aimdeck-sim` speaks the engines' wire formats: the tests check what a client of a real
//! vLLM or SGLang server would see.

mod sim_support;

use std::time::Duration;

use serde_json::{json, Value};
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
        .filter(|line| line.starts_with(&format!("{name}{{")) || line.starts_with(&format!("{name} ")))
        .filter(|line| labels.iter().all(|l| line.contains(l)))
        .filter_map(|line| line.rsplit(' ').next()?.parse().ok())
        .collect()
}

#[test]
fn vllm_command_line_is_accepted_and_models_lists_the_served_name() {
    let sim = SimProcess::ready(&[
        "serve", "meta-llama/Llama-3.1-8B-Instruct", "--served-model-name", "llama", "--tensor-parallel-size", "2",
        "--gpu-memory-utilization", "0.9", "--enable-prefix-caching", "--kv-cache-dtype", "fp8", "--max-model-len",
        "4096",
    ]);
    runtime().block_on(async {
        let models: Value = client().get(format!("{}/v1/models", sim.url())).send().await.unwrap().json().await.unwrap();
        assert_eq!(models["object"], "list");
        assert_eq!(models["data"][0]["id"], "llama");
        assert_eq!(models["data"][0]["owned_by"], "vllm");
        assert_eq!(models["data"][0]["root"], "meta-llama/Llama-3.1-8B-Instruct");
        assert_eq!(models["data"][0]["max_model_len"], 4096);
    });
}

#[test]
fn sglang_command_line_selects_the_sglang_flavor() {
    let sim = SimProcess::ready(&["-m", "sglang.launch_server", "--model-path", "Qwen/Qwen3-8B", "--tp", "2", "--enable-metrics"]);
    runtime().block_on(async {
        let models: Value = client().get(format!("{}/v1/models", sim.url())).send().await.unwrap().json().await.unwrap();
        assert_eq!(models["data"][0]["owned_by"], "sglang");
        let page = client().get(format!("{}/metrics", sim.url())).send().await.unwrap().text().await.unwrap();
        // One scheduler series per TP rank, with SGLang's labels.
        assert_eq!(sample(&page, "sglang:num_running_reqs", &["tp_rank=\"0\""]).len(), 1);
        assert_eq!(sample(&page, "sglang:num_running_reqs", &["tp_rank=\"1\""]).len(), 1);
        assert!(page.contains("sglang:inter_token_latency_seconds_bucket{le=\"0.005\",model_name=\"Qwen/Qwen3-8B\"}"));
    });
}

#[test]
fn vllm_entrypoint_model_flag_is_accepted() {
    let sim = SimProcess::ready(&["--model", "facebook/opt-125m", "--flavor", "vllm", "--metric-names", "legacy"]);
    runtime().block_on(async {
        let page = client().get(format!("{}/metrics", sim.url())).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("# TYPE vllm:gpu_cache_usage_perc gauge"));
        assert!(page.contains("vllm:time_per_output_token_seconds_bucket"));
        assert!(!page.contains("vllm:kv_cache_usage_perc"));
    });
}

#[test]
fn metrics_move_with_the_traffic_served() {
    let sim = SimProcess::ready(&["serve", "m", "--ttft-ms", "30", "--tokens-per-second", "200", "--data-parallel-size", "2"]);
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
    let text = client().post(format!("{url}/v1/chat/completions")).json(&body).send().await.unwrap().text().await.unwrap();
    let events: Vec<&str> = text.split("\n\n").filter(|e| !e.is_empty()).collect();
    assert_eq!(events.last(), Some(&"data: [DONE]"));
    events[..events.len() - 1].iter().map(|e| serde_json::from_str(e.strip_prefix("data: ").unwrap()).unwrap()).collect()
}

#[test]
fn reasoning_models_stream_thinking_in_each_engines_field() {
    let facts: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/engines/stream-shapes.json")).unwrap(),
    )
    .unwrap();
    let vllm = ["serve", "m", "--reasoning-parser", "deepseek_r1", "--ttft-ms", "5", "--tokens-per-second", "500"];
    let sglang = ["-m", "sglang.launch_server", "--model-path", "m", "--reasoning-parser", "deepseek-r1", "--ttft-ms", "5",
        "--tokens-per-second", "500"];
    for (engine, argv) in [("vllm", &vllm[..]), ("sglang", &sglang[..])] {
        let fact = &facts[engine];
        let (thinking_field, answer_field) =
            (fact["reasoning_delta_field"].as_str().unwrap(), fact["answer_delta_field"].as_str().unwrap());
        let sim = SimProcess::ready(argv);
        let chunks = runtime().block_on(chat_chunks(&sim.url(), "m", 6));
        let deltas: Vec<&Value> = chunks.iter().filter_map(|c| c.pointer("/choices/0/delta")).collect();
        let text_of = |d: &Value, field: &str| d.get(field).and_then(Value::as_str).filter(|t| !t.is_empty()).map(str::to_string);
        let thinking: Vec<String> = deltas.iter().filter_map(|d| text_of(d, thinking_field)).collect();
        let answer: Vec<String> = deltas.iter().filter_map(|d| text_of(d, answer_field)).collect();
        assert_eq!((thinking.len(), answer.len()), (3, 3), "{engine}: {chunks:?}");
        // Thinking comes first, and no chunk carries both.
        let first_answer = deltas.iter().position(|d| text_of(d, answer_field).is_some()).unwrap();
        assert!(deltas[..first_answer].iter().filter(|d| text_of(d, thinking_field).is_some()).count() == 3, "{engine}");
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
        let reply = client.post(&url).json(&json!({"model": "other", "prompt": "x"})).send().await.unwrap();
        assert_eq!(reply.status(), 404);
        let body: Value = reply.json().await.unwrap();
        assert_eq!(body["error"]["message"], "The model `other` does not exist.");
        let reply = client.post(&url).json(&json!({"prompt": "a b c", "max_tokens": 20})).send().await.unwrap();
        assert_eq!(reply.status(), 400);
        let body: Value = reply.json().await.unwrap();
        assert!(body["error"]["message"].as_str().unwrap().contains("maximum context length is 10 tokens"));
    });
}

#[test]
fn help_says_it_is_a_test_double_and_bad_flags_are_explained() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_aimdeck-sim")).arg("--help").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("TEST DOUBLE"));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_aimdeck-sim")).args(["--flavor", "tgi"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--flavor: unknown `tgi`"));
}

#[test]
fn startup_log_walks_through_the_engine_phases() {
    use aimdeck::engine::startup::StartupTracker;
    use aimdeck::model::StartupPhase;
    use std::io::{BufRead, BufReader};
    for flavor in ["vllm", "sglang"] {
        let port = sim_support::free_port().to_string();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_aimdeck-sim"))
            .args(["--flavor", flavor, "--model", "m", "--host", "127.0.0.1", "--port", &port, "--startup-delay", "300ms"])
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
        assert_eq!(phases, vec![StartupPhase::LoadingWeights, StartupPhase::WarmingUp, StartupPhase::Ready], "{flavor}");
    }
}

#[test]
fn sigterm_stops_the_sim_promptly() {
    let mut sim = SimProcess::ready(&["serve", "m"]);
    let pid = sim.pid();
    let status = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap();
    assert!(status.success());
    let exit = sim.wait_exit(Duration::from_secs(5)).expect("exited after SIGTERM");
    assert!(exit.success(), "{exit:?}");
}

#[test]
fn a_full_kv_cache_preempts_and_the_counter_moves() {
    let sim = SimProcess::ready(&["serve", "m", "--kv-cache-tokens", "60", "--ttft-ms", "5", "--tokens-per-second", "500"]);
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
        let page = client.get(format!("{}/metrics", sim.url())).send().await.unwrap().text().await.unwrap();
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
