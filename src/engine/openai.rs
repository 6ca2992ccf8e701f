//! The OpenAI-compatible streaming client behind the prompt playground and the smoke benchmark:
//! `POST /v1/chat/completions` or `/v1/completions` with `stream: true`, read as server-sent
//! events (`data: {chunk}` lines, ending with `data: [DONE]`), timing every token.

use std::time::{Duration, Instant};

use futures::StreamExt;
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::stream_chunk::{self, ChunkUsage, Timeline};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Api {
    /// `/v1/chat/completions` with one user message.
    Chat,
    /// `/v1/completions` with a raw prompt.
    #[default]
    Completions,
}

#[derive(Debug, Clone)]
pub struct PromptRequest {
    pub base_url: String,
    pub model: String,
    pub prompt: String,
    pub api: Api,
    pub max_tokens: Option<u64>,
    pub temperature: Option<f64>,
    /// Keep generating past end-of-sequence (vLLM and SGLang extension): benchmarks need the
    /// exact output length they asked for.
    pub ignore_eos: bool,
}

impl PromptRequest {
    fn url(&self) -> String {
        let base = self.base_url.trim_end_matches('/');
        match self.api {
            Api::Chat => format!("{base}/v1/chat/completions"),
            Api::Completions => format!("{base}/v1/completions"),
        }
    }

    fn body(&self) -> Value {
        let mut body = match self.api {
            Api::Chat => {
                json!({"model": self.model, "messages": [{"role": "user", "content": self.prompt}]})
            }
            Api::Completions => json!({"model": self.model, "prompt": self.prompt}),
        };
        body["stream"] = json!(true);
        body["stream_options"] = json!({"include_usage": true});
        if let Some(max) = self.max_tokens {
            body["max_tokens"] = json!(max);
        }
        if let Some(t) = self.temperature {
            body["temperature"] = json!(t);
        }
        if self.ignore_eos {
            body["ignore_eos"] = json!(true);
        }
        body
    }
}

/// What the stream reports as it goes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum StreamEvent {
    /// Text of one chunk, and the time since the request was sent.
    Token {
        text: String,
        elapsed_s: f64,
    },
    Finished(StreamSummary),
    Failed(String),
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StreamSummary {
    /// The answer (`delta.content`, or `text` for completions).
    pub text: String,
    /// A reasoning model's thinking (`delta.reasoning` on vLLM, `delta.reasoning_content` on
    /// SGLang), kept apart from the answer.
    pub reasoning_text: String,
    /// Chunks that carried tokens, thinking or answer (one token each on vLLM and SGLang).
    pub chunks: u64,
    /// Of `chunks`, those that carried thinking only.
    pub reasoning_chunks: u64,
    /// Tokens generated, thinking included: the server's count when it sent usage, else the chunks.
    pub completion_tokens: u64,
    /// Of `completion_tokens`, the thinking ones, when the server counts them.
    pub reasoning_tokens: Option<u64>,
    pub prompt_tokens: Option<u64>,
    /// Time to the first token of any kind (thinking or answer), as `vllm bench serve`.
    pub ttft_s: Option<f64>,
    /// Time to the first answer token (after the thinking on a reasoning model).
    pub first_answer_s: Option<f64>,
    /// Gaps between successive token chunks (`vllm bench serve`'s ITL).
    pub inter_token_s: Vec<f64>,
    /// Latency: from sending to the last token chunk (to the end of the stream without tokens).
    pub e2e_s: f64,
    /// Decode speed: tokens after the first over the time after the first.
    pub tokens_per_s: Option<f64>,
    /// `vllm bench serve`'s TPOT: (latency - TTFT) / (tokens - 1); `None` for one token.
    pub tpot_s: Option<f64>,
    pub finish_reason: Option<String>,
    pub cancelled: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum OpenAiError {
    #[error("POST {url}: {reason}")]
    Request { url: String, reason: String },
    #[error("POST {url}: answered {status}: {message}")]
    Status { url: String, status: u16, message: String },
    #[error("POST {url}: the server sent an error mid-stream: {message}")]
    Stream { url: String, message: String },
    #[error("POST {url}: no data for {seconds} s")]
    Stalled { url: String, seconds: u64 },
}

/// The `error.message` of an OpenAI-style error body, or the body itself, shortened.
fn error_message(body: &str) -> String {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let message = parsed.as_ref().and_then(|v| {
        v.pointer("/error/message")
            .or_else(|| v.get("message"))
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    let text = message.unwrap_or_else(|| body.trim().to_string());
    text.chars().take(500).collect()
}

/// What one line of the event stream says.
#[derive(Debug, PartialEq)]
pub enum SseLine {
    /// `data: [DONE]`: the answer is complete.
    Done,
    /// A `data:` line holding JSON.
    Event(Value),
    /// Anything else (comments, `event:` lines, keep-alives, data that is not JSON).
    Skip,
}

/// Reads one line of the body (with or without its line ending); not UTF-8 is read lossily.
pub fn sse_line(line: &[u8]) -> SseLine {
    let line = String::from_utf8_lossy(line);
    let line = line.trim_end_matches(['\n', '\r']);
    let Some(data) = line.strip_prefix("data:") else { return SseLine::Skip };
    let data = data.trim_start();
    if data == "[DONE]" {
        return SseLine::Done;
    }
    serde_json::from_str::<Value>(data).map_or(SseLine::Skip, SseLine::Event)
}

/// Sends the request and reads the stream, calling `on_token(text, elapsed)` for each answer chunk
/// (thinking goes to the summary only).
/// Stops early, with `cancelled: true`, when `cancel` fires. `idle_timeout` bounds the wait
/// for each next chunk (a server that hangs mid-answer).
pub async fn stream(
    client: &reqwest::Client,
    request: &PromptRequest,
    cancel: &CancellationToken,
    idle_timeout: Duration,
    mut on_token: impl FnMut(&str, f64),
) -> Result<StreamSummary, OpenAiError> {
    let url = request.url();
    let started = Instant::now();
    let send = client.post(&url).json(&request.body()).send();
    let response = tokio::select! {
        _ = cancel.cancelled() => return Ok(StreamSummary { cancelled: true, ..StreamSummary::default() }),
        r = send => r.map_err(|err| OpenAiError::Request { url: url.clone(), reason: super::health::error_chain(&err) })?,
    };
    let status = response.status().as_u16();
    if status != 200 {
        let body = response.text().await.unwrap_or_default();
        return Err(OpenAiError::Status { url, status, message: error_message(&body) });
    }

    let mut summary = StreamSummary::default();
    let mut usage: Option<ChunkUsage> = None;
    let mut timeline = Timeline::default();
    let mut buffer: Vec<u8> = Vec::new();
    let mut body = response.bytes_stream();
    'read: loop {
        let next = tokio::select! {
            _ = cancel.cancelled() => { summary.cancelled = true; break 'read; }
            next = tokio::time::timeout(idle_timeout, body.next()) => next,
        };
        let chunk = match next {
            Err(_) => return Err(OpenAiError::Stalled { url, seconds: idle_timeout.as_secs() }),
            Ok(None) => break,
            Ok(Some(Err(err))) => {
                return Err(OpenAiError::Request { url, reason: super::health::error_chain(&err) });
            }
            Ok(Some(Ok(bytes))) => bytes,
        };
        buffer.extend_from_slice(&chunk);
        while let Some(end) = buffer.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = buffer.drain(..=end).collect();
            let event = match sse_line(&line) {
                SseLine::Done => break 'read,
                SseLine::Skip => continue,
                SseLine::Event(event) => event,
            };
            if let Some(err) = event.get("error") {
                let message = err
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("unknown error")
                    .to_string();
                return Err(OpenAiError::Stream { url, message });
            }
            let parts = stream_chunk::read(&event);
            usage = parts.usage.or(usage);
            if let Some(reason) = parts.finish_reason {
                summary.finish_reason = Some(reason.to_string());
            }
            if parts.reasoning.is_none() && parts.content.is_none() {
                continue;
            }
            // One chunk is one arrival: a chunk with both thinking and answer counts once.
            let elapsed = started.elapsed().as_secs_f64();
            timeline.token(parts.content.is_none(), elapsed);
            if let Some(thinking) = parts.reasoning {
                summary.reasoning_text.push_str(thinking);
            }
            if let Some(text) = parts.content {
                summary.text.push_str(text);
                on_token(text, elapsed);
            }
        }
    }
    // As `vllm bench serve`: the request ends at its last token chunk (the usage chunk and
    // `[DONE]` carry none); a stream without tokens ends when it closes.
    summary.e2e_s = timeline.last_s.unwrap_or_else(|| started.elapsed().as_secs_f64());
    summary.chunks = timeline.chunks;
    summary.reasoning_chunks = timeline.reasoning_chunks;
    summary.prompt_tokens = usage.map(|u| u.prompt_tokens);
    summary.completion_tokens =
        usage.map_or(summary.chunks, |u| u.completion_tokens.max(summary.chunks));
    summary.reasoning_tokens = usage.and_then(|u| u.reasoning_tokens);
    summary.ttft_s = timeline.first_s;
    summary.first_answer_s = timeline.first_answer_s;
    summary.tokens_per_s = timeline.tokens_per_s(summary.completion_tokens);
    summary.tpot_s = timeline.tpot_s(summary.completion_tokens);
    summary.inter_token_s = timeline.gaps_s;
    Ok(summary)
}

/// Runs `stream` on its own task and sends its events to `events` (the playground's pane).
pub fn spawn_stream(
    client: reqwest::Client,
    request: PromptRequest,
    cancel: CancellationToken,
    events: mpsc::Sender<StreamEvent>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let token_events = events.clone();
        let result =
            stream(&client, &request, &cancel, Duration::from_secs(60), |text, elapsed_s| {
                // A full channel drops a token from the display only, never from the summary.
                let _ =
                    token_events.try_send(StreamEvent::Token { text: text.to_string(), elapsed_s });
            })
            .await;
        let last = match result {
            Ok(summary) => StreamEvent::Finished(summary),
            Err(err) => StreamEvent::Failed(err.to_string()),
        };
        let _ = events.send(last).await;
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_lines_are_done_events_or_skipped() {
        assert_eq!(sse_line(b"data: [DONE]\r\n"), SseLine::Done);
        assert_eq!(sse_line(b"data:{\"a\":1}\n"), SseLine::Event(serde_json::json!({"a": 1})));
        assert_eq!(sse_line(b": keep-alive\n"), SseLine::Skip);
        assert_eq!(sse_line(b"data: {truncated\n"), SseLine::Skip);
        assert_eq!(sse_line(b"data: \xff\n"), SseLine::Skip);
    }
}
