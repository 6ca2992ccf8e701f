//! Renders the engine command line for one replica of a deployment.
//!
//! vLLM: `vllm serve MODEL --host H --port P --tensor-parallel-size N ...`
//! SGLang: `python3 -m sglang.launch_server --model-path MODEL --host H --port P --tp-size N ...`
//! Flag names and values are those of the supported releases (`engine::facts`; a test checks
//! every built-in recipe's command against them): full names only, since argparse's prefix
//! matching breaks as soon as a release adds a flag sharing the prefix. Recipe `engine_args`
//! are appended as `--key value` (`true` as a bare `--key`, `false` omitted), then the
//! spec's verbatim `extra_args`.

use serde::Serialize;

use crate::model::recipe::KvCacheDtype;
use crate::model::{ArgValue, DeploymentSpec, EngineKind, Precision};

use super::facts::newest;

/// A program and its arguments, plus the environment the engine needs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LaunchCommand {
    pub program: String,
    pub args: Vec<String>,
}

impl LaunchCommand {
    /// The whole command line as one vector (program first).
    pub fn argv(&self) -> Vec<String> {
        std::iter::once(self.program.clone()).chain(self.args.iter().cloned()).collect()
    }

    /// A shell-pasteable rendering for review screens and `render` output.
    pub fn display(&self) -> String {
        self.argv().iter().map(|arg| shell_quote(arg)).collect::<Vec<_>>().join(" ")
    }
}

fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=,@+%".contains(c));
    if plain { arg.to_string() } else { format!("'{}'", arg.replace('\'', r"'\''")) }
}

/// The engine's `--quantization` value: only for quantizing bf16/fp16 weights on the fly
/// (fp8). A pre-quantized checkpoint carries its own method in its config.json, which both
/// engines read; naming another one there makes them refuse to start ("Quantization method
/// specified in the model config (X) does not match ... the `quantization` argument (fp8)").
fn quantization_flag(spec: &DeploymentSpec) -> Option<&'static str> {
    if spec.checkpoint_quant.is_some() {
        return None;
    }
    match spec.precision? {
        Precision::Fp8 => Some("fp8"),
        // int4/mxfp4 weights cannot be made on the fly: `recipes validate` asks for the
        // checkpoint's method instead.
        _ => None,
    }
}

/// vLLM 0.33 refuses a deprecated method (`fbgemm_fp8`, the format of Meta's
/// Llama-3.1-405B-Instruct-FP8) unless `--allow-deprecated-quantization` is given
/// (vllm/config/model.py `_verify_quantization`).
fn needs_deprecated_opt_in(spec: &DeploymentSpec) -> bool {
    spec.checkpoint_quant
        .as_deref()
        .is_some_and(|method| newest(spec.engine).quantization_deprecated(method))
}

/// The `--kv-cache-dtype` value, where it differs from the engine's default. The engines
/// spell the choices differently: SGLang 0.5 has no `fp8` (its fp8 formats are `fp8_e4m3`
/// and `fp8_e5m2`) and no 16-bit float other than bf16.
pub fn kv_cache_dtype_value(engine: EngineKind, dtype: KvCacheDtype) -> Option<&'static str> {
    match (engine, dtype) {
        (_, KvCacheDtype::Auto) => None,
        (EngineKind::Vllm, KvCacheDtype::Fp8) => Some("fp8"),
        (EngineKind::Vllm, KvCacheDtype::Bf16) => Some("bfloat16"),
        (EngineKind::Vllm, KvCacheDtype::Fp16) => Some("float16"),
        (EngineKind::Sglang, KvCacheDtype::Fp8) => Some("fp8_e4m3"),
        (EngineKind::Sglang, KvCacheDtype::Bf16) => Some("bfloat16"),
        // `recipes validate` refuses it; rendered as the model's own dtype.
        (EngineKind::Sglang, KvCacheDtype::Fp16) => None,
    }
}

fn dtype_flag(precision: Option<Precision>) -> Option<&'static str> {
    match precision? {
        Precision::Bf16 => Some("bfloat16"),
        Precision::Fp16 => Some("float16"),
        _ => None,
    }
}

/// Renders the command for replica `index` of `spec`. A custom `spec.command` replaces the
/// engine's program; the engine flags still follow it.
pub fn launch_command(spec: &DeploymentSpec, index: u32) -> LaunchCommand {
    let port = spec.replica_port(index).to_string();
    let mut args: Vec<String> = Vec::new();
    let mut flag = |name: &str, value: String| {
        args.push(format!("--{name}"));
        args.push(value);
    };
    let (program, leading): (String, Vec<String>) = match spec.engine {
        EngineKind::Vllm => ("vllm".into(), vec!["serve".into(), spec.model.clone()]),
        EngineKind::Sglang => (
            "python3".into(),
            vec![
                "-m".into(),
                "sglang.launch_server".into(),
                "--model-path".into(),
                spec.model.clone(),
            ],
        ),
    };
    // Each engine's names for the same settings (vLLM's `EngineArgs`, SGLang's `ServerArgs`).
    let [tp, pp, dp, context, memory] = match spec.engine {
        EngineKind::Vllm => [
            "tensor-parallel-size",
            "pipeline-parallel-size",
            "data-parallel-size",
            "max-model-len",
            "gpu-memory-utilization",
        ],
        EngineKind::Sglang => {
            ["tp-size", "pp-size", "dp-size", "context-length", "mem-fraction-static"]
        }
    };
    flag("host", spec.host.clone());
    flag("port", port);
    flag("served-model-name", spec.served_name().to_string());
    if spec.parallelism.tp > 1 {
        flag(tp, spec.parallelism.tp.to_string());
    }
    if spec.parallelism.pp > 1 {
        flag(pp, spec.parallelism.pp.to_string());
    }
    if spec.parallelism.dp > 1 {
        flag(dp, spec.parallelism.dp.to_string());
    }
    if let Some(len) = spec.max_model_len {
        flag(context, len.to_string());
    }
    if let Some(fraction) = spec.gpu_memory_utilization {
        flag(memory, fraction.to_string());
    }
    if let Some(quantization) = quantization_flag(spec) {
        flag("quantization", quantization.to_string());
    }
    if let Some(dtype) = dtype_flag(spec.precision) {
        flag("dtype", dtype.to_string());
    }
    if let Some(value) = kv_cache_dtype_value(spec.engine, spec.kv_cache_dtype) {
        flag("kv-cache-dtype", value.to_string());
    }
    if spec.engine == EngineKind::Vllm
        && needs_deprecated_opt_in(spec)
        && !spec.engine_args.contains_key("allow-deprecated-quantization")
    {
        args.push("--allow-deprecated-quantization".into());
    }
    if spec.engine == EngineKind::Sglang {
        // /metrics is off in SGLang unless asked for; the console needs it.
        args.push("--enable-metrics".into());
    }
    for (name, value) in &spec.engine_args {
        match value {
            ArgValue::Bool(true) => args.push(format!("--{name}")),
            ArgValue::Bool(false) => {}
            other => {
                args.push(format!("--{name}"));
                args.push(other.to_string());
            }
        }
    }
    args.extend(spec.extra_args.iter().cloned());

    match &spec.command {
        Some(custom) if !custom.is_empty() => {
            // A custom command stands where the engine's program would: keep the model
            // argument shape of the engine so the stand-in sees the real command line.
            let mut full: Vec<String> = custom[1..].to_vec();
            full.extend(leading);
            full.extend(args);
            LaunchCommand { program: custom[0].clone(), args: full }
        }
        _ => {
            let mut full = leading;
            full.extend(args);
            LaunchCommand { program, args: full }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{EngineArgs, Parallelism};

    fn spec(engine: EngineKind) -> DeploymentSpec {
        DeploymentSpec {
            name: "llama".into(),
            model: "meta-llama/Llama-3.1-8B-Instruct".into(),
            served_model_name: None,
            engine,
            recipe_id: None,
            image: None,
            command: None,
            gpu_vendor: None,
            gpu_product: None,
            gpus_per_replica: 2,
            parallelism: Parallelism { tp: 2, pp: 1, dp: 1 },
            replicas: 1,
            precision: Some(Precision::Fp8),
            checkpoint_quant: None,
            kv_cache_dtype: KvCacheDtype::Fp8,
            max_model_len: Some(8192),
            gpu_memory_utilization: Some(0.9),
            port: 8000,
            host: "0.0.0.0".into(),
            engine_args: EngineArgs::from([
                ("enable-prefix-caching".to_string(), ArgValue::Bool(true)),
                ("max-num-seqs".to_string(), ArgValue::Int(256)),
                ("enforce-eager".to_string(), ArgValue::Bool(false)),
            ]),
            extra_args: vec!["--seed".into(), "1".into()],
            env: Default::default(),
            cache_dir: None,
        }
    }

    #[test]
    fn vllm_command_uses_vllm_flag_names() {
        let command = launch_command(&spec(EngineKind::Vllm), 1);
        assert_eq!(
            command.display(),
            "vllm serve meta-llama/Llama-3.1-8B-Instruct --host 0.0.0.0 --port 8001 \
             --served-model-name meta-llama/Llama-3.1-8B-Instruct --tensor-parallel-size 2 \
             --max-model-len 8192 --gpu-memory-utilization 0.9 --quantization fp8 \
             --kv-cache-dtype fp8 --enable-prefix-caching --max-num-seqs 256 --seed 1"
        );
    }

    #[test]
    fn sglang_command_uses_sglang_flag_names_and_enables_metrics() {
        let command = launch_command(&spec(EngineKind::Sglang), 0);
        assert_eq!(
            command.display(),
            "python3 -m sglang.launch_server --model-path meta-llama/Llama-3.1-8B-Instruct \
             --host 0.0.0.0 --port 8000 --served-model-name meta-llama/Llama-3.1-8B-Instruct \
             --tp-size 2 --context-length 8192 --mem-fraction-static 0.9 --quantization fp8 \
             --kv-cache-dtype fp8_e4m3 --enable-metrics --enable-prefix-caching --max-num-seqs 256 --seed 1"
        );
    }

    #[test]
    fn a_pre_quantized_checkpoint_gets_no_quantization_flag() {
        let mut spec = spec(EngineKind::Vllm);
        spec.checkpoint_quant = Some("fbgemm_fp8".into());
        let command = launch_command(&spec, 0).display();
        assert!(!command.contains("--quantization"), "{command}");
        // vLLM 0.33 refuses fbgemm_fp8 without the opt-in.
        assert!(command.contains("--allow-deprecated-quantization"), "{command}");
        spec.checkpoint_quant = Some("compressed-tensors".into());
        let command = launch_command(&spec, 0).display();
        assert!(
            !command.contains("--quantization") && !command.contains("deprecated"),
            "{command}"
        );
    }

    #[test]
    fn sglang_pipeline_parallelism_is_rendered_not_dropped() {
        let mut spec = spec(EngineKind::Sglang);
        spec.parallelism = Parallelism { tp: 2, pp: 2, dp: 2 };
        let command = launch_command(&spec, 0).display();
        assert!(command.contains("--tp-size 2 --pp-size 2 --dp-size 2"), "{command}");
    }

    #[test]
    fn custom_command_replaces_the_program_only() {
        let mut spec = spec(EngineKind::Vllm);
        spec.command =
            Some(vec!["/usr/local/bin/aimdeck-sim".into(), "--flavor".into(), "vllm".into()]);
        let argv = launch_command(&spec, 0).argv();
        assert_eq!(
            &argv[..5],
            [
                "/usr/local/bin/aimdeck-sim",
                "--flavor",
                "vllm",
                "serve",
                "meta-llama/Llama-3.1-8B-Instruct"
            ]
        );
    }

    #[test]
    fn quoting_keeps_odd_arguments_one_word() {
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
