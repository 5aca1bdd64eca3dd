//! Prompt and output text as the server sees it.
//!
//! In: prompt text or token ids. Out: a [`PromptShape`] — the token count (the built-in
//! tokenizer's count: one token per word or run of punctuation) and one chained hash per
//! 16-token block, which is what the prefix cache matches on. Also the output vocabulary:
//! the word written as token `k` of request `seq` under a seed.

use super::hash::{fnv, mix2};
use crate::tokenizer::Tokenizer;

/// Tokens per prefix-cache block.
pub const BLOCK: u32 = 16;

/// Pseudo-tokens one image adds to a prompt.
pub const IMAGE_TOKENS: u32 = 256;

/// The built-in tokenizer, loaded once: the server counts and hashes prompt tokens with it.
pub fn builtin() -> &'static Tokenizer {
    static BUILTIN: std::sync::OnceLock<Tokenizer> = std::sync::OnceLock::new();
    BUILTIN.get_or_init(Tokenizer::builtin)
}

/// A prompt's length and its prefix-block hashes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PromptShape {
    /// Prompt tokens.
    pub tokens: u32,
    /// Hash of every whole 16-token prefix block, chained (block `i`'s hash covers tokens
    /// `0..16(i+1)`).
    pub blocks: Vec<u64>,
    chain: u64,
}

impl PromptShape {
    /// Add one token, identified by a hash.
    pub fn push(&mut self, token: u64) {
        self.chain = mix2(self.chain, token);
        self.tokens += 1;
        if self.tokens.is_multiple_of(BLOCK) {
            self.blocks.push(self.chain);
        }
    }

    /// Add the tokens of `text` (a chat message's content: no special tokens).
    pub fn push_text(&mut self, text: &str) {
        for id in builtin().encode(text) {
            self.push_id(u64::from(id));
        }
    }

    /// Add a whole text prompt as a server encodes it, special tokens (BOS) included.
    pub fn push_prompt(&mut self, text: &str) {
        for id in builtin().encode_with_special(text) {
            self.push_id(u64::from(id));
        }
    }

    /// Add token ids.
    pub fn push_ids(&mut self, ids: &[u64]) {
        for &id in ids {
            self.push_id(id);
        }
    }

    fn push_id(&mut self, id: u64) {
        self.push(mix2(0x1d5, id));
    }

    /// Add an image (its data URI) as [`IMAGE_TOKENS`] tokens.
    pub fn push_image(&mut self, uri: &str) {
        let h = fnv(uri.as_bytes());
        for i in 0..IMAGE_TOKENS {
            self.push(mix2(h, u64::from(i)));
        }
    }
}

/// The output vocabulary: the built-in tokenizer's ordinary words.
pub struct Words {
    ids: Vec<u32>,
    texts: Vec<String>,
}

impl Words {
    /// Words of `tokenizer`, each with a leading space.
    pub fn new(tokenizer: &Tokenizer) -> Words {
        let ids = tokenizer.sample_ids().to_vec();
        let texts = ids
            .iter()
            .map(|&id| format!(" {}", tokenizer.decode(&[id])))
            .collect();
        Words { ids, texts }
    }

    fn index(&self, seed: u64, seq: u64, k: u32) -> usize {
        (mix2(mix2(seed, seq), u64::from(k)) % self.ids.len() as u64) as usize
    }

    /// Text of output token `k` of request `seq`.
    pub fn text(&self, seed: u64, seq: u64, k: u32) -> &str {
        &self.texts[self.index(seed, seq, k)]
    }

    /// Token id of output token `k` of request `seq`.
    pub fn id(&self, seed: u64, seq: u64, k: u32) -> u32 {
        self.ids[self.index(seed, seq, k)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_count_like_the_builtin_tokenizer() {
        let t = Tokenizer::builtin();
        for s in [
            "the server streams",
            "  hello, world!! a_b 42x ...  ",
            "école über—dash",
        ] {
            let mut text = PromptShape::default();
            text.push_text(s);
            assert_eq!(text.tokens as usize, t.count(s), "{s:?}");
            let mut prompt = PromptShape::default();
            prompt.push_prompt(s);
            assert_eq!(prompt.tokens as usize, t.count_with_special(s), "{s:?}");
        }
        let mut ids = PromptShape::default();
        ids.push_ids(
            &t.encode("the server")
                .iter()
                .map(|&i| u64::from(i))
                .collect::<Vec<_>>(),
        );
        let mut text = PromptShape::default();
        text.push_text("the server");
        assert_eq!(ids, text, "ids and their text share cache blocks");
    }

    #[test]
    fn shared_prefixes_share_block_hashes() {
        let words: Vec<String> = (0..40).map(|i| format!("w{i}")).collect();
        let mut a = PromptShape::default();
        a.push_text(&words.join(" "));
        let mut b = PromptShape::default();
        b.push_text(&(words[..20].join(" ") + " other words here"));
        let n = Tokenizer::builtin().count(&words.join(" ")) as u32;
        assert!(n >= 40, "{n}");
        assert_eq!((a.tokens, a.blocks.len()), (n, (n / BLOCK) as usize));
        assert!(!b.blocks.is_empty());
        assert_eq!(a.blocks[0], b.blocks[0]);
        let mut c = PromptShape::default();
        c.push_text(&words[1..].join(" "));
        assert_ne!(a.blocks[0], c.blocks[0]);
    }

    #[test]
    fn words_are_seeded() {
        let w = Words::new(&Tokenizer::builtin());
        let a: Vec<&str> = (0..8).map(|k| w.text(1, 5, k)).collect();
        let b: Vec<&str> = (0..8).map(|k| w.text(1, 5, k)).collect();
        let c: Vec<&str> = (0..8).map(|k| w.text(2, 5, k)).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!(a.iter().all(|s| s.starts_with(' ')));
    }
}
