//! Warm connections: opened before the run, then every request of the run reuses one.

mod support;

use runner::engine::{self, warm};
use runner::scenario::{Backend, RequestOptions};
use runner::sim::{self, SimConfig};
use runner::workload::RequestSpec;

/// Warm-up counts the connections this process opens, so the tests here take turns.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warmed_pool_serves_a_full_wave_without_new_connections() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let config = SimConfig {
        ttft_ms: Some(20.0),
        itl_ms: Some(2.0),
        ..SimConfig::default()
    };
    let server = sim::start_local(config).await.unwrap();
    let options = RequestOptions::default();
    let target = support::target_at(&server.base_url(), Backend::Vllm, options);
    let n = 300;
    let requests = vec![RequestSpec::text("the of and to", 4, 4); n];
    // Cold: the first wave opens its connections inside the measured requests.
    let cold = engine::execute(target.clone(), &requests[..10], &[0.0; 10], None).await;
    assert!(cold.records.iter().all(|r| r.connect_s.is_some()));
    let opened = warm::before_run(&target, Some(n as u32), f64::INFINITY, n).await;
    let accepted = server.connections_accepted();
    assert!(opened >= n - 10, "warm-up opened {opened}");
    assert!(accepted >= n as u64, "server accepted {accepted}");
    let done = engine::execute(target, &requests, &vec![0.0; n], Some(n as u32)).await;
    assert!(done.records.iter().all(|r| r.outcome.is_ok()));
    // the whole wave ran on warm connections
    let fresh = done
        .records
        .iter()
        .filter(|r| r.connect_s.is_some())
        .count();
    assert_eq!((fresh, server.connections_accepted()), (0, accepted));
    server.stop().await;
}

/// 1,000 connections against a server that answers `/health` at once: the warm-up's first
/// answers must not free connections for its own later requests, or the pool ends up with
/// fewer than asked and the first wave opens the rest inside its TTFT. The client runs on
/// one thread, as on a busy client core (the server has its own runtime).
#[tokio::test(flavor = "current_thread")]
async fn warm_up_opens_every_connection_even_when_answers_come_back_at_once() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let server = sim::start_local(SimConfig::fixed(20.0, 2.0)).await.unwrap();
    let target = support::target_at(&server.base_url(), Backend::Vllm, RequestOptions::default());
    let n = 1000;
    let opened = warm::before_run(&target, Some(n as u32), f64::INFINITY, n).await;
    assert_eq!(opened, n, "warm-up opened {opened} of {n}");
    let requests = vec![RequestSpec::text("the of and to", 4, 2); n];
    let done = engine::execute(target, &requests, &vec![0.0; n], Some(n as u32)).await;
    assert!(done.records.iter().all(|r| r.outcome.is_ok()));
    let fresh = done
        .records
        .iter()
        .filter(|r| r.connect_s.is_some())
        .count();
    assert_eq!(
        fresh, 0,
        "{fresh} requests of the first wave opened a connection"
    );
    server.stop().await;
}
