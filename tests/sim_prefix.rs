//! The prefix cache: with equal lengths, requests sharing a long prefix get their first
//! token sooner than random ones while the cache is warm, and not after `/flush_cache`.

mod support;

use runner::engine;
use runner::scenario::{Backend, RequestOptions};
use runner::sim::{self, Preset, SimConfig, prompt_hash};
use runner::workload::RequestSpec;
use support::{percentile, post, prompts, target};

fn median(v: &[f64]) -> f64 {
    percentile(v, 50.0)
}

const LEN: usize = 1024;
const SHARED: usize = 960;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_prefixes_are_faster_while_the_cache_is_warm() {
    // Prefill at 0.05 ms a token: a cold 1024-token prompt costs about 51 ms more than
    // one whose 960-token prefix is cached, a margin no scheduling delay of a busy machine
    // comes near; medians, so one stalled request does not decide.
    let cfg = SimConfig {
        prefill_token_ms: Some(0.05),
        ..SimConfig::preset(Preset::Tiny)
    };
    let server = sim::start_local(cfg).await.unwrap();
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
    let warm = median(&ttfts(shared[1..].to_vec()).await);
    let cold = median(&ttfts(random).await);

    let flush = format!("{}/flush_cache", server.base_url());
    let mut flushed = Vec::new();
    let flushed_specs: Vec<RequestSpec> =
        prompts(10, LEN, SHARED, 3).into_iter().map(spec).collect();
    for s in &flushed_specs {
        assert_eq!(post(&flush, &serde_json::json!({})).await.0, 200);
        flushed.extend(ttfts(vec![s.clone()]).await);
    }
    let flushed = median(&flushed);

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
        "median TTFT over {LEN}-token prompts: shared {SHARED}-token prefix, warm cache {warm:.2} ms; \
         random {cold:.2} ms; shared prefix after /flush_cache {flushed:.2} ms"
    );
    server.stop().await;
    // What the server did, exactly: the warm prompts hit 60 whole blocks, the flushed none.
    assert_eq!(cached(&shared[5]), SHARED as u32, "60 whole blocks hit");
    assert!(
        flushed_specs.iter().all(|s| cached(s) == 0),
        "a flushed cache hits nothing"
    );
    // What the client saw: the prefill the cache saved (48 ms of the model's time), at
    // least half of it, whatever a busy machine adds to every request alike.
    let saved = SHARED as f64 * 0.05;
    assert!(
        warm < cold - saved / 2.0,
        "warm {warm:.2} vs random {cold:.2} ms"
    );
    assert!(
        flushed > warm + saved / 2.0,
        "after flush {flushed:.2} ms, warm {warm:.2} ms"
    );
}
