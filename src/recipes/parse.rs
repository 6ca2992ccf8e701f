//! YAML text to a `Recipe`, plus where each field sits in the file so the semantic checks can
//! point at the right line. Syntax and type errors (unknown fields, wrong types, missing
//! fields) come from serde-saphyr with their location.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_saphyr::Spanned;

use crate::model::Recipe;

use super::problem::Problem;

/// Line and column (1-based) of a field's value.
pub type Loc = (u64, u64);

type Span = Option<Spanned<IgnoredAny>>;

/// A loose mirror of the recipe schema that keeps only locations. Unknown fields are ignored
/// here: the strict parse of `Recipe` reports them.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RecipeSpans {
    id: Span,
    model: Option<Spanned<ModelSpans>>,
    engine: Span,
    gpu: Span,
    gpu_count: Span,
    precision: Span,
    kv_cache_dtype: Span,
    parallelism: Option<Spanned<ParallelismSpans>>,
    max_model_len: Span,
    gpu_memory_utilization: Span,
    engine_args: Option<Spanned<BTreeMap<String, Spanned<IgnoredAny>>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ModelSpans {
    repo: Span,
    params_b: Span,
    layers: Span,
    attention_heads: Span,
    kv_heads: Span,
    head_dim: Span,
    max_context: Span,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ParallelismSpans {
    tp: Span,
    pp: Span,
    dp: Span,
}

/// Where each field of one recipe file is; `at` falls back to the parent, then to 1:1.
#[derive(Debug, Clone, Default)]
pub struct Locations {
    by_field: BTreeMap<String, Loc>,
}

impl Locations {
    pub fn at(&self, field: &str) -> Loc {
        let mut path = field;
        loop {
            if let Some(loc) = self.by_field.get(path) {
                return *loc;
            }
            match path.rfind('.') {
                Some(dot) => path = &path[..dot],
                None => return (1, 1),
            }
        }
    }

    fn put<T>(&mut self, field: &str, span: &Option<Spanned<T>>) {
        if let Some(span) = span {
            let loc = span.referenced;
            if loc.line() > 0 {
                self.by_field.insert(field.to_string(), (loc.line(), loc.column()));
            }
        }
    }
}

/// Where each field of `text` is. A second parse, so callers ask only when they have a
/// problem to place.
pub fn locations(text: &str) -> Locations {
    let mut out = Locations::default();
    let Ok(spans) = serde_saphyr::from_str::<RecipeSpans>(text) else {
        return out;
    };
    out.put("id", &spans.id);
    out.put("model", &spans.model);
    if let Some(model) = &spans.model {
        let m = &model.value;
        for (name, span) in [
            ("repo", &m.repo),
            ("params_b", &m.params_b),
            ("layers", &m.layers),
            ("attention_heads", &m.attention_heads),
            ("kv_heads", &m.kv_heads),
            ("head_dim", &m.head_dim),
            ("max_context", &m.max_context),
        ] {
            out.put(&format!("model.{name}"), span);
        }
    }
    for (name, span) in [
        ("engine", &spans.engine),
        ("gpu", &spans.gpu),
        ("gpu_count", &spans.gpu_count),
        ("precision", &spans.precision),
        ("kv_cache_dtype", &spans.kv_cache_dtype),
        ("max_model_len", &spans.max_model_len),
        ("gpu_memory_utilization", &spans.gpu_memory_utilization),
    ] {
        out.put(name, span);
    }
    out.put("parallelism", &spans.parallelism);
    if let Some(parallelism) = &spans.parallelism {
        out.put("parallelism.tp", &parallelism.value.tp);
        out.put("parallelism.pp", &parallelism.value.pp);
        out.put("parallelism.dp", &parallelism.value.dp);
    }
    out.put("engine_args", &spans.engine_args);
    if let Some(args) = &spans.engine_args {
        for (key, value) in &args.value {
            out.put(&format!("engine_args.{key}"), &Some(value.clone_span()));
        }
    }
    out
}

trait CloneSpan {
    fn clone_span(&self) -> Spanned<IgnoredAny>;
}

impl CloneSpan for Spanned<IgnoredAny> {
    fn clone_span(&self) -> Spanned<IgnoredAny> {
        Spanned::new(IgnoredAny, self.referenced, self.defined)
    }
}

/// Parses one recipe file, with the locations of its fields. `file` is the name used in problems.
pub fn parse_recipe(file: &str, text: &str) -> Result<(Recipe, Locations), Problem> {
    parse_recipe_only(file, text).map(|recipe| (recipe, locations(text)))
}

/// Parses one recipe file without locating its fields.
pub fn parse_recipe_only(file: &str, text: &str) -> Result<Recipe, Problem> {
    serde_saphyr::from_str::<Recipe>(text).map_err(|err| yaml_problem(file, text, &err))
}

/// A serde-saphyr error as a `Problem`: its location, the key on that line as the field, and
/// the first line of its message (it renders a source snippet below, which a console repeats).
pub fn yaml_problem(file: &str, text: &str, err: &serde_saphyr::Error) -> Problem {
    let (line, column) = err.location().map(|l| (l.line(), l.column())).unwrap_or((1, 1));
    let full = err.to_string();
    let message = strip_location_prefix(full.lines().next().unwrap_or(&full).trim()).to_string();
    let field = backticked_after(&message, "unknown field")
        .or_else(|| backticked_after(&message, "missing field"))
        .unwrap_or_else(|| key_on_line(text, line));
    let mut problem = Problem::new(file, line, column, &field, message.clone());
    if let Some(expected) = expected_list(&message) {
        problem.message =
            message[..message.find(", expected").unwrap_or(message.len())].to_string();
        problem = problem.expected(expected);
    }
    problem
}

/// serde-saphyr starts its message with `error: line L column C: `; the problem carries the
/// location already.
fn strip_location_prefix(message: &str) -> &str {
    let rest = message.strip_prefix("error: ").unwrap_or(message);
    if rest.starts_with("line ")
        && let Some(colon) = rest.find(": ")
        && rest[..colon].contains(" column ")
    {
        return &rest[colon + 2..];
    }
    rest
}

fn backticked_after(message: &str, marker: &str) -> Option<String> {
    let rest = &message[message.find(marker)? + marker.len()..];
    let start = rest.find('`')? + 1;
    let end = start + rest[start..].find('`')?;
    Some(rest[start..end].to_string())
}

/// serde writes "..., expected one of `a`, `b`" or "..., expected u32": keep the part after.
fn expected_list(message: &str) -> Option<String> {
    let at = message.find(", expected ")?;
    Some(message[at + ", expected ".len()..].to_string())
}

/// The mapping key on a 1-based line, for errors that name no field (wrong types).
fn key_on_line(text: &str, line: u64) -> String {
    let Some(source) = text.lines().nth(line.saturating_sub(1) as usize) else {
        return String::new();
    };
    let trimmed = source.trim_start().trim_start_matches("- ");
    match trimmed.find(':') {
        Some(colon) => trimmed[..colon].trim().to_string(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "\
id: llama-8b
model:
  repo: meta-llama/Llama-3.1-8B-Instruct
  params_b: 8.03
  layers: 32
  attention_heads: 32
  kv_heads: 8
  head_dim: 128
  max_context: 131072
engine: vllm
gpu: H100
gpu_count: 2
precision: bf16
parallelism:
  tp: 2
engine_args:
  max-num-seqs: 256
";

    #[test]
    fn locations_point_at_values() {
        let (recipe, locations) = parse_recipe("r.yaml", GOOD).unwrap();
        assert_eq!(recipe.gpu_count, 2);
        assert_eq!(locations.at("gpu_count"), (12, 12));
        assert_eq!(locations.at("parallelism.tp"), (15, 7));
        assert_eq!(locations.at("model.attention_heads"), (6, 20));
        assert_eq!(locations.at("engine_args.max-num-seqs"), (17, 17));
        // Unset fields fall back to their parent.
        assert_eq!(locations.at("parallelism.pp").0, 15);
    }

    #[test]
    fn typo_field_is_named_with_line_and_column() {
        let text = GOOD.replace("gpu_count: 2", "gpu_cout: 2");
        let problem = parse_recipe("r.yaml", &text).unwrap_err();
        assert_eq!((problem.line, problem.column), (12, 1), "{problem}");
        assert_eq!(problem.field, "gpu_cout");
        assert!(problem.expected.as_deref().unwrap_or("").contains("gpu_count"), "{problem}");
    }

    #[test]
    fn wrong_type_names_the_key_on_that_line() {
        let text = GOOD.replace("layers: 32", "layers: many");
        let problem = parse_recipe("r.yaml", &text).unwrap_err();
        assert_eq!(problem.line, 5, "{problem}");
        assert_eq!(problem.field, "layers");
    }
}
