//! `aimdeck k8s ...` end to end: the real binary against the fake API server.

use crate::fake_kube;

use std::sync::Arc;
use std::time::Duration;

use assert_cmd::Command;
use fake_kube::{FakeKube, FakeOptions, NAMESPACE};
use serde_json::Value;

/// Runs the binary off the runtime's threads so the fake keeps serving meanwhile.
async fn aimdeck(fake: &Arc<FakeKube>, args: &[&str]) -> (bool, String, String) {
    let kubeconfig = fake.kubeconfig_path();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let output = Command::cargo_bin("aimdeck")
            .expect("binary")
            .env_remove("KUBECONFIG")
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .args(&args)
            .timeout(Duration::from_secs(30))
            .output()
            .expect("runs");
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    })
    .await
    .expect("joined")
}

const SPEC: &[&str] = &[
    "--name",
    "qwen",
    "--model",
    "Qwen/Qwen3-8B",
    "--gpu-vendor",
    "nvidia",
    "--tp",
    "2",
    "--image",
    "vllm/vllm-openai:v0.11.0",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn render_prints_yaml_that_the_server_accepts_in_a_dry_run() {
    let fake = FakeKube::start(FakeOptions::default()).await;
    let mut args = vec![
        "k8s",
        "render",
        "k8s",
        "-n",
        NAMESPACE,
        "--pdb",
        "--hpa-metric",
        "vllm:num_requests_waiting=5",
        "--hpa-max",
        "4",
    ];
    args.extend_from_slice(SPEC);
    let (ok, yaml, err) = aimdeck(&fake, &args).await;
    assert!(ok, "{err}");
    let docs: Vec<Value> =
        serde_saphyr::from_str_multiple(&yaml).expect("valid multi-document YAML");
    let kinds: Vec<&str> = docs.iter().map(|d| d["kind"].as_str().unwrap_or("?")).collect();
    assert_eq!(
        kinds,
        vec!["Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"]
    );
    assert_eq!(
        docs[0]["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"],
        "2"
    );
    assert_eq!(
        docs[2]["spec"]["metrics"][0]["pods"]["metric"]["name"],
        "vllm:num_requests_waiting"
    );
    assert!(fake.requests().is_empty(), "render talks to no cluster");

    // The same objects, through the deploy path, pass the server's dry run and store nothing.
    let mut args = vec!["k8s", "deploy", "--dry-run", "--pdb", "--json"];
    args.extend_from_slice(SPEC);
    let (ok, out, err) = aimdeck(&fake, &args).await;
    assert!(ok, "{err}");
    let report: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(report["dry_run"], true);
    assert_eq!(
        report["applied"],
        serde_json::json!(["Deployment/qwen", "Service/qwen", "PodDisruptionBudget/qwen"])
    );
    assert!(fake.get("Deployment", NAMESPACE, "qwen").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_ls_scale_logs_rm() {
    let fake = FakeKube::start(FakeOptions::default()).await;
    let mut args = vec!["k8s", "deploy", "--wait", "20"];
    args.extend_from_slice(SPEC);
    let (ok, out, err) = aimdeck(&fake, &args).await;
    assert!(ok, "{err}");
    assert!(out.contains("Deployment/qwen applied"), "{out}");

    let (ok, out, err) = aimdeck(&fake, &["k8s", "ls", "--json"]).await;
    assert!(ok, "{err}");
    let rows: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(rows[0]["name"], "qwen");
    assert_eq!(rows[0]["ready"], 1);
    assert_eq!(rows[0]["model"], "Qwen/Qwen3-8B");

    let (ok, _, err) = aimdeck(&fake, &["k8s", "scale", "qwen", "2"]).await;
    assert!(ok, "{err}");
    fake.wait_for(Duration::from_secs(10), "2 running pods", |f| {
        f.list("Pod", NAMESPACE).iter().filter(|p| p["status"]["phase"] == "Running").count() == 2
    })
    .await;

    let (ok, out, err) = aimdeck(&fake, &["k8s", "logs", "qwen", "--tail", "1"]).await;
    assert!(ok, "{err}");
    assert_eq!(out.lines().count(), 2, "one line per pod, prefixed: {out}");
    assert!(
        out.lines()
            .all(|l| l.starts_with("[qwen-") && l.ends_with("Application startup complete.")),
        "{out}"
    );

    let (ok, _, err) = aimdeck(&fake, &["--readonly", "k8s", "rm", "qwen"]).await;
    assert!(!ok && err.contains("--readonly"), "{err}");
    let (ok, out, err) = aimdeck(&fake, &["k8s", "rm", "qwen"]).await;
    assert!(ok, "{err}");
    assert!(
        out.contains("Deployment/qwen deleted") && out.contains("Service/qwen deleted"),
        "{out}"
    );
    fake.wait_for(Duration::from_secs(10), "everything gone", |f| {
        f.inventory(NAMESPACE).is_empty()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_specific_message_and_changes_nothing() {
    let fake = FakeKube::start(FakeOptions::default()).await;
    let (ok, _, err) = aimdeck(&fake, &["k8s", "render", "k8s", "--model", "Qwen/Qwen3-8B"]).await;
    assert!(!ok && err.contains("--name: required without --spec"), "{err}");
    let (ok, _, err) =
        aimdeck(&fake, &["k8s", "render", "helm", "--name", "x", "--model", "m"]).await;
    assert!(!ok && err.contains("`helm`: expected nimservice, aimservice or kserve"), "{err}");
    let (ok, _, err) = aimdeck(&fake, &["--context", "prod", "k8s", "ls"]).await;
    assert!(!ok && err.contains("no context named `prod`"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("spec.yaml");
    std::fs::write(&spec, "name: llama\nmodel: meta-llama/Llama-3.1-8B-Instruct\nengine: vllm\ngpus_per_replica: two\nreplicas: 1\nport: 8000\n").unwrap();
    let (ok, _, err) = aimdeck(&fake, &["k8s", "deploy", "--spec", spec.to_str().unwrap()]).await;
    assert!(!ok, "{err}");
    assert!(err.contains("spec.yaml:4"), "file and line: {err}");

    let mut args = vec!["k8s", "deploy", "--hf-token-secret", "hf", "--cache-size", "100Gi"];
    args.extend_from_slice(SPEC);
    let (ok, _, err) = aimdeck(&fake, &args).await;
    assert!(!ok && err.contains("--cache-size needs --cache-pvc"), "{err}");
    assert!(fake.inventory(NAMESPACE).is_empty(), "nothing was made");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_and_contexts_as_json() {
    let fake = FakeKube::start(FakeOptions::default()).await;
    fake.put("Node", "", serde_json::json!({
        "metadata": {"name": "gpu-1", "labels": {"nvidia.com/gpu.product": "NVIDIA-L40S", "nvidia.com/gpu.memory": "46068"}},
        "status": {"capacity": {"nvidia.com/gpu": "4"}, "allocatable": {"nvidia.com/gpu": "4"}, "conditions": [{"type": "Ready", "status": "True"}]}
    }));
    let (ok, out, err) = aimdeck(&fake, &["k8s", "nodes", "--json"]).await;
    assert!(ok, "{err}");
    let rows: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(rows[0]["node"], "gpu-1");
    assert_eq!(rows[0]["allocatable"], 4);
    assert_eq!(rows[0]["memory"], "46068 MiB");

    let (ok, out, err) = aimdeck(&fake, &["k8s", "contexts", "--json"]).await;
    assert!(ok, "{err}");
    let contexts: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(contexts[1]["name"], "fake-other");
    assert_eq!(contexts[1]["namespace"], "other");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepull_on_a_missing_pvc_fails_and_multi_node_autoscaled_renders_name_their_objects() {
    let fake = FakeKube::start(FakeOptions::default()).await;
    let (ok, _, stderr) =
        aimdeck(&fake, &["k8s", "prepull", "--pvc", "no-such-pvc", "--model", "Qwen/Qwen3-8B"])
            .await;
    assert!(!ok && stderr.contains("no PersistentVolumeClaim `no-such-pvc`"), "{stderr}");
    assert!(fake.list("Job", NAMESPACE).is_empty(), "nothing created");

    let (ok, stdout, stderr) = aimdeck(
        &fake,
        &[
            "k8s",
            "render",
            "k8s",
            "--json",
            "--name",
            "big",
            "--model",
            "meta-llama/Llama-3.1-405B-Instruct",
            "--gpu-vendor",
            "nvidia",
            "--tp",
            "8",
            "--pp",
            "2",
            "--autoscale",
            "keda",
            "--max-replicas",
            "3",
        ],
    )
    .await;
    assert!(ok, "{stderr}");
    let list: Value = serde_json::from_str(&stdout).expect("a v1 List");
    let kinds: Vec<&str> =
        list["items"].as_array().unwrap().iter().map(|o| o["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, vec!["LeaderWorkerSet", "Service", "ScaledObject", "PodDisruptionBudget"]);
    assert_eq!(list["items"][2]["spec"]["scaleTargetRef"]["kind"], "LeaderWorkerSet");
    assert_eq!(
        list["items"][2]["spec"]["triggers"][0]["metadata"]["query"],
        "sum(vllm:num_requests_waiting{namespace=\"default\",service=\"big\"})"
    );

    let (ok, stdout, _) = aimdeck(&fake, &["k8s", "apis"]).await;
    assert!(
        ok && stdout.contains("\"leader_worker_set\": false") && stdout.contains("\"keda\": false"),
        "{stdout}"
    );
}
