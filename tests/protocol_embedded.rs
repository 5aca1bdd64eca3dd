//! Every backend the embedded server speaks, end to end through the engine, streaming and
//! not; token-id prompts; multi-turn replay with the server's real replies.

mod support;

use runner::engine;
use runner::metrics;
use runner::record::RequestRecord;
use runner::scenario::{Backend, ConnectionMode, RequestOptions};
use runner::sim::{self, SimConfig};
use runner::tokenizer::Tokenizer;
use runner::workload::{Prompt, RequestSpec};

async fn run(
    base: &str,
    backend: Backend,
    options: RequestOptions,
    requests: &[RequestSpec],
) -> Vec<RequestRecord> {
    let target = support::target_at(base, backend, options);
    let offsets = vec![0.0; requests.len()];
    let mut done = engine::execute(target, requests, &offsets, Some(2)).await;
    metrics::count_tokens(&mut done.records, &Tokenizer::builtin());
    done.records
}

fn fast() -> SimConfig {
    SimConfig {
        ttft_ms: Some(5.0),
        itl_ms: Some(1.0),
        ..SimConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_embedded_backend_streaming_and_not() {
    let server = sim::start_local(fast()).await.unwrap();
    let base = server.base_url();
    let requests = vec![RequestSpec::text("the of and to", 4, 6); 4];
    use Backend::*;
    for backend in [
        Sglang,
        SglangNative,
        SglangOai,
        Vllm,
        Lmdeploy,
        SglangOaiChat,
        VllmChat,
        LmdeployChat,
    ] {
        for stream in [true, false] {
            let options = RequestOptions {
                stream,
                ..RequestOptions::default()
            };
            let recs = run(&base, backend, options, &requests).await;
            let what = format!("{} stream={stream}", backend.as_str());
            assert_eq!(recs.len(), 4, "{what}");
            for r in &recs {
                assert!(r.outcome.is_ok(), "{what}: {:?} {:?}", r.outcome, r.error);
                assert_eq!(r.reported_output_len, Some(6), "{what}");
                assert_eq!(r.retokenized_output_len, Some(6), "{what}: {:?}", r.text);
                assert_eq!(r.chunks, if stream { 6 } else { 1 }, "{what}");
                assert_eq!(r.itl_s.len(), if stream { 5 } else { 0 }, "{what}");
                assert!(r.first_token_s.unwrap() >= r.sent_s, "{what}");
            }
        }
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_id_prompts_reach_native_and_completions() {
    let server = sim::start_local(fast()).await.unwrap();
    let spec = RequestSpec {
        prompt: Prompt::Ids(vec![5, 6, 7, 8, 9]),
        prompt_len: 5,
        output_len: 3,
        ..RequestSpec::default()
    };
    for backend in [Backend::Sglang, Backend::Vllm] {
        let recs = run(
            &server.base_url(),
            backend,
            RequestOptions::default(),
            std::slice::from_ref(&spec),
        )
        .await;
        assert!(recs[0].outcome.is_ok(), "{:?}", recs[0].error);
        assert_eq!(recs[0].reported_prompt_len, Some(5), "{}", backend.as_str());
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_turn_conversations_replay_with_real_replies() {
    let server = sim::start_local(fast()).await.unwrap();
    let conv = RequestSpec {
        prompt: Prompt::Turns(vec!["the of".into(), "and to".into(), "in is".into()]),
        prompt_len: 2,
        output_len: 4,
        ..RequestSpec::default()
    };
    // Usage is asked for on every turn even when the scenario turns it off.
    let options = RequestOptions {
        include_usage: false,
        ..RequestOptions::default()
    };
    let recs = run(
        &server.base_url(),
        Backend::VllmChat,
        options,
        &[conv.clone(), conv],
    )
    .await;
    assert_eq!(recs.len(), 6);
    for (k, r) in recs.iter().enumerate() {
        assert!(r.outcome.is_ok(), "{:?}", r.error);
        assert_eq!((r.request, r.turn), (k / 3, Some((k % 3) as u32)));
        assert_eq!(r.reported_output_len, Some(4));
    }
    // The server counts the history: 2 user tokens, then + 4 reply + 2 user, …
    let prompts: Vec<Option<u32>> = recs[..3].iter().map(|r| r.reported_prompt_len).collect();
    assert_eq!(prompts, [Some(2), Some(8), Some(14)]);
    assert_eq!(recs[1].prompt_len, 8);
    // Later turns are due when the previous reply ended.
    assert_eq!(recs[1].intended_s, recs[0].end_s);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trt_truss_and_embeddings_against_the_embedded_server() {
    let server = sim::start_local(fast()).await.unwrap();
    let base = server.base_url();
    let requests = vec![RequestSpec::text("the of and to", 4, 6); 3];
    // TensorRT-LLM and Truss: bench_serving assumes the requested length (no usage in
    // these APIs); the chunks are the tokens the embedded server wrote.
    for (backend, stream) in [
        (Backend::Trt, true),
        (Backend::Truss, true),
        (Backend::Truss, false),
    ] {
        let options = RequestOptions {
            stream,
            ..RequestOptions::default()
        };
        let recs = run(&base, backend, options, &requests).await;
        let what = format!("{} stream={stream}", backend.as_str());
        assert_eq!(recs.len(), 3, "{what}");
        for r in &recs {
            assert!(r.outcome.is_ok(), "{what}: {:?} {:?}", r.outcome, r.error);
            assert_eq!(r.output_len(), 6, "{what}");
            assert_eq!(r.retokenized_output_len, Some(6), "{what}: {:?}", r.text);
            assert_eq!(r.chunks, if stream { 6 } else { 1 }, "{what}");
            assert_eq!(r.itl_s.len(), if stream { 5 } else { 0 }, "{what}");
        }
    }
    for backend in [Backend::SglangEmbedding, Backend::VllmEmbedding] {
        let recs = run(&base, backend, RequestOptions::default(), &requests).await;
        for r in &recs {
            assert!(r.outcome.is_ok(), "{}: {:?}", backend.as_str(), r.error);
            assert_eq!(r.output_len(), 0, "embeddings generate nothing");
            assert!(r.end_s >= r.sent_s);
        }
    }
    let truth = server.truth();
    let endpoints: std::collections::BTreeSet<&str> = truth.iter().map(|t| t.endpoint).collect();
    println!("endpoints reached: {endpoints:?}");
    assert!(endpoints.len() >= 3, "{endpoints:?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn early_stops_are_reported_with_their_true_length() {
    // The embedded server stops at a seeded EOS when ignore_eos is false.
    let server = sim::start_local(SimConfig {
        eos_probability: Some(0.3),
        ..fast()
    })
    .await
    .unwrap();
    let requests = vec![RequestSpec::text("the of and to", 4, 40); 20];
    let options = RequestOptions {
        ignore_eos: false,
        ..RequestOptions::default()
    };
    let recs = run(&server.base_url(), Backend::Vllm, options, &requests).await;
    let mut written: Vec<u32> = server
        .truth()
        .iter()
        .map(|t| t.token_times.len() as u32)
        .collect();
    let mut reported: Vec<u32> = Vec::new();
    for r in &recs {
        assert!(r.outcome.is_ok(), "{:?}", r.error);
        let n = r.reported_output_len.expect("usage is asked for");
        assert_eq!(r.chunks, n, "one chunk per token");
        assert_eq!(r.retokenized_output_len, Some(n));
        assert_eq!(r.output_len(), n, "metrics use the measured length");
        reported.push(n);
    }
    written.sort_unstable();
    reported.sort_unstable();
    assert_eq!(reported, written, "the lengths the server wrote");
    let early = reported.iter().filter(|&&n| n < 40).count();
    println!("{early} of 20 requests stopped early; lengths {reported:?}");
    assert!(
        early >= 15,
        "with p=0.3 per token nearly every request stops early"
    );
    // TPOT divides by the true length minus one, not by the requested 40 minus one.
    let s = metrics::summarize(&recs, 1.0, &Tokenizer::builtin());
    let tpots: Vec<f64> = recs
        .iter()
        .filter(|r| r.output_len() > 1)
        .map(|r| (r.latency_s() - r.ttft_s().unwrap()) / f64::from(r.output_len() - 1) * 1e3)
        .collect();
    let mean = tpots.iter().sum::<f64>() / tpots.len() as f64;
    assert!(
        (s.tpot_ms.mean - mean).abs() < 1e-9,
        "{} vs {mean}",
        s.tpot_ms.mean
    );
    println!("mean TPOT {mean:.3} ms (server: 1 ms per token)");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agentic_message_turns_replay_with_real_replies() {
    let server = sim::start_local(fast()).await.unwrap();
    let conv = RequestSpec {
        prompt: Prompt::MessageTurns(vec![
            vec![
                serde_json::json!({"role": "system", "content": "the of"}),
                serde_json::json!({"role": "user", "content": "and to"}),
            ],
            vec![serde_json::json!({"role": "user", "content": "in is"})],
        ]),
        prompt_len: 4,
        output_len: 3,
        ..RequestSpec::default()
    };
    let recs = run(
        &server.base_url(),
        Backend::SglangOaiChat,
        RequestOptions::default(),
        &[conv],
    )
    .await;
    assert_eq!(recs.len(), 2);
    assert!(recs.iter().all(|r| r.outcome.is_ok()));
    let tok = Tokenizer::builtin();
    let first = (tok.count("the of") + tok.count("and to")) as u32;
    assert_eq!(recs[0].reported_prompt_len, Some(first));
    // Turn 2 carries turn 1's messages, the real 3-token reply, and its own message.
    assert_eq!(
        recs[1].reported_prompt_len,
        Some(first + tok.count(&recs[0].text) as u32 + tok.count("in is") as u32)
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_request_connections_open_one_connection_per_request() {
    let requests = vec![RequestSpec::text("the of and to", 4, 3); 10];
    for (mode, most) in [
        (ConnectionMode::Pooled, 2),
        (ConnectionMode::PerRequest, 10),
    ] {
        let server = sim::start_local(fast()).await.unwrap();
        let options = RequestOptions {
            connection: mode,
            ..RequestOptions::default()
        };
        // One at a time, so a pool needs no second connection.
        let target = support::target_at(&server.base_url(), Backend::Vllm, options);
        for r in &requests {
            let done = engine::execute(target.clone(), std::slice::from_ref(r), &[0.0], None).await;
            assert!(done.records[0].outcome.is_ok());
        }
        let accepted = server.connections_accepted();
        println!("{mode:?}: 10 requests over {accepted} connections");
        if mode == ConnectionMode::PerRequest {
            assert_eq!(accepted, most);
        } else {
            assert!(accepted <= most, "{accepted}");
        }
        server.stop().await;
    }
}
