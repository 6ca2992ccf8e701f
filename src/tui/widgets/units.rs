//! Numbers with their units, as the console shows them. The `hf cache ls` format (`3.4G`, and
//! `0.0` or `279.0` for small sizes, with no unit at all) stays in the CLI for parity with
//! `huggingface_hub`; the console always says what a number counts.

/// Bytes in decimal units (as the Hub and `hf` count): `0 B`, `279 B`, `123.8 kB`, `3.4 GB`.
pub fn bytes(count: u64) -> String {
    if count < 1000 {
        return format!("{count} B");
    }
    let mut value = count as f64 / 1000.0;
    for unit in ["kB", "MB", "GB", "TB", "PB"] {
        if value < 999.95 {
            return format!("{value:.1} {unit}");
        }
        value /= 1000.0;
    }
    format!("{value:.1} EB")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_size_says_its_unit() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(279), "279 B");
        assert_eq!(bytes(123_800), "123.8 kB");
        assert_eq!(bytes(9_500_000), "9.5 MB");
        assert_eq!(bytes(999_960), "1.0 MB");
        assert_eq!(bytes(140_000_000_000), "140.0 GB");
        assert_eq!(bytes(3_400_000_000_000), "3.4 TB");
    }
}
