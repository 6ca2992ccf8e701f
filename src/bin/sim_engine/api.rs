//! The HTTP surface: the OpenAI-compatible routes and the engines' health and info routes,
//! with the JSON shapes vLLM and SGLang answer with.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::StreamExt;
use serde_json::{Value, json};

use crate::args::Flavor;
use crate::generate::{self, GenEvent, GenRequest, count_tokens};
use crate::metrics_page;
use crate::reasoning;
use crate::state::{Fault, Sim, unix_now};

pub fn router(sim: Arc<Sim>) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/health_generate", get(health))
        .route("/ping", get(health))
        .route("/ready", get(ready))
        .route("/version", get(version))
        .route("/get_model_info", get(model_info))
        .route("/get_server_info", get(server_info))
        .route("/v1/models", get(models))
        .route("/metrics", get(metrics))
        .route("/v1/completions", post(completions))
        .route("/v1/chat/completions", post(chat))
        .route(
            "/sim/fail",
            post(|State(sim): State<Arc<Sim>>| async move { sim.set_fault(Fault::Failed) }),
        )
        .route(
            "/sim/hang",
            post(|State(sim): State<Arc<Sim>>| async move { sim.set_fault(Fault::Hung) }),
        )
        .route(
            "/sim/recover",
            post(|State(sim): State<Arc<Sim>>| async move { sim.set_fault(Fault::None) }),
        )
        .with_state(sim)
}

/// A body that sends `head` and then never finishes: a server stuck mid-response.
fn stalled(head: String) -> Response {
    let first = futures::stream::once(async move { Ok::<_, std::io::Error>(Bytes::from(head)) });
    let body = Body::from_stream(first.chain(futures::stream::pending()));
    Response::builder()
        .header(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")
        .body(body)
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

async fn health(State(sim): State<Arc<Sim>>) -> Response {
    // SGLang's /health generates one token first (`asyncio.sleep(1)` before its first check).
    if !sim.args.health_delay.is_zero() && sim.fault() != Fault::Hung {
        tokio::time::sleep(sim.args.health_delay).await;
    }
    match sim.fault() {
        Fault::None => StatusCode::OK.into_response(),
        Fault::Failed => StatusCode::SERVICE_UNAVAILABLE.into_response(),
        Fault::Hung => stalled(String::new()),
    }
}

/// SGLang's `/ready`: the tokenizer manager's view, answered at once.
async fn ready(State(sim): State<Arc<Sim>>) -> Response {
    match (sim.args.flavor, sim.fault()) {
        (Flavor::Vllm, _) => StatusCode::NOT_FOUND.into_response(),
        (Flavor::Sglang, Fault::Hung) => stalled(String::new()),
        (Flavor::Sglang, _) => StatusCode::OK.into_response(),
    }
}

async fn metrics(State(sim): State<Arc<Sim>>) -> Response {
    let page = metrics_page::render(&sim);
    if sim.fault() == Fault::Hung {
        let half = page.len() / 2;
        let cut = (0..=half).rev().find(|&i| page.is_char_boundary(i)).unwrap_or(0);
        return stalled(page[..cut].to_string());
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], page).into_response()
}

async fn version(State(sim): State<Arc<Sim>>) -> Response {
    match sim.args.flavor {
        Flavor::Vllm => axum::Json(json!({"version": "0.11.0"})).into_response(),
        Flavor::Sglang => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn model_info(State(sim): State<Arc<Sim>>) -> Response {
    axum::Json(json!({
        "model_path": sim.args.model,
        "tokenizer_path": sim.args.model,
        "is_generation": true,
    }))
    .into_response()
}

async fn server_info(State(sim): State<Arc<Sim>>) -> Response {
    axum::Json(json!({
        "model_path": sim.args.model,
        "served_model_name": sim.args.served_model_name,
        "tp_size": sim.args.tensor_parallel,
        "dp_size": sim.args.data_parallel,
        "context_length": sim.args.max_model_len,
        "port": sim.args.port,
        "host": sim.args.host,
        "version": "0.5.5",
    }))
    .into_response()
}

async fn models(State(sim): State<Arc<Sim>>) -> Response {
    let created = unix_now() as u64;
    let owner = match sim.args.flavor {
        Flavor::Vllm => "vllm",
        Flavor::Sglang => "sglang",
    };
    let mut card = json!({
        "id": sim.args.served_model_name,
        "object": "model",
        "created": created,
        "owned_by": owner,
        "root": sim.args.model,
        "max_model_len": sim.args.max_model_len,
    });
    if sim.args.flavor == Flavor::Vllm {
        card["parent"] = Value::Null;
        card["permission"] = json!([{
            "id": format!("modelperm-{created:x}"), "object": "model_permission", "created": created,
            "allow_create_engine": false, "allow_sampling": true, "allow_logprobs": true,
            "allow_search_indices": false, "allow_view": true, "allow_fine_tuning": false,
            "organization": "*", "group": null, "is_blocking": false
        }]);
    }
    axum::Json(json!({"object": "list", "data": [card]})).into_response()
}

fn error(status: StatusCode, kind: &str, message: String) -> Response {
    let body = json!({"error": {"message": message, "type": kind, "param": null, "code": status.as_u16()}});
    (status, axum::Json(body)).into_response()
}

#[derive(Clone, Copy, PartialEq)]
enum Api {
    Completions,
    Chat,
}

async fn completions(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    serve(sim, body, Api::Completions).await
}

async fn chat(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    serve(sim, body, Api::Chat).await
}

/// The prompt text of a request: `prompt` (a string or list of strings) for completions,
/// the text of every message for chat.
fn prompt_text(request: &Value, api: Api) -> Result<String, String> {
    match api {
        Api::Completions => match request.get("prompt") {
            Some(Value::String(text)) => Ok(text.clone()),
            Some(Value::Array(items)) => Ok(items
                .iter()
                .map(|item| match item {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(" ")),
            _ => Err("field `prompt` is required: a string or a list of strings".into()),
        },
        Api::Chat => {
            let messages = request
                .get("messages")
                .and_then(Value::as_array)
                .ok_or("field `messages` is required: a list of {role, content}")?;
            let mut text = String::new();
            for message in messages {
                match message.get("content") {
                    Some(Value::String(s)) => text.push_str(s),
                    Some(Value::Array(parts)) => {
                        for part in parts {
                            if let Some(s) = part.get("text").and_then(Value::as_str) {
                                text.push_str(s);
                                text.push(' ');
                            }
                        }
                    }
                    _ => {}
                }
                text.push(' ');
            }
            Ok(text)
        }
    }
}

async fn serve(sim: Arc<Sim>, body: Bytes, api: Api) -> Response {
    if sim.fault() == Fault::Failed {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            "EngineCore encountered an issue.".into(),
        );
    }
    let request: Value = match serde_json::from_slice(&body) {
        Ok(value @ Value::Object(_)) => value,
        Ok(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "BadRequestError",
                "the request body must be a JSON object".into(),
            );
        }
        Err(err) => {
            return error(
                StatusCode::BAD_REQUEST,
                "BadRequestError",
                format!("invalid JSON: {err}"),
            );
        }
    };
    if let Some(model) = request.get("model").and_then(Value::as_str)
        && sim.args.flavor == Flavor::Vllm
        && model != sim.args.served_model_name
    {
        return error(
            StatusCode::NOT_FOUND,
            "NotFoundError",
            format!("The model `{model}` does not exist."),
        );
    }
    let prompt = match prompt_text(&request, api) {
        Ok(text) => text,
        Err(message) => return error(StatusCode::BAD_REQUEST, "BadRequestError", message),
    };
    let prompt_tokens = count_tokens(&prompt);
    let limit = request
        .get("max_completion_tokens")
        .or_else(|| request.get("max_tokens"))
        .and_then(Value::as_u64);
    // vLLM's defaults: 16 tokens for completions; chat answers end on their own.
    let (max_tokens, finish_reason) = match (limit, api) {
        (Some(n), _) => (n, "length"),
        (None, Api::Completions) => (16, "length"),
        (None, Api::Chat) => (32, "stop"),
    };
    let context = sim.args.max_model_len;
    if prompt_tokens + max_tokens > context {
        return error(
            StatusCode::BAD_REQUEST,
            "BadRequestError",
            format!(
                "This model's maximum context length is {context} tokens. However, you requested {} tokens \
                 ({prompt_tokens} in the messages, {max_tokens} in the completion). Please reduce the length \
                 of the messages or completion.",
                prompt_tokens + max_tokens
            ),
        );
    }
    let stream = request.get("stream").and_then(Value::as_bool).unwrap_or(false);
    let include_usage =
        request.pointer("/stream_options/include_usage").and_then(Value::as_bool).unwrap_or(false);
    let id = match api {
        Api::Completions => format!("cmpl-{:032x}", sim.request_id()),
        Api::Chat => format!("chatcmpl-{:032x}", sim.request_id()),
    };
    let created = unix_now() as u64;
    let model = sim.args.served_model_name.clone();
    let thinking = reasoning::thinking_tokens(&sim.args, api == Api::Chat, max_tokens);
    let shape = Shape { api, id, created, model, sim: sim.clone(), thinking };
    let events =
        generate::start(sim, GenRequest { prompt, prompt_tokens, max_tokens, finish_reason });
    if stream {
        stream_response(shape, events, include_usage)
    } else {
        whole_response(shape, events).await
    }
}

struct Shape {
    api: Api,
    id: String,
    created: u64,
    model: String,
    sim: Arc<Sim>,
    /// The first this many tokens of the answer are thinking (a reasoning model's chat).
    thinking: u64,
}

impl Shape {
    fn usage(&self, prompt: u64, completion: u64) -> Value {
        reasoning::usage(
            &self.sim.args,
            self.api == Api::Chat,
            prompt,
            completion,
            completion.min(self.thinking),
        )
    }

    /// A streamed chat choice in the engine's shape (SGLang adds `matched_stop`).
    fn chat_choice(&self, delta: Value, finish_reason: Option<&str>) -> Value {
        let mut choice =
            json!({"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish_reason});
        match self.sim.args.flavor {
            Flavor::Vllm if finish_reason.is_some() => choice["stop_reason"] = Value::Null,
            Flavor::Vllm => {}
            Flavor::Sglang => choice["matched_stop"] = Value::Null,
        }
        json!([choice])
    }
}

async fn whole_response(
    shape: Shape,
    mut events: tokio::sync::mpsc::Receiver<GenEvent>,
) -> Response {
    let (mut text, mut thinking, mut tokens) = (String::new(), String::new(), 0u64);
    while let Some(event) = events.recv().await {
        match event {
            GenEvent::Token(token) => {
                if tokens < shape.thinking {
                    thinking.push_str(&token)
                } else {
                    text.push_str(&token)
                }
                tokens += 1;
            }
            GenEvent::Done { finish_reason, prompt_tokens, completion_tokens } => {
                let choice = match shape.api {
                    Api::Completions => json!({"index": 0, "text": text, "logprobs": null,
                        "finish_reason": finish_reason, "stop_reason": null}),
                    Api::Chat => {
                        json!({"index": 0, "message": reasoning::message(shape.sim.args.flavor, &text, &thinking),
                        "logprobs": null, "finish_reason": finish_reason, "stop_reason": null})
                    }
                };
                let object =
                    if shape.api == Api::Chat { "chat.completion" } else { "text_completion" };
                return axum::Json(json!({
                    "id": shape.id, "object": object, "created": shape.created, "model": shape.model,
                    "choices": [choice], "usage": shape.usage(prompt_tokens, completion_tokens),
                }))
                .into_response();
            }
        }
    }
    error(StatusCode::INTERNAL_SERVER_ERROR, "InternalServerError", "generation ended early".into())
}

/// Server-sent events as vLLM writes them: `data: {chunk}\n\n` per token, a last chunk with
/// the finish reason, an optional usage chunk, then `data: [DONE]`.
fn stream_response(
    shape: Shape,
    events: tokio::sync::mpsc::Receiver<GenEvent>,
    include_usage: bool,
) -> Response {
    let chunk_object =
        if shape.api == Api::Chat { "chat.completion.chunk" } else { "text_completion" };
    let shape = Arc::new(shape);
    let frame = {
        let shape = shape.clone();
        move |choices: Value, usage_value: Option<Value>| -> Bytes {
            let mut chunk = json!({"id": shape.id, "object": chunk_object, "created": shape.created,
                "model": shape.model, "choices": choices});
            if let Some(u) = usage_value {
                chunk["usage"] = u;
            }
            Bytes::from(format!("data: {chunk}\n\n"))
        }
    };
    let (api, flavor) = (shape.api, shape.sim.args.flavor);
    let opening = (api == Api::Chat)
        .then(|| frame(shape.chat_choice(reasoning::opening_delta(flavor), None), None));
    let frame = Arc::new(frame);
    let tokens = futures::stream::unfold((events, false, 0u64), move |(mut events, done, sent)| {
        let (frame, shape) = (frame.clone(), shape.clone());
        async move {
            if done {
                return None;
            }
            match events.recv().await? {
                GenEvent::Token(text) => {
                    let choice = match api {
                        Api::Chat => shape.chat_choice(
                            reasoning::delta(flavor, sent < shape.thinking, &text),
                            None,
                        ),
                        Api::Completions => json!([{"index": 0, "text": text, "logprobs": null,
                            "finish_reason": null, "stop_reason": null}]),
                    };
                    Some((frame(choice, None), (events, false, sent + 1)))
                }
                GenEvent::Done { finish_reason, prompt_tokens, completion_tokens } => {
                    let last = match api {
                        Api::Chat => {
                            shape.chat_choice(reasoning::closing_delta(flavor), Some(finish_reason))
                        }
                        Api::Completions => json!([{"index": 0, "text": "", "logprobs": null,
                            "finish_reason": finish_reason, "stop_reason": null}]),
                    };
                    let mut out = frame(last, None).to_vec();
                    if include_usage {
                        out.extend_from_slice(&frame(
                            json!([]),
                            Some(shape.usage(prompt_tokens, completion_tokens)),
                        ));
                    }
                    out.extend_from_slice(b"data: [DONE]\n\n");
                    Some((Bytes::from(out), (events, true, sent)))
                }
            }
        }
    });
    let all = futures::stream::iter(opening).chain(tokens).map(Ok::<_, std::io::Error>);
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream; charset=utf-8")
        .body(Body::from_stream(all))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}
