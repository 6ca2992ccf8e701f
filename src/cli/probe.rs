//! `aimdeck probe URL [--json]`: health, engine, models and one metrics summary of any
//! OpenAI-compatible server. Exits 0 when it is ready, 1 otherwise.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use crate::engine::probe::{ProbeReport, probe};
use crate::model::{EndpointState, Percentiles};

#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// Base URL of the server, e.g. http://127.0.0.1:8000
    pub url: String,
    /// Print one JSON object
    #[arg(long)]
    pub json: bool,
    /// Seconds to wait for each answer
    #[arg(long, default_value_t = 2.0, value_name = "SECONDS")]
    pub timeout: f64,
}

pub async fn run(args: ProbeArgs) -> color_eyre::Result<ExitCode> {
    if !(args.timeout > 0.0 && args.timeout.is_finite()) {
        color_eyre::eyre::bail!(
            "--timeout must be a positive number of seconds, got {}",
            args.timeout
        );
    }
    if !(args.url.starts_with("http://") || args.url.starts_with("https://")) {
        color_eyre::eyre::bail!("URL must start with http:// or https://, got `{}`", args.url);
    }
    let timeout = Duration::from_secs_f64(args.timeout);
    let client = reqwest::Client::builder().connect_timeout(timeout).timeout(timeout).build()?;
    let report = probe(&client, &args.url, timeout).await;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", human(&report));
    }
    Ok(if report.health == EndpointState::Ready { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn ms(value: Option<f64>) -> String {
    value.map_or("-".into(), |v| format!("{:.0} ms", v * 1000.0))
}

fn percentiles(p: &Percentiles) -> String {
    format!("p50 {}  p95 {}  p99 {}", ms(p.p50), ms(p.p95), ms(p.p99))
}

fn number(value: Option<f64>) -> String {
    value.map_or("-".into(), |v| format!("{v:.0}"))
}

pub fn human(report: &ProbeReport) -> String {
    let mut out = String::new();
    out.push_str(&format!("url       {}\n", report.url));
    out.push_str(&format!("health    {} ({})\n", report.health, report.health_detail));
    out.push_str(&format!("engine    {}\n", report.engine.map_or("unknown", |e| e.as_str())));
    if let Some(err) = &report.models_error {
        out.push_str(&format!("models    error: {err}\n"));
    }
    for card in &report.models {
        let len = card.max_model_len.map(|l| format!(" (context {l})")).unwrap_or_default();
        out.push_str(&format!("model     {}{len}\n", card.id));
    }
    if let Some(err) = &report.metrics_error {
        out.push_str(&format!("metrics   error: {err}\n"));
    }
    if let Some(m) = &report.metrics {
        let kv = m.kv_cache_usage.map_or("-".into(), |v| format!("{:.1}%", v * 100.0));
        out.push_str(&format!(
            "load      running {}  waiting {}  kv cache {kv}\n",
            number(m.requests_running),
            number(m.requests_waiting)
        ));
        out.push_str(&format!(
            "tokens    prompt {}  generated {}\n",
            number(m.prompt_tokens_total),
            number(m.generation_tokens_total)
        ));
        let reasons: Vec<String> =
            m.requests_by_reason.iter().map(|(r, n)| format!("{r} {n:.0}")).collect();
        let reasons =
            if reasons.is_empty() { String::new() } else { format!(" ({})", reasons.join(", ")) };
        out.push_str(&format!("requests  {}{reasons}\n", number(m.requests_total)));
        match (m.retractions_total, m.preemptions_total) {
            (Some(n), _) => out.push_str(&format!(
                "retracted {n:.0}  (requests sent back to the queue, KV cache full)\n"
            )),
            (None, Some(n)) => out.push_str(&format!("preempted {n:.0}\n")),
            (None, None) => {}
        }
        if let Some(rate) = m.prefix_cache_hit_rate {
            out.push_str(&format!("prefix    {:.1}% hit\n", rate * 100.0));
        }
        out.push_str(&format!("ttft      {}  (since start)\n", percentiles(&m.ttft_s)));
        out.push_str(&format!("itl       {}\n", percentiles(&m.itl_s)));
        out.push_str(&format!("e2e       {}\n", percentiles(&m.e2e_s)));
    }
    out
}
