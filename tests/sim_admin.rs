//! The informational and control endpoints of the embedded server answer in the shape of
//! their real counterparts: models, health, model and server info, cache flush, profiler,
//! tokenizer, metrics.

mod support;

use runner::sim::{self, Preset, SimConfig};
use serde_json::{Value, json};
use support::{get, post};

fn tiny() -> SimConfig {
    SimConfig::preset(Preset::Tiny)
}

#[tokio::test]
async fn models_health_and_model_info() {
    let s = sim::start_local(tiny()).await.unwrap();
    let (_, _, text) = get(&format!("{}/v1/models", s.base_url())).await;
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["object"], "list");
    assert_eq!(v["data"][0]["id"], "runner-sim");
    assert_eq!(v["data"][0]["object"], "model");
    assert_eq!(v["data"][0]["max_model_len"], 8192);
    for path in ["/health", "/health_generate"] {
        let (status, _, body) = get(&format!("{}{path}", s.base_url())).await;
        assert_eq!((status, body.as_str()), (200, ""), "{path}");
    }
    for path in ["/model_info", "/get_model_info"] {
        let (_, _, text) = get(&format!("{}{path}", s.base_url())).await;
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["model_path"], "runner-sim");
        assert_eq!(v["tokenizer_path"], "runner-sim");
        assert_eq!(v["is_generation"], true);
    }
    s.stop().await;
}

#[tokio::test]
async fn server_info_reports_the_average_accept_length() {
    let cfg = SimConfig {
        spec_accept_length: Some(3.0),
        ..tiny()
    };
    let s = sim::start_local(cfg).await.unwrap();
    let body = json!({"text": "a", "sampling_params": {"max_new_tokens": 301, "ignore_eos": true}});
    post(&format!("{}/generate", s.base_url()), &body).await;
    for path in ["/server_info", "/get_server_info"] {
        let (_, _, text) = get(&format!("{}{path}", s.base_url())).await;
        let v: Value = serde_json::from_str(&text).unwrap();
        let a = v["internal_states"][0]["avg_spec_accept_length"]
            .as_f64()
            .unwrap();
        assert_eq!(a, 3.0, "300 decode tokens in 100 steps of 3");
        assert_eq!(v["max_running_requests"], 8);
        assert_eq!(v["context_length"], 8192);
    }
    // Without speculative decoding there is no accept length, like SGLang.
    let plain = sim::start_local(tiny()).await.unwrap();
    post(&format!("{}/generate", plain.base_url()), &body).await;
    let (_, _, text) = get(&format!("{}/server_info", plain.base_url())).await;
    let v: Value = serde_json::from_str(&text).unwrap();
    assert!(
        v["internal_states"][0]
            .get("avg_spec_accept_length")
            .is_none()
    );
    s.stop().await;
    plain.stop().await;
}

#[tokio::test]
async fn flush_cache_refuses_while_busy_and_waits_with_a_timeout() {
    let s = sim::start_local(tiny()).await.unwrap();
    let base = s.base_url();
    let (status, _, text) = post(&format!("{base}/flush_cache"), &json!({})).await;
    assert_eq!(status, 200);
    assert!(text.starts_with("Cache flushed."), "{text}");
    // A request of ~100 steps (about 0.2 s) keeps the engine busy.
    let long = json!({"text": "a", "sampling_params": {"max_new_tokens": 100, "ignore_eos": true}});
    let busy = tokio::spawn({
        let url = format!("{base}/generate");
        async move { post(&url, &long).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let (status, _, _) = get(&format!("{base}/flush_cache")).await;
    assert_eq!(status, 400, "refused while a request runs");
    let (status, _, _) = get(&format!("{base}/flush_cache?timeout=5")).await;
    assert_eq!(status, 200, "waited for the request to finish");
    assert_eq!(busy.await.unwrap().0, 200);
    let r = reqwest::Client::new()
        .post(format!("{base}/reset_prefix_cache"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    s.stop().await;
}

#[tokio::test]
async fn profiler_start_and_stop() {
    let s = sim::start_local(tiny()).await.unwrap();
    let base = s.base_url();
    let (status, _, text) = post(&format!("{base}/stop_profile"), &json!({})).await;
    assert_eq!(status, 400, "{text}");
    let (status, _, text) = post(
        &format!("{base}/start_profile"),
        &json!({"activities": ["CPU", "GPU"], "output_dir": "/tmp/x"}),
    )
    .await;
    assert_eq!((status, text.as_str()), (200, "Start profiling.\n"));
    let (status, _, text) = post(&format!("{base}/stop_profile"), &json!({})).await;
    assert_eq!(
        (status, text.as_str()),
        (200, "Stop profiling. This will take some time.\n")
    );
    s.stop().await;
}

#[tokio::test]
async fn tokenize_and_detokenize_in_llama_cpp_and_vllm_shapes() {
    let s = sim::start_local(tiny()).await.unwrap();
    let base = s.base_url();
    let (_, _, text) = post(
        &format!("{base}/tokenize"),
        &json!({"content": "the of and"}),
    )
    .await;
    let v: Value = serde_json::from_str(&text).unwrap();
    let ids = v["tokens"].clone();
    assert_eq!(ids.as_array().unwrap().len(), 3);
    assert_eq!(v.as_object().unwrap().len(), 1, "llama.cpp: only tokens");
    let (_, _, text) = post(
        &format!("{base}/tokenize"),
        &json!({"content": "the of", "with_pieces": true}),
    )
    .await;
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["tokens"][1]["piece"], "of");
    let (_, _, text) = post(
        &format!("{base}/tokenize"),
        &json!({"model": "m", "prompt": "the of and"}),
    )
    .await;
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["count"], 3);
    assert_eq!(v["tokens"], ids);
    assert_eq!(v["max_model_len"], 8192);
    assert!(v["token_strs"].is_null());
    let (_, _, text) = post(&format!("{base}/detokenize"), &json!({"tokens": ids})).await;
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        json!({"content": "the of and"})
    );
    let (_, _, text) = post(
        &format!("{base}/detokenize"),
        &json!({"model": "m", "tokens": ids}),
    )
    .await;
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        json!({"prompt": "the of and"})
    );
    s.stop().await;
}

/// The value of an unlabelled-but-for-model metric in Prometheus text.
fn metric(text: &str, name: &str) -> f64 {
    let prefix = format!("{name}{{model_name=\"runner-sim\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {name} in\n{text}"))
        .parse()
        .unwrap()
}

#[tokio::test]
async fn metrics_count_running_waiting_tokens_and_cache_hits() {
    let cfg = SimConfig {
        max_batch: Some(1),
        ..tiny()
    };
    let s = sim::start_local(cfg).await.unwrap();
    let base = s.base_url();
    let prompt = support::prompts(1, 64, 0, 1).remove(0);
    let body =
        json!({"text": prompt, "sampling_params": {"max_new_tokens": 60, "ignore_eos": true}});
    let tasks: Vec<_> = (0..2)
        .map(|_| {
            let (url, body) = (format!("{base}/generate"), body.clone());
            tokio::spawn(async move { post(&url, &body).await })
        })
        .collect();
    // Until both requests have reached the engine (sooner or later on a busy machine), and
    // while the first still runs (60 steps of at least 2.25 ms).
    let mut text = String::new();
    let mut h = Default::default();
    for _ in 0..2000 {
        (_, h, text) = get(&format!("{base}/metrics")).await;
        let seen =
            metric(&text, "sglang:num_running_reqs") + metric(&text, "sglang:num_queue_reqs");
        if seen + metric(&text, "sglang:num_requests_total") >= 2.0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    assert!(
        h["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    assert_eq!(metric(&text, "sglang:num_running_reqs"), 1.0, "{text}");
    assert_eq!(metric(&text, "sglang:num_queue_reqs"), 1.0);
    assert!(text.contains("# TYPE sglang:generation_tokens_total counter"));
    for t in tasks {
        t.await.unwrap();
    }
    let (_, _, text) = get(&format!("{base}/metrics")).await;
    assert_eq!(metric(&text, "sglang:num_running_reqs"), 0.0);
    assert_eq!(metric(&text, "sglang:generation_tokens_total"), 120.0);
    assert_eq!(metric(&text, "sglang:num_requests_total"), 2.0);
    assert_eq!(metric(&text, "sglang:prompt_tokens_total"), 128.0);
    assert_eq!(
        metric(&text, "vllm:prefix_cache_hits_total"),
        63.0,
        "the second run hits the first's blocks"
    );
    s.stop().await;
}
