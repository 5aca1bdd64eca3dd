//! Where a result came from, stamped on every run line: the invocation (a random id shared by
//! every run of one `runner run`), the run's start time (RFC 3339, UTC), the labels, and what
//! could be learnt of the host, the scenario file's git commit and the server's version and
//! model.
//!
//! In: the scenario file's path, the server's answers (asked by `engine::probe`). Out: a
//! [`Stamp`] per run. Everything is best effort: provenance never fails a run.

use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

/// Per-run provenance written into `runs.jsonl` and `summary.csv`.
#[derive(Debug, Clone, Default)]
pub struct Stamp {
    /// When the run started, RFC 3339 UTC (`2026-11-30T11:05:00.123Z`).
    pub started_at: String,
    /// Shared by every run of one invocation ([`invocation_id`]).
    pub invocation_id: String,
    /// The scenario's `labels:` with `--label` flags applied.
    pub labels: BTreeMap<String, String>,
    /// Host, runner version, scenario file and commit, server version and model.
    pub provenance: Value,
}

impl Stamp {
    /// A run's stamp: its start time, this invocation's id, the labels, and the invocation's
    /// provenance ([`invocation`]) with what the run's server said of itself
    /// ([`probe_server`]).
    pub fn new(
        started_at: String,
        labels: &BTreeMap<String, String>,
        origin: &Map<String, Value>,
        server: &Value,
    ) -> Stamp {
        let mut p = origin.clone();
        p.insert("server".into(), server.clone());
        Stamp {
            started_at,
            invocation_id: invocation_id().to_owned(),
            labels: labels.clone(),
            provenance: Value::Object(p),
        }
    }
}

/// A random id for this process's invocation (12 hex digits), the same for every run.
pub fn invocation_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(now_unix().as_nanos());
        h.write_u32(std::process::id());
        format!("{:012x}", h.finish() & 0xffff_ffff_ffff)
    })
}

fn now_unix() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// The current time as RFC 3339 UTC with milliseconds.
pub fn now_rfc3339() -> String {
    rfc3339(now_unix())
}

/// A time since the Unix epoch as RFC 3339 UTC with milliseconds.
pub fn rfc3339(t: Duration) -> String {
    let secs = t.as_secs();
    let (y, mo, d) = civil_from_days((secs / 86_400) as i64);
    let s = secs % 86_400;
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        s / 3600,
        s / 60 % 60,
        s % 60,
        t.subsec_millis()
    )
}

/// Year, month, day of a day count since 1970-01-01 (Howard Hinnant's algorithm).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// This machine's name: `$HOSTNAME`, else the kernel's, else `/etc/hostname`.
pub fn host() -> Option<String> {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
}

/// The git commit of the repository holding `file` and whether the file has uncommitted
/// changes; `None` outside a repository or without git.
pub fn scenario_commit(file: &Path) -> Option<(String, bool)> {
    let dir = file.parent().filter(|d| !d.as_os_str().is_empty());
    let dir = dir.unwrap_or(Path::new("."));
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .stderr(std::process::Stdio::null())
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    let commit = git(&["rev-parse", "HEAD"])?;
    let name = file.file_name()?.to_string_lossy().into_owned();
    let dirty = git(&["status", "--porcelain", "--", &name]).is_some_and(|s| !s.is_empty());
    Some((commit, dirty))
}

/// What does not change between the runs of one invocation: host, runner version, the
/// scenario file and its commit.
pub fn invocation(scenario_file: Option<&Path>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("host".into(), json!(host()));
    m.insert("runner_version".into(), json!(env!("CARGO_PKG_VERSION")));
    if let Some(f) = scenario_file {
        m.insert("scenario_file".into(), json!(f.display().to_string()));
        let commit = scenario_commit(f);
        m.insert(
            "scenario_commit".into(),
            json!(commit.as_ref().map(|c| &c.0)),
        );
        m.insert("scenario_dirty".into(), json!(commit.map(|c| c.1)));
    }
    m
}

fn str_at<'a>(v: &'a Value, keys: &[&str]) -> Option<&'a str> {
    keys.iter()
        .find_map(|k| v[*k].as_str().filter(|s| !s.is_empty()))
}

/// What the answers of `/server_info`, `/version`, `/props` and `/v1/models` say about the
/// server (each `None` when it did not answer 200 with JSON).
pub fn describe_server(
    info: Option<&Value>,
    version: Option<&Value>,
    props: Option<&Value>,
    models: Option<&Value>,
) -> Value {
    let mut from = Vec::new();
    let (mut kind, mut ver, mut model) = (None, None, None);
    if let Some(v) = info {
        from.push("/server_info");
        kind = Some("sglang");
        ver = str_at(v, &["version"]).map(str::to_owned);
        model = str_at(v, &["served_model_name", "model_path"]).map(str::to_owned);
    }
    if let Some(v) = version {
        from.push("/version");
        kind = kind.or(Some("vllm"));
        ver = ver.or_else(|| str_at(v, &["version"]).map(str::to_owned));
    }
    if let Some(v) = props {
        from.push("/props");
        kind = kind.or(Some("llama.cpp"));
        ver = ver.or_else(|| str_at(v, &["build_info", "version"]).map(str::to_owned));
        model = model.or_else(|| str_at(v, &["model_alias", "model_path"]).map(str::to_owned));
    }
    if let Some(v) = models {
        from.push("/v1/models");
        let first = &v["data"][0];
        model = model.or_else(|| str_at(first, &["id"]).map(str::to_owned));
        kind = kind.or_else(|| match str_at(first, &["owned_by"]) {
            Some("vllm") => Some("vllm"),
            Some("sglang") => Some("sglang"),
            Some("llamacpp") => Some("llama.cpp"),
            _ => None,
        });
    }
    json!({"kind": kind, "version": ver, "model": model, "from": from})
}

/// Parse `KEY=VALUE` (`--label`).
pub fn parse_label(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.to_owned())),
        _ => Err(format!(
            "`{s}` is not KEY=VALUE (e.g. --label server=sglang-0.5.3)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_formats_utc_with_millis() {
        assert_eq!(rfc3339(Duration::ZERO), "1970-01-01T00:00:00.000Z");
        // 2024-02-29 is day 19782: 19782 * 86400 = 1_709_164_800.
        let t = Duration::from_millis(1_709_164_800_000 + 13 * 3_600_000 + 5 * 60_000 + 9_042);
        assert_eq!(rfc3339(t), "2024-02-29T13:05:09.042Z");
    }

    #[test]
    fn invocation_id_is_stable_hex() {
        let id = invocation_id();
        assert_eq!(id.len(), 12);
        assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(invocation_id(), id);
    }

    #[test]
    fn servers_describe_themselves() {
        // SGLang: /server_info has both; /v1/models agrees.
        let info = json!({"version": "0.5.3", "served_model_name": "llama", "model_path": "/m"});
        let models = json!({"data": [{"id": "llama", "owned_by": "sglang"}]});
        assert_eq!(
            describe_server(Some(&info), None, None, Some(&models)),
            json!({"kind": "sglang", "version": "0.5.3", "model": "llama",
                "from": ["/server_info", "/v1/models"]})
        );
        // vLLM: /version and /v1/models.
        let v = json!({"version": "0.11.0"});
        let models = json!({"data": [{"id": "Qwen/Qwen3-8B", "owned_by": "vllm"}]});
        assert_eq!(
            describe_server(None, Some(&v), None, Some(&models)),
            json!({"kind": "vllm", "version": "0.11.0", "model": "Qwen/Qwen3-8B",
                "from": ["/version", "/v1/models"]})
        );
        // llama.cpp: /props has the build and the model file.
        let props = json!({"build_info": "b6500-0123abc", "model_path": "/m/q4.gguf"});
        let models = json!({"data": [{"id": "q4.gguf", "owned_by": "llamacpp"}]});
        assert_eq!(
            describe_server(None, None, Some(&props), Some(&models)),
            json!({"kind": "llama.cpp", "version": "b6500-0123abc", "model": "/m/q4.gguf",
                "from": ["/props", "/v1/models"]})
        );
        // Nothing answered.
        assert_eq!(
            describe_server(None, None, None, None),
            json!({"kind": null, "version": null, "model": null, "from": []})
        );
    }

    #[test]
    fn labels_parse() {
        assert_eq!(
            parse_label("gpu=h100").unwrap(),
            ("gpu".into(), "h100".into())
        );
        assert_eq!(parse_label("a=b=c").unwrap(), ("a".into(), "b=c".into()));
        assert!(parse_label("nokey").is_err());
        assert!(parse_label("=v").is_err());
    }
}
