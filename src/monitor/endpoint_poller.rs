//! One poller task per endpoint: `/health` every second (2 s timeout; SGLang's, which generates
//! a token, 5 s), then `/metrics` when the
//! server answers, reduced to an `EndpointSample`; `/v1/models` once to learn the engine and
//! the models. An endpoint that does not answer is polled less and less often (exponential
//! backoff with jitter, so a fleet that went down together does not come back in lockstep).
//! Each poll ends in an `EndpointUpdate` on the channel; the console applies it to an
//! `EndpointHistory` (see `endpoint_history.rs`).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::engine::detect;
use crate::engine::health::{self, HealthProbe};
use crate::engine::metrics::{self, SampleWindow};
use crate::engine::readiness;
use crate::model::{EndpointState, EndpointUpdate, EngineKind};

/// An endpoint to watch: one engine server (a replica), by its base URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointTarget {
    /// Unique key of the endpoint in the console (e.g. `deployment/replica` or the URL).
    pub id: String,
    /// `http://host:port`, without `/v1`.
    pub base_url: String,
}

/// Why a typed URL cannot be watched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("`{url}` is not a URL: {reason} (expected e.g. http://10.0.0.5:8000)")]
    NotAUrl { url: String, reason: String },
    #[error("`{url}`: only http:// and https:// servers can be watched")]
    Scheme { url: String },
}

impl EndpointTarget {
    /// A target named after its URL, without checking it (see `parse` for typed input).
    pub fn from_url(url: &str) -> EndpointTarget {
        let base = url.trim().trim_end_matches('/').trim_end_matches("/v1").to_string();
        EndpointTarget { id: base.clone(), base_url: base }
    }

    /// A URL the user typed (`:add http://host:port`): checked, `/v1` and trailing `/` dropped.
    pub fn parse(url: &str) -> Result<EndpointTarget, TargetError> {
        let text = url.trim();
        let parsed = reqwest::Url::parse(text).map_err(|err| TargetError::NotAUrl {
            url: text.to_string(),
            reason: err.to_string(),
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(TargetError::Scheme { url: text.to_string() });
        }
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err(TargetError::NotAUrl { url: text.to_string(), reason: "no host".into() });
        }
        Ok(EndpointTarget::from_url(text))
    }

    /// An endpoint listed in the config file, keyed by its name.
    pub fn from_config(
        endpoint: &crate::config::WatchedEndpoint,
    ) -> Result<EndpointTarget, TargetError> {
        let target = EndpointTarget::parse(&endpoint.url)?;
        Ok(EndpointTarget { id: endpoint.name.clone(), ..target })
    }
}

#[derive(Debug, Clone)]
pub struct PollConfig {
    pub interval: Duration,
    /// Limit for each request, from connect to the last byte.
    pub timeout: Duration,
    pub max_backoff: Duration,
    /// How far back latency percentiles look.
    pub window: Duration,
    /// Larger metrics pages are refused (a misconfigured server must not eat the console's memory).
    pub max_page_bytes: usize,
    /// Spread the first polls of many endpoints over one interval.
    pub stagger_start: bool,
}

impl Default for PollConfig {
    fn default() -> Self {
        PollConfig {
            interval: Duration::from_secs(1),
            timeout: Duration::from_secs(2),
            max_backoff: Duration::from_secs(30),
            window: Duration::from_secs(60),
            max_page_bytes: 16 * 1024 * 1024,
            stagger_start: true,
        }
    }
}

/// The delay before the next poll after `failures` polls in a row got no answer: the interval
/// doubled per failure up to `max`, times a random factor in 0.8..1.2.
pub fn backoff(interval: Duration, failures: u32, max: Duration) -> Duration {
    let doubled = interval.saturating_mul(1u32 << failures.min(16));
    let capped = doubled.min(max).max(interval);
    capped.mul_f64(0.8 + 0.4 * fastrand::f64())
}

fn now_unix_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// The HTTP client pollers share (connection pooling across polls of the same endpoint).
pub fn client(config: &PollConfig) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(config.timeout)
        .timeout(config.timeout)
        .pool_idle_timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(2)
        .build()
}

/// Reads `/metrics` within the timeout and the size limit.
async fn scrape(
    client: &reqwest::Client,
    base_url: &str,
    config: &PollConfig,
) -> Result<String, String> {
    let url = format!("{base_url}/metrics");
    let fetch = async {
        // Every error names the request, so a console line says which call failed.
        let mut response = client
            .get(&url)
            .send()
            .await
            .map_err(|e| format!("GET /metrics: {}", health::error_chain(&e)))?;
        let status = response.status();
        if status.as_u16() == 404 {
            return Err(
                "GET /metrics answered 404 (SGLang serves metrics only with --enable-metrics)"
                    .into(),
            );
        }
        if !status.is_success() {
            return Err(format!("GET /metrics answered {}", status.as_u16()));
        }
        let mut body: Vec<u8> = Vec::with_capacity(64 * 1024);
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| format!("GET /metrics: {}", health::error_chain(&e)))?
        {
            if body.len() + chunk.len() > config.max_page_bytes {
                return Err(format!(
                    "GET /metrics: page larger than {} bytes",
                    config.max_page_bytes
                ));
            }
            body.extend_from_slice(&chunk);
        }
        String::from_utf8(body).map_err(|_| "GET /metrics: the page is not UTF-8".to_string())
    };
    match tokio::time::timeout(config.timeout, fetch).await {
        Ok(result) => result,
        Err(_) => Err(format!("GET /metrics: no complete answer within {:?}", config.timeout)),
    }
}

struct Poller {
    client: reqwest::Client,
    target: EndpointTarget,
    config: PollConfig,
    state: EndpointState,
    since_unix_ms: i64,
    was_ready: bool,
    engine: Option<EngineKind>,
    models: Vec<String>,
    models_known: bool,
    window: SampleWindow,
}

impl Poller {
    /// SGLang's `/health` generates a token first (`engine::readiness`): an SGLang server, or
    /// one whose engine is not known yet, gets at least its engine's timeout, never less than
    /// the configured one.
    fn health_timeout(&self) -> Duration {
        match self.engine {
            Some(EngineKind::Vllm) => self.config.timeout,
            other => self.config.timeout.max(readiness::health_check(other).timeout),
        }
    }

    async fn poll(&mut self) -> (EndpointUpdate, bool) {
        let started = Instant::now();
        let base = self.target.base_url.trim_end_matches('/').to_string();
        let probe = health::probe(&self.client, &base, self.health_timeout()).await;
        let state = health::state_after(&probe, self.was_ready);
        self.was_ready |= state == EndpointState::Ready;
        if state != self.state {
            self.state = state;
            self.since_unix_ms = now_unix_ms();
        }
        let mut error = None;
        let mut sample = None;
        if probe.answered() {
            if !self.models_known
                && let Ok(cards) = detect::fetch_models(&self.client, &base).await
            {
                self.engine = detect::detect(&cards, self.engine).or(self.engine);
                self.models = cards.into_iter().map(|c| c.id).collect();
                self.models_known = true;
            }
            match scrape(&self.client, &base, &self.config).await {
                Ok(text) => match metrics::parse(&text) {
                    Ok(page) => {
                        let snap = metrics::snapshot(&page);
                        if self.engine.is_none() {
                            self.engine = snap.engine;
                        }
                        sample = Some(self.window.push(now_unix_ms(), snap));
                    }
                    Err(err) => error = Some(format!("GET /metrics: {err}")),
                },
                Err(err) => error = Some(err),
            }
            if let HealthProbe::Status(code) = probe
                && !(200..300).contains(&code)
                && error.is_none()
            {
                error = Some(probe.describe());
            }
        } else {
            error = Some(probe.describe());
            if state == EndpointState::Down {
                // Its next counters start from zero: not deltas of the old ones.
                self.window.reset();
                self.models_known = false;
            }
        }
        let update = EndpointUpdate {
            id: self.target.id.clone(),
            state: self.state,
            state_since_unix_ms: self.since_unix_ms,
            engine: self.engine,
            models: self.models.clone(),
            sample,
            error,
            poll_ms: started.elapsed().as_secs_f64() * 1000.0,
        };
        (update, probe.answered())
    }
}

/// Polls `target` until `cancel` fires or the receiver is dropped.
pub fn spawn_poller(
    client: reqwest::Client,
    target: EndpointTarget,
    config: PollConfig,
    updates: mpsc::Sender<EndpointUpdate>,
    cancel: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        if config.stagger_start {
            let offset = config.interval.mul_f64(fastrand::f64());
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(offset) => {}
            }
        }
        let window = SampleWindow::new(config.window.as_millis() as i64);
        let mut poller = Poller {
            client,
            target,
            state: EndpointState::Starting,
            since_unix_ms: now_unix_ms(),
            was_ready: false,
            engine: None,
            models: Vec::new(),
            models_known: false,
            window,
            config,
        };
        let mut failures = 0u32;
        loop {
            let started = Instant::now();
            let (update, answered) = tokio::select! {
                _ = cancel.cancelled() => return,
                polled = poller.poll() => polled,
            };
            if updates.send(update).await.is_err() {
                return;
            }
            let delay = if answered {
                failures = 0;
                poller.config.interval
            } else {
                failures = failures.saturating_add(1);
                backoff(poller.config.interval, failures, poller.config.max_backoff)
            };
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep_until((started + delay).into()) => {}
            }
        }
    })
}

/// The set of endpoints being watched, one poller task each. Dropping it stops them all.
pub struct EndpointMonitor {
    client: reqwest::Client,
    config: PollConfig,
    updates: mpsc::Sender<EndpointUpdate>,
    pollers: HashMap<String, (CancellationToken, JoinHandle<()>)>,
}

impl EndpointMonitor {
    /// Updates of every watched endpoint go to `updates`. Must be called inside a Tokio runtime
    /// before `watch`.
    pub fn new(updates: mpsc::Sender<EndpointUpdate>, config: PollConfig) -> reqwest::Result<Self> {
        Ok(EndpointMonitor { client: client(&config)?, config, updates, pollers: HashMap::new() })
    }

    /// Starts watching `target` (restarting its poller if the id is already watched).
    pub fn watch(&mut self, target: EndpointTarget) {
        self.unwatch(&target.id);
        let cancel = CancellationToken::new();
        let id = target.id.clone();
        let handle = spawn_poller(
            self.client.clone(),
            target,
            self.config.clone(),
            self.updates.clone(),
            cancel.clone(),
        );
        self.pollers.insert(id, (cancel, handle));
    }

    pub fn unwatch(&mut self, id: &str) {
        if let Some((cancel, _)) = self.pollers.remove(id) {
            cancel.cancel();
        }
    }

    pub fn watched(&self) -> impl Iterator<Item = &str> {
        self.pollers.keys().map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.pollers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pollers.is_empty()
    }
}

impl Drop for EndpointMonitor {
    fn drop(&mut self) {
        for (cancel, _) in self.pollers.values() {
            cancel.cancel();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_cap() {
        let second = Duration::from_secs(1);
        for _ in 0..100 {
            let d = backoff(second, 1, Duration::from_secs(30));
            assert!(d >= Duration::from_millis(1600) && d <= Duration::from_millis(2400), "{d:?}");
            let d = backoff(second, 10, Duration::from_secs(30));
            assert!(d >= Duration::from_secs(24) && d <= Duration::from_secs(36), "{d:?}");
        }
        // Jitter: not every delay is the same.
        let delays: std::collections::HashSet<_> =
            (0..20).map(|_| backoff(second, 3, Duration::from_secs(30))).collect();
        assert!(delays.len() > 1);
    }

    #[test]
    fn targets_from_urls_drop_the_api_suffix() {
        assert_eq!(EndpointTarget::from_url("http://h:8000/v1/").base_url, "http://h:8000");
        assert_eq!(
            EndpointTarget::parse(" http://10.0.0.5:8000/v1 ").unwrap().id,
            "http://10.0.0.5:8000"
        );
    }

    #[test]
    fn typed_urls_are_checked() {
        let err = EndpointTarget::parse("10.0.0.5:8000").unwrap_err();
        assert!(matches!(err, TargetError::Scheme { .. } | TargetError::NotAUrl { .. }), "{err}");
        assert!(
            EndpointTarget::parse("ftp://h/").unwrap_err().to_string().contains("only http://")
        );
        assert!(
            EndpointTarget::parse("http//oops").unwrap_err().to_string().contains("is not a URL")
        );
        let named = crate::config::WatchedEndpoint {
            name: "lab".into(),
            url: "http://127.0.0.1:8000/".into(),
        };
        let target = EndpointTarget::from_config(&named).unwrap();
        assert_eq!(
            (target.id.as_str(), target.base_url.as_str()),
            ("lab", "http://127.0.0.1:8000")
        );
    }
}
