//! Tokenizers by Hugging Face id: the local hub cache (`models--org--name/snapshots/*`), then
//! runner's cache, then a download from the hub when online.

use std::path::{Path, PathBuf};

use super::{Tokenizer, TokenizerError};
use crate::fetch::Sources;

/// Load `id` from the hub cache, runner's cache, or the hub.
pub(super) fn load(id: &str, src: &Sources) -> Result<Tokenizer, TokenizerError> {
    if let Some(dir) = hub_snapshot(&src.hf_hub_cache, id) {
        return Tokenizer::from_path(&dir);
    }
    let mine = src.cache_dir.join("tokenizers").join(id.replace('/', "--"));
    if mine.join("tokenizer.json").is_file() {
        return Tokenizer::from_path(&mine);
    }
    let snapshots = src
        .hf_hub_cache
        .join(format!("models--{}", id.replace('/', "--")))
        .join("snapshots");
    let what_to_do = format!(
        "give `tokenizer:` a path to a tokenizer.json or a model directory, download it (`huggingface-cli download {id} tokenizer.json tokenizer_config.json`), or use `builtin`"
    );
    if src.offline {
        return Err(TokenizerError::NotFound(format!(
            "tokenizer `{id}` is neither a local path nor in the Hugging Face cache ({}/*/tokenizer.json) and runner is offline; {what_to_do}",
            snapshots.display()
        )));
    }
    for file in ["tokenizer.json", "tokenizer_config.json"] {
        let url = format!("{}/{id}/resolve/main/{file}", src.hf_endpoint);
        eprintln!("downloading {url}");
        let got = crate::fetch::download(&url, &mine.join(file), src.hf_token.as_deref());
        // The config (chat template) is optional; the tokenizer is not.
        if let Err(e) = got
            && file == "tokenizer.json"
        {
            return Err(TokenizerError::NotFound(format!(
                "tokenizer `{id}` is not a local path, not in the Hugging Face cache ({}), and cannot be downloaded from {url} ({e}); {what_to_do} (gated models need HF_TOKEN)",
                snapshots.display()
            )));
        }
    }
    Tokenizer::from_path(&mine)
}

/// The snapshot directory of `id` in a Hugging Face hub cache that holds a tokenizer.json:
/// the one `refs/main` names, else the most recently modified.
pub fn hub_snapshot(hub: &Path, id: &str) -> Option<PathBuf> {
    let repo = hub.join(format!("models--{}", id.replace('/', "--")));
    let snaps = repo.join("snapshots");
    if let Ok(rev) = std::fs::read_to_string(repo.join("refs").join("main")) {
        let dir = snaps.join(rev.trim());
        if dir.join("tokenizer.json").is_file() {
            return Some(dir);
        }
    }
    std::fs::read_dir(&snaps)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("tokenizer.json").is_file())
        .max_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
}
