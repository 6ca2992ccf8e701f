//! The OpenAI-compatible API: streamed chats, reasoning deltas and errors as a client sees them.

use super::*;

#[test]
fn chat_streams_server_sent_events_with_usage() {
    let sim = SimProcess::ready(&["serve", "m", "--ttft-ms", "10", "--tokens-per-second", "500"]);
    runtime().block_on(async {
        let body = json!({"model": "m", "messages": [{"role": "user", "content": "hi there"}], "max_tokens": 4,
            "stream": true, "stream_options": {"include_usage": true}});
        let reply = client().post(format!("{}/v1/chat/completions", sim.url())).json(&body).send().await.unwrap();
        assert!(reply.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
        let text = reply.text().await.unwrap();
        let events: Vec<&str> = text.split("\n\n").filter(|e| !e.is_empty()).collect();
        assert_eq!(events.last(), Some(&"data: [DONE]"));
        let chunks: Vec<Value> = events[..events.len() - 1]
            .iter()
            .map(|e| serde_json::from_str(e.strip_prefix("data: ").unwrap()).unwrap())
            .collect();
        assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
        let content: String =
            chunks.iter().filter_map(|c| c["choices"][0]["delta"]["content"].as_str()).collect();
        assert_eq!(content.split_whitespace().count(), 4);
        assert_eq!(chunks[chunks.len() - 2]["choices"][0]["finish_reason"], "length");
        assert_eq!(chunks[chunks.len() - 1]["usage"]["completion_tokens"], 4);
        assert_eq!(chunks[chunks.len() - 1]["usage"]["prompt_tokens"], 2);
    });
}

/// A streamed chat's chunks (without `[DONE]`).
async fn chat_chunks(url: &str, model: &str, max_tokens: u64) -> Vec<Value> {
    let body = json!({"model": model, "messages": [{"role": "user", "content": "think first"}], "max_tokens": max_tokens,
        "stream": true, "stream_options": {"include_usage": true}});
    let text = client()
        .post(format!("{url}/v1/chat/completions"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let events: Vec<&str> = text.split("\n\n").filter(|e| !e.is_empty()).collect();
    assert_eq!(events.last(), Some(&"data: [DONE]"));
    events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(e.strip_prefix("data: ").unwrap()).unwrap())
        .collect()
}

#[test]
fn reasoning_models_stream_thinking_in_each_engines_field() {
    let facts: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/engines/stream-shapes.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let vllm = [
        "serve",
        "m",
        "--reasoning-parser",
        "deepseek_r1",
        "--ttft-ms",
        "5",
        "--tokens-per-second",
        "500",
    ];
    let sglang = [
        "-m",
        "sglang.launch_server",
        "--model-path",
        "m",
        "--reasoning-parser",
        "deepseek-r1",
        "--ttft-ms",
        "5",
        "--tokens-per-second",
        "500",
    ];
    for (engine, argv) in [("vllm", &vllm[..]), ("sglang", &sglang[..])] {
        let fact = &facts[engine];
        let (thinking_field, answer_field) = (
            fact["reasoning_delta_field"].as_str().unwrap(),
            fact["answer_delta_field"].as_str().unwrap(),
        );
        let sim = SimProcess::ready(argv);
        let chunks = runtime().block_on(chat_chunks(&sim.url(), "m", 6));
        let deltas: Vec<&Value> =
            chunks.iter().filter_map(|c| c.pointer("/choices/0/delta")).collect();
        let text_of = |d: &Value, field: &str| {
            d.get(field).and_then(Value::as_str).filter(|t| !t.is_empty()).map(str::to_string)
        };
        let thinking: Vec<String> =
            deltas.iter().filter_map(|d| text_of(d, thinking_field)).collect();
        let answer: Vec<String> = deltas.iter().filter_map(|d| text_of(d, answer_field)).collect();
        assert_eq!((thinking.len(), answer.len()), (3, 3), "{engine}: {chunks:?}");
        // Thinking comes first, and no chunk carries both.
        let first_answer = deltas.iter().position(|d| text_of(d, answer_field).is_some()).unwrap();
        assert!(
            deltas[..first_answer].iter().filter(|d| text_of(d, thinking_field).is_some()).count()
                == 3,
            "{engine}"
        );
        assert!(deltas.iter().all(|d| text_of(d, thinking_field).is_none() || text_of(d, answer_field).is_none()));
        let other = if thinking_field == "reasoning" { "reasoning_content" } else { "reasoning" };
        assert!(deltas.iter().all(|d| d.get(other).is_none()), "{engine} never writes `{other}`");
        if fact["reasoning_delta_always_present"] == true {
            assert!(deltas.iter().all(|d| d.get(thinking_field).is_some()), "{engine}: {deltas:?}");
        }
        let usage = &chunks.last().unwrap()["usage"];
        assert_eq!(usage["completion_tokens"], 6, "{engine}: thinking counts as output: {usage}");
        for field in fact["usage_reasoning_fields"].as_array().unwrap() {
            let pointer = format!("/{}", field.as_str().unwrap().replace('.', "/"));
            assert_eq!(usage.pointer(&pointer), Some(&json!(3)), "{engine}: {field} in {usage}");
        }
    }
    // Without a parser (and on /v1/completions) there is no thinking field at all.
    let plain = SimProcess::ready(&["serve", "m", "--ttft-ms", "5", "--tokens-per-second", "500"]);
    let chunks = runtime().block_on(chat_chunks(&plain.url(), "m", 4));
    assert!(chunks.iter().all(|c| c.pointer("/choices/0/delta/reasoning").is_none()));
    assert!(chunks.last().unwrap()["usage"].get("completion_tokens_details").is_none());
}

#[test]
fn bad_requests_get_openai_style_errors() {
    let sim = SimProcess::ready(&["serve", "m", "--max-model-len", "10"]);
    runtime().block_on(async {
        let client = client();
        let url = format!("{}/v1/completions", sim.url());
        let reply = client.post(&url).body("{not json").send().await.unwrap();
        assert_eq!(reply.status(), 400);
        let reply =
            client.post(&url).json(&json!({"model": "other", "prompt": "x"})).send().await.unwrap();
        assert_eq!(reply.status(), 404);
        let body: Value = reply.json().await.unwrap();
        assert_eq!(body["error"]["message"], "The model `other` does not exist.");
        let reply = client
            .post(&url)
            .json(&json!({"prompt": "a b c", "max_tokens": 20}))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 400);
        let body: Value = reply.json().await.unwrap();
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("maximum context length is 10 tokens")
        );
    });
}
