//! Fault injection for the endpoint monitor (issue 9, item 3): endpoints that hang, reset the
//! connection, or answer garbage. Each fault is switched on while the monitor watches a healthy
//! endpoint on 127.0.0.1; the monitor must mark it (state and a worded error), keep polling the
//! healthy ones beside it, and show it ready again with fresh samples once the fault ends.
//!
//! The server is a raw TCP listener so it can misbehave below HTTP (resets, bytes that are not
//! HTTP); when healthy it answers `/health`, `/v1/models` and `/metrics` with the recorded vLLM
//! page `tests/fixtures/metrics/sim-vllm-current-dp2.txt`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use aimdeck::model::{EndpointState, EndpointUpdate};
use aimdeck::monitor::{
    EndpointHistories, EndpointHistory, EndpointMonitor, EndpointTarget, PollConfig,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Mode {
    Healthy = 0,
    /// Accepts the connection, reads the request, never answers.
    Hang = 1,
    /// Accepts and closes with a TCP reset (SO_LINGER 0).
    Reset = 2,
    /// Answers bytes that are not HTTP.
    NotHttp = 3,
    /// Answers `/health` 200, but `/metrics` is binary noise.
    GarbageMetrics = 4,
    /// Answers `/health` 200, but `/metrics` is an HTML error page.
    HtmlMetrics = 5,
    /// `/metrics` promises more bytes than it sends, then stalls.
    TruncatedMetrics = 6,
}

struct Chaos {
    url: String,
    mode: Arc<AtomicU8>,
}

impl Chaos {
    async fn start() -> Chaos {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let mode = Arc::new(AtomicU8::new(Mode::Healthy as u8));
        let shared = mode.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, shared.clone()));
            }
        });
        Chaos { url, mode }
    }

    fn set(&self, mode: Mode) {
        self.mode.store(mode as u8, Ordering::SeqCst);
    }
}

fn metrics_page() -> &'static str {
    include_str!("../fixtures/metrics/sim-vllm-current-dp2.txt")
}

fn response(status: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// Serves requests on one keep-alive connection, reading the mode afresh for each request so a
/// pooled connection sees a fault switched on mid-way.
async fn serve(mut stream: TcpStream, mode: Arc<AtomicU8>) {
    let mut buf = Vec::new();
    loop {
        let mut chunk = [0u8; 4096];
        let head_end = loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        buf.drain(..head_end);
        let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
        let current = mode.load(Ordering::SeqCst);
        let reply = match current {
            x if x == Mode::Hang as u8 => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                return;
            }
            x if x == Mode::Reset as u8 => {
                // A zero linger makes close send RST; with zero it never blocks, which is what
                // the deprecation warns about.
                #[allow(deprecated)]
                let _ = stream.set_linger(Some(Duration::ZERO));
                return;
            }
            x if x == Mode::NotHttp as u8 => {
                let _ = stream.write_all(b"\x00\xff\xfeSSH-2.0-OpenSSH_9.6\r\n\x1b[31mgarbage\x07").await;
                return;
            }
            _ => match path.as_str() {
                "/health" => response("200 OK", "text/plain", b""),
                "/v1/models" => response(
                    "200 OK",
                    "application/json",
                    br#"{"object":"list","data":[{"id":"meta-llama/Llama-3.1-8B-Instruct","object":"model","owned_by":"vllm","max_model_len":8192}]}"#,
                ),
                "/metrics" if current == Mode::GarbageMetrics as u8 => {
                    let noise: Vec<u8> = (0..3000u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
                    response("200 OK", "text/plain; version=0.0.4", &noise)
                }
                "/metrics" if current == Mode::HtmlMetrics as u8 => response(
                    "200 OK",
                    "text/html",
                    b"<html><head><title>502 Bad Gateway</title></head>\n<body><h1>502 Bad Gateway</h1>\n<p>nginx</p></body></html>\n",
                ),
                "/metrics" if current == Mode::TruncatedMetrics as u8 => {
                    let page = metrics_page().as_bytes();
                    let mut head = format!("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n\r\n", page.len()).into_bytes();
                    head.extend_from_slice(&page[..page.len() / 3]);
                    let _ = stream.write_all(&head).await;
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    return;
                }
                "/metrics" => response("200 OK", "text/plain; version=0.0.4", metrics_page().as_bytes()),
                _ => response("404 Not Found", "text/plain", b"not found"),
            },
        };
        if stream.write_all(&reply).await.is_err() {
            return;
        }
    }
}

fn config() -> PollConfig {
    PollConfig {
        interval: Duration::from_millis(200),
        timeout: Duration::from_millis(600),
        max_backoff: Duration::from_millis(800),
        stagger_start: false,
        ..PollConfig::default()
    }
}

/// Applies updates until `done` holds for every id in `ids`, or panics after `limit`.
async fn until(
    rx: &mut mpsc::Receiver<EndpointUpdate>,
    book: &mut EndpointHistories,
    ids: &[String],
    limit: Duration,
    what: &str,
    done: impl Fn(&EndpointHistory) -> bool,
) {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if ids.iter().all(|id| book.get(id).is_some_and(&done)) {
            return;
        }
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(update)) => book.apply(update),
            Ok(None) => panic!("monitor stopped"),
            Err(_) => {
                let states: Vec<_> = ids
                    .iter()
                    .map(|id| {
                        (
                            id,
                            book.get(id).map(|h| {
                                (
                                    h.state,
                                    h.errors.iter().map(|e| e.message.clone()).collect::<Vec<_>>(),
                                )
                            }),
                        )
                    })
                    .collect();
                panic!("{what}: not reached within {limit:?}: {states:#?}")
            }
        }
    }
}

fn ready_with_fresh_sample(history: &EndpointHistory, after_ms: i64) -> bool {
    history.state == EndpointState::Ready
        && history.latest().is_some_and(|s| s.at_unix_ms > after_ms && s.requests_running.is_some())
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// Every fault at once on its own endpoint, beside a healthy one; then all faults end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hanging_resetting_and_garbage_endpoints_are_marked_and_recover() {
    let faults = [
        Mode::Hang,
        Mode::Reset,
        Mode::NotHttp,
        Mode::GarbageMetrics,
        Mode::HtmlMetrics,
        Mode::TruncatedMetrics,
    ];
    let mut servers = Vec::new();
    for _ in 0..=faults.len() {
        servers.push(Chaos::start().await);
    }
    let (tx, mut rx) = mpsc::channel(1024);
    let mut monitor = EndpointMonitor::new(tx, config()).expect("monitor");
    for server in &servers {
        monitor.watch(EndpointTarget::from_url(&server.url));
    }
    let ids: Vec<String> = servers.iter().map(|s| s.url.clone()).collect();
    let mut book = EndpointHistories::default();
    let start = now_ms();
    until(&mut rx, &mut book, &ids, Duration::from_secs(10), "all ready", |h| {
        ready_with_fresh_sample(h, start)
    })
    .await;

    // Faults on; the last server stays healthy throughout.
    for (server, fault) in servers.iter().zip(faults) {
        server.set(fault);
    }
    let healthy = ids[faults.len()].clone();
    let expect = |fault: Mode| -> (EndpointState, &'static [&'static str]) {
        match fault {
            Mode::Hang => (EndpointState::Unhealthy, &["no answer"]),
            Mode::Reset | Mode::NotHttp => (EndpointState::Down, &[""]),
            Mode::GarbageMetrics => (EndpointState::Ready, &["GET /metrics"]),
            Mode::HtmlMetrics => (EndpointState::Ready, &["not a Prometheus metrics page"]),
            Mode::TruncatedMetrics => (EndpointState::Ready, &["GET /metrics"]),
            Mode::Healthy => unreachable!(),
        }
    };
    let fault_on = now_ms();
    for (i, fault) in faults.iter().enumerate() {
        let (state, words) = expect(*fault);
        let id = [ids[i].clone()];
        until(
            &mut rx,
            &mut book,
            &id,
            Duration::from_secs(10),
            &format!("{fault:?} marked"),
            |h| {
                let errored = h.errors.iter().any(|e| {
                    e.at_unix_ms > fault_on && words.iter().all(|w| e.message.contains(w))
                });
                let state_ok = match state {
                    // A reset or a non-HTTP answer is "unreachable": down, or unhealthy when the
                    // client saw it as a broken answer rather than a refused connection.
                    EndpointState::Down => {
                        matches!(h.state, EndpointState::Down | EndpointState::Unhealthy)
                    }
                    other => h.state == other,
                };
                errored && state_ok
            },
        )
        .await;
        // While faulty it yields no fresh numbers: the console shows the last good ones and why.
        let history = book.get(&ids[i]).expect("history");
        assert!(
            history.latest().is_none_or(|s| s.at_unix_ms < fault_on + 1000),
            "{fault:?}: no samples made of garbage"
        );
    }
    // The healthy neighbour kept getting samples the whole time.
    let during = now_ms();
    until(
        &mut rx,
        &mut book,
        std::slice::from_ref(&healthy),
        Duration::from_secs(5),
        "healthy neighbour",
        |h| ready_with_fresh_sample(h, during),
    )
    .await;

    // Faults off: every endpoint recovers by itself, with fresh samples.
    for server in &servers {
        server.set(Mode::Healthy);
    }
    let fault_off = now_ms();
    until(&mut rx, &mut book, &ids, Duration::from_secs(15), "all recovered", |h| {
        ready_with_fresh_sample(h, fault_off)
    })
    .await;
}
