//! Every render target over a matrix of specs, applied to the fake API server with strict
//! field validation (the recorded CRD schemas of tests/fixtures/k8s-schemas/ and the
//! k8s-openapi types), by server-side apply and by create (client-side apply), as dry runs;
//! then a 2-node x 8-GPU deployment as a LeaderWorkerSet that applies, scales and is removed.

#[path = "support/fake_kube/mod.rs"]
mod fake_kube;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use aimdeck::backend::kubernetes::operators::{OperatorTarget, render_operator_objects};
use aimdeck::backend::kubernetes::render::render;
use aimdeck::backend::kubernetes::{
    ApplyOptions, CacheVolume, HpaMetric, HpaOptions, K8sRenderOptions, KedaOptions, KubeBackend,
    KubeTarget, SecretKeyRef,
};
use aimdeck::model::DeploymentSpec;
use fake_kube::{FakeKube, FakeOptions, NAMESPACE, Optional};
use kube::api::{ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

const ALL: [Optional; 6] = [
    Optional::NimOperator,
    Optional::AimOperator,
    Optional::Kserve,
    Optional::LeaderWorkerSet,
    Optional::Keda,
    Optional::ServiceMonitor,
];

async fn start(optional: &[Optional]) -> (Arc<FakeKube>, KubeBackend) {
    let fake = FakeKube::start(FakeOptions {
        optional: optional.iter().copied().collect::<HashSet<_>>(),
        ..Default::default()
    })
    .await;
    let target = KubeTarget { kubeconfig: Some(fake.kubeconfig_path()), ..Default::default() };
    let backend = KubeBackend::connect(&target).await.expect("client");
    (fake, backend)
}

fn spec(
    engine: &str,
    vendor: &str,
    tp: u32,
    pp: u32,
    replicas: u32,
    recipe: Option<&str>,
) -> DeploymentSpec {
    let mut value = json!({
        "name": format!("m-{engine}-{vendor}-tp{tp}-pp{pp}-r{replicas}"), "model": "meta-llama/Llama-3.1-8B-Instruct",
        "engine": engine, "gpu_vendor": vendor, "gpus_per_replica": tp * pp,
        "parallelism": {"tp": tp, "pp": pp, "dp": 1}, "replicas": replicas, "port": 8000,
    });
    if let Some(recipe) = recipe {
        value["recipe_id"] = json!(recipe);
    }
    serde_json::from_value(value).expect("spec")
}

fn resource_of(object: &Value) -> ApiResource {
    let (group, version) = match object["apiVersion"].as_str().unwrap().split_once('/') {
        Some((g, v)) => (g.to_string(), v.to_string()),
        None => (String::new(), object["apiVersion"].as_str().unwrap().to_string()),
    };
    let kind = object["kind"].as_str().unwrap();
    let plural = match kind {
        "PersistentVolumeClaim" => "persistentvolumeclaims".to_string(),
        "HorizontalPodAutoscaler" => "horizontalpodautoscalers".to_string(),
        "PodDisruptionBudget" => "poddisruptionbudgets".to_string(),
        other => format!("{}s", other.to_lowercase()),
    };
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(&group, &version, kind), &plural)
}

/// Server-side apply and create, both strict dry runs: the server must accept the object.
async fn accepted(backend: &KubeBackend, object: &Value, case: &str) {
    let api: kube::Api<DynamicObject> =
        kube::Api::namespaced_with(backend.client().clone(), NAMESPACE, &resource_of(object));
    let dynamic: DynamicObject = serde_json::from_value(object.clone()).expect("an object");
    let name = dynamic.metadata.name.clone().unwrap();
    let mut apply = PatchParams::apply("aimdeck").dry_run();
    apply.field_validation = Some(kube::api::ValidationDirective::Strict);
    if let Err(e) = api.patch(&name, &apply, &Patch::Apply(&dynamic)).await {
        panic!(
            "{case}: server-side apply of {}/{name} refused: {e}\n{}",
            object["kind"],
            serde_json::to_string_pretty(object).unwrap()
        );
    }
    let create =
        PostParams { dry_run: true, field_manager: Some("kubectl-client-side-apply".into()) };
    if let Err(e) = api.create(&create, &dynamic).await {
        panic!("{case}: create (client-side apply) of {}/{name} refused: {e}", object["kind"]);
    }
}

fn no_nulls(value: &Value, path: &str, case: &str) {
    match value {
        Value::Null => panic!("{case}: null at {path}"),
        Value::Object(map) => {
            map.iter().for_each(|(k, v)| no_nulls(v, &format!("{path}.{k}"), case))
        }
        Value::Array(items) => {
            items.iter().enumerate().for_each(|(i, v)| no_nulls(v, &format!("{path}[{i}]"), case))
        }
        _ => {}
    }
}

#[tokio::test]
async fn every_target_over_the_matrix_is_accepted_under_strict_validation() {
    let (_fake, backend) = start(&ALL).await;
    let mut checked = 0;
    for engine in ["vllm", "sglang"] {
        for vendor in ["amd", "nvidia"] {
            for (tp, pp) in [(1, 1), (8, 1), (8, 2)] {
                for replicas in [1, 3] {
                    for autoscale in [None, Some("hpa"), Some("keda")] {
                        for cache in [false, true] {
                            // tp 8 x pp 2 is the multi-node case: autoscaling is left to the plain render.
                            let recipe = (tp == 8).then_some("llama-3.1-8b/h100/tp8");
                            let spec = spec(engine, vendor, tp, pp, replicas, recipe);
                            let metric = aimdeck::backend::kubernetes::autoscale::default_metric(
                                spec.engine,
                            )
                            .to_string();
                            let options = K8sRenderOptions {
                                namespace: NAMESPACE.into(),
                                hf_token_secret: Some(SecretKeyRef {
                                    name: "hf-token".into(),
                                    key: "HF_TOKEN".into(),
                                }),
                                image_pull_secret: cache.then(|| "regcred".into()),
                                gpu_product: (tp == 8 && vendor == "nvidia")
                                    .then(|| "NVIDIA-H100-80GB-HBM3".into()),
                                cache: if cache {
                                    CacheVolume::Pvc {
                                        claim: "models".into(),
                                        size: (replicas == 1).then(|| "500Gi".into()),
                                        storage_class: None,
                                        access_mode: "ReadWriteMany".into(),
                                    }
                                } else {
                                    CacheVolume::None
                                },
                                hpa: (autoscale == Some("hpa")).then(|| HpaOptions {
                                    min_replicas: 1,
                                    max_replicas: 4,
                                    metric: HpaMetric::Pods {
                                        metric: metric.clone(),
                                        average_value: "5".into(),
                                    },
                                }),
                                keda: (autoscale == Some("keda")).then(|| KedaOptions {
                                    min_replicas: 1,
                                    max_replicas: 4,
                                    metric: metric.clone(),
                                    target: "5".into(),
                                    prometheus: "http://prometheus.monitoring:9090".into(),
                                }),
                                ..Default::default()
                            };
                            let case =
                                format!("{} autoscale={autoscale:?} cache={cache}", spec.name);
                            let objects =
                                render(&spec, &options).unwrap_or_else(|e| panic!("{case}: {e}"));
                            assert_eq!(
                                objects.leader_worker_set.is_some(),
                                pp == 2,
                                "{case}: multi-node is a LeaderWorkerSet"
                            );
                            for value in objects.to_values().unwrap() {
                                no_nulls(&value, "", &case);
                                accepted(&backend, &value, &case).await;
                                checked += 1;
                            }
                            for target in [
                                OperatorTarget::NimService,
                                OperatorTarget::AimService,
                                OperatorTarget::Kserve,
                            ] {
                                let result = render_operator_objects(target, &spec, &options);
                                let expected_refusal = match target {
                                    OperatorTarget::NimService => {
                                        vendor == "amd"
                                            || autoscale == Some("keda")
                                            || (pp == 2 && autoscale.is_some())
                                    }
                                    OperatorTarget::AimService => vendor == "nvidia" || pp == 2,
                                    OperatorTarget::Kserve => false,
                                };
                                match result {
                                    Err(e) => assert!(expected_refusal, "{case} {target:?}: {e}"),
                                    Ok(values) => {
                                        assert!(
                                            !expected_refusal,
                                            "{case} {target:?}: expected a refusal"
                                        );
                                        for value in values {
                                            no_nulls(&value, "", &case);
                                            accepted(
                                                &backend,
                                                &value,
                                                &format!("{case} {target:?}"),
                                            )
                                            .await;
                                            checked += 1;
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    assert!(checked > 300, "{checked} objects checked");
}

#[tokio::test]
async fn the_fake_refuses_what_the_real_server_refuses() {
    let (_fake, backend) = start(&ALL).await;
    let api = |object: &Value| {
        kube::Api::<DynamicObject>::namespaced_with(
            backend.client().clone(),
            NAMESPACE,
            &resource_of(object),
        )
    };
    let strict = || {
        let mut params = PatchParams::apply("aimdeck").dry_run();
        params.field_validation = Some(kube::api::ValidationDirective::Strict);
        params
    };
    // The shape of the old AIMService export.
    let aim = json!({"apiVersion": "aim.eai.amd.com/v1alpha1", "kind": "AIMService", "metadata": {"name": "old"},
        "spec": {"model": {"image": "vllm/vllm-openai-rocm:latest"}, "overrides": {"gpuSelector": {"count": 1}}}});
    let err = api(&aim).patch("old", &strict(), &Patch::Apply(&aim)).await.unwrap_err().to_string();
    assert!(err.contains("unknown field \"spec.overrides.gpuSelector\""), "{err}");
    // A null where the schema wants an object, as the old InferenceService export sent.
    let isvc = json!({"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService", "metadata": {"name": "old"},
        "spec": {"predictor": {"containers": [{"name": "kserve-container", "image": "x"}], "nodeSelector": null}}});
    let err =
        api(&isvc).patch("old", &strict(), &Patch::Apply(&isvc)).await.unwrap_err().to_string();
    assert!(
        err.contains(
            "spec.predictor.nodeSelector: Invalid value: \"null\": must be of type object"
        ),
        "{err}"
    );
    // Built-in kinds: a field the type does not have.
    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "old"},
        "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}},
        "spec": {"containers": [{"name": "e", "image": "x", "gpus": 2}]}}}});
    let err = api(&deployment)
        .patch("old", &strict(), &Patch::Apply(&deployment))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown field \"spec.template.spec.containers[0].gpus\""), "{err}");
    // A NIMService storage with a null size (the old export with an existing PVC).
    let nim = json!({"apiVersion": "apps.nvidia.com/v1alpha1", "kind": "NIMService", "metadata": {"name": "old"},
        "spec": {"image": {"repository": "r", "tag": "t"}, "authSecret": "s", "storage": {"pvc": {"name": "models", "size": null}}}});
    let err = api(&nim).patch("old", &strict(), &Patch::Apply(&nim)).await.unwrap_err().to_string();
    assert!(
        err.contains("spec.storage.pvc.size: Invalid value: \"null\": must be of type string"),
        "{err}"
    );
}

#[tokio::test]
async fn a_two_node_deployment_is_one_leader_worker_set_that_scales_and_is_removed() {
    let (fake, backend) = start(&[Optional::LeaderWorkerSet]).await;
    let mut spec = spec("vllm", "nvidia", 8, 2, 1, Some("llama-3.1-405b/h100x16/tp8-pp2"));
    spec.name = "llama-405b".into();
    spec.model = "meta-llama/Llama-3.1-405B-Instruct".into();
    let options = K8sRenderOptions { namespace: NAMESPACE.into(), ..Default::default() };
    let objects = render(&spec, &options).expect("renders");
    let lws = objects.leader_worker_set.clone().expect("an LWS");
    assert_eq!(lws["spec"]["leaderWorkerTemplate"]["size"], 2);
    let leader = &lws["spec"]["leaderWorkerTemplate"]["leaderTemplate"]["spec"]["containers"][0];
    let worker = &lws["spec"]["leaderWorkerTemplate"]["workerTemplate"]["spec"]["containers"][0];
    assert_eq!(
        leader["resources"]["limits"]["nvidia.com/gpu"], "8",
        "8 GPUs per node, not 16 in one pod"
    );
    let args = |c: &Value| {
        c["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_string())
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert!(
        args(leader).contains("--tensor-parallel-size 8 --pipeline-parallel-size 2"),
        "{}",
        args(leader)
    );
    assert!(
        args(leader).contains(
            "--nnodes 2 --node-rank $(LWS_WORKER_INDEX) --master-addr $(LWS_LEADER_ADDRESS)"
        ),
        "{}",
        args(leader)
    );
    assert!(
        !args(leader).contains("--headless") && args(worker).ends_with("--headless"),
        "{}",
        args(worker)
    );
    assert!(worker.get("readinessProbe").is_none(), "headless workers serve no HTTP");
    assert_eq!(
        objects.service.spec.as_ref().unwrap().selector.as_ref().unwrap()["leaderworkerset.sigs.k8s.io/worker-index"],
        "0"
    );

    let report = backend.apply(&objects, ApplyOptions::default()).await.expect("applies");
    assert!(report.applied.contains(&"LeaderWorkerSet/llama-405b".to_string()), "{report:?}");
    fake.wait_for(Duration::from_secs(10), "a leader and a worker", |f| {
        f.list("Pod", NAMESPACE).len() == 2
    })
    .await;
    let pods = fake.list("Pod", NAMESPACE);
    let worker_pod =
        pods.iter().find(|p| p["metadata"]["name"] == "llama-405b-0-1").expect("worker pod");
    assert_eq!(worker_pod["metadata"]["labels"]["aimdeck.io/deployment"], "llama-405b");

    // The console's rows: one per group, the leader with its workers.
    let watch = aimdeck::backend::kubernetes::ClusterWatch::start(&backend);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let row = loop {
        let snapshot = watch.snapshot();
        if let Some(row) =
            snapshot.deployments.iter().find(|d| d.name == "llama-405b" && d.ready == 1)
        {
            break row.clone();
        }
        assert!(tokio::time::Instant::now() < deadline, "no ready llama-405b row: {snapshot:#?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(row.desired, 1);
    assert_eq!(row.pods.len(), 1, "one row per group: {:#?}", row.pods);
    assert_eq!(
        (row.pods[0].name.as_str(), row.pods[0].workers.clone()),
        ("llama-405b-0", vec!["llama-405b-0-1".to_string()])
    );
    assert!(row.pods[0].ready);

    let listed = backend.list_deployments().await.expect("k8s ls");
    assert_eq!(
        listed.iter().map(|d| (d.name.as_str(), d.pods.len())).collect::<Vec<_>>(),
        vec![("llama-405b", 1)]
    );

    backend.scale("llama-405b", 2).await.expect("scales the LWS");
    assert_eq!(
        fake.get("LeaderWorkerSet", NAMESPACE, "llama-405b").unwrap()["spec"]["replicas"],
        2
    );
    fake.wait_for(Duration::from_secs(10), "two groups of two", |f| {
        f.list("Pod", NAMESPACE).len() == 4
    })
    .await;

    let deleted = backend.delete("llama-405b", false).await.expect("removes");
    assert!(deleted.deleted.contains(&"LeaderWorkerSet/llama-405b".to_string()), "{deleted:?}");
    fake.wait_for(Duration::from_secs(10), "every pod gone", |f| {
        f.list("Pod", NAMESPACE).is_empty()
    })
    .await;
    assert!(fake.list("LeaderWorkerSet", NAMESPACE).is_empty());

    // Without the LWS API: refused with the install hint, nothing applied.
    let (bare, plain) = start(&[]).await;
    let err = plain.apply(&objects, ApplyOptions::default()).await.unwrap_err().to_string();
    assert!(
        err.contains("leaderworkerset.x-k8s.io/v1")
            && err.contains("kubectl apply --server-side -f"),
        "{err}"
    );
    assert!(bare.list("Service", NAMESPACE).is_empty(), "nothing applied");
}

#[tokio::test]
async fn the_autoscaler_shows_current_and_desired_replicas_and_its_last_scaling_event() {
    let (fake, backend) = start(&[]).await;
    let spec = spec("vllm", "nvidia", 1, 1, 1, None);
    let options = K8sRenderOptions {
        namespace: NAMESPACE.into(),
        hpa: Some(HpaOptions {
            min_replicas: 1,
            max_replicas: 4,
            metric: HpaMetric::Pods {
                metric: "vllm:num_requests_waiting".into(),
                average_value: "5".into(),
            },
        }),
        ..Default::default()
    };
    backend
        .apply(&render(&spec, &options).unwrap(), ApplyOptions::default())
        .await
        .expect("applies");
    // The HPA controller's part (the fake has none): status and its event, as kube-controller-manager writes them.
    let mut hpa = fake.get("HorizontalPodAutoscaler", NAMESPACE, &spec.name).expect("hpa");
    hpa["status"] = json!({"currentReplicas": 1, "desiredReplicas": 3, "lastScaleTime": "2026-12-01T10:00:00Z"});
    fake.put("HorizontalPodAutoscaler", NAMESPACE, hpa);
    fake.put("Event", NAMESPACE, json!({"metadata": {"name": "hpa.1"}, "involvedObject": {"kind": "HorizontalPodAutoscaler", "name": spec.name, "namespace": NAMESPACE},
        "reason": "SuccessfulRescale", "message": "New size: 3; reason: pods metric vllm:num_requests_waiting above target", "type": "Normal", "count": 1,
        "lastTimestamp": "2026-12-01T10:00:00Z"}));
    let watch = aimdeck::backend::kubernetes::ClusterWatch::start(&backend);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let snapshot = watch.snapshot();
        let scaler = snapshot
            .deployments
            .iter()
            .find(|d| d.name == spec.name)
            .and_then(|d| d.autoscaler.clone());
        if let Some(scaler) = scaler.filter(|s| s.desired == 3 && s.last_event.is_some()) {
            assert_eq!((scaler.current, scaler.min, scaler.max), (1, 1, 4));
            assert!(scaler.last_event.unwrap().starts_with("New size: 3"));
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no autoscaler row: {snapshot:#?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn prepull_refuses_a_missing_pvc_and_creates_nothing() {
    let (fake, backend) = start(&[]).await;
    let request = aimdeck::backend::kubernetes::PrepullRequest {
        pvc: "no-such-pvc".into(),
        model: "Qwen/Qwen3-8B".into(),
        revision: None,
        image: "vllm/vllm-openai:v0.11.0".into(),
        hf_token_secret: None,
    };
    let err = backend.start_prepull(&request).await.unwrap_err().to_string();
    assert!(
        err.contains("no PersistentVolumeClaim `no-such-pvc`")
            && err.contains("nothing was created"),
        "{err}"
    );
    assert!(fake.list("Job", NAMESPACE).is_empty());
}

#[test]
fn disruption_safe_defaults() {
    let spec = spec("vllm", "nvidia", 1, 1, 3, None);
    let objects = render(&spec, &K8sRenderOptions::default()).unwrap();
    assert!(objects.pdb.is_some(), "3 replicas get a PodDisruptionBudget");
    let deployment = objects.deployment.unwrap().spec.unwrap();
    let rolling = deployment.strategy.unwrap().rolling_update.unwrap();
    assert_eq!(
        serde_json::to_value(&rolling).unwrap(),
        json!({"maxSurge": 0, "maxUnavailable": 1})
    );
    let pod = deployment.template.spec.unwrap();
    assert_eq!(pod.topology_spread_constraints.unwrap()[0].topology_key, "kubernetes.io/hostname");
    assert_eq!(pod.termination_grace_period_seconds, Some(120));
    let single =
        render(&self::spec("vllm", "nvidia", 1, 1, 1, None), &K8sRenderOptions::default()).unwrap();
    assert!(single.pdb.is_none(), "one replica: a PDB would block every drain");
}

#[test]
fn multi_node_recipes_render_per_node_pods_with_the_engines_own_flags() {
    let flags: Value =
        serde_json::from_str(include_str!("fixtures/engine-flags/multinode.json")).unwrap();
    let library = aimdeck::recipes::load_builtin();
    let multi: Vec<_> =
        library.recipes.iter().map(|l| &l.recipe).filter(|r| r.gpu_count > 8).collect();
    let ids: Vec<&str> = multi.iter().map(|r| r.id.as_str()).collect();
    for wanted in [
        "llama-3.1-405b-instruct-h100-x8x2-bf16-vllm",
        "llama-3.1-405b-instruct-a100-80gb-x8x2-bf16-vllm",
        "deepseek-r1-h200-x8x2-bf16-sglang",
    ] {
        assert!(ids.contains(&wanted), "{wanted} missing from {ids:?}");
    }
    for recipe in multi {
        let mut spec = aimdeck::recipes::to_spec::to_deployment_spec(recipe, "big", 1, 8000);
        spec.gpu_vendor.get_or_insert(aimdeck::model::deployment::GpuVendor::Nvidia);
        let objects = render(&spec, &K8sRenderOptions::default())
            .unwrap_or_else(|e| panic!("{}: {e}", recipe.id));
        let lws = objects
            .leader_worker_set
            .unwrap_or_else(|| panic!("{}: not a LeaderWorkerSet", recipe.id));
        assert_eq!(lws["spec"]["leaderWorkerTemplate"]["size"], 2, "{}", recipe.id);
        let known: Vec<&str> = flags[spec.engine.as_str()]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap())
            .collect();
        let single: std::collections::HashSet<String> = {
            let mut one = spec.clone();
            one.parallelism.pp = 1;
            one.parallelism.tp = 1;
            aimdeck::backend::kubernetes::pod::engine_command(
                &one,
                aimdeck::backend::kubernetes::multinode::NodeRole::Single,
            )
            .1
            .into_iter()
            .collect()
        };
        for template in ["leaderTemplate", "workerTemplate"] {
            let container = &lws["spec"]["leaderWorkerTemplate"][template]["spec"]["containers"][0];
            assert_eq!(
                container["resources"]["limits"]["nvidia.com/gpu"], "8",
                "{}: 8 GPUs per node",
                recipe.id
            );
            for arg in container["args"].as_array().unwrap().iter().filter_map(Value::as_str) {
                if arg.starts_with("--") && !single.contains(arg) {
                    assert!(
                        known.contains(&arg),
                        "{} {template}: `{arg}` is not a recorded {} flag",
                        recipe.id,
                        spec.engine.as_str()
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn an_autoscaled_workload_leaves_replicas_to_its_autoscaler_and_scale_says_so() {
    let (fake, backend) = start(&[Optional::LeaderWorkerSet, Optional::Keda]).await;
    let hpa = HpaOptions {
        min_replicas: 2,
        max_replicas: 4,
        metric: HpaMetric::Pods {
            metric: "vllm:num_requests_waiting".into(),
            average_value: "5".into(),
        },
    };
    let keda = KedaOptions {
        min_replicas: 2,
        max_replicas: 4,
        metric: "vllm:num_requests_waiting".into(),
        target: "5".into(),
        prometheus: "http://prometheus.monitoring:9090".into(),
    };
    let single = spec("vllm", "nvidia", 1, 1, 3, None);
    let multi = spec("vllm", "nvidia", 8, 2, 3, None);
    let plain = K8sRenderOptions { namespace: NAMESPACE.into(), ..Default::default() };
    let with_hpa = K8sRenderOptions { hpa: Some(hpa), ..plain.clone() };
    let with_keda = K8sRenderOptions { keda: Some(keda), ..plain.clone() };

    // Without an autoscaler the spec's replicas are rendered; with one, none (Deployment and LWS).
    let replicas = |objects: &aimdeck::backend::kubernetes::render::RenderedObjects| match &objects
        .leader_worker_set
    {
        Some(lws) => lws["spec"].get("replicas").cloned(),
        None => serde_json::to_value(objects.deployment.as_ref().unwrap()).unwrap()["spec"]
            .get("replicas")
            .cloned(),
    };
    assert_eq!(replicas(&render(&single, &plain).unwrap()), Some(json!(3)));
    assert_eq!(replicas(&render(&multi, &plain).unwrap()), Some(json!(3)));
    for (options, what) in [(&with_hpa, "hpa"), (&with_keda, "keda")] {
        for spec in [&single, &multi] {
            assert_eq!(
                replicas(&render(spec, options).unwrap()),
                None,
                "{} under {what}",
                spec.name
            );
        }
    }

    // Applied: what the HPA controller chose survives a re-apply (server-side apply).
    let objects = render(&single, &with_hpa).unwrap();
    backend.apply(&objects, ApplyOptions::default()).await.expect("applies");
    let mut live = fake.get("Deployment", NAMESPACE, &single.name).expect("deployment");
    live["spec"]["replicas"] = json!(4);
    fake.put("Deployment", NAMESPACE, live);
    backend.apply(&objects, ApplyOptions::default()).await.expect("re-applies");
    assert_eq!(
        fake.get("Deployment", NAMESPACE, &single.name).unwrap()["spec"]["replicas"],
        4,
        "the autoscaler's choice stays"
    );

    // `scale` does not fight the autoscaler: it says who owns the replicas and changes nothing.
    let err = backend.scale(&single.name, 1).await.unwrap_err().to_string();
    assert!(
        err.contains(&format!(
            "HorizontalPodAutoscaler `{}` owns its replicas (min 2, max 4)",
            single.name
        )),
        "{err}"
    );
    assert!(
        err.contains("nothing was changed") && err.contains("--min-replicas/--max-replicas"),
        "{err}"
    );
    assert_eq!(fake.get("Deployment", NAMESPACE, &single.name).unwrap()["spec"]["replicas"], 4);
}
