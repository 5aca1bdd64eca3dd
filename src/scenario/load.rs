//! Reading scenario files: file → `${ENV}` interpolation → YAML/TOML → JSON value →
//! schema and semantic validation → [`Scenario`].
//!
//! Every problem found is reported at once as a [`Diagnostic`] with file, line:column and
//! field path; see [`super::validate`].

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::Scenario;
use super::locate::{Format, Locations, Pos};
use super::validate::{self, Diagnostic};

/// A scenario that loaded and validated.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The file it came from.
    pub path: PathBuf,
    /// The typed scenario.
    pub scenario: Scenario,
}

/// Why a scenario could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read scenario {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file name does not say YAML, JSON or TOML.
    #[error("{path}: unknown scenario format; use a .yaml, .yml, .json or .toml file")]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// Syntax, interpolation, schema or semantic problems, all of them.
    #[error("{}", render(.0))]
    Invalid(Vec<Diagnostic>),
    /// The path is a directory.
    #[error("{path} is a directory; give a scenario file (.yaml, .yml, .json or .toml)")]
    Directory {
        /// The directory.
        path: PathBuf,
    },
}

impl LoadError {
    /// The diagnostics, if the file was read but is invalid.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            LoadError::Invalid(d) => d,
            _ => &[],
        }
    }
}

fn render(diags: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diags {
        out.push_str(&d.to_string());
        out.push('\n');
    }
    let n = diags.len();
    out.push_str(&format!(
        "{n} problem{} found",
        if n == 1 { "" } else { "s" }
    ));
    out
}

/// The format a file name implies.
pub fn format_of(path: &Path) -> Option<Format> {
    match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
        // JSON is YAML.
        "yaml" | "yml" | "json" => Some(Format::Yaml),
        "toml" => Some(Format::Toml),
        _ => None,
    }
}

/// Read, interpolate, parse and validate a scenario file.
pub fn load(path: &Path) -> Result<Loaded, LoadError> {
    if path.is_dir() {
        return Err(LoadError::Directory {
            path: path.to_owned(),
        });
    }
    let format = format_of(path).ok_or_else(|| LoadError::UnknownFormat {
        path: path.to_owned(),
    })?;
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io {
        path: path.to_owned(),
        source,
    })?;
    let scenario = load_str(&text, &path.display().to_string(), format)?;
    Ok(Loaded {
        path: path.to_owned(),
        scenario,
    })
}

/// Interpolate, parse and validate scenario text; `file` names it in diagnostics.
/// Header values and the environment values in URLs, headers and `extra_body` are
/// registered as secrets (see [`super::secrets`]): no message or results file shows them.
pub fn load_str(text: &str, file: &str, format: Format) -> Result<Scenario, LoadError> {
    let env = std::cell::RefCell::new(Vec::new());
    let read = |name: &str| {
        let v = std::env::var(name).ok();
        if let Some(v) = &v {
            env.borrow_mut().push((name.to_owned(), v.clone()));
        }
        v
    };
    let checked = interpolate(text, file, read).and_then(|text| {
        let value = parse(&text, file, format).map_err(|d| vec![d])?;
        if value.is_null() {
            let d = Diagnostic::at(file, Pos::new(1, 1), "", "the file is empty")
                .with_hint("a scenario needs at least `name`, `targets` and `datasets`");
            return Err(vec![d]);
        }
        let locations = Locations::build(&text, format);
        validate::check(value, file, &locations)
    });
    match checked {
        Ok(s) => {
            super::secrets::register_scenario(&s, &env.borrow());
            Ok(s)
        }
        Err(d) => {
            super::secrets::register_env(&env.borrow());
            Err(LoadError::Invalid(d))
        }
    }
}

/// Replace `${VAR}` and `${VAR:-default}` with environment values; `$${` is a literal `${`.
/// Lines that are comments (first non-blank character `#`) are left alone. Every unset
/// variable without a default is reported.
pub fn interpolate(
    text: &str,
    file: &str,
    env: impl Fn(&str) -> Option<String>,
) -> Result<String, Vec<Diagnostic>> {
    let mut out = String::with_capacity(text.len());
    let mut problems = Vec::new();
    for (lineno, line) in text.split_inclusive('\n').enumerate() {
        if line.trim_start().starts_with('#') {
            out.push_str(line);
            continue;
        }
        let mut rest = line;
        while let Some(at) = rest.find('$') {
            out.push_str(&rest[..at]);
            let tail = &rest[at..];
            if let Some(after) = tail.strip_prefix("$${") {
                out.push_str("${");
                rest = after;
            } else if let Some(body) = tail.strip_prefix("${") {
                let col = line.len() - tail.len() + 1;
                let Some(end) = body.find('}') else {
                    problems.push(Diagnostic::at(
                        file,
                        Pos::new(lineno + 1, col),
                        "",
                        "unterminated `${` (write `$${` for a literal `${`)",
                    ));
                    out.push_str(tail);
                    break;
                };
                let expr = &body[..end];
                let (name, default) = match expr.split_once(":-") {
                    Some((n, d)) => (n, Some(d)),
                    None => (expr, None),
                };
                match (
                    env(name).filter(|v| !v.is_empty() || default.is_none()),
                    default,
                ) {
                    (Some(v), _) => out.push_str(&v),
                    (None, Some(d)) => out.push_str(d),
                    (None, None) => problems.push(
                        Diagnostic::at(
                            file,
                            Pos::new(lineno + 1, col),
                            "",
                            format!("environment variable `{name}` is not set"),
                        )
                        .with_hint(format!(
                            "export {name}=…, or give a default: ${{{name}:-value}}"
                        )),
                    ),
                }
                rest = &body[end + 1..];
            } else {
                out.push('$');
                rest = &tail[1..];
            }
        }
        out.push_str(rest);
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// Parse YAML (anchors and merge keys applied) or TOML into a JSON value. A YAML `.inf`
/// becomes the string `"inf"`.
pub fn parse(text: &str, file: &str, format: Format) -> Result<Value, Diagnostic> {
    match format {
        Format::Yaml => {
            let mut v: serde_yaml_ng::Value = serde_yaml_ng::from_str(text).map_err(|e| {
                if let Some((pos, key)) = super::dupkey::find(text) {
                    return Diagnostic::at(file, pos, "", format!("duplicate key `{key}`"))
                        .with_hint("each key may appear once per mapping; remove one");
                }
                let pos = e
                    .location()
                    .map(|l| Pos::new(l.line(), l.column()))
                    .unwrap_or(Pos::new(1, 1));
                Diagnostic::at(file, pos, "", format!("YAML syntax error: {e}"))
            })?;
            v.apply_merge().map_err(|e| {
                Diagnostic::at(file, Pos::new(1, 1), "", format!("YAML merge error: {e}"))
            })?;
            Ok(yaml_to_json(v))
        }
        Format::Toml => {
            let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
                let pos = e
                    .span()
                    .map(|s| Pos::from_offset(text, s.start))
                    .unwrap_or(Pos::new(1, 1));
                Diagnostic::at(file, pos, "", format!("TOML syntax error: {}", e.message()))
            })?;
            Ok(toml_to_json(toml::Value::Table(table)))
        }
    }
}

fn yaml_to_json(v: serde_yaml_ng::Value) -> Value {
    use serde_yaml_ng::Value as Y;
    match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                if f.is_finite() {
                    Value::from(f)
                } else if f > 0.0 {
                    Value::from("inf")
                } else {
                    Value::from(f.to_string())
                }
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(yaml_to_json).collect()),
        Y::Mapping(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| (yaml_key(k), yaml_to_json(v)))
                .collect(),
        ),
        Y::Tagged(t) => yaml_to_json(t.value),
    }
}

fn yaml_key(k: serde_yaml_ng::Value) -> String {
    match k {
        serde_yaml_ng::Value::String(s) => s,
        other => match yaml_to_json(other) {
            Value::String(s) => s,
            v => v.to_string(),
        },
    }
}

fn toml_to_json(v: toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Float(f) if f.is_infinite() && f > 0.0 => Value::from("inf"),
        toml::Value::Float(f) => Value::from(f),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.into_iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => {
            Value::Object(t.into_iter().map(|(k, v)| (k, toml_to_json(v))).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "HOST" => Some("10.0.0.1".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn interpolates_values_and_defaults() {
        let out = interpolate(
            "a: ${HOST}\nb: ${PORT:-8000}\nc: $${HOST}\nd: ${EMPTY:-x}\n# ${NOPE}\ne: $5\n",
            "f.yaml",
            env,
        )
        .unwrap();
        assert_eq!(
            out,
            "a: 10.0.0.1\nb: 8000\nc: ${HOST}\nd: x\n# ${NOPE}\ne: $5\n"
        );
    }

    #[test]
    fn names_every_unset_variable_with_its_position() {
        let err = interpolate("a: 1\nb: ${TOKEN}\nc: x${OTHER}\n", "f.yaml", env).unwrap_err();
        assert_eq!(err.len(), 2);
        assert_eq!(err[0].pos, Pos::new(2, 4));
        assert!(err[0].message.contains("`TOKEN` is not set"));
        assert_eq!(err[1].pos, Pos::new(3, 5));
        assert!(err[1].message.contains("`OTHER`"));
    }

    #[test]
    fn yaml_merge_keys_and_inf() {
        let v = parse(
            "base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  y: 3\nr: [.inf, inf, 2]\n",
            "f.yaml",
            Format::Yaml,
        )
        .unwrap();
        assert_eq!(v["m"], serde_json::json!({"y": 3, "x": 1}));
        assert_eq!(v["r"], serde_json::json!(["inf", "inf", 2]));
    }

    #[test]
    fn syntax_errors_have_positions() {
        let d = parse("a: [1, 2\nb: 3\n", "f.yaml", Format::Yaml).unwrap_err();
        assert!(d.message.starts_with("YAML syntax error"), "{}", d.message);
        assert!(d.pos.line >= 1);
        let d = parse("a = \nb = 2\n", "f.toml", Format::Toml).unwrap_err();
        assert!(d.message.starts_with("TOML syntax error"), "{}", d.message);
        assert_eq!(d.pos.line, 1);
    }
}
