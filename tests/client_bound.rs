//! A run whose schedule the client cannot keep is marked client-bound; one it keeps is not.

mod support;

use runner::engine::{self, pace};
use runner::metrics::Collector;
use runner::scenario::{Backend, RequestOptions};
use runner::sim::{self, Preset, SimConfig};
use runner::tokenizer::Tokenizer;
use runner::workload::RequestSpec;

async fn judged(n: usize, rate: f64, cap: Option<u32>) -> (Option<String>, f64, f64) {
    runner::nofile::raise();
    let config = SimConfig {
        preset: Preset::Instant,
        ..SimConfig::default()
    };
    let server = sim::start_local(config).await.unwrap();
    let options = RequestOptions::default();
    let target = support::target_at(&server.base_url(), Backend::Vllm, options);
    let requests = vec![RequestSpec::text("the of", 2, 1); n];
    let offsets: Vec<f64> = (0..n).map(|i| i as f64 / rate).collect();
    let tok = Tokenizer::builtin();
    let mut c = Collector::new(Some(&tok), false);
    let ran = engine::execute_into(target, &requests, &offsets, cap, &mut c).await;
    let (mut s, _) = c.finish(ran.duration_s);
    pace::judge(&mut s, &ran.pace);
    server.stop().await;
    assert_eq!(s.completed, n);
    (
        s.client_bound_reason,
        s.dispatch_rate,
        s.target_dispatch_rate,
    )
}

// One test, so the two runs do not share the process's cores.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_far_above_the_clients_reach_is_marked_client_bound_a_slow_one_is_not() {
    let (why, _, target) = judged(30, 100.0, Some(32)).await;
    assert_eq!(why, None);
    assert!((target - 100.0).abs() < 1e-6);
    // Ten million requests per second, uncapped: far above any client's dispatch rate.
    // (Under a cap, due requests wait in a queue of indices that keeps up with any rate;
    // the cap, not the client, then holds them back.)
    let (why, achieved, target) = judged(2_000, 1e7, None).await;
    let why = why.expect("marked client-bound");
    assert!(why.contains("dispatch fell behind"), "{why}");
    assert!(achieved < target / 2.0, "{achieved} vs {target}");
}
