//! The generation endpoints of the embedded server answer in the shape of their real
//! counterparts: SGLang, OpenAI completions, chat and embeddings, TensorRT-LLM, Truss.

mod support;

use runner::sim::{self, EMBEDDING_DIM, Preset, SimConfig};
use serde_json::{Value, json};
use support::{events, json_events, post};

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
    let hi_there = runner::tokenizer::Tokenizer::builtin().count("hi there");
    assert_eq!(ev[4]["usage"]["prompt_tokens"], hi_there);
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

#[tokio::test]
async fn instant_writes_as_fast_as_the_connection_takes() {
    let s = sim::start_local(SimConfig::preset(Preset::Instant))
        .await
        .unwrap();
    let body = json!({"prompt": "a", "max_tokens": 2000, "stream": true, "ignore_eos": true});
    let t0 = std::time::Instant::now();
    let (_, _, text) = post(&format!("{}/v1/completions", s.base_url()), &body).await;
    let took = t0.elapsed();
    assert_eq!(json_events(&text).len(), 2000);
    // The default fixed timing would take 20 s for 2000 tokens.
    assert!(took < std::time::Duration::from_secs(2), "{took:?}");
    s.stop().await;
}
