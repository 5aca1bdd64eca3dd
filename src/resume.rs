//! Resuming a sweep: which runs of a results directory are already done for this scenario.
//!
//! In: the loaded scenario and the results directory. Out: the scenario hash written on
//! every run line (`scenario_hash`), `scenario.json` (the resolved scenario the directory's
//! runs came from), and for `--resume` the set of finished run ids and their lines.
//!
//! The hash covers the whole resolved scenario (after `${VAR}` substitution and defaults)
//! except the values of `targets[].headers` (API keys and tokens live there; the header
//! names stay in): 16 hex digits of FNV-1a over its JSON text. A run counts as done when a
//! line with its `run_id` and this hash is in `runs.jsonl` and is not marked
//! `"stopped": "interrupted"`.

use std::collections::HashSet;
use std::path::Path;

use anyhow::{Context, Result};
use serde_json::Value;

use crate::scenario::Scenario;

/// `--resume` refused: the scenario is not the one the results came from.
#[derive(Debug, thiserror::Error)]
#[error(
    "--resume: {dir} holds results of a different scenario; changed: {}\n    hint: run \
     without --resume to append, with --fresh to start over, or with --output DIR",
    changed.join(", ")
)]
pub struct ScenarioChanged {
    /// The results directory.
    pub dir: String,
    /// Paths that differ (`load.request_rate`, `targets[0].embedded`, …).
    pub changed: Vec<String>,
}

/// The resolved scenario as JSON, header values blanked and every registered secret
/// (`${VAR}` values, [`crate::scenario::secrets`]) replaced by its reference, so neither
/// `scenario.json` nor the hash holds a key.
pub fn scenario_value(s: &Scenario) -> Value {
    let mut v = serde_json::to_value(s).expect("a scenario serializes");
    if let Some(targets) = v.get_mut("targets").and_then(Value::as_array_mut) {
        for t in targets {
            if let Some(h) = t.get_mut("headers").and_then(Value::as_object_mut) {
                for value in h.values_mut() {
                    *value = Value::String(String::new());
                }
            }
        }
    }
    redact_strings(&mut v);
    v
}

fn redact_strings(v: &mut Value) {
    match v {
        Value::String(text) => {
            if let std::borrow::Cow::Owned(r) = crate::scenario::secrets::redact(text) {
                *text = r;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_strings),
        Value::Object(map) => map.values_mut().for_each(redact_strings),
        _ => {}
    }
}

/// The hash of a scenario value, as written in `scenario_hash`.
pub fn hash(v: &Value) -> String {
    format!("{:016x}", crate::sim::hash::fnv(v.to_string().as_bytes()))
}

/// Paths (`load.request_rate`, `targets[1].name`) where `old` and `new` differ, descending
/// into objects and equally long arrays.
pub fn changed_paths(old: &Value, new: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(old, new, String::new(), &mut out);
    out
}

fn walk(old: &Value, new: &Value, path: String, out: &mut Vec<String>) {
    if old == new {
        return;
    }
    let join = |k: &str| {
        if path.is_empty() {
            k.to_owned()
        } else {
            format!("{path}.{k}")
        }
    };
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.dedup();
            let mut seen = HashSet::new();
            for k in keys {
                if seen.insert(k) {
                    let null = Value::Null;
                    walk(
                        a.get(k).unwrap_or(&null),
                        b.get(k).unwrap_or(&null),
                        join(k),
                        out,
                    );
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                walk(x, y, format!("{path}[{i}]"), out);
            }
        }
        _ => out.push(if path.is_empty() {
            "(all)".into()
        } else {
            path
        }),
    }
}

/// Compare the scenario with the directory's `scenario.json` (for `--resume`), then write it.
pub fn record_scenario(dir: &Path, current: &Value, resume: bool) -> Result<()> {
    let path = dir.join("scenario.json");
    if resume && path.exists() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let old: Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not JSON", path.display()))?;
        let changed = changed_paths(&old, current);
        if !changed.is_empty() {
            return Err(ScenarioChanged {
                dir: dir.display().to_string(),
                changed,
            }
            .into());
        }
    }
    let text = serde_json::to_string_pretty(current).expect("JSON serializes");
    std::fs::write(&path, text + "\n").with_context(|| format!("cannot write {}", path.display()))
}

/// What `runs.jsonl` already holds for a scenario hash.
#[derive(Debug, Clone, Default)]
pub struct Previous {
    /// Run ids finished (not interrupted).
    pub done: HashSet<String>,
    /// Their lines, in file order.
    pub lines: Vec<Value>,
    /// Point ids with an aggregate line.
    pub aggregated: HashSet<String>,
}

/// Read the lines of `runs.jsonl` written for `hash`; a missing file is an empty result,
/// unreadable lines are skipped.
pub fn previous(runs_jsonl: &Path, hash: &str) -> Result<Previous> {
    let mut p = Previous::default();
    let text = match std::fs::read_to_string(runs_jsonl) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(p),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", runs_jsonl.display())),
    };
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if v["scenario_hash"].as_str() != Some(hash) {
            continue;
        }
        let Some(id) = v["run_id"].as_str().map(str::to_owned) else {
            continue;
        };
        if v["record"] == "aggregate" {
            p.aggregated.insert(id);
        } else if v["stopped"] != "interrupted" && p.done.insert(id) {
            p.lines.push(v);
        }
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn changed_paths_name_the_fields() {
        let a = json!({"name": "q", "load": {"request_rate": [1, 2]}, "targets": [{"name": "a"}]});
        let b = json!({"name": "q", "load": {"request_rate": [1, 3]}, "targets": [{"name": "b"}],
                       "repeat": 3});
        assert_eq!(
            changed_paths(&a, &b),
            ["load.request_rate[1]", "targets[0].name", "repeat"]
        );
        assert!(changed_paths(&a, &a).is_empty());
        let c = json!({"load": {"request_rate": [1]}});
        assert_eq!(
            changed_paths(&json!({"load": {"request_rate": [1, 2]}}), &c),
            ["load.request_rate"]
        );
    }

    #[test]
    fn header_values_are_not_hashed_but_names_are() {
        let text = |h: &str| {
            format!(
                "name: t\ntargets:\n  - {{name: a, backend: vllm, base_url: 'http://127.0.0.1:1', \
                 headers: {h}}}\ndatasets:\n  - {{name: x, kind: random}}\n"
            )
        };
        let load = |h: &str| {
            crate::scenario::load_str(&text(h), "t.yaml", crate::scenario::locate::Format::Yaml)
                .unwrap()
        };
        let a = hash(&scenario_value(&load("{Authorization: secret1}")));
        let b = hash(&scenario_value(&load("{Authorization: secret2}")));
        let c = hash(&scenario_value(&load("{X-Key: secret1}")));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.len(), 16);
        let v = scenario_value(&load("{Authorization: secret1}"));
        assert!(!v.to_string().contains("secret1"));
    }

    #[test]
    fn previous_runs_skip_interrupted_and_other_scenarios() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runs.jsonl");
        let lines = [
            json!({"run_id": "a", "scenario_hash": "h", "stopped": null}),
            json!({"run_id": "b", "scenario_hash": "h", "stopped": "interrupted"}),
            json!({"run_id": "c", "scenario_hash": "other", "stopped": null}),
            json!({"run_id": "d", "scenario_hash": "h", "stopped": "error_budget"}),
            json!({"record": "aggregate", "run_id": "p", "scenario_hash": "h"}),
        ];
        let text: String = lines.iter().map(|l| format!("{l}\nnot json\n")).collect();
        std::fs::write(&path, text).unwrap();
        let p = previous(&path, "h").unwrap();
        let mut done: Vec<&str> = p.done.iter().map(String::as_str).collect();
        done.sort();
        assert_eq!(done, ["a", "d"]);
        assert_eq!(p.lines.len(), 2);
        assert!(p.aggregated.contains("p"));
        assert!(
            previous(&dir.path().join("none.jsonl"), "h")
                .unwrap()
                .done
                .is_empty()
        );
    }
}
