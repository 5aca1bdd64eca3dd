//! Informational and control endpoints, in SGLang's (and where noted vLLM's) shapes:
//! `/v1/models`, `/health`, `/model_info`, `/server_info`, `/version` (vLLM), `/flush_cache`,
//! `/reset_prefix_cache` (vLLM), `/start_profile`, `/stop_profile`, `/metrics`.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::super::Sim;
use super::super::Timing;

pub async fn health() -> StatusCode {
    StatusCode::OK
}

/// `/version` (vLLM's shape): the runner version.
pub async fn version() -> Response {
    axum::Json(json!({"version": env!("CARGO_PKG_VERSION")})).into_response()
}

pub async fn models(State(sim): State<Arc<Sim>>) -> Response {
    let m = &sim.config.model;
    axum::Json(
        json!({"object": "list", "data": [{"id": m, "object": "model",
        "created": sim.started_unix, "owned_by": "sglang", "root": m,
        "max_model_len": sim.params.context_len}]}),
    )
    .into_response()
}

pub async fn model_info(State(sim): State<Arc<Sim>>) -> Response {
    axum::Json(
        json!({"model_path": sim.config.model, "tokenizer_path": sim.config.model,
        "is_generation": true, "preferred_sampling_params": null, "weight_version": "default",
        "has_image_understanding": false, "has_audio_understanding": false,
        "model_type": "llama", "architectures": ["LlamaForCausalLM"]}),
    )
    .into_response()
}

/// `/server_info` and `/get_server_info`: server arguments, then `internal_states` (one per
/// data-parallel rank) with `avg_spec_accept_length` when decoding speculatively.
pub async fn server_info(State(sim): State<Arc<Sim>>) -> Response {
    let p = &sim.params;
    let mut info = json!({"model_path": sim.config.model, "tokenizer_path": sim.config.model,
        "served_model_name": sim.config.model, "context_length": p.context_len,
        "preset": sim.config.preset.as_str(), "random_seed": sim.config.seed,
        "tp_size": 1, "dp_size": 1, "version": env!("CARGO_PKG_VERSION")});
    let mut state = json!({"last_gen_throughput": sim.stats.gen_throughput(),
        "waiting_queue_size": sim.stats.waiting.load(Relaxed),
        "running_batch_size": sim.stats.running.load(Relaxed)});
    match &p.timing {
        Timing::Engine(e) => {
            let spec = e.spec_accept_length > 1.0;
            for (k, v) in [
                ("max_running_requests", json!(e.max_batch)),
                ("max_total_num_tokens", json!(e.kv_tokens)),
                ("chunked_prefill_size", json!(e.prefill_chunk)),
                ("disable_radix_cache", json!(e.prefix_cache_tokens == 0)),
                (
                    "speculative_algorithm",
                    if spec { json!("EAGLE") } else { Value::Null },
                ),
            ] {
                info[k] = v;
            }
            state["memory_usage"] = json!({"kvcache": 0.0, "token_capacity": e.kv_tokens});
            if spec && let Some(a) = sim.stats.avg_accept_length() {
                state["avg_spec_accept_length"] = json!(a);
            }
        }
        Timing::Fixed { ttft_ms, itl_ms } => {
            info["ttft_ms"] = json!(ttft_ms);
            info["itl_ms"] = json!(itl_ms);
        }
    }
    info["internal_states"] = json!([state]);
    axum::Json(info).into_response()
}

const FLUSH_TEXT: &str = "Cache flushed.\nPlease check backend logs for more details. (When there are running or waiting requests, the operation will not be performed.)\n";

/// SGLang's `/flush_cache`: 200 once the prefix cache is empty; 400 when requests are
/// running or waiting, after waiting up to `?timeout=` seconds for them to finish.
pub async fn flush_cache(
    State(sim): State<Arc<Sim>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let timeout = q
        .get("timeout")
        .and_then(|t| t.parse::<f64>().ok())
        .filter(|t| t.is_finite() && *t >= 0.0)
        .unwrap_or(0.0);
    let deadline = tokio::time::Instant::now() + Duration::from_secs_f64(timeout);
    let ok = loop {
        let ok = match &sim.engine {
            Some(e) => e.flush().await,
            None => sim.stats.running.load(Relaxed) == 0,
        };
        if ok || tokio::time::Instant::now() >= deadline {
            break ok;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    (status, FLUSH_TEXT).into_response()
}

/// vLLM's `/reset_prefix_cache`: 200 with an empty body.
pub async fn reset_prefix_cache(State(sim): State<Arc<Sim>>) -> StatusCode {
    let ok = match &sim.engine {
        Some(e) => e.flush().await,
        None => true,
    };
    if ok {
        StatusCode::OK
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    }
}

pub async fn start_profile(State(sim): State<Arc<Sim>>) -> Response {
    sim.profiling.store(true, Relaxed);
    (StatusCode::OK, "Start profiling.\n").into_response()
}

pub async fn stop_profile(State(sim): State<Arc<Sim>>) -> Response {
    if !sim.profiling.swap(false, Relaxed) {
        return (
            StatusCode::BAD_REQUEST,
            "Profiling is not in progress. Call /start_profile first.\n",
        )
            .into_response();
    }
    (
        StatusCode::OK,
        "Stop profiling. This will take some time.\n",
    )
        .into_response()
}

pub async fn metrics(State(sim): State<Arc<Sim>>) -> Response {
    let (kv, spec) = match sim.params.engine() {
        Some(e) => (e.kv_tokens, e.spec_accept_length > 1.0),
        None => (0, false),
    };
    let text = sim.stats.prometheus(&sim.config.model, kv, spec);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}
