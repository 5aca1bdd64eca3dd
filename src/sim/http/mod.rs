//! HTTP endpoints of the embedded server.
//!
//! In: requests on the server's listener. Out: responses in the real servers' shapes.
//! Generation and embeddings go through [`generate`] (faults, timing, ground truth);
//! [`admin`] answers the informational and control endpoints; [`tokenize`] the tokenizer
//! endpoints.

mod admin;
mod frames;
mod generate;
mod request;
mod tokenize;
mod writer;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use super::Sim;
use super::listener::ConnInfo;

pub use frames::EMBEDDING_DIM;
use request::Api;

/// Generation and embedding routes: path and API.
const GENERATION: &[(&str, Api)] = &[
    ("/generate", Api::Generate),
    ("/v1/completions", Api::Completions),
    ("/v1/chat/completions", Api::Chat),
    ("/v1/embeddings", Api::Embeddings),
    ("/v2/models/ensemble/generate_stream", Api::Trt),
    ("/v2/models/ensemble/generate", Api::Trt),
    ("/v1/models/model:predict", Api::Truss),
];

/// Largest request body accepted (axum's default is 2 MiB).
const BODY_LIMIT: usize = 256 << 20;

pub(super) fn router(sim: Arc<Sim>) -> Router {
    let mut r = Router::new();
    for &(path, api) in GENERATION {
        r = r.route(
            path,
            post(
                move |State(sim): State<Arc<Sim>>,
                      ConnectInfo(conn): ConnectInfo<ConnInfo>,
                      body: Bytes| generate::handle(sim, conn, api, path, body),
            ),
        );
    }
    r.route("/v1/models", get(admin::models))
        // Readiness of TensorRT-LLM targets polls the bare base URL.
        .route("/", get(admin::health))
        .route("/health", get(admin::health))
        .route("/health_generate", get(admin::health))
        .route("/model_info", get(admin::model_info))
        .route("/get_model_info", get(admin::model_info))
        .route("/server_info", get(admin::server_info))
        .route("/get_server_info", get(admin::server_info))
        .route("/version", get(admin::version))
        .route(
            "/flush_cache",
            get(admin::flush_cache).post(admin::flush_cache),
        )
        .route("/reset_prefix_cache", post(admin::reset_prefix_cache))
        .route(
            "/start_profile",
            get(admin::start_profile).post(admin::start_profile),
        )
        .route(
            "/stop_profile",
            get(admin::stop_profile).post(admin::stop_profile),
        )
        .route("/metrics", get(admin::metrics))
        .route("/tokenize", post(tokenize::tokenize))
        .route("/detokenize", post(tokenize::detokenize))
        // Image requests carry megabytes of base64; real servers take them.
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(sim)
}

/// An error response in the OpenAI-compatible servers' shape.
pub(super) fn error(status: StatusCode, message: &str) -> Response {
    let kind = match status.as_u16() {
        400 => "BadRequestError",
        404 => "NotFoundError",
        429 => "TooManyRequestsError",
        503 => "ServiceUnavailableError",
        _ => "InternalServerError",
    };
    let body = json!({"object": "error", "message": message, "type": kind, "param": null,
        "code": status.as_u16()});
    (status, axum::Json(body)).into_response()
}

/// Parse a JSON body; the error is the 400 message.
pub(super) fn json_body(body: &[u8]) -> Result<serde_json::Value, String> {
    serde_json::from_slice(body).map_err(|e| format!("invalid JSON body: {e}"))
}
