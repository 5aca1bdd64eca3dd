//! The engine under a run control: Ctrl-C stops dispatching, requests in flight get the grace
//! period and are then cancelled (recorded as `cancelled`).

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use runner::engine::{self, Control, StopReason, StopRules};
use runner::record::Outcome;
use runner::scenario::{Backend, RequestOptions};
use runner::sim::{self, SimConfig};
use runner::workload::RequestSpec;
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupt_stops_dispatch_then_cancels_after_the_grace_period() {
    // 40 tokens 100 ms apart: each request takes about 4 s.
    let server = sim::start_local(SimConfig {
        ttft_ms: Some(50.0),
        itl_ms: Some(100.0),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let options = RequestOptions::default();
    let target = support::target_at(&server.base_url(), Backend::Vllm, options);
    let requests = vec![RequestSpec::text("the of and to", 4, 40); 6];
    let interrupt = CancellationToken::new();
    let mut control = Control::new(StopRules::default(), &interrupt);
    control.grace = Duration::from_millis(300);
    let control = Arc::new(control);
    let due = [0.0, 0.1, 0.2, 1.0, 2.0, 3.0];
    let t = Instant::now();
    let ctrl_c = interrupt.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(400)).await;
        ctrl_c.cancel();
    });
    let done = engine::execute_controlled(target, &requests, due.into_iter(), None, &control).await;
    let took = t.elapsed();
    // Three were due before Ctrl-C at 0.4 s; none after. They are cancelled at 0.7 s.
    assert_eq!(done.records.len(), 3);
    assert!(
        done.records.iter().all(|r| r.outcome == Outcome::Cancelled),
        "{:?}",
        done.records.iter().map(|r| &r.outcome).collect::<Vec<_>>()
    );
    assert!(took < Duration::from_millis(1500), "{took:?}");
    assert!(took >= Duration::from_millis(650), "{took:?}");
    assert_eq!(control.reason(), Some(StopReason::Interrupted));
    let s = control.counters.snapshot();
    assert_eq!((s.dispatched, s.failed, s.in_flight), (3, 3, 0));
    server.stop().await;
}
