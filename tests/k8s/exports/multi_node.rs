//! Multi-node recipes: one LeaderWorkerSet, per-node pods with the engines' own flags.

use super::*;

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

#[test]
fn multi_node_recipes_render_per_node_pods_with_the_engines_own_flags() {
    let flags: Value =
        serde_json::from_str(include_str!("../../fixtures/engine-flags/multinode.json")).unwrap();
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
