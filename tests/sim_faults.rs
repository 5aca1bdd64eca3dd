//! Each injected fault, reproduced by its seed, shows up in the real client's record as the
//! matching outcome kind.

mod support;

use std::time::Duration;

use runner::engine;
use runner::record::{Outcome, StreamProblem, TimeoutPhase};
use runner::scenario::{Backend, RequestOptions, Timeouts};
use runner::sim::{self, Fault, FaultKind, SimConfig};
use runner::workload::RequestSpec;
use serde_json::json;
use support::{post, prompts, target};

fn server_config(faults: Vec<Fault>, seed: u64) -> SimConfig {
    SimConfig {
        faults,
        seed,
        ..SimConfig::fixed(5.0, 1.0)
    }
}

/// Send `n` requests one after another (so request `i` is the server's request `i`);
/// returns their outcomes.
async fn send_one_by_one(
    server: &sim::Server,
    backend: Backend,
    options: RequestOptions,
    n: usize,
    pause_after: Option<(usize, Duration)>,
) -> Vec<Outcome> {
    let t = target(server, backend, options);
    let mut out = Vec::new();
    for (i, p) in prompts(n, 8, 0, 3).into_iter().enumerate() {
        let spec = RequestSpec::text(p, 8, 6);
        let done = engine::execute(t.clone(), &[spec], &[0.0], None).await;
        out.push(done.records[0].outcome.clone());
        if let Some((after, d)) = pause_after
            && after == i
        {
            tokio::time::sleep(d).await;
        }
    }
    out
}

fn rule(kind: FaultKind) -> Fault {
    Fault::on_requests(kind, &[1])
}

fn stream(problem: StreamProblem) -> Outcome {
    Outcome::Stream { problem }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_gives_the_matching_outcome_on_its_request() {
    let short_timeout = RequestOptions {
        timeouts: Timeouts {
            first_byte_s: 0.5,
            idle_s: 0.5,
            ..Timeouts::default()
        },
        ..RequestOptions::default()
    };
    let cases: Vec<(Fault, Backend, RequestOptions, Outcome)> = vec![
        (
            rule(FaultKind::Http),
            Backend::Vllm,
            RequestOptions::default(),
            Outcome::Http { status: 503 },
        ),
        (
            Fault {
                status: Some(429),
                ..rule(FaultKind::Http)
            },
            Backend::Sglang,
            RequestOptions::default(),
            Outcome::Http { status: 429 },
        ),
        (
            Fault {
                status: Some(500),
                ..rule(FaultKind::Http)
            },
            Backend::VllmChat,
            RequestOptions::default(),
            Outcome::Http { status: 500 },
        ),
        (
            rule(FaultKind::Reset),
            Backend::Vllm,
            RequestOptions::default(),
            Outcome::Transport,
        ),
        (
            rule(FaultKind::Disconnect),
            Backend::Sglang,
            RequestOptions::default(),
            stream(StreamProblem::Disconnect),
        ),
        (
            rule(FaultKind::Truncate),
            Backend::Vllm,
            RequestOptions::default(),
            stream(StreamProblem::EarlyClose),
        ),
        (
            Fault {
                seconds: Some(3.0),
                ..rule(FaultKind::Stall)
            },
            Backend::Vllm,
            short_timeout.clone(),
            Outcome::Timeout {
                phase: TimeoutPhase::Idle,
            },
        ),
        (
            rule(FaultKind::Malformed),
            Backend::Sglang,
            RequestOptions::default(),
            stream(StreamProblem::Malformed),
        ),
        (
            rule(FaultKind::InBandError),
            Backend::VllmChat,
            RequestOptions::default(),
            stream(StreamProblem::InBandError),
        ),
        (
            rule(FaultKind::NoOutput),
            Backend::Vllm,
            RequestOptions::default(),
            stream(StreamProblem::NoOutput),
        ),
        (
            Fault {
                seconds: Some(1.0),
                ..rule(FaultKind::SlowHeaders)
            },
            Backend::Vllm,
            short_timeout,
            Outcome::Timeout {
                phase: TimeoutPhase::FirstByte,
            },
        ),
    ];
    let runs = cases
        .into_iter()
        .map(|(fault, backend, options, want)| async move {
            let kind = fault.kind;
            let server = sim::start_local(server_config(vec![fault], 0))
                .await
                .unwrap();
            let got = send_one_by_one(&server, backend, options, 3, None).await;
            // A response the client gave up on is recorded once the server notices.
            let mut truth = server.truth();
            for _ in 0..300 {
                if truth.iter().any(|t| t.seq == 1) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
                truth = server.truth();
            }
            server.stop().await;
            (kind, want, got, truth)
        });
    for (kind, want, got, truth) in futures_util::future::join_all(runs).await {
        println!(
            "{kind:?}: client outcomes {:?}",
            got.iter().map(Outcome::kind).collect::<Vec<_>>()
        );
        assert_eq!(got[1], want, "{kind:?}");
        assert!(
            got[0].is_ok() && got[2].is_ok(),
            "{kind:?}: only request 1 fails: {got:?}"
        );
        let t1 = truth.iter().find(|t| t.seq == 1).unwrap();
        assert_eq!(t1.fault, Some(kind), "the server's record names the fault");
    }
}

#[tokio::test]
async fn http_faults_carry_retry_after() {
    let faults = vec![
        Fault {
            status: Some(429),
            retry_after_s: Some(7),
            ..Fault::on_requests(FaultKind::Http, &[0])
        },
        Fault::on_requests(FaultKind::Http, &[1]),
        Fault {
            status: Some(500),
            ..Fault::on_requests(FaultKind::Http, &[2])
        },
    ];
    let server = sim::start_local(server_config(faults, 0)).await.unwrap();
    let url = format!("{}/v1/completions", server.base_url());
    let body = json!({"prompt": "a", "max_tokens": 2});
    let mut got = Vec::new();
    for _ in 0..3 {
        let (status, headers, text) = post(&url, &body).await;
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["code"], status);
        got.push((
            status,
            headers
                .get("retry-after")
                .map(|h| h.to_str().unwrap().to_owned()),
        ));
    }
    assert_eq!(
        got,
        vec![
            (429, Some("7".into())),
            (503, Some("1".into())),
            (500, None)
        ]
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuse_takes_the_port_down_then_comes_back() {
    let fault = Fault {
        seconds: Some(0.6),
        ..Fault::on_requests(FaultKind::Refuse, &[1])
    };
    let server = sim::start_local(server_config(vec![fault], 0))
        .await
        .unwrap();
    // Request 1's connection is reset; request 2 (50 ms later) finds the port closed;
    // request 3 (after the downtime) is served again on the same port.
    let t = target(&server, Backend::Vllm, RequestOptions::default());
    let mut got = Vec::new();
    for (i, p) in prompts(4, 8, 0, 5).into_iter().enumerate() {
        let done = engine::execute(t.clone(), &[RequestSpec::text(p, 8, 4)], &[0.0], None).await;
        got.push(done.records[0].outcome.clone());
        let pause = match i {
            1 => 50,
            2 => 800,
            _ => 0,
        };
        tokio::time::sleep(Duration::from_millis(pause)).await;
    }
    println!(
        "refuse: {:?}",
        got.iter().map(Outcome::kind).collect::<Vec<_>>()
    );
    assert_eq!(
        got,
        vec![
            Outcome::Ok,
            Outcome::Transport,
            Outcome::Connect,
            Outcome::Ok
        ]
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_delay_the_first_token_only() {
    let fault = Fault {
        seconds: Some(0.3),
        ..rule(FaultKind::SlowHeaders)
    };
    let server = sim::start_local(server_config(vec![fault], 0))
        .await
        .unwrap();
    let t = target(&server, Backend::Vllm, RequestOptions::default());
    let mut ttfts = Vec::new();
    for p in prompts(3, 8, 0, 9) {
        let done = engine::execute(t.clone(), &[RequestSpec::text(p, 8, 4)], &[0.0], None).await;
        assert!(done.records[0].outcome.is_ok());
        ttfts.push(done.records[0].ttft_s().unwrap());
    }
    println!("slow_headers TTFTs (s): {ttfts:?}");
    assert!(ttfts[1] >= 0.3 && ttfts[1] < 0.4, "{ttfts:?}");
    assert!(ttfts[0] < 0.05 && ttfts[2] < 0.05, "{ttfts:?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probabilistic_faults_are_reproduced_by_their_seed() {
    let faults = vec![Fault {
        status: Some(500),
        probability: 0.3,
        ..Fault::on_requests(FaultKind::Http, &[])
    }];
    let run = |seed| {
        let faults = faults.clone();
        async move {
            let server = sim::start_local(server_config(faults, seed)).await.unwrap();
            let got = send_one_by_one(
                &server,
                Backend::Sglang,
                RequestOptions::default(),
                20,
                None,
            )
            .await;
            let mut truth: Vec<u64> = server
                .truth()
                .iter()
                .filter(|t| t.fault.is_some())
                .map(|t| t.seq)
                .collect();
            truth.sort_unstable();
            server.stop().await;
            let failed: Vec<u64> = got
                .iter()
                .enumerate()
                .filter(|(_, o)| **o == Outcome::Http { status: 500 })
                .map(|(i, _)| i as u64)
                .collect();
            assert!(
                got.iter()
                    .all(|o| o.is_ok() || *o == Outcome::Http { status: 500 })
            );
            assert_eq!(
                failed, truth,
                "client failures are the server's faulted requests"
            );
            failed
        }
    };
    let a = run(7).await;
    println!("seed 7: requests {a:?} got HTTP 500");
    assert_eq!(a, run(7).await, "same seed, same requests");
    assert_ne!(a, run(8).await, "another seed, other requests");
    assert!((2..=12).contains(&a.len()), "{a:?}");
}
