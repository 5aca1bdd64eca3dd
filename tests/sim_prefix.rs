//! The prefix cache: with equal lengths, requests sharing a long prefix get their first
//! token sooner than random ones while the cache is warm, and not after `/flush_cache`.

mod support;

use runner::engine;
use runner::scenario::{Backend, RequestOptions};
use runner::sim::{self, Preset, SimConfig, prompt_hash};
use runner::workload::RequestSpec;
use support::{mean, post, prompts, target};

const LEN: usize = 1024;
const SHARED: usize = 960;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_prefixes_are_faster_while_the_cache_is_warm() {
    let server = sim::start_local(SimConfig::preset(Preset::Tiny))
        .await
        .unwrap();
    let t = target(&server, Backend::Sglang, RequestOptions::default());
    let spec = |p: String| RequestSpec::text(p, LEN as u32, 4);
    // One at a time, so TTFT is prefill, not queueing.
    let ttfts = |specs: Vec<RequestSpec>| {
        let t = t.clone();
        async move {
            let n = specs.len();
            let done = engine::execute(t, &specs, &vec![0.0; n], Some(1)).await;
            assert!(done.records.iter().all(|r| r.outcome.is_ok()));
            done.records
                .iter()
                .map(|r| r.ttft_s().unwrap() * 1e3)
                .collect::<Vec<f64>>()
        }
    };
    let shared: Vec<RequestSpec> = prompts(21, LEN, SHARED, 1).into_iter().map(spec).collect();
    let random: Vec<RequestSpec> = prompts(20, LEN, 0, 2).into_iter().map(spec).collect();

    ttfts(shared[..1].to_vec()).await; // warms the cache
    let warm = mean(&ttfts(shared[1..].to_vec()).await);
    let cold = mean(&ttfts(random).await);

    let flush = format!("{}/flush_cache", server.base_url());
    let mut flushed = Vec::new();
    for s in prompts(10, LEN, SHARED, 3).into_iter().map(spec) {
        assert_eq!(post(&flush, &serde_json::json!({})).await.0, 200);
        flushed.extend(ttfts(vec![s]).await);
    }
    let flushed = mean(&flushed);

    let truth = server.truth();
    let cached = |p: &RequestSpec| {
        let h = prompt_hash(p.prompt.as_text().unwrap());
        truth
            .iter()
            .find(|t| t.prompt_hash == h)
            .unwrap()
            .cached_tokens
    };
    println!(
        "mean TTFT over {LEN}-token prompts: shared {SHARED}-token prefix, warm cache {warm:.2} ms; \
         random {cold:.2} ms; shared prefix after /flush_cache {flushed:.2} ms"
    );
    server.stop().await;
    assert_eq!(cached(&shared[5]), SHARED as u32, "60 whole blocks hit");
    assert!(warm < 0.5 * cold, "warm {warm:.2} vs random {cold:.2} ms");
    assert!(
        flushed > 0.8 * cold && flushed > 2.0 * warm,
        "after flush {flushed:.2} ms"
    );
}
