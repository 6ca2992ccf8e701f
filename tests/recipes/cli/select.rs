//! `recipes select`: the ranking for the hardware, with reasons, busy GPUs and derived recipes.

use super::*;

#[test]
fn select_ranks_llama_70b_on_eight_mi300x_with_reasons() {
    let env = Env::new();
    let (selection, code) = env.json(&[
        "recipes",
        "select",
        "--model",
        "meta-llama/Llama-3.1-70B-Instruct",
        "--gpu",
        "MI300X",
        "--count",
        "8",
        "--json",
    ]);
    assert_eq!(code, 0);
    let best = selection["best"].as_str().expect("a best recipe");
    let all = candidates(&selection);
    let accepted: Vec<&Value> = all.iter().filter(|c| c["accepted"] == true).collect();
    assert!(accepted.len() >= 3, "{accepted:?}");
    assert_eq!(accepted[0]["id"], best);
    for (i, candidate) in accepted.iter().enumerate() {
        assert_eq!(candidate["rank"], i + 1);
        assert_eq!(candidate["recipe"]["gpu"], "MI300X");
        assert!(!candidate["reasons"].as_array().unwrap().is_empty());
        assert_eq!(candidate["fit"]["fits"], true);
    }
    let scores: Vec<i64> = accepted.iter().map(|c| c["score"].as_i64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    let h100 = all
        .iter()
        .find(|c| c["id"] == "llama-3.1-70b-instruct-h100-x8-bf16-vllm")
        .expect("H100 candidate");
    assert_eq!(h100["accepted"], false);
    assert_eq!(h100["rejections"][0], "written for H100; the GPUs here are MI300X");
}

#[test]
fn select_explains_busy_gpus_and_unsupported_precision() {
    let env = Env::new();
    let (selection, _) = env.json(&[
        "recipes",
        "select",
        "--model",
        "meta-llama/Llama-3.1-70B-Instruct",
        "--gpu",
        "MI300X",
        "--count",
        "8",
        "--free",
        "4",
        "--json",
    ]);
    let x8 = candidates(&selection)
        .iter()
        .find(|c| c["id"] == "llama-3.1-70b-instruct-mi300x-x8-bf16-vllm")
        .unwrap();
    assert_eq!(x8["accepted"], false);
    assert!(
        x8["rejections"].as_array().unwrap().iter().any(|r| r == "needs 8 GPUs, 4 are free"),
        "{x8}"
    );
    assert_ne!(selection["best"], "llama-3.1-70b-instruct-mi300x-x8-bf16-vllm");

    let (selection, _) = env.json(&[
        "recipes",
        "select",
        "--model",
        "meta-llama/Llama-3.1-70B-Instruct",
        "--gpu",
        "NVIDIA A100-SXM4-80GB",
        "--count",
        "4",
        "--json",
    ]);
    assert_eq!(selection["gpu"], "A100-80GB");
    let fp8 = candidates(&selection)
        .iter()
        .find(|c| c["id"] == "llama-3.1-70b-instruct-h100-x2-fp8-vllm")
        .unwrap();
    assert!(
        fp8["rejections"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "fp8 is not supported on A100-80GB"),
        "{fp8}"
    );
    assert_eq!(selection["best"], "llama-3.1-70b-instruct-a100-80gb-x2-int4-awq-vllm");
}

#[test]
fn select_prefers_a_wider_split_for_latency() {
    let env = Env::new();
    let (selection, _) = env.json(&[
        "recipes",
        "select",
        "--model",
        "meta-llama/Llama-3.1-70B-Instruct",
        "--gpu",
        "MI300X",
        "--count",
        "8",
        "--prefer",
        "latency",
        "--json",
    ]);
    assert_eq!(selection["best"], "llama-3.1-70b-instruct-mi300x-x8-bf16-vllm");
}

#[test]
fn select_derives_a_recipe_from_a_cached_config_json() {
    let env = Env::new();
    let output = env
        .cmd()
        .env("HF_HUB_CACHE", fixtures().join("hf-cache-r1-distill"))
        .args([
            "recipes",
            "select",
            "--model",
            "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B",
            "--gpu",
            "H100",
            "--count",
            "8",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let selection: Value = serde_json::from_slice(&output.stdout).unwrap();
    let best = &candidates(&selection)[0];
    assert_eq!(best["derived"], true);
    assert_eq!(best["origin"]["kind"], "derived");
    // 32.8B in bf16 is 65.5 GB: on one 80 GB H100 the KV cache holds barely one 32k sequence,
    // so the smallest split with room for four is tp 2.
    assert_eq!(best["recipe"]["parallelism"]["tp"], 2);
    assert_eq!(best["id"], "derived-deepseek-r1-distill-qwen-32b-h100-x2-bf16-vllm");

    // Without the cache there is nothing to derive from, and the output says why.
    let (selection, code) = env.json(&[
        "recipes",
        "select",
        "--model",
        "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B",
        "--gpu",
        "H100",
        "--count",
        "8",
        "--json",
    ]);
    assert_eq!(code, 1);
    assert!(selection["best"].is_null());
    assert!(
        selection["notes"][0]
            .as_str()
            .unwrap()
            .contains("config.json is not in the local Hugging Face cache")
    );
}
