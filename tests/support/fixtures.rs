//! Dataset fixtures written into a temp dir (ShareGPT, Mooncake and JSON-lines files, a trained
//! byte-level tokenizer and its config), datasets from JSON and built offline.

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

/// A byte-level BPE tokenizer like real models' (GPT-2 style pre-tokenizer, a `<s>` BOS added
/// by the post-processor), trained here on generated English, so decoded random tokens
/// re-encode to other lengths as with real tokenizers. Written as `dir/tokenizer.json`.
pub fn byte_level_tokenizer(dir: &Path) -> PathBuf {
    use tokenizers::models::TrainerWrapper;
    use tokenizers::models::bpe::{BPE, BpeTrainerBuilder};
    use tokenizers::pre_tokenizers::byte_level::ByteLevel;
    use tokenizers::processors::template::TemplateProcessing;
    use tokenizers::{AddedToken, Tokenizer as HfTokenizer};

    let words = words();
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let lines: Vec<String> = (0..2000)
        .map(|_| {
            let n = rng.random_range(4..20);
            let mut s = sentence(&mut rng, &words, n);
            s.push_str(if rng.random_bool(0.5) { ". " } else { ", and" });
            s
        })
        .collect();
    let mut tok = HfTokenizer::new(BPE::default());
    tok.with_pre_tokenizer(Some(ByteLevel::default()));
    tok.with_decoder(Some(ByteLevel::default()));
    let mut trainer: TrainerWrapper = BpeTrainerBuilder::new()
        .vocab_size(700)
        .show_progress(false)
        .initial_alphabet(ByteLevel::alphabet().into_iter().collect())
        .special_tokens(vec![
            AddedToken::from("<unk>", true),
            AddedToken::from("<s>", true),
        ])
        .build()
        .into();
    tok.train(&mut trainer, lines.iter()).expect("trains");
    let bos = TemplateProcessing::builder()
        .try_single("<s> $A")
        .unwrap()
        .special_tokens(vec![("<s>", 1)])
        .build()
        .unwrap();
    tok.with_post_processor(Some(bos));
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("tokenizer.json");
    tok.save(&path, false).expect("saves");
    path
}

/// `tokenizer_config.json` with a chat template and BOS/EOS strings.
pub fn tokenizer_config(dir: &Path, template: &str, bos: &str, eos: &str) {
    let cfg = json!({"bos_token": bos, "eos_token": {"content": eos, "special": true},
                     "chat_template": template});
    std::fs::write(dir.join("tokenizer_config.json"), cfg.to_string()).unwrap();
}

/// Words for the deterministic fixtures.
const WORDS: &[&str] = &[
    "the", "of", "and", "to", "in", "is", "was", "for", "that", "with", "on", "as", "it", "by",
    "this", "from", "are", "be", "at", "or", "have", "an", "which", "not", "but", "they",
];

/// `n` words chosen from `seed` by a fixed rule (no random generator).
fn plain_sentence(seed: usize, n: usize) -> String {
    (0..n)
        .map(|k| WORDS[(seed * 7 + k * 13 + k * k) % WORDS.len()])
        .collect::<Vec<_>>()
        .join(" ")
}

/// A ShareGPT-format file of `n` two-turn conversations, all usable, the same on every call
/// (`sharegpt_file` adds random lengths and unusable entries).
pub fn sharegpt_plain_file(dir: &Path, n: usize) -> PathBuf {
    let convs: Vec<Value> = (0..n)
        .map(|i| {
            json!({"id": format!("c{i}"), "conversations": [
                {"from": "human", "value": plain_sentence(i, 5 + i % 17)},
                {"from": "gpt", "value": plain_sentence(i + 3, 4 + i % 11)},
            ]})
        })
        .collect();
    let path = dir.join("sharegpt.json");
    std::fs::write(&path, serde_json::to_string(&convs).unwrap()).unwrap();
    path
}

/// A Mooncake trace of `n` records 40 ms apart, sharing their first hash block in pairs.
pub fn mooncake_file(dir: &Path, n: usize) -> PathBuf {
    let text: String = (0..n)
        .map(|i| {
            format!(
                "{}\n",
                json!({"timestamp": 1000 + 40 * i, "input_length": 600, "output_length": 8,
                       "hash_ids": [i / 2, 100 + i]})
            )
        })
        .collect();
    let path = dir.join("trace.jsonl");
    std::fs::write(&path, text).unwrap();
    path
}
