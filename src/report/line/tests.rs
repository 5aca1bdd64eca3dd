//! The line's SLO keys, in bench_serving's names and runner's order.

use serde_json::json;

use super::RunLine;
use crate::metrics::Summary;
use crate::record::RequestRecord;
use crate::report::RunInfo;

#[test]
fn the_verdict_s_keys_follow_the_numbers() {
    let slo: crate::scenario::Slo = serde_json::from_value(json!({"ttft_ms": 200})).unwrap();
    let mut good = RequestRecord::new(0, 0.0, 2);
    good.first_token_s = Some(0.1);
    good.end_s = 0.2;
    let s = Summary {
        completed: 1,
        ..Summary::default()
    };
    let mut info = RunInfo::for_test("t/d", "sglang", "random");
    info.slo = Some(crate::slo::judge(&slo, &s, &[good], 2.0));
    let m = RunLine::new(&info, &s).to_map();
    let keys: Vec<&str> = m.keys().map(String::as_str).collect();
    let at = keys.iter().position(|k| *k == "slo_passed").unwrap();
    assert_eq!(
        keys[at..at + 6],
        [
            "slo_passed",
            "slo_failed",
            "slo_attainment",
            "request_goodput",
            "goodput_slos_ms",
            "slo_attainment_by_metric"
        ]
    );
    assert_eq!(m["slo_passed"], true);
    assert_eq!(m["request_goodput"], 0.5);
    assert_eq!(m["goodput_slos_ms"], json!({"ttft": 200.0}));
    assert_eq!(m["slo_attainment_by_metric"], json!({"ttft": 1.0}));
    assert!(
        RunLine::new(&RunInfo::for_test("t/d", "sglang", "random"), &s)
            .to_map()
            .get("slo_passed")
            .is_none()
    );
}
