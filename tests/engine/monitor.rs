//! The endpoint monitor against `aimdeck-sim` servers on 127.0.0.1: states through a slow
//! start, a crash, a 503 and a hang; rates and percentiles checked against the load the test
//! sent.

use crate::sim_support;

use std::time::Duration;

use aimdeck::model::{EndpointState, EndpointUpdate, EngineKind};
use aimdeck::monitor::{EndpointHistories, EndpointMonitor, EndpointTarget, Metric, PollConfig};
use serde_json::json;
use sim_support::SimProcess;
use tokio::sync::mpsc;

fn fast_config() -> PollConfig {
    PollConfig {
        interval: Duration::from_millis(250),
        timeout: Duration::from_millis(800),
        max_backoff: Duration::from_secs(2),
        stagger_start: false,
        ..PollConfig::default()
    }
}

/// Applies updates until `done` holds for the history of `id`, or panics after `limit`.
async fn until(
    rx: &mut mpsc::Receiver<EndpointUpdate>,
    book: &mut EndpointHistories,
    id: &str,
    limit: Duration,
    done: impl Fn(&aimdeck::monitor::EndpointHistory) -> bool,
) {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if book.get(id).is_some_and(&done) {
            return;
        }
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(update)) => book.apply(update),
            Ok(None) => panic!("monitor stopped"),
            Err(_) => panic!(
                "{id}: condition not met within {limit:?}; history: {:?}",
                book.get(id).map(|h| (h.state, h.errors.iter().collect::<Vec<_>>()))
            ),
        }
    }
}

async fn send_load(url: &str, requests: usize, prompt_words: usize, max_tokens: u64) {
    let client = reqwest::Client::new();
    let prompt = vec!["word"; prompt_words].join(" ");
    let mut tasks = Vec::new();
    for _ in 0..requests {
        let (client, url, prompt) =
            (client.clone(), format!("{url}/v1/completions"), prompt.clone());
        tasks.push(tokio::spawn(async move {
            let body = json!({"prompt": prompt, "max_tokens": max_tokens});
            let reply = client.post(url).json(&body).send().await.expect("request");
            assert_eq!(reply.status(), 200);
            reply.bytes().await.expect("body");
        }));
    }
    for task in tasks {
        task.await.expect("load task");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_sims_of_both_flavors_show_the_load_that_was_sent() {
    let mut sims = Vec::new();
    for i in 0..10 {
        let flavor = if i % 2 == 0 { "vllm" } else { "sglang" };
        let names = if i % 4 < 2 { "current" } else { "legacy" };
        sims.push(SimProcess::ready(&[
            "--flavor",
            flavor,
            "--metric-names",
            names,
            "--model",
            "m",
            "--ttft-ms",
            "60",
            "--tokens-per-second",
            "100",
        ]));
    }
    let (tx, mut rx) = mpsc::channel(1024);
    let mut monitor = EndpointMonitor::new(tx, fast_config()).unwrap();
    for sim in &sims {
        monitor.watch(EndpointTarget::from_url(&sim.url()));
    }
    let mut book = EndpointHistories::default();
    for sim in &sims {
        until(&mut rx, &mut book, &sim.url(), Duration::from_secs(10), |h| {
            h.state == EndpointState::Ready && h.latest().is_some()
        })
        .await;
    }
    // 8 requests of 12 prompt words and 20 output tokens to each sim.
    let loads: Vec<_> = sims.iter().map(|sim| send_load_owned(sim.url())).collect();
    for load in loads {
        load.await.unwrap();
    }
    for (i, sim) in sims.iter().enumerate() {
        let id = sim.url();
        until(&mut rx, &mut book, &id, Duration::from_secs(10), |h| {
            h.latest().and_then(|s| s.generation_tokens_total) == Some(160.0)
                && h.latest().is_some_and(|s| s.ttft.p95.is_some())
        })
        .await;
        let history = book.get(&id).unwrap();
        let expected = if i % 2 == 0 { EngineKind::Vllm } else { EngineKind::Sglang };
        assert_eq!(history.engine, Some(expected), "{id}");
        assert_eq!(history.models, vec!["m".to_string()]);
        let latest = history.latest().unwrap();
        assert_eq!(latest.prompt_tokens_total, Some(96.0), "{id}");
        // Rates are over the last 10 s (`engine::metrics::rates`): the first poll after the
        // burst sees all 160 tokens in its window, spread over at most 10 s plus one poll, and
        // no window claims them faster than the sim generates (20 tokens at 100 tokens/s per
        // request: at least 0.2 s). The exact arithmetic is tested in `rates`.
        let peak = history
            .timeline
            .recent()
            .filter_map(|p| p.get(Metric::GenerationTokensPerS))
            .fold(0.0, f64::max);
        assert!((160.0 / 11.0..=160.0 / 0.2).contains(&peak), "{id}: peak tokens/s {peak}");
        // TTFT is 60 ms plus scheduling: between the 0.04 and 0.25 s bucket bounds.
        let p95 = latest.ttft.p95.unwrap();
        assert!((0.04..=0.25).contains(&p95), "{id}: ttft p95 {p95}");
        // 100 tokens/s: 10 ms between tokens, within the (0.005..0.05] buckets.
        let itl = latest.itl.p50.unwrap();
        assert!((0.005..=0.05).contains(&itl), "{id}: itl p50 {itl}");
    }
}

fn send_load_owned(url: String) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move { send_load(&url, 8, 12, 20).await })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_starter_goes_from_starting_to_ready() {
    let sim = SimProcess::spawn(&["serve", "m", "--startup-delay", "1500ms"]);
    let (tx, mut rx) = mpsc::channel(64);
    let mut monitor = EndpointMonitor::new(tx, fast_config()).unwrap();
    monitor.watch(EndpointTarget::from_url(&sim.url()));
    let mut book = EndpointHistories::default();
    let id = sim.url();
    until(&mut rx, &mut book, &id, Duration::from_secs(5), |h| h.state == EndpointState::Starting)
        .await;
    let starting_since = book.get(&id).unwrap().state_since_unix_ms;
    until(&mut rx, &mut book, &id, Duration::from_secs(10), |h| h.state == EndpointState::Ready)
        .await;
    let history = book.get(&id).unwrap();
    assert!(
        history.state_since_unix_ms >= starting_since + 1000,
        "ready only after the startup delay"
    );
    assert!(
        history.errors.iter().any(|e| e.message.contains("refused")),
        "{:?}",
        history.errors.iter().collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_engine_is_down_a_failed_one_unhealthy_a_hung_one_unhealthy() {
    let mut dying = SimProcess::ready(&["serve", "m"]);
    let failing = SimProcess::ready(&["serve", "m"]);
    let hanging = SimProcess::ready(&["-m", "sglang.launch_server", "--model-path", "m"]);
    let (tx, mut rx) = mpsc::channel(256);
    let mut monitor = EndpointMonitor::new(tx, fast_config()).unwrap();
    for sim in [&dying, &failing, &hanging] {
        monitor.watch(EndpointTarget::from_url(&sim.url()));
    }
    let mut book = EndpointHistories::default();
    for sim in [&dying, &failing, &hanging] {
        until(&mut rx, &mut book, &sim.url(), Duration::from_secs(10), |h| {
            h.state == EndpointState::Ready
        })
        .await;
    }
    let client = reqwest::Client::new();
    client.post(format!("{}/sim/fail", failing.url())).send().await.unwrap();
    client.post(format!("{}/sim/hang", hanging.url())).send().await.unwrap();
    let dying_id = dying.url();
    dying.kill();

    until(&mut rx, &mut book, &dying_id, Duration::from_secs(10), |h| {
        h.state == EndpointState::Down
    })
    .await;
    until(&mut rx, &mut book, &failing.url(), Duration::from_secs(10), |h| {
        h.state == EndpointState::Unhealthy
    })
    .await;
    assert!(book.get(&failing.url()).unwrap().errors.iter().any(|e| e.message.contains("503")));
    until(&mut rx, &mut book, &hanging.url(), Duration::from_secs(10), |h| {
        h.state == EndpointState::Unhealthy
    })
    .await;
    assert!(
        book.get(&hanging.url()).unwrap().errors.iter().any(|e| e.message.contains("no answer"))
    );

    // The dead one is polled less and less often: over 3 s at most a handful of polls.
    let before = book.get(&dying_id).unwrap().errors.latest().map_or(0, |e| e.repeats);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    while let Ok(Some(update)) = tokio::time::timeout_at(deadline, rx.recv()).await {
        book.apply(update);
    }
    let after = book.get(&dying_id).unwrap().errors.latest().map_or(0, |e| e.repeats);
    assert!(after - before <= 4, "backoff: {} polls in 3 s at a 250 ms interval", after - before);
    // The failed one answered and recovers.
    client.post(format!("{}/sim/recover", failing.url())).send().await.unwrap();
    until(&mut rx, &mut book, &failing.url(), Duration::from_secs(10), |h| {
        h.state == EndpointState::Ready
    })
    .await;
}
