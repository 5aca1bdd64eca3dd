//! Exact-length prompts: with `exact_len`, every `random` prompt re-encodes (special tokens
//! added) to its drawn length; without it the nominal/measured drift is measured and reported.

mod support;

use runner::dataset::inspect::drift;
use runner::tokenizer::Tokenizer;
use serde_json::json;
use support::{build_with, byte_level_tokenizer, dataset, text};

#[test]
fn exact_mode_hits_every_target_and_plain_mode_reports_drift() {
    let dir = tempfile::tempdir().unwrap();
    let tok = Tokenizer::from_path(&byte_level_tokenizer(&dir.path().join("bl"))).unwrap();
    assert_eq!(tok.num_special_tokens_to_add(), 1, "BOS added");
    let spec = |exact: bool| {
        dataset(
            json!({"kind": "random", "name": "r", "num_prompts": 1000, "input_len": 256,
            "output_len": 8, "range_ratio": 0.0, "exact_len": exact}),
        )
    };
    let plain = build_with(&spec(false), 42, dir.path(), &tok);
    let exact = build_with(&spec(true), 42, dir.path(), &tok);
    assert_eq!((plain.len(), exact.len()), (1000, 1000));

    let d = drift(&plain).expect("lengths measured");
    println!("without exact_len: {d}");
    assert!(
        d.differing > 100,
        "byte-level BPE drifts after decode/re-encode: {d}"
    );

    let mut adjusted = 0;
    for (p, e) in plain.iter().zip(&exact) {
        // The drawn length: bench_serving's nominal (special tokens taken off) + the BOS.
        let drawn = p.prompt_len + 1;
        let again = tok.count_with_special(text(e)) as u32;
        assert_eq!(again, drawn, "prompt re-encodes to its drawn length");
        assert_eq!(
            tok.count(text(e)) as u32,
            p.prompt_len,
            "the prompt's own tokens"
        );
        assert_eq!(
            (e.prompt_len, e.measured_prompt_len),
            (p.prompt_len, Some(p.prompt_len))
        );
        assert_eq!(e.output_len, p.output_len);
        adjusted += usize::from(text(e) != text(p));
    }
    let d = drift(&exact).unwrap();
    println!("with exact_len: {d}; {adjusted} of 1000 prompts were adjusted");
    assert_eq!(d.differing, 0);
}
