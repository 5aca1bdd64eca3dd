//! Every endpoint of the embedded server answers in the shape of its real counterpart.

mod sim_support;

use runner::sim::{self, EMBEDDING_DIM, Preset, SimConfig};
use serde_json::{Value, json};
use sim_support::{events, get, json_events, post};

fn tiny() -> SimConfig {
    SimConfig::preset(Preset::Tiny)
}

#[tokio::test]
async fn sglang_generate_streams_cumulative_text_and_meta_info() {
    let cfg = SimConfig {
        spec_accept_length: Some(2.0),
        ..tiny()
    };
    let s = sim::start_local(cfg).await.unwrap();
    let body = json!({"text": "the of and to", "sampling_params": {"max_new_tokens": 9,
        "ignore_eos": true, "temperature": 0.0}, "stream": true});
    let (status, headers, text) = post(&format!("{}/generate", s.base_url()), &body).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/event-stream");
    let ev = json_events(&text);
    let mut prev_text = String::new();
    let mut prev_n = 0;
    for (i, e) in ev.iter().enumerate() {
        let t = e["text"].as_str().unwrap();
        assert!(
            t.starts_with(&prev_text) && t.len() > prev_text.len(),
            "cumulative: {e}"
        );
        let m = &e["meta_info"];
        let n = m["completion_tokens"].as_u64().unwrap();
        assert!(n > prev_n);
        assert_eq!(e["output_ids"].as_array().unwrap().len() as u64, n);
        assert_eq!(m["prompt_tokens"], 4);
        assert_eq!(m["cached_tokens"], 0);
        assert!(m["id"].is_string());
        let last = i + 1 == ev.len();
        assert_eq!(m["finish_reason"].is_null(), !last, "{e}");
        (prev_text, prev_n) = (t.to_owned(), n);
    }
    let m = &ev.last().unwrap()["meta_info"];
    assert_eq!(m["finish_reason"], json!({"type": "length", "length": 9}));
    assert_eq!(m["completion_tokens"], 9);
    assert!(m["e2e_latency"].as_f64().unwrap() > 0.0);
    let verify = m["spec_verify_ct"].as_u64().unwrap();
    assert_eq!(
        m["spec_accept_length"].as_f64().unwrap(),
        9.0 / verify as f64
    );
    assert!(ev.len() < 9, "speculative frames carry several tokens");

    // Token ids and images count as prompt tokens; non-streamed answers are one JSON body.
    let body = json!({"input_ids": [5, 6, 7], "image_data": ["data:image/png;base64,AA"],
        "sampling_params": {"max_new_tokens": 3, "ignore_eos": true}});
    let (status, _, text) = post(&format!("{}/generate", s.base_url()), &body).await;
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["meta_info"]["prompt_tokens"], 3 + 256);
    assert_eq!(v["meta_info"]["completion_tokens"], 3);
    assert_eq!(v["text"].as_str().unwrap().split_whitespace().count(), 3);
    s.stop().await;
}

#[tokio::test]
async fn openai_completions_stream_usage_and_whole() {
    let s = sim::start_local(SimConfig::fixed(1.0, 1.0)).await.unwrap();
    let url = format!("{}/v1/completions", s.base_url());
    let body = json!({"model": "runner-sim", "prompt": "a b c", "max_tokens": 4, "stream": true,
        "stream_options": {"include_usage": true}, "ignore_eos": true});
    let (_, _, text) = post(&url, &body).await;
    let ev = json_events(&text);
    assert_eq!(ev.len(), 5, "4 token chunks and a usage chunk: {text}");
    for (i, e) in ev[..4].iter().enumerate() {
        assert_eq!(e["object"], "text_completion");
        assert_eq!(e["model"], "runner-sim");
        assert!(e["id"].as_str().unwrap().starts_with("cmpl-"));
        let c = &e["choices"][0];
        assert_eq!(c["text"].as_str().unwrap().split_whitespace().count(), 1);
        assert_eq!(
            c["finish_reason"],
            if i == 3 { json!("length") } else { Value::Null }
        );
    }
    assert_eq!(ev[4]["choices"], json!([]));
    assert_eq!(
        ev[4]["usage"],
        json!({"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7,
            "prompt_tokens_details": {"cached_tokens": 0}})
    );
    // Without include_usage there is no usage chunk.
    let body = json!({"prompt": "a b c", "max_tokens": 2, "stream": true, "ignore_eos": true});
    let (_, _, text) = post(&url, &body).await;
    assert!(json_events(&text).iter().all(|e| e.get("usage").is_none()));
    // Not streamed: one object with the text and usage.
    let body = json!({"prompt": [1, 2], "max_tokens": 3, "ignore_eos": true});
    let (_, h, text) = post(&url, &body).await;
    assert_eq!(h["content-type"], "application/json");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["object"], "text_completion");
    assert_eq!(v["choices"][0]["finish_reason"], "length");
    assert_eq!(v["usage"]["prompt_tokens"], 2);
    assert_eq!(v["usage"]["completion_tokens"], 3);
    s.stop().await;
}

#[tokio::test]
async fn openai_chat_stream_starts_with_the_role_and_whole_has_a_message() {
    let s = sim::start_local(SimConfig::fixed(1.0, 1.0)).await.unwrap();
    let url = format!("{}/v1/chat/completions", s.base_url());
    let body = json!({"model": "m", "messages": [{"role": "user", "content": "hi there"}],
        "max_completion_tokens": 3, "stream": true, "stream_options": {"include_usage": true},
        "ignore_eos": true});
    let (_, _, text) = post(&url, &body).await;
    let ev = json_events(&text);
    assert_eq!(
        ev[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": ""})
    );
    let deltas: Vec<&Value> = ev[1..4].iter().map(|e| &e["choices"][0]).collect();
    for d in &deltas {
        assert!(d["delta"]["content"].as_str().unwrap().starts_with(' '));
    }
    assert_eq!(deltas[2]["finish_reason"], "length");
    assert!(ev.iter().all(|e| e["object"] == "chat.completion.chunk"));
    assert!(ev[0]["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert_eq!(ev[4]["usage"]["completion_tokens"], 3);
    assert_eq!(ev[4]["usage"]["prompt_tokens"], 2);
    let body = json!({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 2,
        "ignore_eos": true});
    let (_, _, text) = post(&url, &body).await;
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["choices"][0]["message"]["role"], "assistant");
    assert_eq!(
        v["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .split_whitespace()
            .count(),
        2
    );
    s.stop().await;
}

#[tokio::test]
async fn embeddings_are_unit_vectors_per_input() {
    let s = sim::start_local(tiny()).await.unwrap();
    let url = format!("{}/v1/embeddings", s.base_url());
    let (status, _, text) = post(&url, &json!({"model": "m", "input": ["a b c", "d"]})).await;
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["object"], "list");
    assert_eq!(v["usage"]["prompt_tokens"], 4);
    assert_eq!(v["usage"]["total_tokens"], 4);
    let data = v["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    for (i, d) in data.iter().enumerate() {
        assert_eq!(
            (d["index"].as_u64(), d["object"].as_str()),
            (Some(i as u64), Some("embedding"))
        );
        let e: Vec<f64> = serde_json::from_value(d["embedding"].clone()).unwrap();
        assert_eq!(e.len(), EMBEDDING_DIM);
        let norm: f64 = e.iter().map(|x| x * x).sum::<f64>().sqrt();
        assert!((norm - 1.0).abs() < 1e-9);
    }
    let (_, _, again) = post(&url, &json!({"input": "a b c"})).await;
    let again: Value = serde_json::from_str(&again).unwrap();
    assert_eq!(again["data"][0]["embedding"], data[0]["embedding"]);
    s.stop().await;
}

#[tokio::test]
async fn tensorrt_llm_generate_stream_sends_one_event_per_token_without_done() {
    let s = sim::start_local(SimConfig::fixed(1.0, 1.0)).await.unwrap();
    let body = json!({"accumulate_tokens": true, "text_input": "a b", "temperature": 0.000001,
        "top_p": 1.0, "max_tokens": 5, "stream": true, "min_length": 5, "end_id": 1048576});
    let (status, _, text) = post(
        &format!("{}/v2/models/ensemble/generate_stream", s.base_url()),
        &body,
    )
    .await;
    assert_eq!(status, 200);
    let ev = events(&text);
    assert_eq!(ev.len(), 5, "{text}");
    for e in &ev {
        let v: Value = serde_json::from_str(e).unwrap();
        assert_eq!(v["model_name"], "ensemble");
        assert_eq!(
            v["text_output"]
                .as_str()
                .unwrap()
                .split_whitespace()
                .count(),
            1
        );
        assert!(v.get("sequence_id").is_some());
    }
    s.stop().await;
}

#[tokio::test]
async fn truss_predict_streams_completion_chunks() {
    let s = sim::start_local(SimConfig::fixed(1.0, 1.0)).await.unwrap();
    let body = json!({"model": "m", "prompt": "a b", "temperature": 0.0, "best_of": 1,
        "max_tokens": 3, "stream": true, "ignore_eos": true});
    let (_, _, text) = post(&format!("{}/v1/models/model:predict", s.base_url()), &body).await;
    let ev = json_events(&text);
    assert_eq!(ev.len(), 3);
    assert!(ev.iter().all(|e| e["choices"][0]["text"].is_string()));
    s.stop().await;
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
    let prompt = sim_support::prompts(1, 64, 0, 1).remove(0);
    let body =
        json!({"text": prompt, "sampling_params": {"max_new_tokens": 60, "ignore_eos": true}});
    let tasks: Vec<_> = (0..2)
        .map(|_| {
            let (url, body) = (format!("{base}/generate"), body.clone());
            tokio::spawn(async move { post(&url, &body).await })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(40)).await;
    let (_, h, text) = get(&format!("{base}/metrics")).await;
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

#[tokio::test]
async fn errors_have_the_openai_error_shape() {
    let s = sim::start_local(tiny()).await.unwrap();
    let url = format!("{}/v1/completions", s.base_url());
    let (status, _, text) = post(&url, &json!({"prompt": "a", "max_tokens": 9000})).await;
    assert_eq!(status, 400);
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["object"], "error");
    assert_eq!(v["code"], 400);
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("maximum context length is 8192")
    );
    let r = reqwest::Client::new()
        .post(&url)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    s.stop().await;
}

#[tokio::test]
async fn eos_stops_early_at_seeded_places_unless_ignored() {
    let run = |seed: u64| async move {
        let cfg = SimConfig {
            eos_probability: Some(0.1),
            seed,
            ..SimConfig::fixed(0.0, 0.0)
        };
        let s = sim::start_local(cfg).await.unwrap();
        let mut lens = Vec::new();
        for ignore in [false, false, false, false, true] {
            let body = json!({"prompt": "a", "max_tokens": 100, "ignore_eos": ignore});
            let (_, _, text) = post(&format!("{}/v1/completions", s.base_url()), &body).await;
            let v: Value = serde_json::from_str(&text).unwrap();
            lens.push((
                v["usage"]["completion_tokens"].as_u64().unwrap(),
                v["choices"][0]["finish_reason"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            ));
        }
        s.stop().await;
        lens
    };
    let a = run(1).await;
    assert_eq!(a, run(1).await, "same seed, same lengths");
    assert_ne!(a, run(2).await);
    assert!(
        a[..4].iter().any(|(n, why)| *n < 100 && why == "stop"),
        "{a:?}"
    );
    assert_eq!(a[4], (100, "length".to_owned()));
}
