//! The Prometheus text exposition format (what vLLM's and SGLang's `/metrics` serve), parsed
//! line by line without copying.
//!
//! Why not a crate: `prometheus-parse` drops names with `:` (every vLLM and SGLang metric), and
//! `nom-openmetrics` 0.3, which reads a full page correctly, is all-or-nothing: one line it
//! does not accept (a sample with a timestamp, a `# HELP`/`# TYPE` pair with no samples at the
//! end of a page, a page cut short by a server that stalled) loses the whole page, and it
//! allocates a `String` per label value (0.9 ms per 100 KB here against 0.13 ms for this parser;
//! `benches/metrics.rs` measures both and checks those three pages). This parser skips a bad
//! line, counts it, keeps the rest, and borrows every name and label from the page.

use std::borrow::Cow;
use std::collections::HashMap;

/// The `# TYPE` of a metric family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricType {
    Counter,
    Gauge,
    Histogram,
    Summary,
    Untyped,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Label<'a> {
    pub name: &'a str,
    /// Unescaped; borrowed unless the value held an escape sequence.
    pub value: Cow<'a, str>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Sample<'a> {
    pub name: &'a str,
    pub labels: Vec<Label<'a>>,
    pub value: f64,
}

impl<'a> Sample<'a> {
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels.iter().find(|l| l.name == name).map(|l| l.value.as_ref())
    }
}

/// A line the parser could not read, 1-based.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: usize,
    pub reason: &'static str,
}

#[derive(Debug, Default)]
pub struct Page<'a> {
    pub samples: Vec<Sample<'a>>,
    pub types: HashMap<&'a str, MetricType>,
    /// Lines that were not comments, blank, or samples.
    pub skipped_lines: usize,
    pub first_error: Option<LineError>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("not a Prometheus metrics page: line {line}: {reason}")]
    NotMetrics { line: usize, reason: &'static str },
}

/// Parses a whole page. Fails only when the page has lines but not one readable sample
/// (an HTML error page, JSON, binary noise); otherwise bad lines are skipped and counted.
pub fn parse(text: &str) -> Result<Page<'_>, ParseError> {
    let mut page = Page { samples: Vec::with_capacity(text.len() / 80), ..Page::default() };
    for (index, raw) in text.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw).trim_start_matches([' ', '\t']);
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            read_type(comment, &mut page.types);
            continue;
        }
        match sample(line) {
            Ok(sample) => page.samples.push(sample),
            Err(reason) => {
                page.skipped_lines += 1;
                page.first_error.get_or_insert(LineError { line: index + 1, reason });
            }
        }
    }
    match (&page.first_error, page.samples.is_empty()) {
        (Some(err), true) => Err(ParseError::NotMetrics { line: err.line, reason: err.reason }),
        _ => Ok(page),
    }
}

fn read_type<'a>(comment: &'a str, types: &mut HashMap<&'a str, MetricType>) {
    let Some(rest) = comment.trim_start().strip_prefix("TYPE") else { return };
    let mut words = rest.split_ascii_whitespace();
    let (Some(name), Some(kind)) = (words.next(), words.next()) else { return };
    let kind = match kind {
        "counter" => MetricType::Counter,
        "gauge" => MetricType::Gauge,
        "histogram" => MetricType::Histogram,
        "summary" => MetricType::Summary,
        _ => MetricType::Untyped,
    };
    types.insert(name, kind);
}

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b':'
}

fn is_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b':'
}

fn sample(line: &str) -> Result<Sample<'_>, &'static str> {
    let bytes = line.as_bytes();
    if !is_name_start(bytes[0]) {
        return Err("a sample must start with a metric name");
    }
    let end = bytes.iter().position(|&b| !is_name_char(b)).unwrap_or(bytes.len());
    let name = &line[..end];
    let mut rest = &line[end..];
    let mut labels = Vec::new();
    if let Some(inner) = rest.strip_prefix('{') {
        let (parsed, after) = read_labels(inner)?;
        labels = parsed;
        rest = after;
    }
    let mut fields = rest.split_ascii_whitespace();
    let value = fields.next().ok_or("a sample needs a value")?;
    let value = number(value).ok_or("the sample value is not a number")?;
    // An optional timestamp may follow; anything after that is not Prometheus text.
    if let Some(timestamp) = fields.next()
        && timestamp.parse::<i64>().is_err()
    {
        return Err("unexpected text after the sample value");
    }
    if fields.next().is_some() {
        return Err("unexpected text after the sample timestamp");
    }
    Ok(Sample { name, labels, value })
}

/// Reads `name="value",...}`; returns the labels and the text after `}`.
fn read_labels(mut text: &str) -> Result<(Vec<Label<'_>>, &str), &'static str> {
    let mut labels = Vec::with_capacity(4);
    loop {
        text = text.trim_start_matches([' ', '\t']);
        if let Some(after) = text.strip_prefix('}') {
            return Ok((labels, after));
        }
        let bytes = text.as_bytes();
        if bytes.is_empty() || !(bytes[0].is_ascii_alphabetic() || bytes[0] == b'_') {
            return Err("a label name was expected");
        }
        let end = bytes
            .iter()
            .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_'))
            .unwrap_or(bytes.len());
        let name = &text[..end];
        text = text[end..].trim_start_matches([' ', '\t']);
        text = text.strip_prefix('=').ok_or("`=` was expected after a label name")?;
        text = text.trim_start_matches([' ', '\t']);
        text = text.strip_prefix('"').ok_or("a label value must be quoted")?;
        let (value, after) = read_quoted(text)?;
        labels.push(Label { name, value });
        text = after.trim_start_matches([' ', '\t']);
        if let Some(after) = text.strip_prefix(',') {
            text = after;
        } else if !text.starts_with('}') {
            return Err("`,` or `}` was expected after a label value");
        }
    }
}

/// Reads up to the closing quote, unescaping `\\`, `\"` and `\n`.
fn read_quoted(text: &str) -> Result<(Cow<'_, str>, &str), &'static str> {
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut owned: Option<String> = None;
    let mut start = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                let value = match owned {
                    Some(mut s) => {
                        s.push_str(&text[start..i]);
                        Cow::Owned(s)
                    }
                    None => Cow::Borrowed(&text[..i]),
                };
                return Ok((value, &text[i + 1..]));
            }
            b'\\' => {
                let s = owned.get_or_insert_with(String::new);
                s.push_str(&text[start..i]);
                match bytes.get(i + 1) {
                    Some(b'n') => s.push('\n'),
                    Some(b'\\') => s.push('\\'),
                    Some(b'"') => s.push('"'),
                    _ => return Err("unknown escape in a label value"),
                }
                i += 2;
                start = i;
            }
            _ => i += 1,
        }
    }
    Err("a label value is not closed")
}

fn number(text: &str) -> Option<f64> {
    match text {
        "+Inf" | "Inf" | "+inf" | "inf" => Some(f64::INFINITY),
        "-Inf" | "-inf" => Some(f64::NEG_INFINITY),
        "NaN" | "nan" => Some(f64::NAN),
        _ => text.parse::<f64>().ok().filter(|v| !v.is_nan() || text.eq_ignore_ascii_case("nan")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_names_with_colons_labels_and_values() {
        let page = parse(
            "# HELP vllm:num_requests_running Number of requests.\n\
             # TYPE vllm:num_requests_running gauge\n\
             vllm:num_requests_running{engine=\"0\",model_name=\"meta-llama/Llama-3.1-8B\"} 3.0\n\
             vllm:e2e_request_latency_seconds_bucket{le=\"+Inf\",model_name=\"m\"} 8.128902e+06\n",
        )
        .unwrap();
        assert_eq!(page.samples.len(), 2);
        assert_eq!(page.samples[0].name, "vllm:num_requests_running");
        assert_eq!(page.samples[0].label("model_name"), Some("meta-llama/Llama-3.1-8B"));
        assert_eq!(page.samples[0].value, 3.0);
        assert_eq!(page.samples[1].label("le"), Some("+Inf"));
        assert_eq!(page.samples[1].value, 8_128_902.0);
        assert_eq!(page.types["vllm:num_requests_running"], MetricType::Gauge);
    }

    #[test]
    fn unescapes_label_values_and_accepts_timestamps_and_crlf() {
        let page = parse("m{path=\"a\\\"b\\\\c\\nd\",} 1 1700000000000\r\nn 2\r\n").unwrap();
        assert_eq!(page.samples[0].label("path"), Some("a\"b\\c\nd"));
        assert_eq!(page.samples[1].value, 2.0);
        assert_eq!(page.skipped_lines, 0);
    }

    #[test]
    fn skips_bad_lines_and_keeps_the_rest() {
        let page = parse("good 1\nbad{x=1} 2\nalso good 3 4 5\nfine{a=\"b\"} NaN\n").unwrap();
        assert_eq!(page.samples.len(), 2);
        assert_eq!(page.skipped_lines, 2);
        assert_eq!(
            page.first_error,
            Some(LineError { line: 2, reason: "a label value must be quoted" })
        );
        assert!(page.samples[1].value.is_nan());
    }

    #[test]
    fn a_page_without_samples_is_an_error_naming_the_line() {
        let err = parse("<html>\n<body>502 Bad Gateway</body>\n").unwrap_err();
        assert_eq!(
            err,
            ParseError::NotMetrics { line: 1, reason: "a sample must start with a metric name" }
        );
        // Only comments and blank lines: an empty page, not an error.
        assert!(parse("# HELP x y\n\n").unwrap().samples.is_empty());
    }
}
