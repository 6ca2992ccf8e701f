//! The engines' command lines read the way their argparse parsers read them, from the flag
//! facts of one release (`facts.rs`). Two users: `check_strict` (recipes and the launcher's
//! output must name every flag exactly and give valid values) and `aimdeck-sim`, which answers
//! a bad command line with the real parser's message and exit status 2.

use super::facts::{EngineFacts, FlagFact, Lookup, lookup_in};
use crate::model::EngineKind;

/// One option the parser took, with the value it consumed.
#[derive(Debug, Clone, PartialEq)]
pub struct Taken<'a> {
    pub fact: &'a FlagFact,
    /// As written on the command line (maybe an abbreviation).
    pub written: String,
    /// The registered name it resolved to.
    pub name: String,
    pub value: Option<String>,
}

/// What argparse stops at. `message` gives the text after `error: `.
#[derive(Debug, Clone, PartialEq)]
pub enum ArgError {
    Unrecognized(Vec<String>),
    Ambiguous {
        option: String,
        matches: Vec<String>,
    },
    ExpectedOne(String),
    InvalidChoice {
        argument: String,
        value: String,
        choices: Vec<String>,
    },
    /// Accepted by argparse, refused right after parsing (vLLM's reasoning and tool parsers).
    NotRegistered {
        what: &'static str,
        flag: String,
        value: String,
        known: Vec<String>,
    },
}

impl ArgError {
    /// The message in the shape the engines' Python prints it (argparse of Python 3.11/3.12).
    pub fn message(&self) -> String {
        match self {
            ArgError::Unrecognized(args) => format!("unrecognized arguments: {}", args.join(" ")),
            ArgError::Ambiguous { option, matches } => {
                format!("ambiguous option: {option} could match {}", matches.join(", "))
            }
            ArgError::ExpectedOne(argument) => {
                format!("argument {argument}: expected one argument")
            }
            ArgError::InvalidChoice { argument, value, choices } => {
                let quoted: Vec<String> = choices.iter().map(|c| format!("'{c}'")).collect();
                format!(
                    "argument {argument}: invalid choice: '{value}' (choose from {})",
                    quoted.join(", ")
                )
            }
            ArgError::NotRegistered { what, value, known, .. } => {
                format!("invalid {what}: {value} (chose from {{ {} }})", known.join(","))
            }
        }
    }

    /// argparse exits 2 on its own errors; a check after parsing raises, and Python exits 1.
    pub fn exit_status(&self) -> u8 {
        if matches!(self, ArgError::NotRegistered { .. }) { 1 } else { 2 }
    }
}

/// The argparse `argument` name in messages: every option string joined by `/`.
fn argument_name(fact: &FlagFact) -> String {
    fact.names.join("/")
}

fn looks_like_option(arg: &str) -> bool {
    arg.starts_with('-') && arg.len() > 1 && arg.parse::<f64>().is_err()
}

/// Parses `args` (the options after the program and its positional model) against the engine's
/// flags plus `extra` (flags of a stand-in, e.g. the sim's own). Positionals are unrecognized.
pub fn parse<'a>(
    facts: &'a EngineFacts,
    extra: &'a [FlagFact],
    args: &[String],
) -> Result<Vec<Taken<'a>>, ArgError> {
    let mut taken = Vec::new();
    let mut unrecognized = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let raw = &args[i];
        i += 1;
        if !looks_like_option(raw) {
            unrecognized.push(raw.clone());
            continue;
        }
        let (option, inline) = match raw.split_once('=') {
            Some((option, value)) if raw.starts_with("--") => {
                (option.to_string(), Some(value.to_string()))
            }
            _ => (raw.clone(), None),
        };
        // vLLM's FlexibleArgumentParser reads `--max_model_len` as `--max-model-len`.
        let option = if facts.engine == EngineKind::Vllm && option.starts_with("--") {
            format!("--{}", option[2..].replace('_', "-"))
        } else {
            option
        };
        let flags = facts.flags.iter().chain(extra.iter());
        let (fact, name) = match lookup_in(flags, &option) {
            Lookup::Exact(fact) => (fact, option.clone()),
            Lookup::Abbreviation(fact, name) => (fact, name.to_string()),
            Lookup::Ambiguous(matches) => {
                return Err(ArgError::Ambiguous {
                    option,
                    matches: matches.iter().map(|m| m.to_string()).collect(),
                });
            }
            Lookup::Unknown => {
                unrecognized.push(raw.clone());
                continue;
            }
        };
        let value = if !fact.takes_value() {
            if inline.is_some() {
                // argparse: "argument --x: ignored explicit argument 'v'"; close enough to refuse.
                unrecognized.push(raw.clone());
            }
            None
        } else if inline.is_some() {
            inline
        } else if args.get(i).is_some_and(|next| !looks_like_option(next)) {
            i += 1;
            Some(args[i - 1].clone())
        } else if fact.value_optional() {
            None
        } else {
            return Err(ArgError::ExpectedOne(argument_name(fact)));
        };
        if let (Some(value), Some(choices)) = (&value, fact.choice_strings())
            && !choices.iter().any(|c| c == value)
        {
            return Err(ArgError::InvalidChoice {
                argument: argument_name(fact),
                value: value.clone(),
                choices,
            });
        }
        taken.push(Taken { fact, written: option, name, value });
    }
    if !unrecognized.is_empty() {
        return Err(ArgError::Unrecognized(unrecognized));
    }
    check_registries(facts, &taken)?;
    Ok(taken)
}

/// vLLM checks its reasoning and tool-call parser names after parsing (plugins may add some).
fn check_registries(facts: &EngineFacts, taken: &[Taken<'_>]) -> Result<(), ArgError> {
    if facts.engine != EngineKind::Vllm {
        return Ok(());
    }
    let plugin = |name: &str| taken.iter().any(|t| t.name == name);
    for t in taken {
        let Some(value) = t.value.as_deref() else { continue };
        let (what, registry, plugin_flag) = match t.name.as_str() {
            "--reasoning-parser" => (
                "reasoning parser",
                &facts.registries.reasoning_parsers,
                "--reasoning-parser-plugin",
            ),
            "--tool-call-parser" => {
                ("tool call parser", &facts.registries.tool_call_parsers, "--tool-parser-plugin")
            }
            _ => continue,
        };
        if value.eq_ignore_ascii_case("none") || value.is_empty() || plugin(plugin_flag) {
            continue;
        }
        if !registry.values.iter().any(|v| v == value) {
            return Err(ArgError::NotRegistered {
                what,
                flag: t.name.clone(),
                value: value.to_string(),
                known: registry.values.clone(),
            });
        }
    }
    Ok(())
}

/// The strict check for command lines aimdeck writes: what `parse` refuses, and also any
/// abbreviation (argparse accepts `--tp` only while no other flag shares the prefix, which a
/// new release can break) and an option given twice.
pub fn check_strict(facts: &EngineFacts, args: &[String]) -> Vec<String> {
    let taken = match parse(facts, &[], args) {
        Ok(taken) => taken,
        Err(err) => {
            // Python's KeyError names no flag: say which one.
            let flag = match &err {
                ArgError::NotRegistered { flag, .. } => format!("{flag}: "),
                _ => String::new(),
            };
            return vec![format!("{} {}: {flag}{}", facts.engine, facts.version, err.message())];
        }
    };
    let mut problems = Vec::new();
    for (index, t) in taken.iter().enumerate() {
        if t.written != t.name {
            problems.push(format!(
                "{} {}: `{}` is an abbreviation of `{}`; write the full name",
                facts.engine, facts.version, t.written, t.name
            ));
        }
        if taken[..index].iter().any(|earlier| earlier.fact == t.fact) {
            problems
                .push(format!("{} {}: `{}` is given twice", facts.engine, facts.version, t.name));
        }
    }
    problems
}

/// The options of a rendered engine command (after `serve MODEL` or `-m sglang.launch_server`),
/// as the engine's own parser sees them.
pub fn engine_options(engine: EngineKind, argv: &[String]) -> &[String] {
    let skip = match engine {
        // `vllm serve MODEL`: the subcommand and its positional model tag.
        EngineKind::Vllm => argv.iter().position(|a| a == "serve").map_or(0, |i| i + 2),
        // `python3 -m sglang.launch_server`: python's own `-m MODULE`.
        EngineKind::Sglang => {
            argv.iter().position(|a| a.starts_with("sglang.launch_server")).map_or(0, |i| i + 1)
        }
    };
    &argv[skip.min(argv.len())..]
}

/// The strict check of the command `spec`'s replica 0 runs, against the newest supported
/// release of its engine.
pub fn check_spec(spec: &crate::model::DeploymentSpec) -> Vec<String> {
    let argv = super::launch::launch_command(spec, 0).argv();
    check_strict(super::facts::newest(spec.engine), engine_options(spec.engine, &argv))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::facts::newest;

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn unknown_flags_are_reported_with_their_values_as_argparse_does() {
        let err = parse(newest(EngineKind::Vllm), &[], &args("--no-such-flag 3")).unwrap_err();
        assert_eq!(err.message(), "unrecognized arguments: --no-such-flag 3");
        assert_eq!(err.exit_status(), 2);
    }

    #[test]
    fn sglang_refuses_fp8_kv_cache_and_ambiguous_pp() {
        let sglang = newest(EngineKind::Sglang);
        let err = parse(sglang, &[], &args("--kv-cache-dtype fp8")).unwrap_err();
        assert!(
            err.message().starts_with(
                "argument --kv-cache-dtype: invalid choice: 'fp8' (choose from 'auto', "
            ),
            "{}",
            err.message()
        );
        let err = parse(sglang, &[], &args("--pp 2")).unwrap_err();
        let message = err.message();
        assert!(
            message.starts_with("ambiguous option: --pp could match ")
                && message.contains("--pp-size"),
            "{message}"
        );
    }

    #[test]
    fn vllm_checks_reasoning_parsers_after_parsing() {
        let vllm = newest(EngineKind::Vllm);
        let err = parse(vllm, &[], &args("--reasoning-parser deepseek-r1")).unwrap_err();
        assert!(
            err.message().starts_with("invalid reasoning parser: deepseek-r1 (chose from {"),
            "{}",
            err.message()
        );
        assert_eq!(err.exit_status(), 1);
        assert!(
            parse(vllm, &[], &args("--reasoning-parser deepseek_r1 --max_model_len=4096")).is_ok()
        );
    }

    #[test]
    fn strict_check_refuses_abbreviations_argparse_would_take() {
        let vllm = newest(EngineKind::Vllm);
        assert!(parse(vllm, &[], &args("--tensor-parallel 2")).is_ok());
        let problems = check_strict(vllm, &args("--tensor-parallel 2"));
        assert_eq!(
            problems,
            vec![
                "vllm 0.33.0: `--tensor-parallel` is an abbreviation of `--tensor-parallel-size`; write the full name"
            ]
        );
        assert!(
            check_strict(vllm, &args("--tensor-parallel-size 2 --enable-prefix-caching"))
                .is_empty()
        );
    }
}
