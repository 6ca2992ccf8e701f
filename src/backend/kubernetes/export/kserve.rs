//! `serving.kserve.io/v1beta1` InferenceService (kserve/kserve v0.20.0): a custom predictor
//! container (the engine's), with the pod fields of the plain render, `workerSpec` for
//! multi-node replicas, and KServe's `autoScaling` (KEDA, Prometheus external metric).

use k8s_openapi::api::core::v1::Container;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::{Value, json};

use super::{Context, put, to_json};
use crate::backend::kubernetes::K8sError;
use crate::backend::kubernetes::autoscale::{DEFAULT_PROMETHEUS, prometheus_query};
use crate::backend::kubernetes::multinode::NodeRole;
use crate::backend::kubernetes::pod::{engine_probes, pod_spec};
use crate::backend::kubernetes::render::HpaMetric;

/// KServe's name for the predictor's serving container.
const KSERVE_CONTAINER: &str = "kserve-container";

fn container(context: &Context, role: NodeRole) -> Container {
    let pod = pod_spec(context.spec, context.options, role);
    let mut container = pod.containers.into_iter().next().unwrap_or_default();
    container.name = KSERVE_CONTAINER.into();
    if role.serves_http() {
        // Knative (serverless mode) renames ports; probes on the number work in both modes.
        let probes = engine_probes(
            context.spec,
            context.options,
            IntOrString::Int(context.spec.port as i32),
        );
        container.startup_probe = Some(probes.startup);
        container.readiness_probe = Some(probes.readiness);
        container.liveness_probe = Some(probes.liveness);
    }
    container
}

pub(super) fn render(context: &Context) -> Result<Value, K8sError> {
    let (spec, options) = (context.spec, context.options);
    let multi_node = context.nodes > 1;
    let role =
        if multi_node { NodeRole::Leader { nodes: context.nodes } } else { NodeRole::Single };
    let pod = pod_spec(spec, options, role);
    let mut predictor = json!({
        "containers": [to_json(&container(context, role))?],
        "volumes": to_json(&pod.volumes)?,
    });
    put(&mut predictor, "nodeSelector", pod.node_selector.map(|s| json!(s)));
    put(&mut predictor, "tolerations", pod.tolerations.map(|t| to_json(&t)).transpose()?);
    put(
        &mut predictor,
        "imagePullSecrets",
        pod.image_pull_secrets.map(|s| to_json(&s)).transpose()?,
    );
    put(
        &mut predictor,
        "terminationGracePeriodSeconds",
        pod.termination_grace_period_seconds.map(Value::from),
    );
    let autoscaler = match (&options.hpa, &options.keda) {
        (Some(hpa), _) => Some((
            hpa.min_replicas,
            hpa.max_replicas,
            match &hpa.metric {
                HpaMetric::Cpu { utilization } => {
                    json!({"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": utilization}}})
                }
                HpaMetric::Pods { metric, average_value } => {
                    external(metric, average_value, DEFAULT_PROMETHEUS, context)
                }
            },
        )),
        (None, Some(keda)) => Some((
            keda.min_replicas,
            keda.max_replicas,
            external(&keda.metric, &keda.target, &keda.prometheus, context),
        )),
        (None, None) => None,
    };
    match autoscaler {
        Some((min, max, metric)) => {
            predictor["minReplicas"] = json!(min);
            predictor["maxReplicas"] = json!(max);
            predictor["autoScaling"] = json!({"metrics": [metric]});
        }
        None => {
            predictor["minReplicas"] = json!(spec.replicas);
            predictor["maxReplicas"] = json!(spec.replicas.max(1));
        }
    }
    if multi_node {
        let worker = container(context, NodeRole::Worker { nodes: context.nodes });
        predictor["workerSpec"] = json!({
            "tensorParallelSize": spec.parallelism.tp.max(1),
            "pipelineParallelSize": spec.parallelism.pp.max(1),
            "containers": [to_json(&worker)?],
            "volumes": to_json(&pod_spec(spec, options, NodeRole::Worker { nodes: context.nodes }).volumes)?,
        });
    }
    Ok(
        json!({"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService", "metadata": context.metadata, "spec": {"predictor": predictor}}),
    )
}

/// KServe's external metric: a Prometheus query (KServe turns it into a KEDA trigger).
fn external(metric: &str, target: &str, prometheus: &str, context: &Context) -> Value {
    json!({"type": "External", "external": {
        "metric": {"backend": "prometheus", "serverAddress": prometheus,
                   "query": prometheus_query(metric, &context.options.namespace, &context.spec.name)},
        "target": {"type": "Value", "value": target},
    }})
}
