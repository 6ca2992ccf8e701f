//! The engines' command lines: what the real parsers accept and refuse, and the sim's own help.

use super::*;

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
