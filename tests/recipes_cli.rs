//! `aimdeck recipes ...` and `aimdeck fit` end to end, on the real binary, with a home
//! directory and Hugging Face cache of the test's own.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/recipes")
}

struct Env {
    home: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        Env { home: tempfile::tempdir().unwrap() }
    }

    fn cmd(&self) -> Command {
        let mut cmd = Command::cargo_bin("aimdeck").unwrap();
        cmd.env_clear()
            .env("HOME", self.home.path())
            .env("XDG_CONFIG_HOME", self.home.path().join(".config"))
            .env("HF_HUB_CACHE", self.home.path().join("hub"))
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        cmd
    }

    fn json(&self, args: &[&str]) -> (Value, i32) {
        let output = self.cmd().args(args).output().unwrap();
        let text = String::from_utf8_lossy(&output.stdout);
        let value = serde_json::from_str(&text).unwrap_or_else(|err| {
            panic!(
                "{args:?}: not JSON ({err}):\n{text}\nstderr:\n{}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
        (value, output.status.code().unwrap_or(-1))
    }

    fn text(&self, args: &[&str]) -> (String, String, i32) {
        let output = self.cmd().args(args).output().unwrap();
        (
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
            output.status.code().unwrap_or(-1),
        )
    }
}

fn candidates(selection: &Value) -> &Vec<Value> {
    selection["candidates"].as_array().expect("candidates")
}

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

#[test]
fn validate_points_a_typo_at_its_file_line_and_column() {
    let env = Env::new();
    let (stdout, _, code) =
        env.text(&["recipes", "validate", "tests/fixtures/recipes/typo/llama-typo.yaml"]);
    assert_eq!(code, 1);
    assert!(
        stdout.starts_with(
            "tests/fixtures/recipes/typo/llama-typo.yaml:16:1: gpu_cout: unknown field `gpu_cout`"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("expected one of"), "{stdout}");
}

#[test]
fn validate_prints_every_problem_of_every_file() {
    let env = Env::new();
    let (problems, code) =
        env.json(&["recipes", "validate", "tests/fixtures/recipes/bad", "--json"]);
    assert_eq!(code, 1);
    let found: Vec<(String, u64, u64, String)> = problems["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["file"].as_str().unwrap().rsplit('/').next().unwrap().to_string(),
                p["line"].as_u64().unwrap(),
                p["column"].as_u64().unwrap(),
                p["field"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expect =
        |file: &str, line, column, field: &str| (file.to_string(), line, column, field.to_string());
    assert!(found.contains(&expect("three-problems.yaml", 14, 12, "gpu_count")), "{found:?}");
    assert!(found.contains(&expect("three-problems.yaml", 17, 7, "parallelism.tp")), "{found:?}");
    assert!(found.contains(&expect("three-problems.yaml", 15, 12, "precision")), "{found:?}");
    assert!(found.contains(&expect("unknown-gpu.yaml", 11, 6, "gpu")), "{found:?}");
    assert_eq!(problems["recipes"], 0);

    let (stdout, _, _) = env.text(&["recipes", "validate", "tests/fixtures/recipes/bad"]);
    assert!(
        stdout.contains("three-problems.yaml:15:12: precision: fp8 is not supported on A100-80GB"),
        "{stdout}"
    );
    assert!(stdout.contains("2 files checked, 0 recipes valid, 4 problems"), "{stdout}");
}

#[test]
fn validate_with_no_paths_checks_the_whole_library() {
    let env = Env::new();
    let (stdout, _, code) = env.text(&["recipes", "validate"]);
    assert_eq!(code, 0, "{stdout}");
    let count = aimdeck::recipes::builtin::BUILTIN.len();
    assert!(stdout.contains(&format!("{count} recipes valid, 0 problems")), "{stdout}");
}

#[test]
fn a_user_recipe_overrides_the_builtin_with_its_id() {
    let env = Env::new();
    let id = "llama-3.1-8b-instruct-h100-x1-bf16-vllm";
    let (builtin, _) = env.json(&["recipes", "show", id, "--json"]);
    assert_eq!(builtin["recipe"]["max_model_len"], 131072);
    let (shown, code) = env.json(&[
        "recipes",
        "--recipes-dir",
        "tests/fixtures/recipes/user-override",
        "show",
        id,
        "--json",
    ]);
    assert_eq!(code, 0);
    assert_eq!(shown["recipe"]["max_model_len"], 8192);
    assert_eq!(shown["origin"]["kind"], "user");
    assert_eq!(shown["overrides"], format!("builtin:recipes/{id}.yaml"));
    assert!(shown["command_line"].as_str().unwrap().contains("--max-model-len 8192"), "{shown}");

    // The default user directory counts too.
    let user_dir = env.home.path().join(".config/aimdeck/recipes");
    std::fs::create_dir_all(&user_dir).unwrap();
    std::fs::copy(fixtures().join("user-override/llama-8b-short.yaml"), user_dir.join("mine.yaml"))
        .unwrap();
    let (shown, _) = env.json(&["recipes", "show", id, "--json"]);
    assert_eq!(shown["recipe"]["max_model_len"], 8192);
}

#[test]
fn duplicate_ids_in_one_directory_are_errors() {
    let env = Env::new();
    let (stdout, _, code) = env.text(&["recipes", "validate", "tests/fixtures/recipes/duplicate"]);
    assert_eq!(code, 1);
    assert!(
        stdout
            .contains("b.yaml:1:1: id: duplicate id `mistral-7b-instruct-v0.3-l40s-x1-bf16-vllm`"),
        "{stdout}"
    );
    let (_, stderr, code) =
        env.text(&["recipes", "--recipes-dir", "tests/fixtures/recipes/duplicate", "list"]);
    assert_eq!(code, 0);
    assert!(stderr.contains("duplicate id"), "{stderr}");
}

#[test]
fn list_filters_by_gpu_engine_and_precision() {
    let env = Env::new();
    let (rows, _) =
        env.json(&["recipes", "list", "--gpu", "MI300X", "--engine", "sglang", "--json"]);
    let rows = rows.as_array().unwrap();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r["gpu"] == "MI300X" && r["engine"] == "sglang"), "{rows:?}");
    let (rows, _) = env.json(&[
        "recipes",
        "list",
        "--model",
        "Llama-3.1-8B-Instruct",
        "--precision",
        "fp8",
        "--json",
    ]);
    let rows = rows.as_array().unwrap();
    assert!(rows.len() >= 2, "{rows:?}");
    assert!(rows.iter().all(|r| r["precision"] == "fp8"));
}

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
