//! Trains runner's built-in tokenizer and writes `assets/builtin/tokenizer.json`.
//!
//! In: `assets/builtin/corpus.txt`, common English words, most frequent first. Out: a small
//! BPE tokenizer (original-BPE style: whitespace split, `</w>` end-of-word suffix, byte
//! fallback for characters outside printable ASCII) with the special tokens `<unk>`, `<s>`,
//! `</s>`, `<|im_start|>`, `<|im_end|>`.
//!
//! Each word's frequency is Zipf-like by rank (`4000 / rank`), so frequent words become
//! single tokens first and rare ones stay split into subwords, as in real tokenizers.
//! Every printable ASCII character is in the alphabet, both inside and at the end of a word.
//!
//! Run from the repository root: `cargo run --example train_builtin_tokenizer`.

use std::collections::HashSet;

use serde_json::{Value, json};
use tokenizers::models::bpe::{BPE, BpeTrainerBuilder};
use tokenizers::{AddedToken, Trainer};

const SPECIALS: [&str; 5] = ["<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>"];
const VOCAB_SIZE: usize = 3000;

fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let corpus = std::fs::read_to_string("assets/builtin/corpus.txt")?;
    let words: Vec<&str> = corpus.split_whitespace().collect();
    let mut lines: Vec<String> = Vec::new();
    for (rank, w) in words.iter().enumerate() {
        let count = 4000 / (rank + 1) + 2;
        lines.extend(std::iter::repeat_n(w.to_string(), count));
    }
    // Every printable ASCII character inside and at the end of a word, and common numbers.
    for c in (33u8..127).map(char::from) {
        lines.push(format!("{c}{c}"));
    }
    for n in 0..100 {
        lines.extend(std::iter::repeat_n(n.to_string(), 3));
    }
    let alphabet: HashSet<char> = (33u8..127).map(char::from).collect();
    let mut trainer = BpeTrainerBuilder::new()
        .vocab_size(VOCAB_SIZE)
        .min_frequency(2)
        .show_progress(false)
        .special_tokens(
            SPECIALS
                .iter()
                .map(|s| AddedToken::from(*s, true))
                .collect(),
        )
        .initial_alphabet(alphabet)
        .end_of_word_suffix("</w>".into())
        .build();
    let mut model = BPE::builder()
        .unk_token("<unk>".into())
        .end_of_word_suffix("</w>".into())
        .build()?;
    trainer.feed(lines.iter(), |s| {
        Ok(s.split_whitespace().map(str::to_owned).collect())
    })?;
    trainer.train(&mut model)?;

    let mut model_json = serde_json::to_value(&model)?;
    let vocab = model_json["vocab"].as_object_mut().ok_or("vocab")?;
    let mut next = vocab.len() as u64;
    for b in 0..=255u8 {
        vocab.insert(format!("<0x{b:02X}>"), next.into());
        next += 1;
    }
    model_json["byte_fallback"] = true.into();
    let added: Vec<Value> = SPECIALS
        .iter()
        .enumerate()
        .map(|(id, s)| {
            json!({"id": id, "content": s, "single_word": false, "lstrip": false,
                   "rstrip": false, "normalized": false, "special": true})
        })
        .collect();
    let tokenizer = json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": added,
        "normalizer": null,
        "pre_tokenizer": {"type": "WhitespaceSplit"},
        "post_processor": null,
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "ByteFallback"},
            {"type": "BPEDecoder", "suffix": "</w>"}
        ]},
        "model": model_json,
    });
    let text = serde_json::to_string(&tokenizer)?;
    tokenizers::Tokenizer::from_bytes(text.as_bytes())?;
    std::fs::write("assets/builtin/tokenizer.json", text + "\n")?;
    println!(
        "wrote assets/builtin/tokenizer.json: {} tokens",
        next as usize
    );
    Ok(())
}
