//! Client timing against the embedded server's configured TTFT and ITL, and against the
//! server's own record of when it wrote each token.

mod support;

use runner::engine;
use runner::scenario::{Backend, RequestOptions};
use runner::sim::{self, SimConfig};
use runner::workload::RequestSpec;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ttft_and_itl_match_the_embedded_server_at_concurrency_100() {
    let cfg = SimConfig::fixed(50.0, 10.0);
    let server = sim::start_local(cfg).await.unwrap();
    let options = RequestOptions::default();
    let target = support::target_at(&server.base_url(), Backend::Vllm, options);
    let spec = RequestSpec::text("the of and to", 4, 20);
    let requests = vec![spec; 200];
    engine::warmup(target.clone(), &requests[0], 100, Some(100))
        .await
        .unwrap();
    let done = engine::execute(target, &requests, &vec![0.0; 200], Some(100)).await;
    assert!(
        done.records.iter().all(|r| r.outcome.is_ok()),
        "{:?}",
        done.records[0].error
    );
    let ttfts: Vec<f64> = done
        .records
        .iter()
        .map(|r| r.ttft_s().unwrap() * 1e3)
        .collect();
    let itls: Vec<f64> = done
        .records
        .iter()
        .flat_map(|r| r.itl_s.iter().map(|v| v * 1e3))
        .collect();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (ttft, itl) = (mean(&ttfts), mean(&itls));
    println!(
        "200 requests, concurrency 100: mean TTFT {ttft:.3} ms (configured 50), mean ITL {itl:.4} ms (configured 10), {} ITL samples",
        itls.len()
    );
    let truth = server.truth();
    let t = |i: tokio::time::Instant| (i - done.start).as_secs_f64() * 1e3;
    let measured: Vec<_> = truth.iter().filter(|r| r.arrival >= done.start).collect();
    let median = |v: Vec<f64>| support::percentile(&v, 50.0);
    // A request arrives when the kernel receives it; how long the server then takes to read
    // it is server time.
    let arrived = |r: &runner::sim::Truth| r.received.unwrap_or(r.arrival);
    let unstamped = measured.iter().filter(|r| r.received.is_none()).count();
    let server_ttft = median(
        measured
            .iter()
            .map(|r| t(r.token_times[0]) - t(arrived(r)))
            .collect(),
    );
    // What the server wrote, gap by gap (its timers run late when the machine is busy).
    let server_itl = mean(
        &measured
            .iter()
            .flat_map(|r| r.token_times.windows(2).map(|w| t(w[1]) - t(w[0])))
            .collect::<Vec<_>>(),
    );
    // Every request has the same prompt: client and server records pair by rank.
    let mut arrivals: Vec<f64> = measured.iter().map(|r| t(arrived(r))).collect();
    let mut writes: Vec<f64> = measured.iter().map(|r| t(r.token_times[0])).collect();
    let mut sends: Vec<f64> = done.records.iter().map(|r| r.sent_s * 1e3).collect();
    let mut reads: Vec<f64> = done
        .records
        .iter()
        .map(|r| r.first_token_s.unwrap() * 1e3)
        .collect();
    for v in [&mut arrivals, &mut writes, &mut sends, &mut reads] {
        v.sort_by(f64::total_cmp);
    }
    println!(
        "median server TTFT {server_ttft:.3} ms, server mean gap {server_itl:.4} ms; first \
         sent {:.3} ms, first arrival {:.3}, first write {:.3}, first read {:.3}",
        sends[0], arrivals[0], writes[0], reads[0]
    );
    server.stop().await;
    assert_eq!(unstamped, 0, "requests with no kernel receipt time");
    assert_eq!(itls.len(), 200 * 19);
    // The server never writes the first token early. How late its timers fire on a busy
    // machine is the machine's business: the client is held to what the server did.
    assert!(server_ttft > 49.5, "median server TTFT {server_ttft} ms");
    // The client's TTFT is the server's first token, not a later one: the typical client
    // TTFT exceeds the server's by far less than one inter-token gap. How much less is the
    // client's precision on this machine, which `runner calibrate` measures.
    let excess = median(ttfts.clone()) - server_ttft;
    assert!(
        (0.0..5.0).contains(&excess),
        "median client TTFT {excess:.3} ms above the server's"
    );
    // The k-th first token read comes after the k-th was written.
    let lead = writes
        .iter()
        .zip(&reads)
        .map(|(w, r)| r - w)
        .fold(f64::MAX, f64::min);
    assert!(
        lead > -0.05,
        "a first token read {lead:.3} ms before it was written"
    );
    let lead = sends
        .iter()
        .zip(&arrivals)
        .map(|(s, a)| a - s)
        .fold(f64::MAX, f64::min);
    assert!(
        lead > -0.05,
        "a request received {lead:.3} ms before it was sent"
    );
    // ITL gaps telescope: the mean client gap is the server's mean gap, whatever the
    // scheduling delay of single reads.
    assert!(
        (itl - server_itl).abs() < 0.5,
        "mean ITL {itl} ms, server's {server_itl} ms"
    );
}
