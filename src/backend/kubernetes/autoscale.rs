//! Autoscaling on engine signals: an `autoscaling/v2` HorizontalPodAutoscaler on a per-pod
//! metric that a Prometheus adapter serves (or CPU), or a KEDA `keda.sh/v1alpha1`
//! ScaledObject with a `prometheus` trigger. Either targets the Deployment or, for
//! multi-node replicas, the LeaderWorkerSet (its scale subresource selects the leaders).

use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec,
    MetricIdentifier, MetricSpec, MetricTarget, PodsMetricSource, ResourceMetricSource,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;
use serde_json::{Value, json};

use super::errors::K8sError;
use super::render::err;
use crate::model::{DeploymentSpec, EngineKind};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HpaMetric {
    /// Average CPU utilisation of the requests, in percent.
    Cpu { utilization: i32 },
    /// A per-pod metric served by a metrics adapter, e.g. `vllm:num_requests_waiting`.
    Pods { metric: String, average_value: String },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HpaOptions {
    pub min_replicas: i32,
    pub max_replicas: i32,
    pub metric: HpaMetric,
}

/// A KEDA ScaledObject with one Prometheus trigger.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KedaOptions {
    pub min_replicas: i32,
    pub max_replicas: i32,
    /// The engine metric, e.g. `vllm:num_requests_waiting`.
    pub metric: String,
    /// The value per replica above which KEDA adds replicas.
    pub target: String,
    /// The Prometheus KEDA queries, e.g. `http://prometheus-operated.monitoring.svc:9090`.
    pub prometheus: String,
}

/// The Prometheus Operator's Service for a `Prometheus` in `monitoring`: the usual address.
pub const DEFAULT_PROMETHEUS: &str = "http://prometheus-operated.monitoring.svc:9090";

/// The engine's queue-length gauge: the signal that more replicas would help.
pub fn default_metric(engine: EngineKind) -> &'static str {
    match engine {
        EngineKind::Vllm => "vllm:num_requests_waiting",
        EngineKind::Sglang => "sglang:num_queue_reqs",
    }
}

/// Per-pod engine metrics an adapter can serve (the gauges vLLM and SGLang export).
pub const KNOWN_METRICS: [&str; 4] = [
    "vllm:num_requests_waiting",
    "vllm:kv_cache_usage_perc",
    "sglang:num_queue_reqs",
    "sglang:token_usage",
];

/// What the autoscaler scales: `(apiVersion, kind)` of the workload.
pub fn scale_target(multi_node: bool) -> (&'static str, &'static str) {
    if multi_node {
        (super::multinode::LWS_API_VERSION, "LeaderWorkerSet")
    } else {
        ("apps/v1", "Deployment")
    }
}

fn check_bounds(min: i32, max: i32) -> Result<(), K8sError> {
    if min < 1 || max < min {
        return Err(err(
            "autoscale",
            format!("expected 1 <= min replicas <= max replicas, got min {min} max {max}"),
        ));
    }
    Ok(())
}

pub fn render_hpa(
    spec: &DeploymentSpec,
    hpa: &HpaOptions,
    metadata: ObjectMeta,
    multi_node: bool,
) -> Result<HorizontalPodAutoscaler, K8sError> {
    check_bounds(hpa.min_replicas, hpa.max_replicas)?;
    let metric = match &hpa.metric {
        HpaMetric::Cpu { utilization } => MetricSpec {
            type_: "Resource".into(),
            resource: Some(ResourceMetricSource {
                name: "cpu".into(),
                target: MetricTarget {
                    type_: "Utilization".into(),
                    average_utilization: Some(*utilization),
                    ..Default::default()
                },
            }),
            ..Default::default()
        },
        HpaMetric::Pods { metric, average_value } => MetricSpec {
            type_: "Pods".into(),
            pods: Some(PodsMetricSource {
                metric: MetricIdentifier { name: metric.clone(), selector: None },
                target: MetricTarget {
                    type_: "AverageValue".into(),
                    average_value: Some(Quantity(average_value.clone())),
                    ..Default::default()
                },
            }),
            ..Default::default()
        },
    };
    let (api_version, kind) = scale_target(multi_node);
    Ok(HorizontalPodAutoscaler {
        metadata,
        spec: Some(HorizontalPodAutoscalerSpec {
            scale_target_ref: CrossVersionObjectReference {
                api_version: Some(api_version.into()),
                kind: kind.into(),
                name: spec.name.clone(),
            },
            min_replicas: Some(hpa.min_replicas),
            max_replicas: hpa.max_replicas,
            metrics: Some(vec![metric]),
            behavior: None,
        }),
        status: None,
    })
}

/// The PromQL KEDA evaluates: the metric summed over the deployment's pods (scraped through
/// its Service, so Prometheus labels them with `namespace` and `service`).
pub fn prometheus_query(metric: &str, namespace: &str, name: &str) -> String {
    format!("sum({metric}{{namespace=\"{namespace}\",service=\"{name}\"}})")
}

pub fn render_scaled_object(
    spec: &DeploymentSpec,
    keda: &KedaOptions,
    metadata: ObjectMeta,
    multi_node: bool,
) -> Result<Value, K8sError> {
    check_bounds(keda.min_replicas, keda.max_replicas)?;
    if keda.target.parse::<f64>().is_err() {
        return Err(err(
            "autoscale",
            format!("target `{}`: expected a number (the metric's value per replica)", keda.target),
        ));
    }
    let namespace = metadata.namespace.clone().unwrap_or_default();
    let (api_version, kind) = scale_target(multi_node);
    Ok(json!({
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": serde_json::to_value(&metadata).map_err(|e| err("ScaledObject", e.to_string()))?,
        "spec": {
            "scaleTargetRef": {"apiVersion": api_version, "kind": kind, "name": spec.name},
            "minReplicaCount": keda.min_replicas,
            "maxReplicaCount": keda.max_replicas,
            // Engines take minutes to load: do not flap replicas away right after a burst.
            "cooldownPeriod": 300,
            "triggers": [{
                "type": "prometheus",
                // KEDA divides the query result by the replica count (AverageValue).
                "metricType": "AverageValue",
                "metadata": {
                    "serverAddress": keda.prometheus,
                    "query": prometheus_query(&keda.metric, &namespace, &spec.name),
                    "threshold": keda.target,
                },
            }],
        },
    }))
}
