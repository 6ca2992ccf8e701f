//! What the real engines accept and export, per supported release: their command-line flags
//! (names, aliases, choices, whether a value follows), registries (reasoning and tool-call
//! parsers, quantization methods, kv-cache dtypes, finish reasons) and metric families.
//!
//! The facts are the fixtures `scripts/engine_facts.py` reads out of the released wheels
//! (`tests/fixtures/engines/<engine>-<version>/`, each with its provenance), embedded at build
//! time so the recipe checks, the launcher and `aimdeck-sim` all judge by the same facts.

use std::sync::OnceLock;

use serde::Deserialize;

use crate::model::EngineKind;

/// The releases aimdeck renders command lines for and reads metrics of, newest first per engine.
pub const SUPPORTED: &[(EngineKind, &str)] =
    &[(EngineKind::Vllm, "0.33.0"), (EngineKind::Sglang, "0.5.23")];

macro_rules! fixture {
    ($dir:literal) => {
        (
            include_str!(concat!("../../tests/fixtures/engines/", $dir, "/flags.json")),
            include_str!(concat!("../../tests/fixtures/engines/", $dir, "/registries.json")),
            include_str!(concat!("../../tests/fixtures/engines/", $dir, "/metrics.json")),
        )
    };
}

const VLLM_0_33_0: (&str, &str, &str) = fixture!("vllm-0.33.0");
const SGLANG_0_5_23: (&str, &str, &str) = fixture!("sglang-0.5.23");

/// Whether a flag takes a value: `true`, `false` (a switch) or `"optional"` (bare means true).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum TakesValue {
    Always(bool),
    Optional(OptionalTag),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptionalTag {
    Optional,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FlagFact {
    /// The canonical name first, then its aliases (`--tp-size`, `--tensor-parallel-size`).
    pub names: Vec<String>,
    pub value: TakesValue,
    #[serde(default)]
    pub choices: Option<Vec<serde_json::Value>>,
    pub source: String,
}

impl FlagFact {
    pub fn takes_value(&self) -> bool {
        !matches!(self.value, TakesValue::Always(false))
    }

    pub fn value_optional(&self) -> bool {
        matches!(self.value, TakesValue::Optional(_))
    }

    /// The argparse choices as the strings a command line holds.
    pub fn choice_strings(&self) -> Option<Vec<String>> {
        self.choices.as_ref().map(|choices| {
            choices
                .iter()
                .map(|c| c.as_str().map(str::to_string).unwrap_or_else(|| c.to_string()))
                .collect()
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Registry {
    #[serde(default)]
    pub values: Vec<String>,
    #[serde(default)]
    pub deprecated: Vec<String>,
    pub source: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Registries {
    pub reasoning_parsers: Registry,
    pub tool_call_parsers: Registry,
    pub quantization_methods: Registry,
    pub kv_cache_dtypes: Registry,
    pub finish_reasons: Registry,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MetricFamily {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub labels: Vec<String>,
    #[serde(default)]
    pub buckets: Option<Vec<f64>>,
}

#[derive(Debug, Clone, Deserialize)]
struct FlagsFile {
    flags: Vec<FlagFact>,
}

#[derive(Debug, Clone, Deserialize)]
struct MetricsFile {
    families: Vec<MetricFamily>,
}

/// One release's facts.
#[derive(Debug)]
pub struct EngineFacts {
    pub engine: EngineKind,
    pub version: &'static str,
    pub flags: Vec<FlagFact>,
    pub registries: Registries,
    pub families: Vec<MetricFamily>,
}

/// How argparse resolves an option string (`allow_abbrev` is on in both engines' parsers).
#[derive(Debug, PartialEq)]
pub enum Lookup<'a> {
    Exact(&'a FlagFact),
    /// A unique prefix of a long option: argparse accepts it, aimdeck never writes one.
    Abbreviation(&'a FlagFact, &'a str),
    Ambiguous(Vec<&'a str>),
    Unknown,
}

impl PartialEq for FlagFact {
    fn eq(&self, other: &Self) -> bool {
        self.names == other.names
    }
}

impl EngineFacts {
    fn load(
        engine: EngineKind,
        version: &'static str,
        (flags, registries, metrics): (&str, &str, &str),
    ) -> EngineFacts {
        // The fixtures are part of the build: a broken one is a build defect, found by any test.
        let flags: FlagsFile = serde_json::from_str(flags).expect("engine flags fixture parses");
        let registries: Registries =
            serde_json::from_str(registries).expect("engine registries fixture parses");
        let metrics: MetricsFile =
            serde_json::from_str(metrics).expect("engine metrics fixture parses");
        EngineFacts { engine, version, flags: flags.flags, registries, families: metrics.families }
    }

    /// The flag registered under exactly this option string.
    pub fn flag(&self, option: &str) -> Option<&FlagFact> {
        self.flags.iter().find(|f| f.names.iter().any(|n| n == option))
    }

    /// argparse's resolution of `option` (without any `=value`).
    pub fn lookup<'a>(&'a self, option: &str) -> Lookup<'a> {
        lookup_in(&self.flags, option)
    }

    pub fn family(&self, name: &str) -> Option<&MetricFamily> {
        self.families.iter().find(|f| f.name == name)
    }

    /// Whether the engine loads a checkpoint quantized with `method` (its `quant_method`).
    pub fn knows_quantization(&self, method: &str) -> bool {
        self.registries.quantization_methods.values.iter().any(|m| m == method)
    }

    /// Whether `method` loads only with an explicit opt-in (vLLM: `--allow-deprecated-quantization`).
    pub fn quantization_deprecated(&self, method: &str) -> bool {
        self.registries.quantization_methods.deprecated.iter().any(|m| m == method)
    }
}

/// argparse's resolution of `option` among `flags`: an exact name, else (long options only)
/// the one name it is a prefix of; several such names make it ambiguous.
pub fn lookup_in<'a>(
    flags: impl IntoIterator<Item = &'a FlagFact> + Clone,
    option: &str,
) -> Lookup<'a> {
    if let Some(flag) = flags.clone().into_iter().find(|f| f.names.iter().any(|n| n == option)) {
        return Lookup::Exact(flag);
    }
    if !option.starts_with("--") {
        return Lookup::Unknown;
    }
    let matches: Vec<(&FlagFact, &str)> = flags
        .into_iter()
        .flat_map(move |f| {
            f.names.iter().filter(move |n| n.starts_with(option)).map(move |n| (f, n.as_str()))
        })
        .collect();
    match matches.as_slice() {
        [] => Lookup::Unknown,
        [(flag, name)] => Lookup::Abbreviation(flag, name),
        many => Lookup::Ambiguous(many.iter().map(|(_, n)| *n).collect()),
    }
}

/// The facts of `engine` at `version`, if that release is supported.
pub fn for_version(engine: EngineKind, version: &str) -> Option<&'static EngineFacts> {
    all().iter().find(|f| f.engine == engine && f.version == version)
}

/// The facts of the newest supported release of `engine`.
pub fn newest(engine: EngineKind) -> &'static EngineFacts {
    all().iter().find(|f| f.engine == engine).expect("every engine has a supported release")
}

pub fn all() -> &'static [EngineFacts] {
    static FACTS: OnceLock<Vec<EngineFacts>> = OnceLock::new();
    FACTS.get_or_init(|| {
        vec![
            EngineFacts::load(EngineKind::Vllm, "0.33.0", VLLM_0_33_0),
            EngineFacts::load(EngineKind::Sglang, "0.5.23", SGLANG_0_5_23),
        ]
    })
}

/// Versions supported for `engine`, newest first (for messages).
pub fn versions(engine: EngineKind) -> Vec<&'static str> {
    SUPPORTED.iter().filter(|(e, _)| *e == engine).map(|(_, v)| *v).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_supported_release_has_facts() {
        for (engine, version) in SUPPORTED {
            let facts = for_version(*engine, version).expect("fixture embedded");
            assert!(facts.flags.len() > 100, "{engine} {version}: {} flags", facts.flags.len());
            assert!(!facts.families.is_empty());
        }
    }

    #[test]
    fn argparse_prefixes_resolve_like_argparse() {
        let sglang = newest(EngineKind::Sglang);
        assert!(matches!(sglang.lookup("--tp-size"), Lookup::Exact(_)));
        // `--pp` is a prefix of --pp-size, --pp-max-micro-batch-size, ...: argparse refuses it.
        assert!(
            matches!(sglang.lookup("--pp"), Lookup::Ambiguous(names) if names.contains(&"--pp-size"))
        );
        assert_eq!(sglang.lookup("--no-such-flag"), Lookup::Unknown);
        let vllm = newest(EngineKind::Vllm);
        assert!(matches!(
            vllm.lookup("--tensor-parallel-siz"),
            Lookup::Abbreviation(_, "--tensor-parallel-size")
        ));
    }

    #[test]
    fn registries_hold_the_names_the_issue_names() {
        let vllm = newest(EngineKind::Vllm);
        let sglang = newest(EngineKind::Sglang);
        assert!(vllm.registries.reasoning_parsers.values.iter().any(|p| p == "deepseek_r1"));
        assert!(sglang.registries.reasoning_parsers.values.iter().any(|p| p == "deepseek-r1"));
        assert!(vllm.quantization_deprecated("fbgemm_fp8"));
        assert!(!sglang.knows_quantization("fbgemm_fp8"));
        let kv = sglang.flag("--kv-cache-dtype").and_then(FlagFact::choice_strings).unwrap();
        assert!(!kv.contains(&"fp8".to_string()) && kv.contains(&"fp8_e4m3".to_string()));
    }
}
