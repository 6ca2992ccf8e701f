//! The sim's command line. It has to accept the real engines' command lines unchanged
//! (`serve MODEL --flags`, `--model M`, `-m sglang.launch_server --model-path M`), so it is
//! parsed by hand: known flags are read, every other `--flag [value]` is skipped.

use std::time::Duration;

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
    pub metric_names: MetricNames,
    pub host: String,
    pub port: u16,
    pub model: String,
    pub served_model_name: String,
    pub startup_delay: Duration,
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

pub enum Parsed {
    Run(SimArgs),
    Help,
    Version,
}

const FLAGS_WITHOUT_VALUE: &[&str] = &[
    "--enable-metrics",
    "--enable-prefix-caching",
    "--no-enable-prefix-caching",
    "--enforce-eager",
    "--trust-remote-code",
    "--disable-log-requests",
    "--disable-log-stats",
    "--enable-chunked-prefill",
    "--disable-radix-cache",
    "--disable-cuda-graph",
    "--enable-auto-tool-choice",
    "--log-requests",
    "--skip-server-warmup",
];

pub fn parse(argv: &[String]) -> Result<Parsed, String> {
    let mut flavor: Option<Flavor> = None;
    let mut metric_names = MetricNames::Current;
    let mut host: Option<String> = None;
    let mut port: Option<u16> = None;
    let mut model: Option<String> = None;
    let mut served: Option<String> = None;
    let mut startup_delay = Duration::ZERO;
    let mut tokens_per_second = 50.0;
    let mut ttft = Duration::from_millis(50);
    let mut tensor_parallel = 1;
    let mut data_parallel = 1;
    let mut max_model_len = 8192;
    let mut max_num_seqs = 256;
    let mut kv_cache_tokens = 65_536;
    let mut fail_after = None;
    let mut hang_after = None;
    let mut exit_after = None;
    let mut reasoning_parser = None;

    let mut i = 0;
    while i < argv.len() {
        let raw = argv[i].as_str();
        i += 1;
        // `--flag=value` and `--flag value` alike.
        let (flag, inline) = match raw.split_once('=') {
            Some((flag, value)) if raw.starts_with("--") => (flag, Some(value.to_string())),
            _ => (raw, None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            if let Some(v) = inline.clone() {
                return Ok(v);
            }
            let v = argv.get(i).cloned().ok_or_else(|| format!("{name} needs a value"))?;
            i += 1;
            Ok(v)
        };
        match flag {
            "-h" | "--help" => return Ok(Parsed::Help),
            "-V" | "--version" => return Ok(Parsed::Version),
            "serve" if model.is_none() && flavor != Some(Flavor::Sglang) => {
                flavor.get_or_insert(Flavor::Vllm);
                // `vllm serve` takes the model as its first positional argument.
                if let Some(next) = argv.get(i).filter(|a| !a.starts_with('-')) {
                    model = Some(next.clone());
                    i += 1;
                }
            }
            "-m" => {
                let module = value("-m")?;
                if module.starts_with("sglang") {
                    flavor.get_or_insert(Flavor::Sglang);
                } else if module.starts_with("vllm") {
                    flavor.get_or_insert(Flavor::Vllm);
                }
            }
            "--flavor" => {
                flavor = Some(match value(flag)?.as_str() {
                    "vllm" => Flavor::Vllm,
                    "sglang" => Flavor::Sglang,
                    other => return Err(format!("--flavor: unknown `{other}`, expected vllm or sglang")),
                })
            }
            "--metric-names" => {
                metric_names = match value(flag)?.as_str() {
                    "current" => MetricNames::Current,
                    "legacy" => MetricNames::Legacy,
                    other => return Err(format!("--metric-names: unknown `{other}`, expected current or legacy")),
                }
            }
            "--host" => host = Some(value(flag)?),
            "--port" => port = Some(number(flag, &value(flag)?)?),
            "--model" => model = Some(value(flag)?),
            "--model-path" => {
                flavor.get_or_insert(Flavor::Sglang);
                model = Some(value(flag)?);
            }
            "--served-model-name" => served = Some(value(flag)?),
            "--startup-delay" => startup_delay = duration(flag, &value(flag)?)?,
            "--tokens-per-second" => {
                tokens_per_second = number::<f64>(flag, &value(flag)?)?;
                if !(tokens_per_second > 0.0) {
                    return Err("--tokens-per-second must be above 0".into());
                }
            }
            "--ttft-ms" => ttft = Duration::from_secs_f64(number::<f64>(flag, &value(flag)?)?.max(0.0) / 1000.0),
            "--tensor-parallel-size" | "-tp" | "--tp" | "--tp-size" => tensor_parallel = number(flag, &value(flag)?)?,
            "--data-parallel-size" | "-dp" | "--dp" | "--dp-size" => data_parallel = number(flag, &value(flag)?)?,
            "--max-model-len" | "--context-length" => max_model_len = number(flag, &value(flag)?)?,
            "--max-num-seqs" | "--max-running-requests" => max_num_seqs = number(flag, &value(flag)?)?,
            "--kv-cache-tokens" => kv_cache_tokens = number(flag, &value(flag)?)?,
            "--fail-after" => fail_after = Some(duration(flag, &value(flag)?)?),
            "--hang-after" => hang_after = Some(duration(flag, &value(flag)?)?),
            "--exit-after" => exit_after = Some(duration(flag, &value(flag)?)?),
            "--reasoning-parser" => reasoning_parser = Some(value(flag)?),
            other if other.starts_with('-') => {
                // A flag the sim does not model: skip it and its value, if it has one.
                let bare = inline.is_some()
                    || FLAGS_WITHOUT_VALUE.contains(&other)
                    || argv.get(i).is_none_or(|next| next.starts_with("--"));
                if !bare {
                    i += 1;
                }
            }
            positional if model.is_none() => model = Some(positional.to_string()),
            _ => {}
        }
    }
    let flavor = flavor.unwrap_or(Flavor::Vllm);
    let model = model.unwrap_or_else(|| "facebook/opt-125m".to_string());
    Ok(Parsed::Run(SimArgs {
        flavor,
        metric_names,
        // The engines' own defaults: vLLM listens everywhere on 8000, SGLang on loopback:30000.
        host: host.unwrap_or_else(|| match flavor {
            Flavor::Vllm => "0.0.0.0".into(),
            Flavor::Sglang => "127.0.0.1".into(),
        }),
        port: port.unwrap_or(match flavor {
            Flavor::Vllm => 8000,
            Flavor::Sglang => 30000,
        }),
        served_model_name: served.unwrap_or_else(|| model.clone()),
        model,
        startup_delay,
        tokens_per_second,
        ttft,
        tensor_parallel: tensor_parallel.max(1),
        data_parallel: data_parallel.max(1),
        max_model_len,
        max_num_seqs: max_num_seqs.max(1),
        kv_cache_tokens: kv_cache_tokens.max(1),
        fail_after,
        hang_after,
        exit_after,
        reasoning_parser,
    }))
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
    if !(value >= 0.0) || !value.is_finite() {
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

OPTIONS (flags of the real engines that are not listed are accepted and ignored):
  --flavor vllm|sglang        engine to imitate [default: from the command line, else vllm]
  --metric-names current|legacy
                              current (vLLM >= 0.11, SGLang >= 0.5) or older metric names
  --host HOST                 [default: vllm 0.0.0.0, sglang 127.0.0.1]
  --port PORT                 [default: vllm 8000, sglang 30000]
  --model, --model-path, --served-model-name NAME
  --startup-delay DURATION    refuse connections this long before listening (5, 5s, 500ms)
  --tokens-per-second N       decode speed of each sequence [default: 50]
  --ttft-ms N                 prefill time of each request [default: 50]
  --tensor-parallel-size/--tp N, --data-parallel-size/--dp N
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
