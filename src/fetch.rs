//! Where dataset files and tokenizers come from when no local path is given: the cache
//! directory, and downloads when online.
//!
//! In: the environment (see [`Sources::from_env`]). Out: a local file path, or an error that
//! names the file, where it was looked for, and the `path:` (or setting) to give instead.
//! Workload generation is synchronous, so HTTP runs on a small runtime of its own ([`Http`]),
//! usable from inside or outside an async context.

use std::future::Future;
use std::path::{Path, PathBuf};

use futures_util::StreamExt as _;

/// Where to look for and put downloaded files, and whether downloading is allowed.
#[derive(Debug, Clone, PartialEq)]
pub struct Sources {
    /// runner's cache (`$RUNNER_CACHE_DIR`, else `$XDG_CACHE_HOME/runner`, else
    /// `~/.cache/runner`): downloaded datasets and tokenizers.
    pub cache_dir: PathBuf,
    /// Hugging Face hub cache (`$HF_HUB_CACHE`, else `$HF_HOME/hub`, else
    /// `~/.cache/huggingface/hub`): searched for tokenizers, never written.
    pub hf_hub_cache: PathBuf,
    /// No network (`RUNNER_OFFLINE` or `HF_HUB_OFFLINE` set to 1/true/yes).
    pub offline: bool,
    /// Hugging Face endpoint (`$HF_ENDPOINT`, default `https://huggingface.co`).
    pub hf_endpoint: String,
    /// Token for gated Hugging Face repositories (`$HF_TOKEN`).
    pub hf_token: Option<String>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn truthy(name: &str) -> bool {
    env(name)
        .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on"))
}

impl Sources {
    /// Read the environment variables listed on the fields.
    pub fn from_env() -> Sources {
        let home = env("HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("."));
        let xdg = env("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| home.join(".cache"));
        let cache_dir = env("RUNNER_CACHE_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| xdg.join("runner"));
        let hf_hub_cache = env("HF_HUB_CACHE")
            .map(PathBuf::from)
            .or_else(|| env("HF_HOME").map(|h| PathBuf::from(h).join("hub")))
            .unwrap_or_else(|| xdg.join("huggingface").join("hub"));
        Sources {
            cache_dir,
            hf_hub_cache,
            offline: truthy("RUNNER_OFFLINE") || truthy("HF_HUB_OFFLINE"),
            hf_endpoint: env("HF_ENDPOINT").unwrap_or_else(|| "https://huggingface.co".into()),
            hf_token: env("HF_TOKEN").or_else(|| env("HUGGING_FACE_HUB_TOKEN")),
        }
    }

    /// Offline sources rooted in `dir` (for tests and dry runs): nothing is downloaded.
    pub fn offline_in(dir: &Path) -> Sources {
        Sources {
            cache_dir: dir.join("runner"),
            hf_hub_cache: dir.join("hub"),
            offline: true,
            hf_endpoint: "http://127.0.0.1:9".into(),
            hf_token: None,
        }
    }

    /// A cached copy of `url` under `cache_dir/<sub>/<file>`, downloaded first when missing
    /// and online. `what` names the data and `path_hint` says what to give instead.
    pub fn cached(
        &self,
        sub: &str,
        file: &str,
        url: &str,
        what: &str,
        path_hint: &str,
    ) -> Result<PathBuf, FetchError> {
        let dest = self.cache_dir.join(sub).join(file);
        if dest.is_file() {
            return Ok(dest);
        }
        if self.offline {
            return Err(FetchError::Offline {
                what: what.into(),
                file: dest,
                url: url.into(),
                hint: path_hint.into(),
            });
        }
        eprintln!("downloading {what} from {url} to {}", dest.display());
        download(url, &dest, None).map_err(|reason| FetchError::Download {
            what: what.into(),
            url: url.into(),
            reason,
            hint: path_hint.into(),
        })?;
        Ok(dest)
    }
}

/// A file could not be had.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Not cached, and downloads are off.
    #[error(
        "{what} is not available offline: {file} does not exist (source: {url}); {hint}, or unset RUNNER_OFFLINE/HF_HUB_OFFLINE to download it"
    )]
    Offline {
        /// What the file is.
        what: String,
        /// Where it was looked for.
        file: PathBuf,
        /// Where it would come from.
        url: String,
        /// What to give instead.
        hint: String,
    },
    /// The download failed.
    #[error("cannot download {what} from {url}: {reason}; {hint}")]
    Download {
        /// What the file is.
        what: String,
        /// The URL.
        url: String,
        /// Why.
        reason: String,
        /// What to give instead.
        hint: String,
    },
}

/// An HTTP client for synchronous callers. Inside a multi-thread runtime (the sweep) it runs
/// on that runtime, moving the waiting thread off the async workers (`block_in_place`);
/// elsewhere on a runtime of its own.
pub struct Http {
    rt: Option<tokio::runtime::Runtime>,
    handle: tokio::runtime::Handle,
    /// The client (create requests with it inside [`Http::run`]).
    pub client: reqwest::Client,
}

impl Http {
    /// The client, and a runtime when not called inside a multi-thread one.
    pub fn new() -> Result<Http, String> {
        let ambient = tokio::runtime::Handle::try_current()
            .ok()
            .filter(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        let rt = match ambient {
            Some(_) => None,
            None => Some(
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .thread_name("runner-fetch")
                    .enable_all()
                    .build()
                    .map_err(|e| e.to_string())?,
            ),
        };
        let handle = match (&rt, ambient) {
            (Some(rt), _) => rt.handle().clone(),
            (None, Some(h)) => h,
            (None, None) => unreachable!("a runtime was started above"),
        };
        let client = {
            let _guard = handle.enter();
            reqwest::Client::builder()
                .connect_timeout(std::time::Duration::from_secs(30))
                .build()
                .map_err(|e| e.to_string())?
        };
        Ok(Http { rt, handle, client })
    }

    /// Run `fut` and wait for it, without blocking an async worker thread.
    pub fn run<F, T>(&self, fut: F) -> T
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        let (tx, rx) = std::sync::mpsc::channel();
        self.handle.spawn(async move {
            let _ = tx.send(fut.await);
        });
        let wait = || rx.recv().expect("the runtime finishes fetch tasks");
        let on_worker = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        if on_worker {
            tokio::task::block_in_place(wait)
        } else {
            wait()
        }
    }
}

impl Drop for Http {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// An error with every cause in its chain (`error sending request: … : Connection refused`).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        let s_text = s.to_string();
        if !msg.contains(&s_text) {
            msg.push_str(": ");
            msg.push_str(&s_text);
        }
        src = s.source();
    }
    msg
}

/// Download `url` to `dest` (through a temporary file), with a bearer token if given.
pub fn download(url: &str, dest: &Path, token: Option<&str>) -> Result<(), String> {
    if let Some(dir) = dest.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let http = Http::new()?;
    let mut req = http.client.get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let tmp = dest.with_extension("part");
    let tmp2 = tmp.clone();
    http.run(async move {
        let resp = req.send().await.map_err(|e| error_chain(&e))?;
        if !resp.status().is_success() {
            return Err(format!("HTTP {}", resp.status()));
        }
        let mut file = tokio::fs::File::create(&tmp2)
            .await
            .map_err(|e| format!("cannot write {}: {e}", tmp2.display()))?;
        let mut body = resp.bytes_stream();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| error_chain(&e))?;
            tokio::io::AsyncWriteExt::write_all(&mut file, &chunk)
                .await
                .map_err(|e| e.to_string())?;
        }
        tokio::io::AsyncWriteExt::flush(&mut file)
            .await
            .map_err(|e| e.to_string())
    })?;
    std::fs::rename(&tmp, dest).map_err(|e| format!("cannot move into {}: {e}", dest.display()))
}
