//! The metrics reader on recorded `/metrics` pages of several vLLM and SGLang versions
//! (`tests/fixtures/metrics/README.md` says where each came from): what a user would read off
//! the endpoints table for each page.

use aimdeck::engine::metrics::{self, SampleWindow, Snapshot, parse, snapshot};
use aimdeck::model::EngineKind;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/metrics/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn read(name: &str) -> Snapshot {
    let text = fixture(name);
    let page = parse(&text).expect("a metrics page");
    assert_eq!(page.skipped_lines, 0, "{name}: {:?}", page.first_error);
    snapshot(&page)
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9 * b.abs().max(1.0))
}

#[test]
fn sglang_04_docs_page() {
    let s = read("sglang-0.4-docs.txt");
    assert_eq!(s.engine, Some(EngineKind::Sglang));
    assert_eq!(s.models, vec!["meta-llama/Llama-3.1-8B-Instruct"]);
    assert_eq!(s.requests_running, Some(162.0));
    assert_eq!(s.requests_waiting, Some(2826.0));
    assert_eq!(s.kv_cache_usage, Some(0.28));
    assert_eq!(s.prompt_tokens, Some(8_128_902.0));
    assert_eq!(s.generation_tokens, Some(7_557_572.0));
    assert!(close(s.prefix_cache_hit_rate, 0.007507552643049313));
    // The old name of the inter-token histogram is read when the new one is absent.
    assert_eq!(s.itl.as_ref().map(|h| h.count), Some(7_400_757.0));
    let ttft = s.ttft.expect("ttft");
    assert_eq!(ttft.count, 11008.0);
    // 1100.8th of 11008 falls in (7.5, 10]: 941 below, 389 inside.
    assert!(close(ttft.quantile(0.1), 7.5 + 2.5 * (1100.8 - 941.0) / 389.0));
    // Most requests took longer than the largest bound (30 s): Prometheus reports that bound.
    assert_eq!(ttft.quantile(0.5), Some(30.0));
    assert_eq!(s.e2e.map(|h| h.count), Some(11228.0));
}

#[test]
fn vllm_v1_design_doc_page_with_a_cut_histogram() {
    let s = read("vllm-v1-design-doc.txt");
    assert_eq!(s.engine, Some(EngineKind::Vllm));
    assert_eq!(s.requests_running, Some(8.0));
    assert_eq!(s.generation_tokens, Some(27453.0));
    assert_eq!(s.requests_finished, Some(132.0));
    assert_eq!(s.requests_finished_by_reason.get("length"), Some(&131.0));
    assert_eq!(s.requests_finished_by_reason.get("abort"), Some(&0.0));
    // Missing from this page: none of them is made up.
    assert_eq!(s.requests_waiting, None);
    assert_eq!(s.kv_cache_usage, None);
    assert_eq!(s.prompt_tokens, None);
    let ttft = s.ttft.expect("ttft");
    assert_eq!(ttft.count, 140.0);
    assert!(close(ttft.quantile(0.5), 0.02 + 0.02 * (70.0 - 13.0) / 84.0));
}

#[test]
fn vllm_v0_page_uses_the_old_kv_name_and_ignores_unset_hit_rates() {
    let s = read("vllm-0.6-v0.txt");
    assert_eq!(s.engine, Some(EngineKind::Vllm));
    assert_eq!(s.kv_cache_usage, Some(0.0));
    assert_eq!(s.requests_running, Some(0.0));
    assert_eq!(s.preemptions, Some(0.0));
    // -1 means "no queries yet" in vLLM V0, not a rate.
    assert_eq!(s.prefix_cache_hit_rate, None);
    assert_eq!(s.ttft, None);
}

#[test]
fn vllm_010_shape_counts_renamed_metrics_once_and_adds_engines() {
    let s = read("vllm-0.10-shape-dp2.txt");
    assert_eq!(s.requests_running, Some(8.0));
    assert_eq!(s.requests_waiting, Some(2.0));
    // A fraction: the mean of the two engines, not their sum.
    assert!(close(s.kv_cache_usage, 0.3));
    assert_eq!(s.prompt_tokens, Some(4000.0));
    assert_eq!(s.prefix_cache_queries, Some(4000.0));
    assert_eq!(s.prefix_cache_hits, Some(400.0));
    assert_eq!(s.preemptions, Some(3.0));
    assert_eq!(s.requests_finished, Some(22.0));
    assert_eq!(s.requests_finished_by_reason.get("length"), Some(&13.0));
    assert_eq!(s.requests_finished_by_reason.get("stop"), Some(&9.0));
    assert_eq!(s.itl.as_ref().map(|h| h.count), Some(1978.0));
    let ttft = s.ttft.expect("ttft");
    assert_eq!(ttft.count, 22.0);
    // 10 fast requests on engine 0, 12 slower on engine 1: the 11th is the first slow one.
    assert!(close(ttft.quantile(0.5), 0.08 + 0.02 * (11.0 - 10.0) / 12.0));
}

#[test]
fn sglang_tensor_parallel_ranks_are_one_engine_and_data_parallel_ranks_add_up() {
    let page = "\
sglang:num_running_reqs{dp_rank=\"0\",engine_type=\"unified\",model_name=\"m\",pp_rank=\"0\",tp_rank=\"0\"} 3.0
sglang:num_running_reqs{dp_rank=\"0\",engine_type=\"unified\",model_name=\"m\",pp_rank=\"0\",tp_rank=\"1\"} 3.0
sglang:num_running_reqs{dp_rank=\"1\",engine_type=\"unified\",model_name=\"m\",pp_rank=\"0\",tp_rank=\"0\"} 2.0
sglang:num_running_reqs{dp_rank=\"1\",engine_type=\"unified\",model_name=\"m\",pp_rank=\"0\",tp_rank=\"1\"} 2.0
sglang:token_usage{dp_rank=\"0\",engine_type=\"unified\",model_name=\"m\",pp_rank=\"0\",tp_rank=\"0\"} 0.5
sglang:token_usage{dp_rank=\"1\",engine_type=\"unified\",model_name=\"m\",pp_rank=\"0\",tp_rank=\"0\"} 0.1
sglang:prompt_tokens_total{model_name=\"m\"} 100.0
sglang:cached_tokens_total{model_name=\"m\"} 25.0
";
    let s = snapshot(&parse(page).unwrap());
    assert_eq!(s.requests_running, Some(5.0));
    assert!(close(s.kv_cache_usage, 0.3));
    assert_eq!(s.prefix_cache_queries, Some(100.0));
    assert_eq!(s.prefix_cache_hits, Some(25.0));

    let recorded = read("sim-sglang-current-tp2-dp2.txt");
    assert_eq!(recorded.engine, Some(EngineKind::Sglang));
    assert_eq!(recorded.prompt_tokens, Some(108.0));
    assert_eq!(recorded.ttft.map(|h| h.count), Some(12.0));
}

#[test]
fn sim_vllm_page_with_two_engines() {
    let s = read("sim-vllm-current-dp2.txt");
    assert_eq!(s.prompt_tokens, Some(108.0));
    assert_eq!(s.requests_finished, Some(12.0));
    assert_eq!(s.ttft.as_ref().map(|h| h.count), Some(12.0));
    assert_eq!(s.queue_time.map(|h| h.count), Some(12.0));
}

#[test]
fn counter_resets_give_the_new_count_as_the_increase() {
    let before = read("vllm-0.10-shape-dp2.txt");
    let mut window = SampleWindow::default();
    window.push(0, before.clone());
    let mut later = before.clone();
    later.generation_tokens = Some(2000.0 + 500.0);
    let s = window.push(1000, later);
    assert_eq!(s.generation_tokens_per_s, Some(500.0));
    // The engine restarted: 40 tokens since. Rates are over the last 10 s, so the 500 before
    // the restart and the 40 after it both count: 540 tokens in 2 s.
    let mut restarted = Snapshot { generation_tokens: Some(40.0), ..before };
    restarted.ttft = None;
    let s = window.push(2000, restarted);
    assert_eq!(s.generation_tokens_per_s, Some(270.0));
}

#[test]
fn garbage_and_html_pages_are_errors_that_say_where() {
    let err = parse("<!DOCTYPE html>\n<html><body>Bad Gateway</body></html>\n").unwrap_err();
    assert!(err.to_string().contains("line 1"), "{err}");
    let noise: String = (0..2000u32).map(|i| char::from(b'!' + (i * 7 % 90) as u8)).collect();
    assert!(parse(&noise).is_err());
    assert!(parse("{\"object\":\"error\"}").is_err());
    // Not an engine page: parses, but there is nothing to show.
    let s = snapshot(&parse("process_open_fds 12\n").unwrap());
    assert_eq!(s.engine, None);
    assert_eq!(s.requests_running, None);
}

#[test]
fn a_page_cut_mid_line_keeps_what_came_before() {
    let text = fixture("sglang-0.4-docs.txt");
    let cut = &text[..text.len() / 2];
    let page = parse(cut).unwrap();
    assert!(page.skipped_lines <= 1);
    let s = snapshot(&page);
    assert_eq!(s.prompt_tokens, Some(8_128_902.0));
}

#[test]
fn a_five_megabyte_page_is_read_whole() {
    // 5 MB: a server with hundreds of LoRA adapters or DP ranks. Every engine label is new,
    // so the totals must add up exactly.
    let one = fixture("sim-vllm-current-dp2.txt");
    let mut text = String::new();
    let mut copies = 0u32;
    while text.len() < 5 * 1024 * 1024 {
        text.push_str(&one.replace("engine=\"", &format!("engine=\"{copies}-")));
        copies += 1;
    }
    let page = metrics::parse(&text).unwrap();
    assert_eq!(page.skipped_lines, 0);
    let s = snapshot(&page);
    assert_eq!(s.prompt_tokens, Some(108.0 * copies as f64));
    assert_eq!(s.ttft.map(|h| h.count), Some(12.0 * copies as f64));
}
