//! Helpers shared by the dataset tests: fixtures written into a temp dir, datasets from JSON.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use runner::dataset::{self, Sources};
use runner::scenario::Dataset;
use runner::tokenizer::Tokenizer;
use runner::workload::RequestSpec;
use serde_json::{Value, json};

/// A dataset from its scenario JSON.
pub fn dataset(v: Value) -> Dataset {
    serde_json::from_value(v).expect("valid dataset")
}

/// Build offline with the built-in tokenizer.
pub fn build(d: &Dataset, seed: u64, dir: &Path) -> Vec<RequestSpec> {
    build_with(d, seed, dir, &Tokenizer::builtin())
}

/// Build offline with `tok`.
pub fn build_with(d: &Dataset, seed: u64, dir: &Path, tok: &Tokenizer) -> Vec<RequestSpec> {
    dataset::build(d, seed, tok, &Sources::offline_in(dir)).expect("dataset builds")
}

/// Words of the built-in vocabulary.
pub fn words() -> Vec<String> {
    let t = Tokenizer::builtin();
    t.sample_ids().iter().map(|&id| t.decode(&[id])).collect()
}

/// `n` random words joined by spaces.
pub fn sentence(rng: &mut ChaCha8Rng, words: &[String], n: usize) -> String {
    (0..n)
        .map(|_| words[rng.random_range(0..words.len())].as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A ShareGPT file of `n` two-turn conversations plus two unusable ones.
pub fn sharegpt_file(dir: &Path, n: usize) -> PathBuf {
    let words = words();
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut convs: Vec<Value> = (0..n)
        .map(|i| {
            let p = rng.random_range(3..60);
            let r = rng.random_range(1..80);
            json!({"id": format!("c{i}"), "conversations": [
                {"from": "human", "value": sentence(&mut rng, &words, p)},
                {"from": "gpt", "value": sentence(&mut rng, &words, r)},
                {"from": "human", "value": "more"}
            ]})
        })
        .collect();
    convs.push(json!({"id": "one-turn", "conversations": [{"from": "human", "value": "hello"}]}));
    convs.push(json!({"id": "none"}));
    let path = dir.join("sharegpt.json");
    std::fs::write(&path, serde_json::to_string(&convs).unwrap()).unwrap();
    path
}

/// Write JSON lines.
pub fn jsonl(dir: &Path, name: &str, rows: &[Value]) -> PathBuf {
    let path = dir.join(name);
    let text: String = rows.iter().map(|r| format!("{r}\n")).collect();
    std::fs::write(&path, text).unwrap();
    path
}

/// The text of a prompt.
pub fn text(r: &RequestSpec) -> &str {
    r.prompt.as_text().expect("text prompt")
}
