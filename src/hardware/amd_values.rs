//! Reading `amd-smi --json` values. Versions differ: the top level is a bare list or
//! `{"gpu_data": [...]}`; a number is bare, a `{"value": N, "unit": "MB"}` object, or the
//! string `"N/A"`. amd-smi's `MB` is MiB (192 GiB of HBM prints as 196592 MB).

use serde_json::Value;

/// The per-GPU entries of an amd-smi document, whichever top-level shape it has.
pub fn gpu_entries(doc: &Value) -> Result<&Vec<Value>, String> {
    match doc {
        Value::Array(items) => Ok(items),
        Value::Object(map) => match map.get("gpu_data") {
            Some(Value::Array(items)) => Ok(items),
            Some(_) => Err("`gpu_data` is not a list".to_string()),
            None => Err("neither a list nor an object with `gpu_data`".to_string()),
        },
        _ => Err("neither a list nor an object with `gpu_data`".to_string()),
    }
}

/// Parses a tool's JSON, naming the line and column of a syntax error (truncated output
/// reads as "EOF while parsing ... at line 40 column 0").
pub fn parse_json(text: &str) -> Result<Value, String> {
    if text.trim().is_empty() {
        return Err("empty output".to_string());
    }
    serde_json::from_str(text).map_err(|err| format!("invalid JSON: {err}"))
}

/// The `gpu` index of an entry.
pub fn gpu_index(entry: &Value) -> Option<u32> {
    entry.get("gpu")?.as_u64().and_then(|n| u32::try_from(n).ok())
}

/// Follows `path` through nested objects.
pub fn at<'a>(entry: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(entry, |value, key| value.get(key))
}

/// A plain reading: `12`, `"12"`, `{"value": 12, "unit": "%"}`; `"N/A"` is `None`.
pub fn reading(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(text) => leading_number(text),
        Value::Object(map) => map.get("value").and_then(reading),
        _ => None,
    }
    .filter(|v| v.is_finite())
}

/// A memory size in bytes, honouring the unit (`B`, `KB`, `MB`, `GB`; binary, as amd-smi
/// computes them); a bare number is MB.
pub fn bytes(value: &Value) -> Option<u64> {
    let amount = reading(value)?;
    let unit = match value {
        Value::Object(map) => map.get("unit").and_then(Value::as_str).unwrap_or("MB"),
        Value::String(text) => {
            text.trim_start_matches(|c: char| c.is_ascii_digit() || c == '.').trim()
        }
        _ => "MB",
    };
    let scale: f64 = match unit.to_ascii_uppercase().as_str() {
        "B" => 1.0,
        "KB" | "KIB" => 1024.0,
        "" | "MB" | "MIB" => 1024.0 * 1024.0,
        "GB" | "GIB" => 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    (amount >= 0.0).then_some((amount * scale) as u64)
}

/// The first reading found along several paths (fields were renamed between releases).
pub fn first_reading(entry: &Value, paths: &[&[&str]]) -> Option<f64> {
    paths.iter().find_map(|path| at(entry, path).and_then(reading))
}

/// The number a reading starts with (`"32 GT/s"` is 32).
pub fn leading_number(text: &str) -> Option<f64> {
    let text = text.trim();
    let end =
        text.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-')).unwrap_or(text.len());
    text[..end].parse().ok()
}

/// A string field, `"N/A"` being `None`.
pub fn text(value: Option<&Value>) -> Option<String> {
    let text = value?.as_str()?.trim();
    (!text.is_empty() && !text.eq_ignore_ascii_case("n/a")).then(|| text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn both_top_level_shapes() {
        let bare = json!([{"gpu": 0}]);
        let wrapped = json!({"gpu_data": [{"gpu": 0}]});
        assert_eq!(gpu_entries(&bare).map(Vec::len), Ok(1));
        assert_eq!(gpu_entries(&wrapped).map(Vec::len), Ok(1));
        assert!(gpu_entries(&json!({"gpus": []})).is_err());
    }

    #[test]
    fn values_and_units() {
        assert_eq!(reading(&json!({"value": 42, "unit": "%"})), Some(42.0));
        assert_eq!(reading(&json!("N/A")), None);
        assert_eq!(reading(&json!({"value": "N/A", "unit": "W"})), None);
        assert_eq!(bytes(&json!({"value": 196592, "unit": "MB"})), Some(196592 * 1024 * 1024));
        assert_eq!(bytes(&json!({"value": 1024, "unit": "B"})), Some(1024));
        assert_eq!(bytes(&json!({"value": 5, "unit": "furlongs"})), None);
    }
}
