//! Warm connections: opened before the run, then every request of the run reuses one.

mod support;

use runner::engine::{self, warm};
use runner::scenario::{Backend, RequestOptions};
use runner::sim::{self, SimConfig};
use runner::workload::RequestSpec;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warmed_pool_serves_a_full_wave_without_new_connections() {
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
