//! `recipes validate` and `recipes list`: problems named at file, line and column; user recipes over built-ins.

use super::*;

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
