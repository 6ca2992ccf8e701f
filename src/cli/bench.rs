//! `aimdeck bench URL --requests N --concurrency C --input-tokens I --output-tokens O [--json]`:
//! the smoke benchmark, headless. Exits 1 when any request failed.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::engine::bench::{self, BenchConfig, BenchProgress, BenchReport, LatencyStats, Slos};
use crate::engine::openai::Api;

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Base URL of the server, e.g. http://127.0.0.1:8000, or a deployment's name: the
    /// requests are then spread over all its ready replicas
    #[arg(value_name = "URL|DEPLOYMENT")]
    pub url: String,
    /// Requests to send in all
    #[arg(long, default_value_t = 100)]
    pub requests: u64,
    /// Requests in flight at once
    #[arg(long, default_value_t = 8)]
    pub concurrency: u64,
    /// Prompt length in tokens (words; the server's tokenizer may count a few more)
    #[arg(long, default_value_t = 128)]
    pub input_tokens: u64,
    /// Tokens to generate per request (end-of-sequence is ignored)
    #[arg(long, default_value_t = 128)]
    pub output_tokens: u64,
    /// Model to ask for [default: the server's first model]
    #[arg(long)]
    pub model: Option<String>,
    /// Seconds without a token before a request counts as failed
    #[arg(long, default_value_t = 60.0, value_name = "SECONDS")]
    pub timeout: f64,
    /// API to call: `completions` (/v1/completions, as `vllm bench serve`) or `chat`
    /// (/v1/chat/completions: a reasoning model's thinking streams apart and counts from its first token)
    #[arg(long, default_value = "completions", value_parser = ["completions", "chat"])]
    pub api: String,
    /// Service-level objectives for goodput, in milliseconds, as `vllm bench serve --goodput`:
    /// e.g. `--goodput ttft:500 tpot:50 e2el:4000` (metrics: ttft, tpot, e2el)
    #[arg(long, num_args = 1.., value_name = "KEY:MS")]
    pub goodput: Vec<String>,
    /// Print one JSON object
    #[arg(long)]
    pub json: bool,
}

pub async fn run(args: BenchArgs, global: &super::GlobalArgs) -> color_eyre::Result<ExitCode> {
    if !(args.timeout > 0.0 && args.timeout.is_finite()) {
        color_eyre::eyre::bail!(
            "--timeout must be a positive number of seconds, got {}",
            args.timeout
        );
    }
    let slos = Slos::parse(&args.goodput).map_err(|message| color_eyre::eyre::eyre!(message))?;
    let urls = targets(&args.url, global).await?;
    let config = BenchConfig {
        base_url: urls[0].clone(),
        spread_over: urls[1..].to_vec(),
        model: args.model.clone(),
        requests: args.requests,
        concurrency: args.concurrency,
        input_tokens: args.input_tokens,
        output_tokens: args.output_tokens,
        request_timeout: Duration::from_secs_f64(args.timeout),
        api: if args.api == "chat" { Api::Chat } else { Api::Completions },
        slos,
    };
    let client = reqwest::Client::builder().connect_timeout(Duration::from_secs(5)).build()?;
    let (tx, mut rx) = watch::channel(BenchProgress::default());
    let cancel = CancellationToken::new();
    // Progress on stderr, whatever `--json` says of stdout: on a terminal one line redrawn in
    // place; into a file or a pipe a line at each tenth of the run, so a log shows it moving.
    let on_terminal = std::io::stderr().is_terminal();
    if urls.len() > 1 {
        eprintln!(
            "spreading {} requests over {} replicas: {}",
            args.requests,
            urls.len(),
            urls.join(" ")
        );
    }
    let printer = tokio::spawn(async move {
        let mut last_tenth = 0;
        while rx.changed().await.is_ok() {
            let p = *rx.borrow();
            let tenth = (p.ratio() * 10.0).floor() as u64;
            if on_terminal {
                eprint!("\r{}", p.line());
                let _ = std::io::stderr().flush();
            } else if tenth > last_tenth {
                last_tenth = tenth;
                eprintln!("{}", p.line());
            }
        }
    });
    let ctrl_c = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                cancel.cancel();
            }
        })
    };
    let result = bench::run(&client, &config, Some(tx), cancel).await;
    ctrl_c.abort();
    let _ = printer.await;
    if on_terminal {
        eprintln!();
    }
    let report = result?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", human(&report));
    }
    Ok(if report.failed == 0 && report.succeeded == report.requests {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Where the requests go: the URL given, or every ready replica of the deployment named.
async fn targets(target: &str, global: &super::GlobalArgs) -> color_eyre::Result<Vec<String>> {
    if target.starts_with("http://") || target.starts_with("https://") {
        return Ok(vec![target.trim_end_matches('/').trim_end_matches("/v1").to_string()]);
    }
    if target.contains("://") || target.contains('/') || target.contains(':') {
        color_eyre::eyre::bail!(
            "URL must start with http:// or https://, got `{target}` (or give a deployment's name)"
        );
    }
    let (backend, deployment) =
        super::deploy::find_deployment(global, target).await.map_err(|err| {
            color_eyre::eyre::eyre!(
                "{err} (give a URL starting with http:// or https://, or a deployment's name)"
            )
        })?;
    if backend.name() == crate::backend::kubernetes::adapter::NAME {
        color_eyre::eyre::bail!(
            "`{target}` runs on Kubernetes: bench its Service's URL (e.g. after `kubectl port-forward svc/{target} 8000`)"
        );
    }
    let ready = deployment.ready_urls();
    if ready.is_empty() {
        color_eyre::eyre::bail!(
            "`{target}` has no ready replica ({} of {} ready)",
            deployment.ready_replicas(),
            deployment.replicas.len()
        );
    }
    Ok(ready)
}

fn row(name: &str, s: &LatencyStats) -> String {
    let ms = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{:.1}", v * 1000.0));
    format!(
        "{name:<6} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}\n",
        ms(s.mean),
        ms(s.p50),
        ms(s.p90),
        ms(s.p95),
        ms(s.p99),
        ms(s.max)
    )
}

pub fn human(r: &BenchReport) -> String {
    let mut out = String::new();
    out.push_str(&format!("{} model {}\n", r.url, r.model));
    if r.targets.len() > 1 {
        for share in &r.targets {
            out.push_str(&format!(
                "  replica {}: {} ok, {} failed\n",
                share.url, share.succeeded, share.failed
            ));
        }
    }
    out.push_str(&format!(
        "{} requests ({} ok, {} failed), concurrency {}, {} tokens in, {} out, {:.2} s\n",
        r.requests,
        r.succeeded,
        r.failed,
        r.concurrency,
        r.input_tokens,
        r.output_tokens,
        r.duration_s
    ));
    out.push_str(&format!(
        "throughput  {:.2} req/s  {:.1} output tok/s  {:.1} total tok/s\n\n",
        r.requests_per_s, r.output_tokens_per_s, r.total_tokens_per_s
    ));
    out.push_str(&format!(
        "{:<6} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}\n",
        "ms", "mean", "p50", "p90", "p95", "p99", "max"
    ));
    out.push_str(&row("TTFT", &r.ttft_s));
    out.push_str(&row("TPOT", &r.tpot_s));
    out.push_str(&row("ITL", &r.itl_s));
    out.push_str(&row("E2E", &r.e2e_s));
    if let (Some(good), Some(rate)) = (r.good_requests, r.goodput_requests_per_s) {
        let slo = |name: &str, ms: Option<f64>| {
            ms.map(|ms| format!(" {name}<={ms}ms")).unwrap_or_default()
        };
        out.push_str(&format!(
            "goodput {good}/{} requests met{}{}{}: {rate:.2} req/s\n",
            r.succeeded,
            slo("TTFT", r.slos.ttft_ms),
            slo("TPOT", r.slos.tpot_ms),
            slo("E2E", r.slos.e2el_ms)
        ));
    }
    if r.reasoning_tokens_received > 0 {
        out.push_str(&format!(
            "reasoning  {} of {} output tokens were thinking\n",
            r.reasoning_tokens_received, r.completion_tokens_received
        ));
    }
    for err in &r.errors {
        out.push_str(&format!("error: {err}\n"));
    }
    out
}
