//! What an autoscaler (a HorizontalPodAutoscaler, or the one KEDA makes for a ScaledObject)
//! is doing to a deployment: read from the cluster, shown by `k8s ls` and the console.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoscalerStatus {
    /// The HPA's name (`NAME`, or `keda-hpa-NAME` under KEDA).
    pub name: String,
    pub current: u32,
    pub desired: u32,
    pub min: u32,
    pub max: u32,
    /// RFC 3339 time of the last change of replicas.
    pub last_scale_time: Option<String>,
    /// The newest `SuccessfulRescale` event's message, e.g. `New size: 3; reason: pods metric
    /// vllm:num_requests_waiting above target`.
    pub last_event: Option<String>,
}

impl AutoscalerStatus {
    /// `hpa: 2 → 3 (min 1, max 4) · last: SuccessfulRescale 12:01:03 "New size: 3; …"`: what
    /// the endpoint detail shows. KEDA's HPA is named `keda-hpa-…`, so it says `keda`.
    pub fn summary(&self) -> String {
        let kind = if self.name.starts_with("keda-hpa-") { "keda" } else { "hpa" };
        let mut line = format!(
            "{kind}: {} → {} (min {}, max {})",
            self.current, self.desired, self.min, self.max
        );
        let time = self.last_scale_time.as_deref().and_then(clock_time);
        match (&self.last_event, time) {
            (Some(event), Some(time)) => {
                line.push_str(&format!(" · last: SuccessfulRescale {time} \"{event}\""))
            }
            (Some(event), None) => {
                line.push_str(&format!(" · last: SuccessfulRescale \"{event}\""))
            }
            (None, Some(time)) => line.push_str(&format!(" · last scaled {time}")),
            (None, None) => {}
        }
        line
    }
}

/// `HH:MM:SS` (UTC) of an RFC 3339 time; `None` when it is not one.
fn clock_time(rfc3339: &str) -> Option<String> {
    let at: jiff::Timestamp = rfc3339.parse().ok()?;
    Some(at.strftime("%H:%M:%S").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_names_the_kind_bounds_and_last_event() {
        let mut status = AutoscalerStatus {
            name: "qwen".into(),
            current: 2,
            desired: 3,
            min: 1,
            max: 4,
            last_scale_time: Some("2026-12-01T12:01:03Z".into()),
            last_event: Some(
                "New size: 3; reason: pods metric vllm:num_requests_waiting above target".into(),
            ),
        };
        assert_eq!(
            status.summary(),
            "hpa: 2 → 3 (min 1, max 4) · last: SuccessfulRescale 12:01:03 \"New size: 3; reason: pods metric vllm:num_requests_waiting above target\""
        );
        status.name = "keda-hpa-qwen".into();
        status.last_event = None;
        status.last_scale_time = None;
        assert_eq!(status.summary(), "keda: 2 → 3 (min 1, max 4)");
    }
}
