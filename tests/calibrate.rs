//! `runner calibrate` through the binary: client and embedded server on cores of their own,
//! every stream on a connection opened before the clock, and timing errors against the
//! server's ground truth of the right size.

mod support;

use support::{runner, texts};

/// The mean of a `name  mean X  p50 …` line, in ms.
fn mean_of(out: &str, name: &str) -> f64 {
    let line = out
        .lines()
        .find(|l| l.trim_start().starts_with(name))
        .unwrap_or_else(|| panic!("no {name:?} line in:\n{out}"));
    let rest = line.split("mean").nth(1).expect("a mean");
    rest.split_whitespace().next().unwrap().parse().unwrap()
}

#[test]
fn calibrate_prints_its_figures_with_every_stream_warm() {
    let out = runner()
        .args(["calibrate", "--requests", "400", "--concurrency", "32"])
        .args(["--output-len", "8", "--streams", "100"])
        .output()
        .unwrap();
    let (text, err) = texts(&out);
    assert!(out.status.success(), "{text}\n{err}");
    println!("{text}");
    let cpus = std::thread::available_parallelism().unwrap().get();
    if cpus >= 2 {
        assert!(text.contains("client on CPU"), "{text}");
    }
    assert!(
        text.contains("100 connections opened before the clock; 0 requests opened one"),
        "{text}"
    );
    // A request arrives (kernel receipt) after it was sent; the true TTFT counts from there,
    // so the client's error is never negative, and it stays below half the 40 ms gap (the
    // first token is the first, not a later one) even on a busy debug build. How small it
    // is on this machine is the figure calibrate prints, not a property of the build.
    let ttft = mean_of(&text, "TTFT error");
    assert!((0.0..20.0).contains(&ttft), "TTFT error mean {ttft} ms");
    assert!(mean_of(&text, "send → request arrived") >= 0.0);
    let itl = mean_of(&text, "ITL error");
    assert!(itl.abs() < 5.0, "ITL error mean {itl} ms");
    assert!(text.contains("dispatched"), "{text}");
}
