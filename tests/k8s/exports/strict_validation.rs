//! Every export is accepted by the real schemas, the fake refuses what the real server refuses, and the defaults are disruption-safe.

use super::*;

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
