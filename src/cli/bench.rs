//! `aimdeck bench URL --requests N --concurrency C --input-tokens I --output-tokens O [--json]`:
//! the smoke benchmark, headless. Exits 1 when any request failed.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::engine::bench::{self, BenchConfig, BenchProgress, BenchReport, LatencyStats};

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Base URL of the server, e.g. http://127.0.0.1:8000
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
    /// Print one JSON object
    #[arg(long)]
    pub json: bool,
}

pub async fn run(args: BenchArgs) -> color_eyre::Result<ExitCode> {
    if !(args.timeout > 0.0 && args.timeout.is_finite()) {
        color_eyre::eyre::bail!("--timeout must be a positive number of seconds, got {}", args.timeout);
    }
    if !(args.url.starts_with("http://") || args.url.starts_with("https://")) {
        color_eyre::eyre::bail!("URL must start with http:// or https://, got `{}`", args.url);
    }
    let config = BenchConfig {
        base_url: args.url.trim_end_matches('/').trim_end_matches("/v1").to_string(),
        model: args.model.clone(),
        requests: args.requests,
        concurrency: args.concurrency,
        input_tokens: args.input_tokens,
        output_tokens: args.output_tokens,
        request_timeout: Duration::from_secs_f64(args.timeout),
    };
    let client = reqwest::Client::builder().connect_timeout(Duration::from_secs(5)).build()?;
    let (tx, mut rx) = watch::channel(BenchProgress::default());
    let cancel = CancellationToken::new();
    let show_progress = !args.json && std::io::stderr().is_terminal();
    let printer = tokio::spawn(async move {
        while rx.changed().await.is_ok() {
            if show_progress {
                let p = *rx.borrow();
                eprint!("\r{}/{} done, {} failed", p.done, p.total, p.failed);
                let _ = std::io::stderr().flush();
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
    if show_progress {
        eprintln!();
    }
    let report = result?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", human(&report));
    }
    Ok(if report.failed == 0 && report.succeeded == report.requests { ExitCode::SUCCESS } else { ExitCode::FAILURE })
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
    out.push_str(&format!(
        "{} requests ({} ok, {} failed), concurrency {}, {} tokens in, {} out, {:.2} s\n",
        r.requests, r.succeeded, r.failed, r.concurrency, r.input_tokens, r.output_tokens, r.duration_s
    ));
    out.push_str(&format!(
        "throughput  {:.2} req/s  {:.1} output tok/s  {:.1} total tok/s\n\n",
        r.requests_per_s, r.output_tokens_per_s, r.total_tokens_per_s
    ));
    out.push_str(&format!("{:<6} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}\n", "ms", "mean", "p50", "p90", "p95", "p99", "max"));
    out.push_str(&row("TTFT", &r.ttft_s));
    out.push_str(&row("ITL", &r.itl_s));
    out.push_str(&row("E2E", &r.e2e_s));
    for err in &r.errors {
        out.push_str(&format!("error: {err}\n"));
    }
    out
}
