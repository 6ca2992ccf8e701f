//! Chat deltas and usage as each engine writes them, thinking included, for a server started
//! with `--reasoning-parser` (facts and their sources: `tests/fixtures/engines/stream-shapes.json`):
//! - vLLM 0.33 (`DeltaMessage`, chunks dumped with `exclude_unset`): `{"reasoning": "..."}`, then
//!   `{"content": "..."}`; usage adds `completion_tokens_details.reasoning_tokens` whenever a
//!   reasoning parser is set.
//! - SGLang 0.5 (`sse_utils.StreamDelta`, `reasoning_content` always written, null or text):
//!   `{"reasoning_content": "..."}`, then `{"reasoning_content": null, "content": "..."}`; usage
//!   has a top-level `reasoning_tokens` and `completion_tokens_details` only when it is above 0.
//!
//! In both, `completion_tokens` counts every generated token, thinking included. The sim thinks
//! for the first half of each chat answer; `/v1/completions` has no parser, so there the same
//! tokens are plain text, as on the real engines.

use serde_json::{Value, json};

use crate::args::{Flavor, SimArgs};

/// How many of a chat answer's `max_tokens` are thinking.
pub fn thinking_tokens(args: &SimArgs, chat: bool, max_tokens: u64) -> u64 {
    if chat && args.reasoning_parser.is_some() { max_tokens / 2 } else { 0 }
}

/// The delta of one chat token.
pub fn delta(flavor: Flavor, thinking: bool, text: &str) -> Value {
    match (flavor, thinking) {
        (Flavor::Vllm, true) => json!({"reasoning": text}),
        (Flavor::Vllm, false) => json!({"content": text}),
        (Flavor::Sglang, true) => json!({"reasoning_content": text}),
        (Flavor::Sglang, false) => json!({"reasoning_content": null, "content": text}),
    }
}

/// The first chunk's delta: the role and an empty answer.
pub fn opening_delta(flavor: Flavor) -> Value {
    match flavor {
        Flavor::Vllm => json!({"role": "assistant", "content": ""}),
        Flavor::Sglang => json!({"reasoning_content": null, "role": "assistant", "content": ""}),
    }
}

/// The last chat chunk's delta, which carries only the finish reason.
pub fn closing_delta(flavor: Flavor) -> Value {
    match flavor {
        Flavor::Vllm => json!({}),
        Flavor::Sglang => json!({"reasoning_content": null}),
    }
}

/// The `usage` object. SGLang's `UsageInfo` is dumped whole, so its reasoning fields are always
/// there (`reasoning_tokens: 0` without a parser); vLLM adds its details for a chat when a
/// reasoning parser is set.
pub fn usage(args: &SimArgs, chat: bool, prompt: u64, completion: u64, thinking: u64) -> Value {
    let mut usage = json!({"prompt_tokens": prompt, "total_tokens": prompt + completion, "completion_tokens": completion});
    match args.flavor {
        Flavor::Vllm if chat && args.reasoning_parser.is_some() => {
            usage["completion_tokens_details"] = json!({"reasoning_tokens": thinking});
        }
        Flavor::Vllm => {}
        Flavor::Sglang => {
            usage["prompt_tokens_details"] = Value::Null;
            usage["reasoning_tokens"] = json!(thinking);
            usage["completion_tokens_details"] =
                if thinking > 0 { json!({"reasoning_tokens": thinking}) } else { Value::Null };
        }
    }
    usage
}

/// A whole (not streamed) chat message: the thinking in the engine's own field.
pub fn message(flavor: Flavor, answer: &str, thinking: &str) -> Value {
    let mut message = json!({"role": "assistant", "content": answer, "tool_calls": []});
    if !thinking.is_empty() {
        let field = match flavor {
            Flavor::Vllm => "reasoning",
            Flavor::Sglang => "reasoning_content",
        };
        message[field] = json!(thinking);
    }
    message
}
