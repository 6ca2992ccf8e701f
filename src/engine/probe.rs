//! One look at an endpoint, for `aimdeck probe` and for checking a server before watching it:
//! health, engine, models and one metrics summary (totals since the engine started, latency
//! percentiles over its whole life).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use super::detect::{self, ModelCard};
use super::health::{self, HealthProbe};
use super::metrics::{self, Histogram, Snapshot};
use crate::model::{EndpointState, EngineKind, Percentiles};

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MetricsSummary {
    pub requests_running: Option<f64>,
    pub requests_waiting: Option<f64>,
    pub kv_cache_usage: Option<f64>,
    pub prompt_tokens_total: Option<f64>,
    pub generation_tokens_total: Option<f64>,
    pub requests_total: Option<f64>,
    pub requests_by_reason: BTreeMap<String, f64>,
    pub preemptions_total: Option<f64>,
    /// SGLang's retractions (`sglang:num_retracted_requests_total`), its name for preemptions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retractions_total: Option<f64>,
    pub prefix_cache_hit_rate: Option<f64>,
    pub ttft_s: Percentiles,
    pub itl_s: Percentiles,
    pub e2e_s: Percentiles,
}

fn lifetime(hist: Option<&Histogram>) -> Percentiles {
    match hist {
        Some(h) if h.count > 0.0 => {
            Percentiles { p50: h.quantile(0.5), p95: h.quantile(0.95), p99: h.quantile(0.99) }
        }
        _ => Percentiles::default(),
    }
}

impl MetricsSummary {
    pub fn from_snapshot(s: &Snapshot) -> MetricsSummary {
        let hit_rate = match (s.prefix_cache_hits, s.prefix_cache_queries) {
            (Some(h), Some(q)) if q > 0.0 => Some((h / q).clamp(0.0, 1.0)),
            _ => s.prefix_cache_hit_rate,
        };
        MetricsSummary {
            requests_running: s.requests_running,
            requests_waiting: s.requests_waiting,
            kv_cache_usage: s.kv_cache_usage,
            prompt_tokens_total: s.prompt_tokens,
            generation_tokens_total: s.generation_tokens,
            requests_total: s.requests_finished,
            requests_by_reason: s.requests_finished_by_reason.clone(),
            preemptions_total: s.preemptions,
            retractions_total: s.preemptions.filter(|_| s.engine == Some(EngineKind::Sglang)),
            prefix_cache_hit_rate: hit_rate,
            ttft_s: lifetime(s.ttft.as_ref()),
            itl_s: lifetime(s.itl.as_ref()),
            e2e_s: lifetime(s.e2e.as_ref()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProbeReport {
    pub url: String,
    /// `ready`, `starting`, `unhealthy` or `down`, read as for a first look (never ready before).
    pub health: EndpointState,
    pub health_detail: String,
    pub engine: Option<EngineKind>,
    pub models: Vec<ModelCard>,
    pub models_error: Option<String>,
    pub metrics: Option<MetricsSummary>,
    pub metrics_error: Option<String>,
}

/// Probes `base_url` with `timeout` per request.
pub async fn probe(client: &reqwest::Client, base_url: &str, timeout: Duration) -> ProbeReport {
    let base = base_url.trim_end_matches('/').trim_end_matches("/v1").to_string();
    let answer = health::probe(client, &base, timeout).await;
    // A first look has no history: a server that answers anything but 2xx is not healthy.
    let health = match &answer {
        HealthProbe::Status(200..=299) => EndpointState::Ready,
        HealthProbe::Status(_) | HealthProbe::TimedOut => EndpointState::Unhealthy,
        HealthProbe::Refused => EndpointState::Starting,
        HealthProbe::Unreachable(_) => EndpointState::Down,
    };
    let mut report = ProbeReport {
        url: base.clone(),
        health,
        health_detail: answer.describe(),
        engine: None,
        models: Vec::new(),
        models_error: None,
        metrics: None,
        metrics_error: None,
    };
    if !answer.answered() {
        return report;
    }
    match tokio::time::timeout(timeout, detect::fetch_models(client, &base)).await {
        Ok(Ok(models)) => report.models = models,
        Ok(Err(err)) => report.models_error = Some(err.to_string()),
        Err(_) => {
            report.models_error =
                Some(format!("GET {base}/v1/models: no answer within {timeout:?}"))
        }
    }
    let fetch = async {
        let response = client
            .get(format!("{base}/metrics"))
            .send()
            .await
            .map_err(|e| health::error_chain(&e))?;
        if !response.status().is_success() {
            return Err(format!("GET {base}/metrics answered {}", response.status().as_u16()));
        }
        response.text().await.map_err(|e| health::error_chain(&e))
    };
    let mut from_metrics = None;
    match tokio::time::timeout(timeout, fetch).await {
        Ok(Ok(text)) => match metrics::parse(&text) {
            Ok(page) => {
                let snap = metrics::snapshot(&page);
                from_metrics = snap.engine;
                report.metrics = Some(MetricsSummary::from_snapshot(&snap));
            }
            Err(err) => report.metrics_error = Some(format!("GET {base}/metrics: {err}")),
        },
        Ok(Err(err)) => report.metrics_error = Some(err),
        Err(_) => {
            report.metrics_error =
                Some(format!("GET {base}/metrics: no complete answer within {timeout:?}"))
        }
    }
    report.engine = detect::detect(&report.models, from_metrics);
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 15: the retraction counter of SGLang 0.5 (`num_retracted_requests_total`, with the
    /// scheduler labels of 0.5.23 including `moe_ep_rank`), not the never-exported
    /// `total_retracted_reqs`; two dp ranks add up.
    #[test]
    fn an_sglang_05_page_reports_retractions() {
        let page = "\
# TYPE sglang:num_retracted_requests_total counter
sglang:num_retracted_requests_total{dp_rank=\"0\",engine_type=\"unified\",model_name=\"m\",moe_ep_rank=\"0\",pp_rank=\"0\",tp_rank=\"0\"} 5.0
sglang:num_retracted_requests_total{dp_rank=\"1\",engine_type=\"unified\",model_name=\"m\",moe_ep_rank=\"0\",pp_rank=\"0\",tp_rank=\"0\"} 2.0
# TYPE sglang:num_retracted_reqs gauge
sglang:num_retracted_reqs{dp_rank=\"0\",engine_type=\"unified\",model_name=\"m\",moe_ep_rank=\"0\",pp_rank=\"0\",tp_rank=\"0\"} 1.0
# TYPE sglang:total_retracted_reqs gauge
sglang:total_retracted_reqs{model_name=\"m\"} 99.0
";
        let snap = metrics::snapshot(&metrics::parse(page).unwrap());
        let summary = MetricsSummary::from_snapshot(&snap);
        assert_eq!(summary.retractions_total, Some(7.0));
        assert_eq!(summary.preemptions_total, Some(7.0));
    }

    #[test]
    fn moe_ep_ranks_are_one_batch_not_added_up() {
        let page = "\
# TYPE sglang:num_running_reqs gauge
sglang:num_running_reqs{engine_type=\"unified\",model_name=\"m\",moe_ep_rank=\"0\",pp_rank=\"0\",tp_rank=\"0\"} 3.0
sglang:num_running_reqs{engine_type=\"unified\",model_name=\"m\",moe_ep_rank=\"1\",pp_rank=\"0\",tp_rank=\"0\"} 3.0
";
        let snap = metrics::snapshot(&metrics::parse(page).unwrap());
        assert_eq!(snap.requests_running, Some(3.0));
    }
}
