//! What a server says it is, asked once per target after its first run: SGLang's
//! `/server_info` (the run's own answer, else `/get_server_info`), vLLM's `/version`,
//! llama.cpp's `/props`, and `/v1/models` only when none of those answered.
//!
//! In: a [`Target`]. Out: the `server` object of a run's provenance
//! ([`crate::provenance::describe_server`]). Best effort, 2 s per call; never an error.

use std::time::Duration;

use serde_json::{Value, json};

use super::target::Target;
use crate::provenance::describe_server;

/// Timeout of each probe.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

async fn get_json(t: &Target, path: &str) -> Option<Value> {
    t.get_json(path, PROBE_TIMEOUT).await
}

/// Ask the server what it is, with as few extra calls as possible:
/// the run's `/server_info` answer (SGLang; else `/get_server_info`), vLLM's `/version`,
/// llama.cpp's `/props`, and `/v1/models` only when none of those answered; 2 s timeout each.
/// The model is the one the requests named when the server did not say. Out: `{"kind",
/// "version", "model", "from": [endpoints that answered]}`, nulls when nothing said.
pub async fn probe_server(t: &Target, server_info: Option<&Value>) -> Value {
    let info = match server_info {
        Some(v) => Some(v.clone()),
        None => get_json(t, "/get_server_info").await,
    };
    let (version, props) = futures_util::join!(get_json(t, "/version"), get_json(t, "/props"));
    let models = if info.is_none() && version.is_none() && props.is_none() {
        get_json(t, "/v1/models").await
    } else {
        None
    };
    let mut d = describe_server(
        info.as_ref(),
        version.as_ref(),
        props.as_ref(),
        models.as_ref(),
    );
    if d["model"].is_null() && !t.model.is_empty() {
        d["model"] = json!(t.model);
    }
    d
}
