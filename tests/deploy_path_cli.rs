//! The one deploy path (`src/ops/`) end to end: the real binary with recorded GPU tool outputs
//! on `PATH` (tests/fixtures/gpus), a temp config/state home, and no cluster. Expected values
//! are read from the built-in recipes, not written here.

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

const LLAMA_70B: &str = "meta-llama/Llama-3.1-70B-Instruct";
const MI300X_VLLM: &str = "llama-3.1-70b-instruct-mi300x-x8-bf16-vllm";
const MI300X_SGLANG: &str = "llama-3.1-70b-instruct-mi300x-x8-bf16-sglang";

/// `aimdeck ARGS` with only `machine`'s fake GPU tools on PATH and a fresh home.
fn aimdeck(machine: &str, home: &Path) -> Command {
    let path = std::env::join_paths([
        common::fixture(machine).join("bin"),
        PathBuf::from("/usr/bin"),
        PathBuf::from("/bin"),
    ])
    .unwrap();
    let mut command = Command::cargo_bin("aimdeck").unwrap();
    command
        .env("PATH", path)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("HF_HOME", home.join("hf"))
        .env("AIMDECK_KFD_ROOT", "/nonexistent/aimdeck-test-kfd")
        .env("AIMDECK_PCI_ROOT", "/nonexistent/aimdeck-test-pci")
        .env_remove("KUBECONFIG")
        .env_remove("HF_HUB_CACHE")
        .env_remove("AIMDECK_CONFIG")
        .env_remove("DOCKER_HOST");
    command
}

fn run(machine: &str, args: &[&str]) -> (bool, Value, String) {
    let home = tempfile::tempdir().unwrap();
    let out = aimdeck(machine, home.path()).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.success(), json, stderr)
}

fn recipe(id: &str) -> aimdeck::model::Recipe {
    aimdeck::recipes::load_builtin()
        .get(id)
        .unwrap_or_else(|| panic!("built-in {id}"))
        .recipe
        .clone()
}

fn deployment_of(list: &Value) -> &Value {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "Deployment")
        .expect("a Deployment")
}

fn container_of(list: &Value) -> &Value {
    &deployment_of(list)["spec"]["template"]["spec"]["containers"][0]
}

fn words(container: &Value) -> String {
    let mut all: Vec<String> = Vec::new();
    for key in ["command", "args"] {
        all.extend(
            container[key]
                .as_array()
                .into_iter()
                .flatten()
                .map(|v| v.as_str().unwrap().to_string()),
        );
    }
    all.join(" ")
}

fn env_of(container: &Value, name: &str) -> Option<String> {
    container["env"]
        .as_array()?
        .iter()
        .find(|e| e["name"] == name)
        .and_then(|e| e["value"].as_str())
        .map(str::to_string)
}

#[test]
fn render_k8s_with_a_recipe_on_a_machine_without_gpus_runs_the_recipe() {
    let r = recipe(MI300X_VLLM);
    let (ok, list, stderr) = run(
        "no-gpu",
        &["render", "k8s", "r", "--model", LLAMA_70B, "--recipe", MI300X_VLLM, "--json"],
    );
    assert!(ok, "{stderr}");
    let container = container_of(&list);
    assert_eq!(container["resources"]["limits"]["amd.com/gpu"], r.gpu_count.to_string());
    assert_eq!(container["resources"]["requests"]["amd.com/gpu"], "8");
    // The recipe's AMD image, else the engine's ROCm image: never the CUDA one.
    let image = container["image"].as_str().unwrap();
    match r.image.amd.as_deref() {
        Some(recipe_image) => assert_eq!(image, recipe_image),
        None => assert!(image.contains("rocm"), "{image}"),
    }
    let line = words(container);
    assert!(line.contains(&format!("--tensor-parallel-size {}", r.parallelism.tp)), "{line}");
    assert!(line.contains(&format!("--max-model-len {}", r.max_model_len.unwrap())), "{line}");
    for flag in r.engine_args.keys() {
        assert!(line.contains(&format!("--{flag}")), "{flag} in {line}");
    }
    for (name, value) in &r.env {
        assert_eq!(env_of(container, name).as_deref(), Some(value.as_str()), "{name}");
    }
    let selector = &deployment_of(&list)["spec"]["template"]["spec"]["nodeSelector"];
    assert_eq!(selector["amd.com/gpu.product-name"], "AMD_Instinct_MI300X");
    assert!(stderr.contains(&format!("recipe: {MI300X_VLLM}")), "{stderr}");
}

#[test]
fn an_sglang_recipe_renders_sglang_launch_server_with_its_flags() {
    let r = recipe(MI300X_SGLANG);
    let (ok, list, stderr) = run(
        "no-gpu",
        &["render", "k8s", "s", "--model", LLAMA_70B, "--recipe", MI300X_SGLANG, "--json"],
    );
    assert!(ok, "{stderr}");
    let container = container_of(&list);
    let line = words(container);
    assert!(line.contains("sglang.launch_server"), "{line}");
    assert!(!line.contains("vllm serve"), "{line}");
    assert!(line.contains("--port 30000"), "SGLang's port: {line}");
    for flag in r.engine_args.keys() {
        assert!(line.contains(&format!("--{flag}")), "{flag} in {line}");
    }
    assert_eq!(container["resources"]["limits"]["amd.com/gpu"], "8");
    assert_eq!(env_of(container, "SGLANG_USE_AITER").as_deref(), Some("1"));
}

#[test]
fn render_k8s_and_k8s_render_print_the_same_objects() {
    let home = tempfile::tempdir().unwrap();
    let shared = aimdeck("no-gpu", home.path())
        .args(["render", "k8s", "a", "--model", LLAMA_70B, "--tp", "8", "--vendor", "amd"])
        .output()
        .unwrap();
    let k8s = aimdeck("no-gpu", home.path())
        .args([
            "k8s",
            "render",
            "k8s",
            "--name",
            "a",
            "--model",
            LLAMA_70B,
            "--tp",
            "8",
            "--gpu-vendor",
            "amd",
        ])
        .output()
        .unwrap();
    assert!(
        shared.status.success() && k8s.status.success(),
        "{}{}",
        String::from_utf8_lossy(&shared.stderr),
        String::from_utf8_lossy(&k8s.stderr)
    );
    let text = String::from_utf8_lossy(&shared.stdout);
    assert!(text.contains("amd.com/gpu: '8'") || text.contains("amd.com/gpu: \"8\""), "{text}");
    assert_eq!(shared.stdout, k8s.stdout);
}

#[test]
fn on_eight_recorded_mi300x_render_docker_picks_a_recipe_and_passes_the_gpus() {
    let (ok, rendered, stderr) =
        run("mi300x-8-amdsmi-gpu-data", &["render", "docker", "x", "--model", LLAMA_70B, "--json"]);
    assert!(ok, "{stderr}");
    let id = rendered["recipe"].as_str().expect("a recipe was chosen");
    assert_eq!(recipe(id).gpu, "MI300X", "{id}");
    assert!(
        rendered["reason"].as_str().unwrap().contains("on 8 x MI300X"),
        "{}",
        rendered["reason"]
    );
    assert!(rendered["overrides"].as_array().unwrap().is_empty());
    assert!(stderr.contains(&format!("recipe: {id}")), "{stderr}");
    let host = &rendered["containers"][0]["config"]["HostConfig"];
    let devices: Vec<&str> = host["Devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["PathOnHost"].as_str().unwrap())
        .collect();
    assert_eq!(devices[0], "/dev/kfd");
    assert!(devices[1].starts_with("/dev/dri/renderD"), "{devices:?}");
    assert_eq!(devices.len() as u32, 1 + recipe(id).gpu_count);
    // `deploy --dry-run` takes the same path and says the same.
    let (ok, planned, stderr) = run(
        "mi300x-8-amdsmi-gpu-data",
        &["deploy", "x", "--model", LLAMA_70B, "--backend", "docker", "--dry-run"],
    );
    assert!(ok, "{stderr}");
    assert_eq!(planned["recipe"], id);
    assert_eq!(
        planned["containers"][0]["config"]["HostConfig"]["Devices"],
        *host.get("Devices").unwrap()
    );
}

#[test]
fn an_override_is_listed_and_the_rest_comes_from_the_recipe() {
    let (ok, rendered, stderr) = run(
        "mi300x-8-amdsmi-gpu-data",
        &[
            "render",
            "docker",
            "x",
            "--model",
            LLAMA_70B,
            "--recipe",
            MI300X_VLLM,
            "--max-model-len",
            "8192",
            "--json",
        ],
    );
    assert!(ok, "{stderr}");
    assert_eq!(rendered["recipe"], MI300X_VLLM);
    assert_eq!(rendered["overrides"], serde_json::json!(["max_model_len"]));
    assert!(rendered["from_recipe"].as_array().unwrap().iter().any(|f| f == "env"));
}

#[test]
fn bad_input_is_refused_with_the_reason() {
    let cases: [(&str, &[&str], &str); 5] = [
        (
            "no-gpu",
            &[
                "render",
                "k8s",
                "x",
                "--model",
                LLAMA_70B,
                "--recipe",
                "llama-3.1-70b-instruct-mi300x-x8-bf16-vlm",
            ],
            "closest: llama-3.1-70b-instruct-mi300x-x8-bf16-vllm",
        ),
        (
            "no-gpu",
            &["render", "k8s", "x", "--model", "Qwen/Qwen3-32B", "--recipe", MI300X_VLLM],
            "serves meta-llama/Llama-3.1-70B-Instruct, not --model Qwen/Qwen3-32B",
        ),
        (
            "no-gpu",
            &["render", "k8s", "x", "--model", LLAMA_70B, "--recipe", MI300X_VLLM, "--tp", "3"],
            "tp 3 x pp 1 x dp 1 = 3 GPUs contradicts",
        ),
        (
            "h100-sxm-8",
            &["render", "docker", "x", "--model", LLAMA_70B, "--recipe", MI300X_VLLM],
            "needs 8 x MI300X; this host has 8 x H100",
        ),
        (
            "mi300x-8-amdsmi-gpu-data",
            &["render", "docker", "x", "--model", "example/no-such-model"],
            "no recipe for example/no-such-model fits",
        ),
    ];
    for (machine, args, expected) in cases {
        let (ok, out, stderr) = run(machine, args);
        assert!(!ok && out.is_null(), "{args:?} should fail and print nothing: {out}");
        assert!(stderr.contains(expected), "{args:?}: expected `{expected}` in:\n{stderr}");
    }
}

#[test]
fn headless_commands_read_the_config_backend_and_warn_about_a_broken_file() {
    let home = tempfile::tempdir().unwrap();
    let config_dir = home.path().join("config/aimdeck");
    std::fs::create_dir_all(&config_dir).unwrap();
    std::fs::write(config_dir.join("config.yaml"), "backend: process\n").unwrap();
    let out = aimdeck("no-gpu", home.path())
        .args([
            "deploy",
            "c",
            "--model",
            "Qwen/Qwen2.5-0.5B-Instruct",
            "--command",
            "aimdeck-sim",
            "--dry-run",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rendered: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rendered["backend"], "process", "{rendered}");

    std::fs::write(config_dir.join("config.yaml"), "backend: process\nbakend: docker\n").unwrap();
    let out = aimdeck("no-gpu", home.path())
        .args(["ls", "--backend", "process", "--json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let file = config_dir.join("config.yaml");
    assert!(stderr.contains(&format!("config ignored: {}:2:1:", file.display())), "{stderr}");
    assert!(out.status.success(), "defaults are used: {stderr}");
}

/// The console's create form and `aimdeck deploy`'s flags, given the same inputs, make the
/// same request and so the same spec.
#[test]
fn the_cli_and_the_console_form_resolve_to_equal_specs() {
    use aimdeck::ops::{Environment, Target, resolve};
    use clap::Parser;
    let library = aimdeck::recipes::load_builtin();
    let env = Environment::default();
    let target = Target::Declared { gpu: "MI300X".into(), count: 8 };
    // The flags given, and the (JSON pointer, value) pairs the spec must have.
    type Case = (&'static [&'static str], &'static [(&'static str, &'static str)]);
    let cases: [Case; 3] = [
        (
            &[
                "--recipe",
                MI300X_SGLANG,
                "--replicas",
                "2",
                "--image",
                "lmsysorg/sglang:v0.5.5-rocm700-mi30x",
            ],
            &[
                ("recipe", MI300X_SGLANG),
                ("replicas", "2"),
                ("image", "lmsysorg/sglang:v0.5.5-rocm700-mi30x"),
            ],
        ),
        (
            &[
                "--tp",
                "4",
                "--gpus-per-replica",
                "4",
                "--recipe",
                "llama-3.1-70b-instruct-mi300x-x4-bf16-vllm",
                "--port",
                "9000",
            ],
            &[
                ("tp", "4"),
                ("gpus", "4"),
                ("recipe", "llama-3.1-70b-instruct-mi300x-x4-bf16-vllm"),
                ("port", "9000"),
            ],
        ),
        (&["--", "--enable-prefix-caching"], &[("extra_args", "--enable-prefix-caching")]),
    ];
    for (flags, fields) in cases {
        let mut argv = vec!["aimdeck", "deploy", "same", "--model", LLAMA_70B];
        let (before, after) = match flags.iter().position(|f| *f == "--") {
            Some(i) => (&flags[..i], &flags[i..]),
            None => (flags, &[][..]),
        };
        argv.extend(before);
        argv.extend(after);
        let cli = aimdeck::cli::Cli::try_parse_from(&argv).unwrap();
        let Some(aimdeck::cli::Command::Deploy(command)) = cli.command else { panic!("deploy") };
        let mut from_cli = aimdeck::cli::plan::request_from(&command.deploy, "docker").unwrap();
        let mut values: aimdeck::tui::features::deploy::create_form::FormValues =
            [("name", "same"), ("model", LLAMA_70B), ("backend", "docker"), ("replicas", "1")]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        for (k, v) in fields {
            values.insert(k.to_string(), v.to_string());
        }
        let mut from_form =
            aimdeck::tui::features::deploy::create_form::request_from_form(&values).unwrap();
        from_cli.target = target.clone();
        from_form.target = target.clone();
        assert_eq!(from_cli, from_form, "{flags:?}");
        let (a, b) = (
            resolve(&from_cli, &library, &env).unwrap(),
            resolve(&from_form, &library, &env).unwrap(),
        );
        assert_eq!(a.spec, b.spec, "{flags:?}");
        assert_eq!(a.overrides, b.overrides);
    }
}
