//! One server-sent chunk of an OpenAI-compatible stream, read the way the engines write it, and
//! the per-request timeline the chunks build.
//!
//! Reasoning models stream their thinking apart from the answer (facts in
//! `tests/fixtures/engines/stream-shapes.json`): vLLM 0.33 in `delta.reasoning` (older vLLM
//! releases named it `reasoning_content`), SGLang 0.5 in `delta.reasoning_content`, the answer in `delta.content` (`text` for
//! `/v1/completions`). Usage counts every generated token, reasoning included; vLLM adds
//! `completion_tokens_details.reasoning_tokens`, SGLang also a top-level `reasoning_tokens`.

use serde_json::Value;

/// What one chunk carried.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Chunk<'a> {
    pub reasoning: Option<&'a str>,
    pub content: Option<&'a str>,
    pub finish_reason: Option<&'a str>,
    pub usage: Option<ChunkUsage>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ChunkUsage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// Of `completion_tokens`, the thinking ones, when the server says.
    pub reasoning_tokens: Option<u64>,
}

fn non_empty(value: Option<&Value>) -> Option<&str> {
    value.and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// Reads one parsed `data:` payload (not an error object: the caller checks `error` first).
pub fn read(event: &Value) -> Chunk<'_> {
    let usage = event.get("usage").filter(|u| u.is_object()).map(|u| ChunkUsage {
        prompt_tokens: u.get("prompt_tokens").and_then(Value::as_u64).unwrap_or(0),
        completion_tokens: u.get("completion_tokens").and_then(Value::as_u64).unwrap_or(0),
        reasoning_tokens: u
            .pointer("/completion_tokens_details/reasoning_tokens")
            .or_else(|| u.get("reasoning_tokens"))
            .and_then(Value::as_u64),
    });
    let Some(choice) = event.pointer("/choices/0") else {
        return Chunk { usage, ..Chunk::default() };
    };
    let delta = choice.get("delta");
    Chunk {
        reasoning: delta.and_then(|d| {
            non_empty(d.get("reasoning")).or_else(|| non_empty(d.get("reasoning_content")))
        }),
        content: non_empty(delta.and_then(|d| d.get("content")))
            .or_else(|| non_empty(choice.get("text"))),
        finish_reason: choice.get("finish_reason").and_then(Value::as_str),
        usage,
    }
}

/// Token arrival times of one request, in seconds since it was sent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timeline {
    /// The first chunk of any kind (reasoning or answer): time to first token.
    pub first_s: Option<f64>,
    /// The first answer chunk (later than `first_s` on a reasoning model).
    pub first_answer_s: Option<f64>,
    pub last_s: Option<f64>,
    /// Gaps between successive token chunks, reasoning and answer alike (vLLM's ITL).
    pub gaps_s: Vec<f64>,
    pub chunks: u64,
    pub reasoning_chunks: u64,
}

impl Timeline {
    /// Records a chunk that carried tokens at `elapsed_s`.
    pub fn token(&mut self, reasoning: bool, elapsed_s: f64) {
        match self.last_s {
            None => self.first_s = Some(elapsed_s),
            Some(previous) => self.gaps_s.push(elapsed_s - previous),
        }
        if !reasoning && self.first_answer_s.is_none() {
            self.first_answer_s = Some(elapsed_s);
        }
        self.last_s = Some(elapsed_s);
        self.chunks += 1;
        if reasoning {
            self.reasoning_chunks += 1;
        }
    }

    /// Decode speed: the tokens after the first over the time after the first.
    pub fn tokens_per_s(&self, tokens: u64) -> Option<f64> {
        let (first, last) = (self.first_s?, self.last_s?);
        (tokens > 1 && last > first).then(|| (tokens - 1) as f64 / (last - first))
    }

    /// `vllm bench serve`'s TPOT: (latency - TTFT) / (output tokens - 1), where latency ends at
    /// the last token chunk; `None` for one token or none.
    pub fn tpot_s(&self, tokens: u64) -> Option<f64> {
        let (first, last) = (self.first_s?, self.last_s?);
        (tokens > 1).then(|| (last - first) / (tokens - 1) as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_reasoning_from_either_engine_and_the_answer() {
        let vllm =
            json!({"choices": [{"index": 0, "delta": {"reasoning": "hm"}, "finish_reason": null}]});
        assert_eq!(read(&vllm).reasoning, Some("hm"));
        assert_eq!(read(&vllm).content, None);
        let sglang = json!({"choices": [{"index": 0, "delta": {"reasoning_content": "hm", "content": null}}]});
        assert_eq!(read(&sglang).reasoning, Some("hm"));
        let answer = json!({"choices": [{"index": 0, "delta": {"reasoning_content": null, "content": " yes"}}]});
        assert_eq!((read(&answer).reasoning, read(&answer).content), (None, Some(" yes")));
        let completion = json!({"choices": [{"index": 0, "text": "x", "finish_reason": "length"}]});
        assert_eq!(
            (read(&completion).content, read(&completion).finish_reason),
            (Some("x"), Some("length"))
        );
        // The opening chunk (role, empty content) carries no token.
        let opening =
            json!({"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]});
        assert_eq!(read(&opening), Chunk::default());
    }

    #[test]
    fn usage_counts_reasoning_tokens_in_both_shapes() {
        let vllm = json!({"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 10,
            "total_tokens": 13, "completion_tokens_details": {"reasoning_tokens": 6}}});
        assert_eq!(
            read(&vllm).usage,
            Some(ChunkUsage { prompt_tokens: 3, completion_tokens: 10, reasoning_tokens: Some(6) })
        );
        let sglang = json!({"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 10,
            "reasoning_tokens": 6, "completion_tokens_details": null}});
        assert_eq!(read(&sglang).usage.and_then(|u| u.reasoning_tokens), Some(6));
        assert_eq!(read(&json!({"usage": null})).usage, None);
    }

    #[test]
    fn ttft_is_the_first_token_of_any_kind_and_tpot_follows_vllm() {
        // Synthetic timeline: two reasoning chunks, then three answer chunks.
        let mut t = Timeline::default();
        for (reasoning, at) in [(true, 0.5), (true, 0.6), (false, 0.8), (false, 0.9), (false, 1.3)]
        {
            t.token(reasoning, at);
        }
        assert_eq!(t.first_s, Some(0.5));
        assert_eq!(t.first_answer_s, Some(0.8));
        assert_eq!((t.chunks, t.reasoning_chunks), (5, 2));
        let gaps: Vec<f64> = t.gaps_s.iter().map(|g| (g * 1000.0).round()).collect();
        assert_eq!(gaps, [100.0, 200.0, 100.0, 400.0]);
        // 5 tokens: (1.3 - 0.5) / 4.
        assert!((t.tpot_s(5).expect("tpot") - 0.2).abs() < 1e-9);
        assert!((t.tokens_per_s(5).expect("speed") - 5.0).abs() < 1e-9);
        assert_eq!(t.tpot_s(1), None);
        assert_eq!(Timeline::default().tpot_s(5), None);
    }
}
