//! The engine and run flow against a small scripted server: failures of each kind, early
//! stops with and without usage, time limits, trt/truss/embeddings, and the calls around a
//! run (readiness, flush, profiler, /server_info) with their headers.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::StreamExt as _;
use serde_json::{Value, json};

use runner::engine::{self, Target};
use runner::metrics;
use runner::record::RequestRecord;
use runner::scenario::{Backend, RequestOptions, Timeouts};
use runner::tokenizer::Tokenizer;
use runner::workload::RequestSpec;

/// What the mock saw: method, path and query, headers of interest, JSON body.
#[derive(Debug, Clone)]
struct Call {
    path: String,
    auth: Option<String>,
    routing: Option<String>,
    body: Value,
}

type Calls = Arc<Mutex<Vec<Call>>>;

/// One step of a scripted body: wait, then send bytes (or break the connection).
enum Step {
    Send(u64, String),
    Break(u64),
}

fn body(steps: Vec<Step>) -> Body {
    let stream = futures_util::stream::iter(steps).then(|s| async move {
        match s {
            Step::Send(ms, text) => {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                Ok(Bytes::from(text))
            }
            Step::Break(ms) => {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                Err(std::io::Error::other("scripted disconnect"))
            }
        }
    });
    Body::from_stream(stream)
}

fn sse(v: Value) -> String {
    format!("data: {v}\n\n")
}

fn text_chunk(t: &str) -> String {
    sse(json!({"choices": [{"index": 0, "text": t, "finish_reason": null}]}))
}

fn event_stream(steps: Vec<Step>) -> Response {
    ([("content-type", "text/event-stream")], body(steps)).into_response()
}

async fn record(calls: &Calls, req: Request) -> Call {
    let (parts, b) = req.into_parts();
    let bytes = axum::body::to_bytes(b, 1 << 20).await.unwrap();
    let h = |k: &str| parts.headers.get(k).map(|v| v.to_str().unwrap().to_owned());
    let call = Call {
        path: parts.uri.to_string(),
        auth: h("authorization"),
        routing: h("x-smg-routing-key"),
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    };
    calls.lock().unwrap().push(call.clone());
    call
}

/// `/v1/completions`, scripted by the prompt.
async fn completions(State(calls): State<Calls>, req: Request) -> Response {
    let call = record(&calls, req).await;
    let usage = call.body["stream_options"]["include_usage"] == json!(true);
    let stream = call.body["stream"] == json!(true);
    match call.body["prompt"].as_str().unwrap_or("") {
        "500" => (
            StatusCode::INTERNAL_SERVER_ERROR,
            r#"{"error":{"message":"engine died"}}"#,
        )
            .into_response(),
        "inband" => event_stream(vec![
            Step::Send(0, text_chunk(" a")),
            Step::Send(
                0,
                sse(json!({"error": {"message": "out of memory", "code": 500}})),
            ),
        ]),
        "disconnect" => event_stream(vec![
            Step::Send(0, text_chunk(" a")),
            Step::Send(5, text_chunk(" b")),
            Step::Break(5),
        ]),
        "no-done" => event_stream(vec![Step::Send(0, text_chunk(" a"))]),
        "stall" => event_stream(vec![
            Step::Send(0, text_chunk(" a")),
            Step::Send(3000, "".into()),
        ]),
        "slow-headers" => {
            tokio::time::sleep(Duration::from_millis(3000)).await;
            event_stream(vec![])
        }
        _ if !stream => axum::Json(
            json!({"choices": [{"text": " a b c", "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 2, "completion_tokens": 3}}),
        )
        .into_response(),
        // An early stop: 3 of the requested tokens, then `stop`.
        _ => {
            let mut steps: Vec<Step> = [" a", " b", " c"]
                .iter()
                .map(|t| Step::Send(10, text_chunk(t)))
                .collect();
            steps.push(Step::Send(
                0,
                sse(json!({"choices": [{"index": 0, "text": "", "finish_reason": "stop"}]})),
            ));
            if usage {
                steps.push(Step::Send(
                    0,
                    sse(json!({"choices": [],
                    "usage": {"prompt_tokens": 2, "completion_tokens": 3}})),
                ));
            }
            steps.push(Step::Send(0, "data: [DONE]\n\n".into()));
            event_stream(steps)
        }
    }
}

/// SGLang `/generate`: cumulative text and `meta_info`.
async fn generate(State(calls): State<Calls>, req: Request) -> Response {
    record(&calls, req).await;
    let mut text = String::new();
    let mut steps: Vec<Step> = (1..=3)
        .map(|k| {
            text.push_str(" w");
            Step::Send(2, sse(json!({"text": text, "meta_info": {"prompt_tokens": 4, "completion_tokens": k}})))
        })
        .collect();
    steps.push(Step::Send(0, "data: [DONE]\n\n".into()));
    event_stream(steps)
}

async fn trt(State(calls): State<Calls>, req: Request) -> Response {
    record(&calls, req).await;
    let steps = [" x", " y", " z"]
        .iter()
        .map(|t| {
            Step::Send(
                2,
                format!(
                    "data:{}\n\n",
                    json!({"text_output": t, "model_name": "ensemble"})
                ),
            )
        })
        .collect();
    event_stream(steps)
}

async fn truss(State(calls): State<Calls>, req: Request) -> Response {
    record(&calls, req).await;
    event_stream(vec![
        Step::Send(2, text_chunk(" x")),
        Step::Send(2, text_chunk(" y")),
    ])
}

async fn embeddings(State(calls): State<Calls>, req: Request) -> Response {
    record(&calls, req).await;
    axum::Json(json!({"data": [{"embedding": [0.1, 0.2], "index": 0}],
        "usage": {"prompt_tokens": 3, "total_tokens": 3}}))
    .into_response()
}

async fn control(State(calls): State<Calls>, req: Request) -> Response {
    record(&calls, req).await;
    axum::Json(json!({"ok": true})).into_response()
}

async fn models(State(calls): State<Calls>, req: Request) -> Response {
    record(&calls, req).await;
    axum::Json(json!({"data": [{"id": "mock-model"}]})).into_response()
}

async fn server_info(State(calls): State<Calls>, req: Request) -> Response {
    record(&calls, req).await;
    axum::Json(json!({"version": "mock", "internal_states": [{"avg_spec_accept_length": 2.5}]}))
        .into_response()
}

async fn mock() -> (String, Calls) {
    let calls: Calls = Arc::default();
    let app = Router::new()
        .route("/v1/completions", post(completions))
        .route("/generate", post(generate))
        .route("/v2/models/ensemble/generate_stream", post(trt))
        .route("/v1/models/model:predict", post(truss))
        .route("/v1/embeddings", post(embeddings))
        .route("/flush_cache", post(control))
        .route("/reset_prefix_cache", post(control))
        .route("/start_profile", post(control))
        .route("/stop_profile", post(control))
        .route("/v1/models", get(models))
        .route("/server_info", get(server_info))
        .with_state(calls.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), calls)
}

async fn send(target: Arc<Target>, prompts: &[&str], output_len: u32) -> Vec<RequestRecord> {
    let requests: Vec<RequestSpec> = prompts
        .iter()
        .map(|p| RequestSpec::text(*p, 1, output_len))
        .collect();
    let mut done = engine::execute(target, &requests, &vec![0.0; requests.len()], None).await;
    metrics::count_tokens(&mut done.records, &Tokenizer::builtin());
    done.records
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_counted_by_kind() {
    let (base, _) = mock().await;
    let t = support::target_at(&base, Backend::Vllm, RequestOptions::default());
    let recs = send(t, &["inband", "500", "disconnect", "no-done", "ok"], 10).await;
    let kinds: Vec<&str> = recs.iter().map(|r| r.outcome.kind()).collect();
    assert_eq!(
        kinds,
        [
            "stream_in_band_error",
            "http_500",
            "stream_disconnect",
            "stream_early_close",
            "ok"
        ]
    );
    assert_eq!(recs[0].error.as_deref(), Some("out of memory"));
    assert!(
        recs[1].error.as_deref().unwrap().contains("engine died"),
        "{:?}",
        recs[1].error
    );
    let s = metrics::summarize(&recs, 1.0, &Tokenizer::builtin());
    assert_eq!((s.completed, s.failed), (1, 4));
    assert_eq!(s.failures.get("stream_disconnect"), Some(&1));
    assert_eq!(s.failures.get("stream_in_band_error"), Some(&1));
    assert_eq!(s.failures.get("http_500"), Some(&1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn early_stops_are_reported_with_their_true_length() {
    let (base, _) = mock().await;
    let tok = Tokenizer::builtin();
    // With include_usage (the default) the server's count is used: 3 tokens, not 10.
    let recs = send(
        support::target_at(&base, Backend::Vllm, RequestOptions::default()),
        &["ok"],
        10,
    )
    .await;
    let r = &recs[0];
    assert!(r.outcome.is_ok(), "{:?}", r.error);
    assert_eq!(
        (r.reported_output_len, r.chunks, r.output_len()),
        (Some(3), 3, 3)
    );
    let s = metrics::summarize(&recs, 1.0, &tok);
    assert_eq!((s.total_output, s.output_len_assumed), (3, 0));
    let tpot = (r.latency_s() - r.ttft_s().unwrap()) / 2.0 * 1000.0;
    assert!((s.tpot_ms.mean - tpot).abs() < 1e-9);
    // Chunks arrive ~10 ms apart, so TPOT over the true length is ~10 ms; over the
    // requested length it would be ~2.2 ms.
    assert!(s.tpot_ms.mean > 7.0, "TPOT {} ms", s.tpot_ms.mean);
    // Without usage the length is assumed, as bench_serving does, and flagged.
    let options = RequestOptions {
        include_usage: false,
        ..RequestOptions::default()
    };
    let recs = send(
        support::target_at(&base, Backend::Vllm, options),
        &["ok"],
        10,
    )
    .await;
    let s = metrics::summarize(&recs, 1.0, &tok);
    assert_eq!(
        (recs[0].reported_output_len, recs[0].output_len()),
        (None, 10)
    );
    assert_eq!(
        (
            s.total_output,
            s.output_len_assumed,
            s.total_output_retokenized
        ),
        (10, 1, 3)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_first_byte_limits() {
    let (base, _) = mock().await;
    let options = RequestOptions {
        timeouts: Timeouts {
            first_byte_s: 0.3,
            idle_s: 0.3,
            ..Timeouts::default()
        },
        ..RequestOptions::default()
    };
    let recs = send(
        support::target_at(&base, Backend::Vllm, options),
        &["stall", "slow-headers"],
        10,
    )
    .await;
    assert_eq!(recs[0].outcome.kind(), "timeout_idle");
    assert_eq!(recs[1].outcome.kind(), "timeout_first_byte");
    assert!(recs[1].latency_s() < 1.0);
    let options = RequestOptions {
        timeouts: Timeouts {
            total_s: 0.2,
            ..Timeouts::default()
        },
        ..RequestOptions::default()
    };
    let recs = send(
        support::target_at(&base, Backend::Vllm, options),
        &["stall"],
        10,
    )
    .await;
    assert_eq!(recs[0].outcome.kind(), "timeout_total");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trt_truss_and_embeddings() {
    let (base, calls) = mock().await;
    let opts = RequestOptions::default;
    let recs = send(support::target_at(&base, Backend::Trt, opts()), &["hi"], 3).await;
    assert!(recs[0].outcome.is_ok(), "{:?}", recs[0].error);
    assert_eq!((recs[0].text.as_str(), recs[0].chunks), (" x y z", 3));
    assert_eq!(recs[0].itl_s.len(), 2);
    let recs = send(
        support::target_at(&base, Backend::Truss, opts()),
        &["hi"],
        2,
    )
    .await;
    assert!(recs[0].outcome.is_ok(), "{:?}", recs[0].error);
    assert_eq!(recs[0].text, " x y");
    let recs = send(
        support::target_at(&base, Backend::VllmEmbedding, opts()),
        &["hi"],
        2,
    )
    .await;
    assert!(recs[0].outcome.is_ok(), "{:?}", recs[0].error);
    assert_eq!(
        (recs[0].reported_prompt_len, recs[0].output_len()),
        (Some(3), 0)
    );
    let calls = calls.lock().unwrap();
    let paths: Vec<&str> = calls.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/v2/models/ensemble/generate_stream",
            "/v1/models/model:predict",
            "/v1/embeddings"
        ]
    );
    assert_eq!(calls[0].body["min_length"], 3);
    assert_eq!(calls[2].body, json!({"input": "hi", "model": "m"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routing_key_header() {
    let (base, calls) = mock().await;
    let spec = RequestSpec {
        routing_key: Some("k1_g3".into()),
        ..RequestSpec::text("ok", 1, 3)
    };
    let t = support::target_at(&base, Backend::Vllm, RequestOptions::default());
    let done = engine::execute(t, &[spec], &[0.0], None).await;
    assert!(done.records[0].outcome.is_ok());
    assert_eq!(calls.lock().unwrap()[0].routing.as_deref(), Some("k1_g3"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_flow_readiness_model_flush_profile_server_info() {
    let (base, calls) = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let scenario = format!(
        "name: flow\ntargets:\n  - {{name: m, backend: sglang, base_url: '{base}', headers: {{X-Team: bench}}}}\n\
         datasets:\n  - {{name: r, kind: random, num_prompts: 3, input_len: 4, output_len: 3}}\n\
         load: {{warmup_requests: 1, flush_cache: true, profile: {{output_dir: /prof}}}}\n\
         request:\n  lora: {{names: [a1, a2], distribution: distinct}}\n  temperature: 0.5\n"
    );
    let path = dir.path().join("flow.yaml");
    std::fs::write(&path, scenario).unwrap();
    let out_dir = dir.path().join("out");
    let out = tokio::task::spawn_blocking(move || {
        support::runner()
            .env("OPENAI_API_KEY", "sk-test")
            .arg("run")
            .arg(&path)
            .arg("--output")
            .arg(&out_dir)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("Accept length:                           2.50"),
        "{stdout}"
    );
    let calls = calls.lock().unwrap();
    let paths: Vec<&str> = calls.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/v1/models",
            "/v1/models",
            "/generate",
            "/flush_cache?timeout=60",
            "/start_profile",
            "/generate",
            "/generate",
            "/generate",
            "/stop_profile",
            "/server_info"
        ]
    );
    assert!(
        calls
            .iter()
            .all(|c| c.auth.as_deref() == Some("Bearer sk-test"))
    );
    let generate: Vec<&Call> = calls[5..8].iter().collect();
    assert_eq!(generate[0].body["model"], Value::Null);
    // Round-robin over the adapters (the three requests arrive in any order).
    let mut loras: Vec<&str> = generate
        .iter()
        .map(|c| c.body["lora_path"].as_str().unwrap())
        .collect();
    loras.sort();
    assert_eq!(loras, ["a1", "a1", "a2"]);
    assert_eq!(generate[0].body["sampling_params"]["temperature"], 0.5);
    assert!(
        calls[4].body["output_dir"]
            .as_str()
            .unwrap()
            .starts_with("/prof/")
    );
    let runs = std::fs::read_to_string(dir.path().join("out/runs.jsonl")).unwrap();
    let v: Value = serde_json::from_str(runs.trim()).unwrap();
    assert_eq!(v["accept_length"], 2.5);
    assert_eq!(v["server_info"]["version"], "mock");
}
