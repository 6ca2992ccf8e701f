//! Kubernetes behind the shared `Backend` trait (`--backend k8s`), against the fake API server
//! through a real `kube::Client` built from its generated kubeconfig.

use crate::fake_kube;

use std::sync::Arc;
use std::time::{Duration, Instant};

use aimdeck::backend::kubernetes::KubeTarget;
use aimdeck::backend::{Backend, BackendError, BackendOptions, LogOptions, open, registry};
use aimdeck::model::{DeploymentSpec, ReplicaState};
use assert_cmd::Command;
use fake_kube::{FakeKube, FakeOptions, NAMESPACE};
use futures::StreamExt;
use serde_json::{Value, json};

fn spec(name: &str, replicas: u32) -> DeploymentSpec {
    serde_json::from_value(json!({
        "name": name, "model": "Qwen/Qwen3-0.6B", "engine": "vllm",
        "gpus_per_replica": 0, "replicas": replicas, "port": 8000,
        "image": "vllm/vllm-openai:v0.11.0"
    }))
    .expect("spec")
}

fn open_k8s(fake: &FakeKube) -> Arc<dyn Backend> {
    let mut options = BackendOptions::new("/nonexistent");
    options.kubernetes =
        KubeTarget { kubeconfig: Some(fake.kubeconfig_path()), ..Default::default() };
    open("k8s", &options).expect("opens without I/O")
}

async fn until_ready(
    backend: &dyn Backend,
    name: &str,
    replicas: usize,
) -> aimdeck::model::Deployment {
    let started = Instant::now();
    loop {
        let d = backend.get(name).await.expect("get");
        if d.replicas.len() == replicas && d.ready_replicas() == replicas {
            return d;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{name} not ready: {:?}", d.replicas);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trait_create_list_scale_logs_delete() {
    let fake = FakeKube::start(FakeOptions {
        ready_delay: Duration::from_millis(300),
        ..Default::default()
    })
    .await;
    let backend = open_k8s(&fake);
    assert_eq!(backend.name(), "k8s");
    assert!(fake.requests().is_empty(), "open does no I/O");

    let created = backend.create(&spec("qwen", 2), None).await.expect("create");
    assert_eq!(
        (created.backend.as_str(), created.spec.replicas, created.replicas.len()),
        ("k8s", 2, 2)
    );
    assert!(
        created.replicas.iter().all(|r| r.state != ReplicaState::Ready),
        "{:?}",
        created.replicas
    );
    let err = backend.create(&spec("qwen", 1), None).await.unwrap_err();
    assert!(matches!(err, BackendError::AlreadyExists(_)), "{err}");
    assert!(
        fake.get("Deployment", NAMESPACE, "qwen").is_some()
            && fake.get("Service", NAMESPACE, "qwen").is_some()
    );
    assert!(
        fake.requests()
            .iter()
            .any(|r| r.starts_with("PATCH") && r.contains("fieldManager=aimdeck")),
        "server-side apply as aimdeck"
    );

    let ready = until_ready(backend.as_ref(), "qwen", 2).await;
    assert_eq!(ready.spec.model, "Qwen/Qwen3-0.6B");
    assert!(ready.replicas.iter().all(|r| r.port == 8000 && r.name.starts_with("qwen-")));
    let listed = backend.list().await.expect("list");
    assert_eq!(listed.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(), vec!["qwen"]);
    assert_eq!(listed[0].ready_summary(), "2/2");

    backend.scale("qwen", 3, None).await.expect("scale");
    until_ready(backend.as_ref(), "qwen", 3).await;
    let scaled = backend.scale("qwen", 1, None).await.expect("scale down");
    assert_eq!(scaled.spec.replicas, 1);
    until_ready(backend.as_ref(), "qwen", 1).await;

    // To 0 and back: the Deployment stays at replicas 0 with its spec, and comes back from it.
    let zero = backend.scale("qwen", 0, None).await.expect("scale to 0");
    assert_eq!(zero.spec.replicas, 0);
    fake.wait_for(Duration::from_secs(10), "no pod at 0", |f| {
        f.inventory(NAMESPACE).iter().all(|o| !o.starts_with("Pod/"))
    })
    .await;
    assert!(fake.get("Deployment", NAMESPACE, "qwen").is_some(), "the Deployment is kept at 0");
    let listed = backend.list().await.expect("list at 0");
    assert_eq!(
        listed.iter().map(|d| (d.name.as_str(), d.replicas.len())).collect::<Vec<_>>(),
        vec![("qwen", 0)]
    );
    assert_eq!(listed[0].spec.model, "Qwen/Qwen3-0.6B", "the spec is still there");
    backend.scale("qwen", 1, None).await.expect("scale back to 1");
    let one = until_ready(backend.as_ref(), "qwen", 1).await;

    fake.append_log(NAMESPACE, &one.replicas[0].name, "INFO: Application startup complete.");
    let lines: Vec<_> =
        backend.logs("qwen", LogOptions::default()).await.expect("logs").collect().await;
    let texts: Vec<String> = lines.into_iter().map(|l| l.expect("line").text).collect();
    assert!(texts.iter().any(|t| t.contains("Application startup complete")), "{texts:?}");

    backend.delete("qwen").await.expect("delete");
    fake.wait_for(Duration::from_secs(10), "nothing left", |f| f.inventory(NAMESPACE).is_empty())
        .await;
    assert!(backend.list().await.expect("list").is_empty());
    assert!(matches!(backend.get("qwen").await, Err(BackendError::NotFound(_))));
    assert!(matches!(backend.scale("qwen", 2, None).await, Err(BackendError::NotFound(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_kubeconfig_opens_and_fails_fast_on_use() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut options = BackendOptions::new(dir.path());
    options.kubernetes = KubeTarget {
        kubeconfig: Some(dir.path().join("missing-kubeconfig")),
        ..Default::default()
    };
    assert!(registry::NAMES.contains(&"k8s"));
    let backend = open("k8s", &options).expect("open is lazy");
    let started = Instant::now();
    let err = backend.list().await.unwrap_err().to_string();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(err.contains("kubeconfig"), "{err}");
    assert!(!backend.health().await.reachable);
    // Rendering needs no cluster.
    let rendered = backend.render(&spec("qwen", 1)).expect("render");
    let kinds: Vec<&str> =
        rendered["items"].as_array().unwrap().iter().map(|o| o["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, vec!["Deployment", "Service"]);
}

async fn aimdeck(
    fake: &Arc<FakeKube>,
    state: &std::path::Path,
    args: &[&str],
) -> (bool, String, String) {
    let kubeconfig = fake.kubeconfig_path();
    let state = state.to_path_buf();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let output = Command::cargo_bin("aimdeck")
            .expect("binary")
            .env_remove("KUBECONFIG")
            .env("XDG_STATE_HOME", &state)
            .env("HF_HOME", state.join("hf"))
            .env_remove("HF_TOKEN")
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .args(&args)
            .timeout(Duration::from_secs(60))
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_deploy_ls_scale_logs_rm_with_backend_k8s() {
    let fake = FakeKube::start(FakeOptions::default()).await;
    let state = tempfile::tempdir().expect("tempdir");
    let dir = state.path();

    let (ok, yaml, err) =
        aimdeck(&fake, dir, &["render", "k8s", "qwen", "--model", "Qwen/Qwen3-0.6B"]).await;
    assert!(ok, "{err}");
    let docs: Vec<Value> =
        serde_saphyr::from_str_multiple(&yaml).expect("valid multi-document YAML");
    let kinds: Vec<&str> = docs.iter().map(|d| d["kind"].as_str().unwrap_or("?")).collect();
    assert_eq!(kinds, vec!["Deployment", "Service"], "{yaml}");
    let (ok, out2, err2) =
        aimdeck(&fake, dir, &["render", "k8s", "qwen", "--model", "Qwen/Qwen3-0.6B", "--json"])
            .await;
    assert!(ok, "{err2}");
    let rendered: Value = serde_json::from_str(&out2).expect("json");
    assert_eq!(rendered["items"][0]["kind"], "Deployment", "{out2}");
    assert!(fake.requests().is_empty(), "render talks to no cluster");

    let (ok, out, err) = aimdeck(
        &fake,
        dir,
        &[
            "deploy",
            "qwen",
            "--model",
            "Qwen/Qwen3-0.6B",
            "--backend",
            "k8s",
            "--json",
            "--wait-secs",
            "30",
        ],
    )
    .await;
    assert!(ok, "{err}");
    let deployed: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(deployed["backend"], "k8s");
    assert_eq!(deployed["replicas"][0]["state"], "ready", "{out}");

    let (ok, out, err) = aimdeck(&fake, dir, &["ls", "--backend", "k8s", "--json"]).await;
    assert!(ok, "{err}");
    let listed: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(listed.as_array().unwrap().len(), 1, "{out}");
    assert_eq!(listed[0]["name"], "qwen");

    let (ok, out, err) = aimdeck(
        &fake,
        dir,
        &["scale", "qwen", "2", "--backend", "k8s", "--json", "--wait-secs", "30"],
    )
    .await;
    assert!(ok, "{err}");
    let scaled: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(scaled["replicas"].as_array().unwrap().len(), 2, "{out}");
    assert_eq!(fake.list("Pod", NAMESPACE).len(), 2);

    let pod = fake.list("Pod", NAMESPACE)[0]["metadata"]["name"].as_str().unwrap().to_string();
    fake.append_log(NAMESPACE, &pod, "hello from the engine");
    let (ok, out, err) = aimdeck(&fake, dir, &["logs", "qwen", "--backend", "k8s"]).await;
    assert!(ok, "{err}");
    assert!(out.contains("hello from the engine"), "{out}");

    let (ok, out, err) = aimdeck(&fake, dir, &["rm", "qwen", "--yes", "--backend", "k8s"]).await;
    assert!(ok, "{err}");
    assert!(out.contains("removed qwen"), "{out}");
    fake.wait_for(Duration::from_secs(10), "nothing left", |f| f.inventory(NAMESPACE).is_empty())
        .await;
    let (ok, out, err) = aimdeck(&fake, dir, &["ls", "--backend", "k8s", "--json"]).await;
    assert!(ok, "{err}");
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap(), json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn render_exports_the_deployment_as_operator_resources() {
    let fake = FakeKube::start(FakeOptions::default()).await;
    let state = tempfile::tempdir().expect("tempdir");
    let dir = state.path();
    let spec = [
        "qwen",
        "--model",
        "Qwen/Qwen3-8B",
        "--vendor",
        "nvidia",
        "--tp",
        "2",
        "--gpus-per-replica",
        "2",
        "--replicas",
        "2",
    ];

    let mut args = vec!["render", "nimservice"];
    args.extend_from_slice(&spec);
    let (ok, yaml, err) = aimdeck(&fake, dir, &args).await;
    assert!(ok, "{err}");
    let docs: Vec<Value> = serde_saphyr::from_str_multiple(&yaml).expect("valid YAML");
    assert_eq!(docs.len(), 1, "{yaml}");
    assert_eq!(docs[0]["apiVersion"], "apps.nvidia.com/v1alpha1");
    assert_eq!(docs[0]["kind"], "NIMService");
    assert_eq!(docs[0]["metadata"]["name"], "qwen");
    assert_eq!(docs[0]["spec"]["replicas"], 2);
    assert_eq!(docs[0]["spec"]["resources"]["limits"]["nvidia.com/gpu"], "2", "{yaml}"); // a quantity, as the API server returns it

    let mut args = vec!["render", "kserve"];
    args.extend_from_slice(&spec);
    args.push("--json");
    let (ok, out, err) = aimdeck(&fake, dir, &args).await;
    assert!(ok, "{err}");
    let list: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(list["kind"], "List");
    assert_eq!(list["items"][0]["kind"], "InferenceService", "{out}");

    // AIM is AMD's operator: the same spec on AMD GPUs.
    let (ok, yaml, err) = aimdeck(
        &fake,
        dir,
        &["render", "aimservice", "qwen", "--model", "Qwen/Qwen3-8B", "--vendor", "amd"],
    )
    .await;
    assert!(ok, "{err}");
    assert!(yaml.contains("kind: AIMService"), "{yaml}");
    // NIM runs on NVIDIA only: said, not rendered.
    let (ok, _, err) = aimdeck(
        &fake,
        dir,
        &["render", "nimservice", "qwen", "--model", "Qwen/Qwen3-8B", "--vendor", "amd"],
    )
    .await;
    assert!(!ok && err.contains("NVIDIA GPUs only"), "{err}");
    let (ok, _, err) =
        aimdeck(&fake, dir, &["render", "helm", "qwen", "--model", "Qwen/Qwen3-8B"]).await;
    assert!(
        !ok && err.contains("unknown target `helm`")
            && err.contains("nimservice, aimservice, kserve"),
        "{err}"
    );
    assert!(fake.requests().is_empty(), "render talks to no cluster");
}

/// Issue 20: a GPU process whose `/proc/PID/cgroup` names a pod's UID is that pod's replica, in
/// `aimdeck gpus --json` and in the console's HELD BY.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gpu_process_in_a_pods_cgroup_belongs_to_its_replica() {
    let fake = FakeKube::start(FakeOptions::default()).await;
    let backend = open_k8s(&fake);
    backend.create(&spec("qwen", 1), None).await.expect("create");
    let deployment = until_ready(backend.as_ref(), "qwen", 1).await;
    let uid = deployment.replicas[0].pod_uid().map(str::to_string).expect("the pod's metadata.uid");
    // The recorded faulty H100 box runs pid 4242 on GPU 4; here the kubelet started it, under
    // the systemd cgroup driver (dashes in the UID become underscores).
    let proc_root = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(proc_root.path().join("4242")).expect("mkdir");
    std::fs::write(
        proc_root.path().join("4242/cgroup"),
        format!(
            "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{}.slice/cri-containerd-{}.scope\n",
            uid.replace('-', "_"),
            "7e".repeat(32)
        ),
    )
    .expect("write");
    let tools = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/gpus/h100-sxm-8-faulty/bin");
    let kubeconfig = fake.kubeconfig_path();
    let proc_dir = proc_root.path().to_path_buf();
    let output = tokio::task::spawn_blocking(move || {
        Command::cargo_bin("aimdeck")
            .expect("binary")
            .env("PATH", format!("{}:/usr/bin:/bin", tools.display()))
            .env("AIMDECK_KFD_ROOT", "/nonexistent/kfd")
            .env("AIMDECK_PCI_ROOT", "/nonexistent/pci")
            .env("AIMDECK_KERNEL_LOG", "/nonexistent/kmsg")
            .env("AIMDECK_PROC_ROOT", &proc_dir)
            .env_remove("KUBECONFIG")
            .args([
                "--kubeconfig".as_ref(),
                kubeconfig.as_os_str(),
                "gpus".as_ref(),
                "--json".as_ref(),
            ])
            .timeout(Duration::from_secs(30))
            .output()
            .expect("runs")
    })
    .await
    .expect("joined");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let doc: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let process = &doc["gpus"][4]["processes"][0];
    assert_eq!(process["pod_uid"], uid.as_str());
    assert_eq!(process["holder"], json!({"deployment": "qwen", "replica": 0}));
    let gpu: aimdeck::model::gpu::Gpu = serde_json::from_value(doc["gpus"][4].clone()).unwrap();
    assert_eq!(aimdeck::tui::features::gpus::detail::held_by(&gpu), "qwen/0 (71.2 GiB)");
    let refused = aimdeck::backend::placement::inventory(
        &aimdeck::model::gpu::GpuSnapshot { gpus: vec![gpu], ..Default::default() },
        aimdeck::backend::placement::PlacementPolicy::default(),
    );
    assert_eq!(
        refused[0].refused.as_deref(),
        Some("is used by a Kubernetes pod: qwen/0 (71.2 GiB)"),
        "the cluster's GPU is not free for a local replica"
    );
}

mod console_reads;
