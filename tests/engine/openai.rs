//! The playground's streaming client against `aimdeck-sim`: tokens arrive one by one with
//! their timing, and cancelling stops the stream (the server records an aborted request).

use crate::sim_support;

use std::time::Duration;

use aimdeck::engine::metrics;
use aimdeck::engine::openai::{self, Api, PromptRequest, StreamEvent};
use sim_support::SimProcess;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

fn request(url: &str, api: Api, max_tokens: u64) -> PromptRequest {
    PromptRequest {
        base_url: url.to_string(),
        model: "m".into(),
        prompt: "tell me a story".into(),
        api,
        max_tokens: Some(max_tokens),
        temperature: None,
        ignore_eos: false,
    }
}

#[tokio::test]
async fn chat_tokens_stream_as_they_are_generated() {
    let sim = SimProcess::ready(&["serve", "m", "--ttft-ms", "100", "--tokens-per-second", "50"]);
    let (tx, mut rx) = mpsc::channel(256);
    openai::spawn_stream(
        reqwest::Client::new(),
        request(&sim.url(), Api::Chat, 10),
        CancellationToken::new(),
        tx,
    );
    let mut times = Vec::new();
    let summary = loop {
        match rx.recv().await.expect("an event") {
            StreamEvent::Token { elapsed_s, .. } => times.push(elapsed_s),
            StreamEvent::Finished(summary) => break summary,
            StreamEvent::Failed(err) => panic!("{err}"),
        }
    };
    assert_eq!(times.len(), 10);
    // Streamed, not delivered at once: 20 ms apart at 50 tokens/s.
    assert!(times[9] - times[0] >= 9.0 * 0.015, "{times:?}");
    assert!(summary.ttft_s.unwrap() >= 0.1);
    assert_eq!(summary.completion_tokens, 10);
    assert_eq!(summary.prompt_tokens, Some(4));
    assert_eq!(summary.finish_reason.as_deref(), Some("length"));
    let speed = summary.tokens_per_s.unwrap();
    assert!((30.0..=60.0).contains(&speed), "decode speed {speed}");
    assert_eq!(summary.text.split_whitespace().count(), 10);
}

#[tokio::test]
async fn a_reasoning_stream_keeps_thinking_apart_and_times_it_first() {
    let sim = SimProcess::ready(&[
        "-m",
        "sglang.launch_server",
        "--model-path",
        "m",
        "--reasoning-parser",
        "deepseek-r1",
        "--ttft-ms",
        "20",
        "--tokens-per-second",
        "50",
    ]);
    let mut answer_tokens = 0;
    let summary = openai::stream(
        &reqwest::Client::new(),
        &request(&sim.url(), Api::Chat, 8),
        &CancellationToken::new(),
        Duration::from_secs(5),
        |_, _| answer_tokens += 1,
    )
    .await
    .unwrap();
    assert_eq!(answer_tokens, 4, "the playground's tokens are the answer's");
    assert_eq!(summary.text.split_whitespace().count(), 4);
    assert_eq!(summary.reasoning_text.split_whitespace().count(), 4);
    assert_eq!((summary.chunks, summary.reasoning_chunks), (8, 4));
    assert_eq!((summary.completion_tokens, summary.reasoning_tokens), (8, Some(4)));
    let (ttft, answer) = (summary.ttft_s.unwrap(), summary.first_answer_s.unwrap());
    // Four thinking tokens, 20 ms apart, come before the answer.
    assert!(answer - ttft >= 4.0 * 0.015, "ttft {ttft}, first answer {answer}");
    assert_eq!(summary.inter_token_s.len(), 7);
    let speed = summary.tokens_per_s.unwrap();
    assert!((30.0..=60.0).contains(&speed), "decode speed from the first token: {speed}");
}

#[tokio::test]
async fn cancelling_stops_the_stream_and_the_server_sees_an_abort() {
    let sim = SimProcess::ready(&["serve", "m", "--ttft-ms", "10", "--tokens-per-second", "20"]);
    let cancel = CancellationToken::new();
    let (tx, mut rx) = mpsc::channel(256);
    openai::spawn_stream(
        reqwest::Client::new(),
        request(&sim.url(), Api::Completions, 200),
        cancel.clone(),
        tx,
    );
    let mut tokens = 0;
    let summary = loop {
        match rx.recv().await.expect("an event") {
            StreamEvent::Token { .. } => {
                tokens += 1;
                if tokens == 3 {
                    cancel.cancel();
                }
            }
            StreamEvent::Finished(summary) => break summary,
            StreamEvent::Failed(err) => panic!("{err}"),
        }
    };
    assert!(summary.cancelled);
    assert!(summary.chunks < 10, "{} tokens after cancel", summary.chunks);
    // The server notices the closed connection at its next token.
    let client = reqwest::Client::new();
    let mut aborted = 0.0;
    for _ in 0..40 {
        let text = client
            .get(format!("{}/metrics", sim.url()))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let snap = metrics::snapshot(&metrics::parse(&text).unwrap());
        aborted = snap.requests_finished_by_reason.get("abort").copied().unwrap_or(0.0);
        if aborted == 1.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(aborted, 1.0);
}

#[tokio::test]
async fn a_server_error_is_reported_with_its_message() {
    let sim = SimProcess::ready(&["serve", "m"]);
    let mut req = request(&sim.url(), Api::Chat, 5);
    req.model = "not-served".into();
    let err = openai::stream(
        &reqwest::Client::new(),
        &req,
        &CancellationToken::new(),
        Duration::from_secs(5),
        |_, _| {},
    )
    .await
    .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("404") && text.contains("The model `not-served` does not exist."),
        "{text}"
    );
}
