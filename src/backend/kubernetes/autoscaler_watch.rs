//! What an autoscaler is doing, for a deployment's row: current and desired replicas of
//! the HorizontalPodAutoscaler that targets it (aimdeck's own, or the `keda-hpa-NAME` one KEDA
//! makes for a ScaledObject), its bounds, and its last scaling event.

use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::Event;

/// The row's shape lives in the model, so the console's `Deployment` can carry it.
pub use crate::model::AutoscalerStatus as AutoscalerRow;

/// The autoscaler of the workload `name`, if an HPA targets it.
pub fn autoscaler_for(
    name: &str,
    hpas: &[std::sync::Arc<HorizontalPodAutoscaler>],
    events: &[&Event],
) -> Option<AutoscalerRow> {
    let hpa =
        hpas.iter().find(|h| h.spec.as_ref().is_some_and(|s| s.scale_target_ref.name == name))?;
    let hpa_name = hpa.metadata.name.clone().unwrap_or_default();
    let status = hpa.status.clone().unwrap_or_default();
    let spec = hpa.spec.clone().unwrap_or_default();
    let last_event = events
        .iter()
        .filter(|e| {
            e.involved_object.kind.as_deref() == Some("HorizontalPodAutoscaler")
                && e.involved_object.name.as_deref() == Some(hpa_name.as_str())
        })
        .find(|e| e.reason.as_deref() == Some("SuccessfulRescale"))
        .and_then(|e| e.message.clone());
    Some(AutoscalerRow {
        name: hpa_name,
        current: status.current_replicas.unwrap_or(0).max(0) as u32,
        desired: status.desired_replicas.max(0) as u32,
        min: spec.min_replicas.unwrap_or(1).max(0) as u32,
        max: spec.max_replicas.max(0) as u32,
        last_scale_time: status.last_scale_time.map(|t| t.0.to_string()),
        last_event,
    })
}
