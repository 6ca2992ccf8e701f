//! The sim's command line: the real engines' command lines (`serve MODEL --flags`, `--model M`,
//! `-m sglang.launch_server --model-path M`), read by the imitated release's own flag facts
//! (`aimdeck::engine::facts`, from the wheels): an unknown flag, an ambiguous abbreviation or
//! an invalid choice is refused with the engine's argparse message and exit status 2, as the
//! real server would. The sim's own flags (`--flavor`, `--startup-delay`, ...) come on top.

use std::time::Duration;

use aimdeck::engine::argparse;
use aimdeck::engine::facts::{self, FlagFact, TakesValue};
use aimdeck::model::EngineKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Vllm,
    Sglang,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricNames {
    /// Names of current releases (vLLM V1 >= 0.11, SGLang >= 0.5).
    Current,
    /// Names of older releases (vLLM V0 ~0.6, SGLang ~0.4).
    Legacy,
}

#[derive(Debug, Clone)]
pub struct SimArgs {
    pub flavor: Flavor,
    /// The release imitated (`--engine-version`): its metric families, labels and buckets.
    pub engine_version: &'static str,
    pub metric_names: MetricNames,
    pub host: String,
    pub port: u16,
    pub model: String,
    pub served_model_name: String,
    pub startup_delay: Duration,
    /// How long `/health` takes to answer (SGLang: its one-token generation).
    pub health_delay: Duration,
    /// Decode speed of one sequence.
    pub tokens_per_second: f64,
    /// Prefill time of one request (queueing comes on top).
    pub ttft: Duration,
    pub tensor_parallel: u32,
    pub data_parallel: u32,
    pub max_model_len: u64,
    /// Sequences one rank runs at once; more wait in the queue.
    pub max_num_seqs: usize,
    /// KV cache size of one rank, in tokens.
    pub kv_cache_tokens: u64,
    pub fail_after: Option<Duration>,
    pub hang_after: Option<Duration>,
    pub exit_after: Option<Duration>,
    /// `--reasoning-parser NAME` (both engines): chat answers stream their thinking apart, in the
    /// imitated engine's delta field (`src/bin/sim_engine/reasoning.rs`).
    pub reasoning_parser: Option<String>,
}

// Parsed once at start-up and taken apart at once: boxing `Run` would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum Parsed {
    Run(SimArgs),
    Help,
    Version,
}

/// The sim's own flags (not the engines'), as argparse facts so they resolve like the rest.
fn sim_flags() -> Vec<FlagFact> {
    let flag = |names: &[&str], value: bool, choices: Option<&[&str]>| FlagFact {
        names: names.iter().map(|n| n.to_string()).collect(),
        value: TakesValue::Always(value),
        choices: choices.map(|c| c.iter().map(|v| serde_json::Value::from(*v)).collect()),
        source: "aimdeck-sim".into(),
    };
    vec![
        flag(&["--flavor"], true, Some(&["vllm", "sglang"])),
        flag(&["--engine-version"], true, None),
        flag(&["--metric-names"], true, Some(&["current", "legacy"])),
        flag(&["--startup-delay"], true, None),
        flag(&["--health-delay"], true, None),
        flag(&["--tokens-per-second"], true, None),
        flag(&["--ttft-ms"], true, None),
        flag(&["--kv-cache-tokens"], true, None),
        flag(&["--fail-after"], true, None),
        flag(&["--hang-after"], true, None),
        flag(&["--exit-after"], true, None),
    ]
}

/// A command line the imitated engine's parser refuses: what it prints and its exit status.
#[derive(Debug)]
pub struct Refused {
    pub text: String,
    pub status: u8,
}

/// The flavor and the engine's own positionals: `serve [MODEL]` (vLLM), python's
/// `-m MODULE`, `--help`, `--version`; everything else is left for the engine's parser.
struct Leading {
    flavor: Option<Flavor>,
    model: Option<String>,
    options: Vec<String>,
    help: bool,
    version: bool,
}

fn leading(argv: &[String]) -> Leading {
    let mut out =
        Leading { flavor: None, model: None, options: Vec::new(), help: false, version: false };
    let mut i = 0;
    while i < argv.len() {
        let arg = argv[i].as_str();
        i += 1;
        match arg {
            "-h" | "--help" => out.help = true,
            "-V" | "--version" => out.version = true,
            "serve" if out.model.is_none() && out.flavor != Some(Flavor::Sglang) => {
                out.flavor.get_or_insert(Flavor::Vllm);
                if let Some(next) = argv.get(i).filter(|a| !a.starts_with('-')) {
                    out.model = Some(next.clone());
                    i += 1;
                }
            }
            "-m" if argv
                .get(i)
                .is_some_and(|m| m.starts_with("sglang") || m.starts_with("vllm")) =>
            {
                let module = &argv[i];
                i += 1;
                out.flavor.get_or_insert(if module.starts_with("sglang") {
                    Flavor::Sglang
                } else {
                    Flavor::Vllm
                });
            }
            _ => {
                if arg == "--flavor" || arg.starts_with("--flavor=") {
                    let value = arg
                        .strip_prefix("--flavor=")
                        .map(str::to_string)
                        .or_else(|| argv.get(i).cloned());
                    match value.as_deref() {
                        Some("sglang") => out.flavor = Some(Flavor::Sglang),
                        Some("vllm") => out.flavor = Some(Flavor::Vllm),
                        _ => {}
                    }
                }
                if arg == "--model-path" || arg.starts_with("--model-path=") {
                    out.flavor.get_or_insert(Flavor::Sglang);
                }
                out.options.push(arg.to_string());
            }
        }
    }
    out
}

pub fn parse(argv: &[String]) -> Result<Parsed, Refused> {
    let lead = leading(argv);
    if lead.help {
        return Ok(Parsed::Help);
    }
    if lead.version {
        return Ok(Parsed::Version);
    }
    let flavor = lead.flavor.unwrap_or(Flavor::Vllm);
    let engine = match flavor {
        Flavor::Vllm => EngineKind::Vllm,
        Flavor::Sglang => EngineKind::Sglang,
    };
    let prog = match flavor {
        Flavor::Vllm => "vllm serve",
        Flavor::Sglang => "sglang serve",
    };
    // argparse's own errors: usage and `PROG: error: ...`, status 2. A check after parsing
    // (vLLM's parser registries) raises instead: Python prints the exception, status 1.
    let refuse = |message: String, status: u8| Refused {
        text: if status == 2 {
            format!("usage: {prog} [-h] [options]\n{prog}: error: {message}")
        } else {
            format!("Traceback (most recent call last):\n  ...\nKeyError: '{message}'")
        },
        status,
    };
    let version = value_of_raw(&lead.options, "--engine-version");
    let facts = match &version {
        None => facts::newest(engine),
        Some(v) => facts::for_version(engine, v).ok_or_else(|| {
            refuse(
                format!(
                    "--engine-version: {engine} {v} is not imitated; known: {}",
                    facts::versions(engine).join(", ")
                ),
                2,
            )
        })?,
    };
    let extra = Box::leak(sim_flags().into_boxed_slice());
    let taken = argparse::parse(facts, extra, &lead.options)
        .map_err(|err| refuse(err.message(), err.exit_status()))?;
    let get = |name: &str| -> Option<String> {
        taken
            .iter()
            .rev()
            .find(|t| t.fact.names.iter().any(|n| n == name))
            .and_then(|t| t.value.clone())
    };
    let wrap = |r: Result<SimArgs, String>| r.map_err(|m| refuse(m, 2));
    wrap(build(flavor, facts.version, lead.model, &get)).map(Parsed::Run)
}

/// A value straight off the command line (before parsing, to pick the facts to parse with).
fn value_of_raw(options: &[String], flag: &str) -> Option<String> {
    let mut found = None;
    for (i, arg) in options.iter().enumerate() {
        if let Some(v) = arg.strip_prefix(&format!("{flag}=")) {
            found = Some(v.to_string());
        } else if arg == flag {
            found = options.get(i + 1).cloned();
        }
    }
    found
}

fn build(
    flavor: Flavor,
    engine_version: &'static str,
    positional_model: Option<String>,
    get: &dyn Fn(&str) -> Option<String>,
) -> Result<SimArgs, String> {
    let num = |flag: &str, default: u64| -> Result<u64, String> {
        get(flag).map_or(Ok(default), |v| number(flag, &v))
    };
    let dur = |flag: &str| -> Result<Option<Duration>, String> {
        get(flag).map(|v| duration(flag, &v)).transpose()
    };
    let metric_names = match get("--metric-names").as_deref() {
        Some("legacy") => MetricNames::Legacy,
        _ => MetricNames::Current,
    };
    let tokens_per_second = get("--tokens-per-second")
        .map_or(Ok(50.0), |v| number::<f64>("--tokens-per-second", &v))?;
    if tokens_per_second.is_nan() || tokens_per_second <= 0.0 {
        return Err("--tokens-per-second must be above 0".into());
    }
    let ttft_ms = get("--ttft-ms").map_or(Ok(50.0), |v| number::<f64>("--ttft-ms", &v))?;
    let model = positional_model
        .or_else(|| get("--model"))
        .or_else(|| get("--model-path"))
        .unwrap_or_else(|| "facebook/opt-125m".to_string());
    // SGLang 0.5's /health generates one token and checks after `asyncio.sleep(1)`; vLLM
    // answers at once. AIMDECK_SIM_HEALTH_DELAY (or --health-delay) overrides, e.g. 0 in tests.
    let health_delay =
        match (dur("--health-delay")?, std::env::var("AIMDECK_SIM_HEALTH_DELAY").ok()) {
            (Some(d), _) => d,
            (None, Some(env)) => duration("AIMDECK_SIM_HEALTH_DELAY", &env)?,
            (None, None) => match flavor {
                Flavor::Vllm => Duration::ZERO,
                Flavor::Sglang => Duration::from_secs(1),
            },
        };
    let parallel = |names: &[&str]| -> Result<u32, String> {
        names.iter().find_map(|n| get(n).map(|v| number::<u32>(n, &v))).unwrap_or(Ok(1))
    };
    Ok(SimArgs {
        flavor,
        engine_version,
        metric_names,
        // The engines' own defaults: vLLM listens everywhere on 8000, SGLang on loopback:30000.
        host: get("--host").unwrap_or_else(|| match flavor {
            Flavor::Vllm => "0.0.0.0".into(),
            Flavor::Sglang => "127.0.0.1".into(),
        }),
        port: num(
            "--port",
            match flavor {
                Flavor::Vllm => 8000,
                Flavor::Sglang => 30000,
            },
        )? as u16,
        served_model_name: get("--served-model-name").unwrap_or_else(|| model.clone()),
        model,
        startup_delay: dur("--startup-delay")?.unwrap_or(Duration::ZERO),
        health_delay,
        tokens_per_second,
        ttft: Duration::from_secs_f64(ttft_ms.max(0.0) / 1000.0),
        tensor_parallel: parallel(&["--tensor-parallel-size", "--tp-size"])?.max(1),
        data_parallel: parallel(&["--data-parallel-size", "--dp-size"])?.max(1),
        max_model_len: num(
            if flavor == Flavor::Vllm { "--max-model-len" } else { "--context-length" },
            8192,
        )?,
        max_num_seqs: (num(
            if flavor == Flavor::Vllm { "--max-num-seqs" } else { "--max-running-requests" },
            256,
        )? as usize)
            .max(1),
        kv_cache_tokens: num("--kv-cache-tokens", 65_536)?.max(1),
        fail_after: dur("--fail-after")?,
        hang_after: dur("--hang-after")?,
        exit_after: dur("--exit-after")?,
        reasoning_parser: get("--reasoning-parser"),
    })
}

fn number<T: std::str::FromStr>(flag: &str, text: &str) -> Result<T, String> {
    text.parse().map_err(|_| format!("{flag}: `{text}` is not a number"))
}

/// `5`, `5s`, `1.5s` or `500ms`.
fn duration(flag: &str, text: &str) -> Result<Duration, String> {
    let (digits, scale) = if let Some(ms) = text.strip_suffix("ms") {
        (ms, 0.001)
    } else if let Some(s) = text.strip_suffix('s') {
        (s, 1.0)
    } else {
        (text, 1.0)
    };
    let value: f64 = digits
        .parse()
        .map_err(|_| format!("{flag}: `{text}` is not a duration (e.g. 5, 5s, 500ms)"))?;
    if !value.is_finite() || value < 0.0 {
        return Err(format!("{flag}: `{text}` must be a non-negative duration"));
    }
    Ok(Duration::from_secs_f64(value * scale))
}

pub const HELP: &str = "\
aimdeck-sim: a TEST DOUBLE that stands in for a vLLM or SGLang server on hosts without GPUs.
It runs no model: it answers the OpenAI API with filler tokens at a set speed and serves
/metrics with the engines' real metric names, labels and histogram buckets, moving with the
traffic it serves. Use it for tests, demos and benchmarks, never to serve users.

USAGE:
  aimdeck-sim [--flavor vllm|sglang] [OPTIONS]
  aimdeck-sim serve MODEL [vLLM flags]                       (as `vllm serve`)
  aimdeck-sim --model MODEL [vLLM flags]                     (as the vllm-openai entrypoint)
  aimdeck-sim -m sglang.launch_server --model-path MODEL [SGLang flags]

OPTIONS (every flag of the imitated release is accepted, checked as its parser checks it, and
ignored unless listed; any other flag is refused with the engine's message and exit status 2):
  --flavor vllm|sglang        engine to imitate [default: from the command line, else vllm]
  --engine-version V          release to imitate: vllm 0.33.0, sglang 0.5.23 [default: newest]
  --health-delay DURATION     time /health takes [default: sglang 1s (it generates a token),
                              vllm 0]; also AIMDECK_SIM_HEALTH_DELAY
  --metric-names current|legacy
                              current (vLLM >= 0.11, SGLang >= 0.5) or older metric names
  --host HOST                 [default: vllm 0.0.0.0, sglang 127.0.0.1]
  --port PORT                 [default: vllm 8000, sglang 30000]
  --model, --model-path, --served-model-name NAME
  --startup-delay DURATION    refuse connections this long before listening (5, 5s, 500ms)
  --tokens-per-second N       decode speed of each sequence [default: 50]
  --ttft-ms N                 prefill time of each request [default: 50]
  --tensor-parallel-size/--tp-size N, --data-parallel-size/--dp-size N
                              ranks shown in /metrics (dp ranks share the load)
  --max-model-len/--context-length N [default: 8192]
  --max-num-seqs/--max-running-requests N
                              sequences running at once per rank [default: 256]
  --kv-cache-tokens N         KV cache size per rank [default: 65536]
  --fail-after DURATION       /health answers 503 and requests fail from then on
  --hang-after DURATION       /metrics and /health stall mid-response from then on
  --exit-after DURATION       the process exits with status 1 (a crashed engine)
  --reasoning-parser NAME     a reasoning model: the first half of each chat answer is thinking,
                              streamed in delta.reasoning (vllm) or delta.reasoning_content (sglang)

CONTROL (for tests): POST /sim/fail, /sim/hang, /sim/recover.
";
