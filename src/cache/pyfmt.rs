//! Python's text forms that `huggingface_hub` puts in its warnings (`repr` of strings, sets and
//! dicts) and in `hf cache ls` (sizes), so aimdeck's warnings and sizes read the same.

/// `repr(s)` for a `str`: single quotes unless the text holds a single quote and no double one.
pub fn repr_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// `repr(dict[str, set[str]])`. Python orders set members by hash, which changes from run to
/// run; sorted order is the one stable choice (identical whenever each set has one member).
pub fn repr_dict_of_sets<'a>(entries: impl IntoIterator<Item = (&'a str, Vec<&'a str>)>) -> String {
    let items: Vec<String> = entries
        .into_iter()
        .map(|(key, mut values)| {
            values.sort_unstable();
            let members: Vec<String> = values.iter().map(|v| repr_str(v)).collect();
            format!("{}: {{{}}}", repr_str(key), members.join(", "))
        })
        .collect();
    format!("{{{}}}", items.join(", "))
}

/// Bytes as `hf cache ls` prints them (`huggingface_hub.utils._format_size`): base 1000, one
/// decimal, `3.4G`.
pub fn format_size(bytes: u64) -> String {
    let mut value = bytes as f64;
    for unit in ["", "K", "M", "G", "T", "P", "E", "Z"] {
        if value.abs() < 1000.0 {
            return format!("{value:.1}{unit}");
        }
        value /= 1000.0;
    }
    format!("{value:.1}Y")
}

/// A time as `hf cache ls` shows it (`huggingface_hub.utils.format_timesince`): `2 days ago`.
pub fn format_timesince(ts: f64, now: f64) -> String {
    const CHUNKS: [(&str, f64, Option<f64>); 7] = [
        ("second", 1.0, Some(59.0)),
        ("minute", 60.0, Some(59.0)),
        ("hour", 3600.0, Some(23.0)),
        ("day", 86_400.0, Some(6.0)),
        ("week", 604_800.0, Some(6.0)),
        ("month", 2_592_000.0, Some(11.0)),
        ("year", 31_536_000.0, None),
    ];
    let delta = now - ts;
    if delta < 20.0 {
        return "a few seconds ago".to_string();
    }
    let mut shown = (0.0, "second");
    for (label, divider, max_value) in CHUNKS {
        // Python's round() rounds halves to even.
        let value = (delta / divider).round_ties_even();
        shown = (value, label);
        if max_value.is_some_and(|max| value <= max) {
            break;
        }
    }
    let (value, label) = shown;
    format!("{value} {label}{} ago", if value > 1.0 { "s" } else { "" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_like_hf_cache_ls() {
        assert_eq!(format_timesince(100.0, 110.0), "a few seconds ago");
        assert_eq!(format_timesince(0.0, 45.0), "45 seconds ago");
        assert_eq!(format_timesince(0.0, 3600.0 * 2.0), "2 hours ago");
        assert_eq!(format_timesince(0.0, 86_400.0 * 3.0), "3 days ago");
        assert_eq!(format_timesince(0.0, 60.0), "1 minute ago");
    }

    #[test]
    fn repr_matches_python() {
        assert_eq!(repr_str("main"), "'main'");
        assert_eq!(repr_str("abc\n"), "'abc\\n'");
        assert_eq!(repr_str("it's"), "\"it's\"");
        assert_eq!(repr_dict_of_sets([("abc", vec!["refs/pr/1"])]), "{'abc': {'refs/pr/1'}}");
    }

    #[test]
    fn sizes_read_like_hf_cache_ls() {
        assert_eq!(format_size(0), "0.0");
        assert_eq!(format_size(999), "999.0");
        assert_eq!(format_size(42_200), "42.2K");
        assert_eq!(format_size(3_398_085_269), "3.4G");
    }
}
