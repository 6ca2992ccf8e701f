//! `recipes fit` against hand computations, and `recipes import` of AIM profiles.

use super::*;

#[test]
fn fit_llama_8b_on_one_h100_matches_the_hand_computation() {
    let env = Env::new();
    let (fit, code) = env.json(&[
        "fit",
        "--model",
        "meta-llama/Llama-3.1-8B-Instruct",
        "--gpu",
        "H100",
        "--count",
        "1",
        "--max-model-len",
        "8192",
        "--json",
    ]);
    assert_eq!(code, 0);
    assert_eq!(fit["kv_bytes_per_token"], 131072);
    assert_eq!(fit["weights_per_gpu_bytes"], 16_060_000_000u64);
    assert_eq!(fit["kv_capacity_tokens"], 448_312);
    assert_eq!(fit["max_concurrent_sequences"], 54);
    assert_eq!(fit["fits"], true);
}

#[test]
fn fit_says_when_a_model_does_not_fit() {
    let env = Env::new();
    let (stdout, _, code) = env.text(&[
        "fit",
        "--model",
        "meta-llama/Llama-3.1-70B-Instruct",
        "--gpu",
        "H100",
        "--count",
        "1",
    ]);
    assert_eq!(code, 1);
    assert!(stdout.contains("does not fit"), "{stdout}");
    let (stdout, _, code) =
        env.text(&["fit", "--model", "Qwen/Qwen2.5-7B-Instruct", "--gpu", "H100", "--count", "8"]);
    assert_eq!(code, 1);
    assert!(stdout.contains("tp 8 does not divide the model's 28 attention heads"), "{stdout}");
    let (_, stderr, code) = env.text(&["fit", "--model", "nobody/unknown-model", "--gpu", "H100"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("no architecture facts for `nobody/unknown-model`"), "{stderr}");
}

#[test]
fn import_converts_a_real_aim_profile_and_reports_what_it_dropped() {
    let env = Env::new();
    let path = "tests/fixtures/recipes/aim/Qwen/Qwen3-32B/vllm-mi300x-fp8-tp1-latency.yaml";
    let (out, code) = env.json(&["recipes", "import", path, "--json"]);
    assert_eq!(code, 0, "{out}");
    let imported = &out["imported"][0];
    let recipe = &imported["recipe"];
    assert_eq!(recipe["model"]["repo"], "Qwen/Qwen3-32B-FP8");
    assert!(recipe["model"]["aliases"].as_array().unwrap().iter().any(|a| a == "Qwen/Qwen3-32B"));
    assert_eq!(recipe["gpu"], "MI300X");
    assert_eq!(recipe["precision"], "fp8");
    assert_eq!(recipe["kv_cache_dtype"], "fp8");
    assert_eq!(recipe["goal"], "latency");
    assert_eq!(recipe["max_model_len"], 32768);
    assert_eq!(recipe["gpu_memory_utilization"], 0.9);
    assert_eq!(recipe["engine_args"]["no-enable-prefix-caching"], true);
    assert_eq!(recipe["engine_args"]["distributed-executor-backend"], "mp");
    assert_eq!(recipe["engine_args"]["max-num-seqs"], 512);
    assert!(recipe["engine_args"].get("tensor-parallel-size").is_none());
    assert_eq!(recipe["env"]["VLLM_ROCM_USE_AITER"], "1");
    let unmapped: Vec<&str> =
        imported["unmapped"].as_array().unwrap().iter().map(|u| u.as_str().unwrap()).collect();
    assert!(
        unmapped.iter().any(|u| u.starts_with("metadata.manual_selection_only")),
        "{unmapped:?}"
    );
    assert_eq!(imported["problems"].as_array().unwrap().len(), 0);

    // Written to a directory, the recipe is a valid recipe file.
    let out_dir = env.home.path().join("imported");
    let (_, stderr, code) =
        env.text(&["recipes", "import", path, "--write", "--out", out_dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let (stdout, _, code) = env.text(&["recipes", "validate", out_dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("1 recipe valid"), "{stdout}");
}

#[test]
fn import_finds_facts_in_the_cache_or_says_it_cannot() {
    let env = Env::new();
    let path = "tests/fixtures/recipes/aim/deepseek-ai/DeepSeek-R1-Distill-Qwen-32B/vllm-mi300x-fp16-tp1-latency-custom.yaml";
    let (_, stderr, code) = env.text(&["recipes", "import", path]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("no architecture facts for `deepseek-ai/DeepSeek-R1-Distill-Qwen-32B`"),
        "{stderr}"
    );

    let output = env
        .cmd()
        .env("HF_HUB_CACHE", fixtures().join("hf-cache-r1-distill"))
        .args(["recipes", "import", path, "--json"])
        .output()
        .unwrap();
    let out: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(output.status.success(), "{out}");
    let recipe = &out["imported"][0]["recipe"];
    assert_eq!(recipe["parallelism"]["tp"], 8);
    assert_eq!(recipe["gpu_count"], 8);
    assert_eq!(recipe["precision"], "fp16");
    assert_eq!(recipe["model"]["layers"], 64);
    assert!(
        out["imported"][0]["unmapped"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u.as_str().unwrap().starts_with("engine_args.dtype"))
    );
}

#[test]
fn import_of_a_moe_profile_fits_eight_mi300x() {
    let env = Env::new();
    let (out, code) = env.json(&[
        "recipes",
        "import",
        "tests/fixtures/recipes/aim/Qwen/Qwen3-235B-A22B/vllm-mi300x-fp16-tp8-throughput.yaml",
        "--json",
    ]);
    assert_eq!(code, 0, "{out}");
    let recipe = &out["imported"][0]["recipe"];
    assert_eq!(recipe["engine_args"]["enable-expert-parallel"], true);
    assert_eq!(recipe["model"]["active_params_b"], 22.0);
    assert_eq!(recipe["id"], "aim-qwen3-235b-a22b-vllm-mi300x-fp16-tp8-throughput");
}
