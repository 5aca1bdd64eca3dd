//! Tokenizers: where they come from, and what datasets need from them.
//!
//! In: the scenario's `tokenizer` setting. Out: a [`Tokenizer`] that counts, encodes and
//! decodes tokens, renders the model's chat template, and lists the ids random prompts are
//! drawn from.
//!
//! Sources, in the order a setting is tried:
//! 1. `builtin` (or no setting): the small tokenizer trained by the project and shipped in
//!    the crate (`assets/builtin/`, made by `examples/train_builtin_tokenizer.rs`): BPE over
//!    common English words with byte fallback, a ChatML chat template, `<s>`/`</s>`.
//! 2. `server:URL`: the server's `/tokenize` and `/detokenize` (vLLM, llama.cpp and SGLang
//!    offer them); `server` alone means the scenario's first target with a `base_url`.
//! 3. An existing path: a `tokenizer.json`, or a model directory holding one; a
//!    `tokenizer_config.json` (and `chat_template.jinja`) beside it supplies the chat template
//!    and BOS/EOS strings.
//! 4. A Hugging Face id (`org/name`): the local hub cache
//!    (`models--org--name/snapshots/*/`), then runner's cache, then a download from the hub
//!    when online. Offline and absent is an error that says what to provide.

use std::path::Path;

use thiserror::Error;

mod errors;
mod hub;
mod server;

use crate::chat_template::{ChatTemplate, template_text};
use crate::fetch::Sources;
use errors::Errors;
pub use errors::TokenizerErrors;
use server::ServerTokenizer;

/// A tokenizer could not be loaded or used.
#[derive(Debug, Error)]
pub enum TokenizerError {
    /// Nothing found for the setting.
    #[error("{0}")]
    NotFound(String),
    /// A file exists but does not load.
    #[error("cannot load tokenizer {path}: {reason}")]
    Load {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The chat template does not compile or render.
    #[error("chat template of {name}: {reason}")]
    Template {
        /// Tokenizer name.
        name: String,
        /// The minijinja error.
        reason: String,
    },
    /// The server tokenizer failed.
    #[error("tokenizer server {url}: {reason}")]
    Server {
        /// The URL called.
        url: String,
        /// Why.
        reason: String,
    },
}

enum Backend {
    Local(Box<tokenizers::Tokenizer>),
    Server(ServerTokenizer),
}

/// A loaded tokenizer.
pub struct Tokenizer {
    backend: Backend,
    /// Sorted ids random prompts are drawn from.
    sample_ids: Vec<u32>,
    name: String,
    template: Option<ChatTemplate>,
    bos: String,
    eos: String,
    specials_added: usize,
    errors: Errors,
}

impl std::fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokenizer")
            .field("name", &self.name)
            .finish()
    }
}

const BUILTIN_JSON: &str = include_str!("../../assets/builtin/tokenizer.json");
const BUILTIN_CONFIG: &str = include_str!("../../assets/builtin/tokenizer_config.json");
/// English text whose token ids stand in for a vocabulary a server tokenizer cannot list.
const CORPUS: &str = include_str!("../../assets/builtin/corpus.txt");

impl Tokenizer {
    /// The scenario's tokenizer; `server` means the first target with a `base_url`.
    pub fn for_scenario(s: &crate::scenario::Scenario) -> Result<Tokenizer, TokenizerError> {
        if s.tokenizer.as_deref().map(str::trim) == Some("server") {
            let t = s.targets.iter().find(|t| t.base_url.is_some()).ok_or_else(|| {
                TokenizerError::NotFound(
                    "`tokenizer: server` needs a target with a base_url (embedded targets use `builtin`)".into(),
                )
            })?;
            let model = t.model.as_deref().or(s.model.as_deref());
            return Tokenizer::server(t.base_url.as_deref().unwrap_or_default(), model);
        }
        Tokenizer::resolve(s.tokenizer.as_deref(), &Sources::from_env())
    }

    /// Load from a scenario setting (see the module docs for the order of sources).
    pub fn resolve(setting: Option<&str>, src: &Sources) -> Result<Tokenizer, TokenizerError> {
        let setting = setting.map(str::trim);
        match setting {
            None | Some("") | Some("builtin") => Ok(Tokenizer::builtin()),
            Some("server") => Err(TokenizerError::NotFound(
                "`tokenizer: server` needs a target with a base_url; write `server:http://host:port`".into(),
            )),
            Some(s) if s.starts_with("server:") => {
                Tokenizer::server(s.trim_start_matches("server:"), None)
            }
            Some(s) if Path::new(s).exists() || looks_like_path(s) => {
                Tokenizer::from_path(Path::new(s))
            }
            Some(id) => hub::load(id, src),
        }
    }

    /// Load a `tokenizer.json`, or the one inside a model directory, with the chat template
    /// of the `tokenizer_config.json` beside it.
    pub fn from_path(path: &Path) -> Result<Tokenizer, TokenizerError> {
        let (file, dir) = if path.is_dir() {
            (path.join("tokenizer.json"), path.to_owned())
        } else {
            let dir = path.parent().map(Path::to_owned).unwrap_or_default();
            (path.to_owned(), dir)
        };
        if !file.is_file() {
            return Err(TokenizerError::NotFound(format!(
                "tokenizer {} not found; give a path to a tokenizer.json (or a model directory with one), a Hugging Face id, or `builtin`",
                file.display()
            )));
        }
        let load_err = |reason: String| TokenizerError::Load {
            path: file.display().to_string(),
            reason,
        };
        let inner = tokenizers::Tokenizer::from_file(&file).map_err(|e| load_err(e.to_string()))?;
        let config = read_config(&dir).map_err(load_err)?;
        Tokenizer::local(inner, file.display().to_string(), &config, false)
    }

    /// The built-in tokenizer.
    pub fn builtin() -> Tokenizer {
        let inner = tokenizers::Tokenizer::from_bytes(BUILTIN_JSON.as_bytes())
            .expect("the built-in tokenizer loads");
        let config: serde_json::Value =
            serde_json::from_str(BUILTIN_CONFIG).expect("the built-in config parses");
        Tokenizer::local(inner, "builtin".into(), &config, true)
            .expect("the built-in chat template compiles")
    }

    fn local(
        inner: tokenizers::Tokenizer,
        name: String,
        config: &serde_json::Value,
        stable_only: bool,
    ) -> Result<Tokenizer, TokenizerError> {
        let special: std::collections::HashSet<u32> =
            inner.get_added_tokens_decoder().into_keys().collect();
        let mut sample_ids: Vec<u32> = inner
            .get_vocab(false)
            .into_values()
            .filter(|id| !special.contains(id))
            .collect();
        sample_ids.sort_unstable();
        if stable_only {
            // Only tokens that decode to a word which encodes back to them, so prompts drawn
            // from the built-in vocabulary keep their length (and the embedded server's output
            // words count one token each).
            sample_ids.retain(|&id| {
                let text = inner.decode(&[id], false).unwrap_or_default();
                !text.is_empty()
                    && inner
                        .encode_fast(text.as_str(), false)
                        .is_ok_and(|e| e.get_ids() == [id])
            });
        }
        let specials_added = inner.encode_fast("", true).map(|e| e.len()).unwrap_or(0);
        let template = ChatTemplate::from_config(config).map_err(|e| TokenizerError::Template {
            name: name.clone(),
            reason: e.to_string(),
        })?;
        Ok(Tokenizer {
            bos: crate::chat_template::token_string(config.get("bos_token")),
            eos: crate::chat_template::token_string(config.get("eos_token")),
            backend: Backend::Local(Box::new(inner)),
            sample_ids,
            name,
            template,
            specials_added,
            errors: Errors::default(),
        })
    }

    /// A tokenizer served at `base_url` (`/tokenize`, `/detokenize`). The ids prompts are drawn
    /// from are those of runner's built-in English corpus under this tokenizer.
    pub fn server(base_url: &str, model: Option<&str>) -> Result<Tokenizer, TokenizerError> {
        let server = ServerTokenizer::new(base_url, model)?;
        let mut ids = server.encode(CORPUS, false)?;
        let specials_added = server.encode("", true)?.len();
        ids.sort_unstable();
        ids.dedup();
        Ok(Tokenizer {
            backend: Backend::Server(server),
            sample_ids: ids,
            name: format!("server:{base_url}"),
            template: None,
            bos: String::new(),
            eos: String::new(),
            specials_added,
            errors: Errors::default(),
        })
    }

    /// Where it came from (`builtin`, a file path, or `server:URL`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Token ids of `text`, without special tokens added.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        self.encode_with(text, false)
    }

    /// Token ids of `text` with the tokenizer's special tokens added (BOS and the like), as
    /// Python's `tokenizer.encode(text)` gives them.
    pub fn encode_with_special(&self, text: &str) -> Vec<u32> {
        self.encode_with(text, true)
    }

    fn encode_with(&self, text: &str, special: bool) -> Vec<u32> {
        match &self.backend {
            Backend::Local(t) => self.counted(
                t.encode_fast(text, special)
                    .map(|e| e.get_ids().to_vec())
                    .map_err(|e| e.to_string()),
            ),
            Backend::Server(s) => self.counted(s.encode(text, special).map_err(|e| e.to_string())),
        }
    }

    /// Number of tokens in `text` (no special tokens added).
    pub fn count(&self, text: &str) -> usize {
        match &self.backend {
            Backend::Local(t) => t.encode_fast(text, false).map(|e| e.len()).unwrap_or(0),
            Backend::Server(_) => self.encode(text).len(),
        }
    }

    /// Number of tokens in `text` with special tokens added.
    pub fn count_with_special(&self, text: &str) -> usize {
        self.encode_with(text, true).len()
    }

    /// How many tokens encoding adds around any text (Python's
    /// `num_special_tokens_to_add()`): 1 for a BOS-adding tokenizer.
    pub fn num_special_tokens_to_add(&self) -> usize {
        self.specials_added
    }

    /// Text of `ids`, special tokens kept.
    pub fn decode(&self, ids: &[u32]) -> String {
        match &self.backend {
            Backend::Local(t) => self.counted(t.decode(ids, false).map_err(|e| e.to_string())),
            Backend::Server(s) => self.counted(s.decode(ids).map_err(|e| e.to_string())),
        }
    }

    /// Ids of ordinary tokens, sorted: the alphabet random prompts are drawn from (every
    /// non-special token for a Hugging Face tokenizer, as bench_serving draws them).
    pub fn sample_ids(&self) -> &[u32] {
        &self.sample_ids
    }

    /// Size of the id space (largest id + 1) for `random-ids`.
    pub fn vocab_size(&self) -> usize {
        match &self.backend {
            Backend::Local(t) => t.get_vocab_size(false),
            Backend::Server(_) => self.sample_ids.last().map_or(0, |&m| m as usize + 1),
        }
    }

    /// The BOS string of the model's config (empty when none).
    pub fn bos_token(&self) -> &str {
        &self.bos
    }

    /// The EOS string of the model's config (empty when none).
    pub fn eos_token(&self) -> &str {
        &self.eos
    }

    /// Whether the tokenizer has a chat template.
    pub fn has_chat_template(&self) -> bool {
        self.template.is_some()
    }

    /// Render `messages` with the chat template (Python's `apply_chat_template(…,
    /// tokenize=False)`). Without a template, `role: content` lines (bench_serving's
    /// fallback) followed by `assistant:` when `add_generation_prompt`.
    pub fn apply_chat_template(
        &self,
        messages: &[serde_json::Value],
        add_generation_prompt: bool,
        tools: Option<&serde_json::Value>,
    ) -> Result<String, TokenizerError> {
        match &self.template {
            Some(t) => t
                .render(messages, add_generation_prompt, tools)
                .map_err(|e| TokenizerError::Template {
                    name: self.name.clone(),
                    reason: format!("{e:#}"),
                }),
            None => {
                let mut lines: Vec<String> = messages
                    .iter()
                    .map(|m| {
                        let content = match &m["content"] {
                            serde_json::Value::String(s) => s.clone(),
                            other => other.to_string(),
                        };
                        format!("{}: {content}", m["role"].as_str().unwrap_or("user"))
                    })
                    .collect();
                if add_generation_prompt {
                    lines.push("assistant:".into());
                }
                Ok(lines.join("\n"))
            }
        }
    }

    /// One user message rendered with the chat template and `add_generation_prompt`, then
    /// every occurrence of the BOS string removed (the server adds it again), as
    /// bench_serving's `--apply-chat-template` does.
    pub fn chat_prompt(&self, user: &str) -> Result<String, TokenizerError> {
        let msgs = [serde_json::json!({"role": "user", "content": user})];
        let text = self.apply_chat_template(&msgs, true, None)?;
        Ok(self.strip_bos(text))
    }

    /// Remove every occurrence of the BOS string.
    pub fn strip_bos(&self, text: String) -> String {
        if self.bos.is_empty() {
            text
        } else {
            text.replace(&self.bos, "")
        }
    }
}

/// Whether a setting names a file rather than a Hugging Face id (`org/name`).
fn looks_like_path(s: &str) -> bool {
    s.starts_with(['/', '.', '~']) || s.ends_with(".json") || s.matches('/').count() > 1
}

/// `tokenizer_config.json` of `dir` (empty object when absent), with the template of a
/// `chat_template.jinja` file when the config has none.
fn read_config(dir: &Path) -> Result<serde_json::Value, String> {
    let path = dir.join("tokenizer_config.json");
    let mut config = match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text)
            .map_err(|e| format!("{} is not valid JSON: {e}", path.display()))?,
        Err(_) => serde_json::json!({}),
    };
    let has = config
        .get("chat_template")
        .and_then(template_text)
        .is_some();
    if !has && let Ok(t) = std::fs::read_to_string(dir.join("chat_template.jinja")) {
        config["chat_template"] = t.into();
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_round_trips_its_words() {
        let t = Tokenizer::builtin();
        assert!(t.sample_ids().len() > 800, "{}", t.sample_ids().len());
        assert!(!t.sample_ids().contains(&0), "<unk> is special");
        let ids: Vec<u32> = t.sample_ids()[100..140].to_vec();
        let text = t.decode(&ids);
        assert_eq!(t.encode(&text), ids);
        assert_eq!(t.count(&text), 40);
        assert_eq!(t.num_special_tokens_to_add(), 0);
    }

    #[test]
    fn builtin_encodes_any_text_without_unknowns() {
        let t = Tokenizer::builtin();
        let text = "Héllo, wörld! 42 {\"json\": [1, 2]} 日本";
        let ids = t.encode(text);
        assert!(!ids.contains(&0), "{ids:?}");
        assert_eq!(t.decode(&ids).replace(' ', ""), text.replace(' ', ""));
    }

    #[test]
    fn builtin_has_a_chatml_template() {
        let t = Tokenizer::builtin();
        assert_eq!(
            t.chat_prompt("hi").unwrap(),
            "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
        );
        assert_eq!(t.count("<|im_start|>"), 1);
    }

    #[test]
    fn missing_file_says_what_to_give() {
        let dir = tempfile::tempdir().unwrap();
        let e = Tokenizer::resolve(
            Some("/nonexistent/tok.json"),
            &Sources::offline_in(dir.path()),
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("give a path to a tokenizer.json"),
            "{e}"
        );
    }
}
