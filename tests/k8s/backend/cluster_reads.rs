//! What the console reads of the cluster: contexts, optional APIs, node GPUs, caches, operators, watches.

use super::*;

#[tokio::test]
async fn contexts_and_namespaces_come_from_the_kubeconfig() {
    let (fake, backend) = start(&[]).await;
    assert_eq!(backend.namespace(), NAMESPACE, "the current context's namespace");
    let contexts = list_contexts(Some(&fake.kubeconfig_path())).expect("contexts");
    let names: Vec<(&str, bool)> = contexts.iter().map(|c| (c.name.as_str(), c.current)).collect();
    assert_eq!(names, vec![("fake", true), ("fake-other", false)]);

    let other = KubeBackend::connect(&KubeTarget {
        kubeconfig: Some(fake.kubeconfig_path()),
        context: Some("fake-other".into()),
        ..Default::default()
    })
    .await
    .expect("other context");
    assert_eq!(other.namespace(), "other");
    let explicit = KubeBackend::connect(&KubeTarget {
        kubeconfig: Some(fake.kubeconfig_path()),
        namespace: Some("ml".into()),
        ..Default::default()
    })
    .await
    .expect("-n wins");
    assert_eq!(explicit.namespace(), "ml");

    let err = KubeBackend::connect(&KubeTarget {
        kubeconfig: Some(fake.kubeconfig_path()),
        context: Some("prod".into()),
        ..Default::default()
    })
    .await
    .err()
    .expect("unknown context fails")
    .to_string();
    assert!(err.contains("no context named `prod`") && err.contains("fake, fake-other"), "{err}");

    let mut namespaces = backend.namespaces().await.expect("namespaces");
    namespaces.sort();
    assert_eq!(namespaces, vec!["aimdeck-test", "other"]);
}

#[tokio::test]
async fn discovery_finds_only_the_optional_apis_the_cluster_serves() {
    let (_fake, plain) = start(&[]).await;
    let apis = plain.discover().await.expect("discovery");
    assert!(apis.autoscaling_v2 && apis.policy_v1);
    assert!(!apis.service_monitor && apis.nim_operator.is_none() && apis.aim_operator.is_none());

    let (_fake, rich) =
        start(&[Optional::ServiceMonitor, Optional::NimOperator, Optional::AimOperator]).await;
    let apis = rich.discover().await.expect("discovery");
    assert!(apis.service_monitor);
    assert_eq!(apis.nim_operator.as_deref(), Some("v1alpha1"));
    assert_eq!(apis.aim_operator.as_deref(), Some("v1alpha1"));
    assert_eq!(apis.kserve, None);
    assert!(!apis.leader_worker_set && !apis.keda);

    let (_fake, scaling) = start(&[Optional::LeaderWorkerSet, Optional::Keda]).await;
    let apis = scaling.discover().await.expect("discovery");
    assert!(apis.leader_worker_set && apis.keda, "{apis:?}");
}

#[tokio::test]
async fn node_gpu_inventory_counts_allocated_gpus_per_node() {
    let (fake, backend) = start(&[]).await;
    // Labels as NVIDIA GPU feature discovery and the AMD node labeller write them.
    fake.put("Node", "", json!({
        "metadata": {"name": "h100-a", "labels": {"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3", "nvidia.com/gpu.memory": "81559", "nvidia.com/gpu.count": "8"}},
        "spec": {"taints": [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]},
        "status": {"capacity": {"cpu": "192", "nvidia.com/gpu": "8"}, "allocatable": {"cpu": "190", "nvidia.com/gpu": "8"}, "conditions": [{"type": "Ready", "status": "True"}]}
    }));
    fake.put("Node", "", json!({
        "metadata": {"name": "mi300x-a", "labels": {"amd.com/gpu.product-name": "AMD_Instinct_MI300X_OAM", "amd.com/gpu.vram": "192G", "amd.com/gpu.family": "AI"}},
        "status": {"capacity": {"amd.com/gpu": "8"}, "allocatable": {"amd.com/gpu": "7"}, "conditions": [{"type": "Ready", "status": "False", "reason": "KubeletNotReady"}]}
    }));
    fake.put("Node", "", json!({"metadata": {"name": "cpu-only"}, "status": {"capacity": {"cpu": "16"}, "conditions": [{"type": "Ready", "status": "True"}]}}));
    // Pods bound to h100-a: a running one with 2 GPUs, a finished one that no longer holds any.
    fake.put("Pod", "other", json!({"metadata": {"name": "train"}, "spec": {"nodeName": "h100-a", "containers": [{"name": "t", "image": "x", "resources": {"limits": {"nvidia.com/gpu": "2"}}}]}, "status": {"phase": "Running"}}));
    fake.put("Pod", "other", json!({"metadata": {"name": "done"}, "spec": {"nodeName": "h100-a", "containers": [{"name": "t", "image": "x", "resources": {"requests": {"nvidia.com/gpu": "4"}, "limits": {"nvidia.com/gpu": "4"}}}]}, "status": {"phase": "Succeeded"}}));

    let mut big = spec("llama70", 1);
    big.gpus_per_replica = 4;
    deploy(
        &backend,
        &big,
        &K8sRenderOptions { gpu_product: Some("NVIDIA-H100-80GB-HBM3".into()), ..options() },
    )
    .await;
    fake.wait_for(WAIT, "llama70 scheduled", |f| {
        f.list("Pod", NAMESPACE).iter().any(|p| p["spec"]["nodeName"] == "h100-a")
    })
    .await;

    let rows = backend.node_gpus().await.expect("inventory");
    assert_eq!(rows.len(), 2, "the CPU node is left out: {rows:#?}");
    let h100 = &rows[0];
    assert_eq!(
        (h100.node.as_str(), h100.capacity, h100.allocatable, h100.allocated, h100.free()),
        ("h100-a", 8, 8, 6, 2)
    );
    assert_eq!(h100.product.as_deref(), Some("NVIDIA-H100-80GB-HBM3"));
    assert_eq!(h100.memory.as_deref(), Some("81559 MiB"));
    assert_eq!(h100.taints, vec!["nvidia.com/gpu=present:NoSchedule"]);
    assert!(h100.ready);
    let mi = &rows[1];
    assert_eq!(
        (mi.resource.as_deref(), mi.capacity, mi.allocatable, mi.allocated),
        (Some("amd.com/gpu"), 8, 7, 0)
    );
    assert_eq!(
        (mi.product.as_deref(), mi.memory.as_deref(), mi.ready),
        (Some("AMD_Instinct_MI300X_OAM"), Some("192G"), false)
    );
}

#[tokio::test]
async fn cache_pvcs_are_listed_and_a_prepull_job_reports_progress() {
    let (fake, backend) = start(&[]).await;
    let objects = render(
        &spec("cached", 1),
        &K8sRenderOptions {
            cache: CacheVolume::Pvc {
                claim: "models".into(),
                size: Some("500Gi".into()),
                storage_class: Some("fast".into()),
                access_mode: "ReadWriteMany".into(),
            },
            ..options()
        },
    )
    .unwrap();
    backend.apply(&objects, ApplyOptions::default()).await.unwrap();
    fake.put(
        "PersistentVolumeClaim",
        NAMESPACE,
        json!({"metadata": {"name": "not-a-cache"}, "spec": {"accessModes": ["ReadWriteOnce"]}}),
    );

    let caches = backend.cache_pvcs().await.expect("caches");
    assert_eq!(caches.len(), 1, "{caches:#?}");
    assert_eq!(
        (
            caches[0].name.as_str(),
            caches[0].requested.as_deref(),
            caches[0].storage_class.as_deref()
        ),
        ("models", Some("500Gi"), Some("fast"))
    );
    let deployment = fake.get("Deployment", NAMESPACE, "cached").unwrap();
    let volumes = &deployment["spec"]["template"]["spec"]["volumes"];
    assert!(
        volumes
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["persistentVolumeClaim"]["claimName"] == "models"),
        "{volumes}"
    );

    let request = PrepullRequest {
        pvc: "models".into(),
        model: "Qwen/Qwen3-8B".into(),
        revision: None,
        image: "vllm/vllm-openai:v0.11.0".into(),
        hf_token_secret: Some(SecretKeyRef { name: "hf".into(), key: "token".into() }),
    };
    let job = backend.start_prepull(&request).await.expect("job");
    assert_eq!(backend.start_prepull(&request).await.expect("idempotent"), job);
    let stored = fake.get("Job", NAMESPACE, &job).expect("job stored");
    assert_eq!(
        stored["spec"]["template"]["spec"]["containers"][0]["args"],
        json!(["download", "Qwen/Qwen3-8B"])
    );
    assert_eq!(
        stored["spec"]["template"]["spec"]["containers"][0]["env"][1]["valueFrom"]["secretKeyRef"]
            ["name"],
        "hf"
    );

    // The Job controller's pod (the fake has no Job controller, so the test plays it).
    fake.put("Pod", NAMESPACE, json!({"metadata": {"name": format!("{job}-x1"), "labels": {"job-name": job}}, "spec": {"containers": [{"name": "prepull", "image": "x"}]}, "status": {"phase": "Running"}}));
    fake.append_log(NAMESPACE, &format!("{job}-x1"), "Fetching 5 files:   0%|          | 0/5 [00:00<?, ?it/s]\rFetching 5 files:  60%|######    | 3/5 [00:41<00:20, 10.1s/it]");
    let (progress, finished) = backend.prepull_status(&job).await.expect("status");
    assert_eq!(progress.map(|p| (p.files_done, p.files_total)), Some((3, 5)));
    assert_eq!(finished, None);
}

#[tokio::test]
async fn operator_resources_are_listed_with_state_and_conditions() {
    let (fake, backend) = start(&[Optional::NimOperator, Optional::AimOperator]).await;
    // Shapes from the NIM Operator docs (NIMService/NIMCache status) and AIM (AIMService status).
    fake.put("NIMService", NAMESPACE, json!({
        "apiVersion": "apps.nvidia.com/v1alpha1", "kind": "NIMService",
        "metadata": {"name": "meta-llama3-8b-instruct"},
        "spec": {"image": {"repository": "nvcr.io/nim/meta/llama-3.1-8b-instruct", "tag": "1.3.3"}, "authSecret": "ngc-api-secret", "replicas": 1},
        "status": {"state": "Ready", "availableReplicas": 1, "conditions": [
            {"type": "Ready", "status": "True", "reason": "Ready", "message": "deployment \"meta-llama3-8b-instruct\" successfully rolled out\n"},
            {"type": "Failed", "status": "False", "reason": "Ready", "message": ""}]}
    }));
    fake.put("NIMCache", NAMESPACE, json!({
        "metadata": {"name": "meta-llama3-8b-instruct"},
        "spec": {"source": {"ngc": {"modelPuller": "nvcr.io/nim/meta/llama-3.1-8b-instruct:1.3.3"}}},
        "status": {"state": "InProgress", "conditions": [{"type": "NIM_CACHE_JOB_CREATED", "status": "True", "reason": "JobCreated"}]}
    }));
    fake.put("AIMService", NAMESPACE, json!({
        "metadata": {"name": "qwen-chat"}, "spec": {"model": {"image": "amdenterpriseai/aim-qwen-qwen3-32b:0.8.5"}},
        "status": {"status": "Pending", "conditions": [{"type": "CacheReady", "status": "False", "reason": "WaitingForCache", "message": "template cache is warming"}]}
    }));

    let rows = backend.operator_resources().await.expect("rows");
    let summary: Vec<(&str, &str, Option<&str>)> =
        rows.iter().map(|r| (r.kind.as_str(), r.name.as_str(), r.state.as_deref())).collect();
    assert_eq!(
        summary,
        vec![
            ("NIMService", "meta-llama3-8b-instruct", Some("Ready")),
            ("NIMCache", "meta-llama3-8b-instruct", Some("InProgress")),
            ("AIMService", "qwen-chat", Some("Pending")),
        ]
    );
    assert_eq!(rows[0].source.as_deref(), Some("nvcr.io/nim/meta/llama-3.1-8b-instruct:1.3.3"));
    assert_eq!(
        rows[2].conditions,
        vec!["CacheReady=False (WaitingForCache): template cache is warming"]
    );

    // Without the operators nothing is listed and nothing fails.
    let (_plain_fake, plain) = start(&[]).await;
    assert!(plain.operator_resources().await.expect("empty").is_empty());
}

#[tokio::test]
async fn operator_exports_are_accepted_by_the_api_server() {
    let (fake, backend) =
        start(&[Optional::NimOperator, Optional::AimOperator, Optional::Kserve]).await;
    let opts = K8sRenderOptions {
        hf_token_secret: Some(SecretKeyRef { name: "hf-token".into(), key: "HF_TOKEN".into() }),
        ..options()
    };
    let nim =
        render_operator(OperatorTarget::NimService, &spec("nim-llama", 2), &opts).expect("nim");
    assert_eq!(
        nim["spec"]["image"],
        json!({"repository": "vllm/vllm-openai", "tag": "v0.11.0", "pullPolicy": "IfNotPresent"})
    );
    assert_eq!(nim["spec"]["resources"]["limits"]["nvidia.com/gpu"], "1");
    // The operator reads NGC_API_KEY from authSecret: never the HF token's Secret.
    assert_eq!(nim["spec"]["authSecret"], "ngc-api-secret");
    assert_eq!(
        nim["spec"]["readinessProbe"]["probe"]["httpGet"],
        json!({"path": "/health", "port": "api"})
    );
    let mut amd = spec("aim-llama", 1);
    amd.gpu_vendor = Some(aimdeck::model::deployment::GpuVendor::Amd);
    let aim = render_operator(OperatorTarget::AimService, &amd, &opts).expect("aim");
    assert_eq!(aim["spec"]["model"]["custom"]["hardware"]["gpu"]["requests"], 1);
    assert_eq!(
        aim["spec"]["model"]["custom"]["modelSources"][0]["sourceUri"],
        "hf://meta-llama/Llama-3.1-8B-Instruct"
    );
    let err = render_operator(OperatorTarget::NimService, &amd, &opts).unwrap_err().to_string();
    assert!(err.contains("NVIDIA GPUs only"), "{err}");
    let kserve =
        render_operator(OperatorTarget::Kserve, &spec("ks-llama", 1), &opts).expect("kserve");

    for (object, plural, group) in [
        (&nim, "nimservices", "apps.nvidia.com"),
        (&aim, "aimservices", "aim.eai.amd.com"),
        (&kserve, "inferenceservices", "serving.kserve.io"),
    ] {
        let (group_name, version) = object["apiVersion"].as_str().unwrap().split_once('/').unwrap();
        assert_eq!(group_name, group);
        let resource = kube::api::ApiResource::from_gvk_with_plural(
            &kube::api::GroupVersionKind::gvk(group, version, object["kind"].as_str().unwrap()),
            plural,
        );
        let api: kube::Api<kube::api::DynamicObject> =
            kube::Api::namespaced_with(backend.client().clone(), NAMESPACE, &resource);
        let dynamic: kube::api::DynamicObject =
            serde_json::from_value(object.clone()).expect("a Kubernetes object");
        let name = dynamic.metadata.name.clone().unwrap();
        api.patch(
            &name,
            &kube::api::PatchParams::apply("aimdeck").dry_run(),
            &kube::api::Patch::Apply(&dynamic),
        )
        .await
        .expect("server-side dry run accepts it");
    }
    assert!(fake.list("NIMService", NAMESPACE).is_empty(), "dry run stored nothing");
}

#[tokio::test]
async fn watches_resume_after_the_server_drops_history() {
    let (fake, backend) = start(&[]).await;
    let watch = ClusterWatch::start(&backend);
    deploy(&backend, &spec("first", 1), &options()).await;
    until(&watch, "first ready", |s| {
        s.deployments.iter().any(|d| d.name == "first" && d.ready == 1)
    })
    .await;
    // History is gone: a re-watch from an old resourceVersion gets 410 and must re-list.
    fake.compact();
    let lists_before = fake
        .requests()
        .iter()
        .filter(|r| {
            r.starts_with("GET") && r.contains("/deployments?") && !r.contains("watch=true")
        })
        .count();
    fake.kill_watches();
    deploy(&backend, &spec("second", 1), &options()).await;
    until(&watch, "second ready", |s| {
        s.deployments.iter().any(|d| d.name == "second" && d.ready == 1)
    })
    .await;
    let lists_after = fake
        .requests()
        .iter()
        .filter(|r| {
            r.starts_with("GET") && r.contains("/deployments?") && !r.contains("watch=true")
        })
        .count();
    assert!(
        lists_after > lists_before,
        "the watcher re-listed after 410 Gone: {:#?}",
        fake.requests().iter().filter(|r| r.contains("/deployments")).collect::<Vec<_>>()
    );
    let names: Vec<String> = watch.snapshot().deployments.iter().map(|d| d.name.clone()).collect();
    assert_eq!(names, vec!["first", "second"]);
}
