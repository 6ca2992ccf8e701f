//! The `/metrics` parser over arbitrary text, mutated recorded pages and generated samples.

use super::*;

const METRIC_SEEDS: [&str; 6] = [
    "metrics/sim-vllm-current-dp2.txt",
    "metrics/sim-sglang-current-tp2-dp2.txt",
    "metrics/vllm-0.10-shape-dp2.txt",
    "metrics/vllm-0.6-v0.txt",
    "metrics/sglang-0.4-docs.txt",
    "metrics/vllm-v1-design-doc.txt",
];

fn check_metrics(text: &str) {
    timed("metrics parse", || match aimdeck::engine::metrics::parse(text) {
        Ok(page) => {
            for sample in &page.samples {
                assert!(!sample.name.is_empty());
            }
            let _ = aimdeck::engine::metrics::snapshot(&page);
        }
        Err(err) => {
            let shown = err.to_string();
            assert!(shown.starts_with("not a Prometheus metrics page: line "), "{shown}");
        }
    });
}

proptest! {
    #![proptest_config(config(1024))]

    #[test]
    fn metrics_parser_survives_arbitrary_text(text in "(?s).{0,800}") {
        check_metrics(&text);
    }

    #[test]
    fn metrics_parser_survives_mutated_recorded_pages(pick in 0..METRIC_SEEDS.len(), edits in prop::collection::vec(mutation(), 1..6)) {
        check_metrics(&apply(&fixture(METRIC_SEEDS[pick]), &edits));
    }

    /// Well-formed sample lines are all read back with their values, whatever noise lines sit
    /// between them.
    #[test]
    fn metrics_parser_reads_every_well_formed_sample(
        samples in prop::collection::vec(("[a-z_:][a-z0-9_:]{0,20}", "[a-z_]{1,8}", "[ -!#-\\[\\]-~]{0,10}", -1e9f64..1e9), 1..30),
        noise in prop::collection::vec("# [ -~]{0,20}", 0..5),
    ) {
        let mut text = noise.join("\n");
        text.push('\n');
        for (name, label, value, number) in &samples {
            text.push_str(&format!("{name}{{{label}=\"{value}\"}} {number}\n"));
        }
        let page = aimdeck::engine::metrics::parse(&text).expect("well-formed page");
        prop_assert_eq!(page.samples.len(), samples.len());
        for (sample, (name, label, value, number)) in page.samples.iter().zip(&samples) {
            prop_assert_eq!(sample.name, name.as_str());
            prop_assert_eq!(sample.label(label), Some(value.as_str()));
            prop_assert!((sample.value - number).abs() <= number.abs() * 1e-12);
        }
    }
}
