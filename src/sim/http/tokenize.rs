//! `/tokenize` and `/detokenize` with the built-in tokenizer, in two shapes: llama.cpp's
//! (`{"content": …}` → `{"tokens": […]}`; `{"tokens": […]}` → `{"content": …}`) and vLLM's
//! (`{"prompt"|"messages": …}` → `{"count", "max_model_len", "tokens", "token_strs"}`;
//! `{"model", "tokens"}` → `{"prompt": …}`). A detokenize request naming a `model` gets
//! vLLM's shape, one without gets llama.cpp's.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::super::Sim;
use super::{error, json_body};

pub async fn tokenize(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let req = match json_body(&body) {
        Ok(v) => v,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e),
    };
    let t = &sim.tokenizer;
    if let Some(content) = req["content"].as_str() {
        let ids = t.encode(content);
        let tokens: Vec<Value> = if req["with_pieces"].as_bool().unwrap_or(false) {
            ids.iter()
                .map(|&id| json!({"id": id, "piece": t.decode(&[id])}))
                .collect()
        } else {
            ids.iter().map(|&id| json!(id)).collect()
        };
        return axum::Json(json!({ "tokens": tokens })).into_response();
    }
    let text = if let Some(p) = req["prompt"].as_str() {
        p.to_owned()
    } else if let Some(m) = req["messages"].as_array() {
        m.iter()
            .filter_map(|m| m["content"].as_str())
            .collect::<Vec<_>>()
            .join("\n")
    } else {
        return error(
            StatusCode::BAD_REQUEST,
            "give `content` (llama.cpp) or `prompt` / `messages` (vLLM)",
        );
    };
    let ids = t.encode(&text);
    let strs = req["return_token_strs"]
        .as_bool()
        .unwrap_or(false)
        .then(|| ids.iter().map(|&id| t.decode(&[id])).collect::<Vec<_>>());
    axum::Json(
        json!({"count": ids.len(), "max_model_len": sim.params.context_len,
        "tokens": ids, "token_strs": strs}),
    )
    .into_response()
}

pub async fn detokenize(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let req = match json_body(&body) {
        Ok(v) => v,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e),
    };
    let Some(ids) = req["tokens"].as_array().and_then(|a| {
        a.iter()
            .map(|v| v.as_u64().map(|n| n as u32))
            .collect::<Option<Vec<u32>>>()
    }) else {
        return error(
            StatusCode::BAD_REQUEST,
            "`tokens` must be a list of token ids",
        );
    };
    let text = sim.tokenizer.decode(&ids);
    if req.get("model").is_some() {
        axum::Json(json!({ "prompt": text })).into_response()
    } else {
        axum::Json(json!({ "content": text })).into_response()
    }
}
