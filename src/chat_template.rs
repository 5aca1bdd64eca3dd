//! Hugging Face chat templates rendered with minijinja.
//!
//! In: a model's `tokenizer_config.json` (its `chat_template` string, or the `default` entry of
//! a named-template list; or a `chat_template.jinja` file beside it) and a message list. Out:
//! the prompt text, as `tokenizer.apply_chat_template(messages, tokenize=False,
//! add_generation_prompt=…)` renders it in Python.
//!
//! What makes the output match transformers: `trim_blocks` and `lstrip_blocks` on, Python
//! string and dict methods (`minijinja-contrib` pycompat), `raise_exception`, `strftime_now`,
//! loop controls, a `tojson` with Python's separators, no HTML escaping and insertion-ordered
//! keys, and the `bos_token`/`eos_token`/`unk_token`/`pad_token` variables. The
//! transformers-only `{% generation %}` block tags are removed before compiling.

use minijinja::value::{Kwargs, Value};
use minijinja::{Environment, Error, ErrorKind, UndefinedBehavior};
use serde::Serialize;

use crate::provenance::civil_from_days;

/// A compiled chat template and the special-token strings it may use.
pub struct ChatTemplate {
    env: Environment<'static>,
    /// `bos_token` of the config (empty when absent).
    pub bos_token: String,
    /// `eos_token` of the config (empty when absent).
    pub eos_token: String,
    unk_token: String,
    pad_token: String,
}

impl std::fmt::Debug for ChatTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatTemplate")
            .field("bos_token", &self.bos_token)
            .field("eos_token", &self.eos_token)
            .finish()
    }
}

/// The string of a special token in `tokenizer_config.json`: a plain string or an
/// `AddedToken` object with `content`.
pub fn token_string(v: Option<&serde_json::Value>) -> String {
    match v {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Object(o)) => o
            .get("content")
            .and_then(|c| c.as_str())
            .unwrap_or_default()
            .to_owned(),
        _ => String::new(),
    }
}

/// The template text of a `chat_template` config value: a string, or a list of
/// `{name, template}` whose `default` entry is taken.
pub fn template_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Array(list) => list
            .iter()
            .find(|t| t["name"] == "default")
            .and_then(|t| t["template"].as_str())
            .map(str::to_owned),
        _ => None,
    }
}

impl ChatTemplate {
    /// Compile `source` with the special tokens of `config` (a parsed `tokenizer_config.json`).
    pub fn new(source: &str, config: &serde_json::Value) -> Result<ChatTemplate, Error> {
        let mut env = Environment::new();
        env.set_syntax(
            minijinja::syntax::SyntaxConfig::builder()
                .trim_blocks(true)
                .lstrip_blocks(true)
                .build()?,
        );
        env.set_undefined_behavior(UndefinedBehavior::Lenient);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_function("raise_exception", raise_exception);
        env.add_function("strftime_now", strftime_now);
        env.add_filter("tojson", py_tojson);
        env.add_template_owned("chat_template", strip_generation_tags(source))?;
        Ok(ChatTemplate {
            env,
            bos_token: token_string(config.get("bos_token")),
            eos_token: token_string(config.get("eos_token")),
            unk_token: token_string(config.get("unk_token")),
            pad_token: token_string(config.get("pad_token")),
        })
    }

    /// The template of a parsed `tokenizer_config.json`, if it has one.
    pub fn from_config(config: &serde_json::Value) -> Result<Option<ChatTemplate>, Error> {
        match config.get("chat_template").and_then(template_text) {
            Some(src) => ChatTemplate::new(&src, config).map(Some),
            None => Ok(None),
        }
    }

    /// Render `messages` (`[{role, content}, …]`), with the assistant header appended when
    /// `add_generation_prompt`, and `tools` when given.
    pub fn render(
        &self,
        messages: &[serde_json::Value],
        add_generation_prompt: bool,
        tools: Option<&serde_json::Value>,
    ) -> Result<String, Error> {
        let tmpl = self.env.get_template("chat_template")?;
        let ctx = Context {
            messages,
            add_generation_prompt,
            tools,
            bos_token: &self.bos_token,
            eos_token: &self.eos_token,
            unk_token: &self.unk_token,
            pad_token: &self.pad_token,
        };
        tmpl.render(Value::from(minijinja::value::Serde(&ctx)))
    }
}

#[derive(Serialize)]
struct Context<'a> {
    messages: &'a [serde_json::Value],
    add_generation_prompt: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    tools: Option<&'a serde_json::Value>,
    bos_token: &'a str,
    eos_token: &'a str,
    unk_token: &'a str,
    pad_token: &'a str,
}

fn raise_exception(msg: String) -> Result<Value, Error> {
    Err(Error::new(ErrorKind::InvalidOperation, msg))
}

/// Remove `{% generation %}` / `{% endgeneration %}` tags (transformers' assistant-mask
/// extension), keeping what they enclose.
fn strip_generation_tags(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let mut rest = src;
    while let Some(start) = rest.find("{%") {
        let Some(len) = rest[start..].find("%}") else {
            break;
        };
        let tag = &rest[start + 2..start + len];
        let word = tag.trim_matches(|c: char| c == '-' || c == '+' || c.is_whitespace());
        out.push_str(&rest[..start]);
        if word != "generation" && word != "endgeneration" {
            out.push_str(&rest[start..start + len + 2]);
        }
        rest = &rest[start + len + 2..];
    }
    out.push_str(rest);
    out
}

/// Python's `json.dumps(value, ensure_ascii=False, indent=indent)`, as transformers'
/// `tojson` filter: `", "` and `": "` separators, keys in insertion order, no HTML escaping.
fn py_tojson(value: &Value, indent: Option<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let indent = match kwargs.get::<Option<Value>>("indent")?.or(indent) {
        Some(v) if v.is_none() || v.is_undefined() => None,
        Some(v) => Some(
            usize::try_from(v.clone())
                .map_err(|_| Error::new(ErrorKind::InvalidOperation, "indent must be a number"))?,
        ),
        None => None,
    };
    let _: Option<Value> = kwargs.get("ensure_ascii")?;
    let sort: Option<bool> = kwargs.get("sort_keys")?;
    kwargs.assert_all_used()?;
    let mut json = serde_json::to_value(value)
        .map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))?;
    if sort == Some(true) {
        json = sorted(json);
    }
    let mut buf = Vec::new();
    let res = match indent {
        Some(n) => {
            let pad = vec![b' '; n];
            let fmt = serde_json::ser::PrettyFormatter::with_indent(&pad);
            json.serialize(&mut serde_json::Serializer::with_formatter(&mut buf, fmt))
        }
        None => json.serialize(&mut serde_json::Serializer::with_formatter(
            &mut buf, PyCompact,
        )),
    };
    res.map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))?;
    Ok(Value::from(
        String::from_utf8(buf).expect("serde_json writes UTF-8"),
    ))
}

/// Python's `json.dumps(value)` (separators `", "` and `": "`, non-ASCII kept).
pub fn py_json(value: &serde_json::Value) -> String {
    let mut buf = Vec::new();
    value
        .serialize(&mut serde_json::Serializer::with_formatter(
            &mut buf, PyCompact,
        ))
        .expect("a JSON value serializes");
    String::from_utf8(buf).expect("serde_json writes UTF-8")
}

fn sorted(v: serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(m) => {
            let mut entries: Vec<_> = m.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            serde_json::Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        serde_json::Value::Array(a) => {
            serde_json::Value::Array(a.into_iter().map(sorted).collect())
        }
        other => other,
    }
}

/// serde_json formatter with Python's default separators `", "` and `": "`.
struct PyCompact;

impl serde_json::ser::Formatter for PyCompact {
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }
}

/// transformers' `strftime_now(format)`: the current UTC time formatted with the common
/// `strftime` codes (`%d %m %Y %y %b %B %a %A %H %M %S %j %%`).
fn strftime_now(format: String) -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    strftime(secs, &format)
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// Format a Unix time (UTC) with a subset of `strftime`.
pub fn strftime(unix_s: i64, format: &str) -> String {
    let days = unix_s.div_euclid(86_400);
    let secs = unix_s.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let weekday = (days + 3).rem_euclid(7) as usize; // 1970-01-01 was a Thursday
    let yday = days - days_from_civil(y, 1, 1) + 1;
    let mut out = String::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('d') => out.push_str(&format!("{d:02}")),
            Some('m') => out.push_str(&format!("{m:02}")),
            Some('Y') => out.push_str(&y.to_string()),
            Some('y') => out.push_str(&format!("{:02}", y.rem_euclid(100))),
            Some('b') => out.push_str(&MONTHS[m as usize - 1][..3]),
            Some('B') => out.push_str(MONTHS[m as usize - 1]),
            Some('a') => out.push_str(&DAYS[weekday][..3]),
            Some('A') => out.push_str(DAYS[weekday]),
            Some('H') => out.push_str(&format!("{:02}", secs / 3600)),
            Some('M') => out.push_str(&format!("{:02}", secs / 60 % 60)),
            Some('S') => out.push_str(&format!("{:02}", secs % 60)),
            Some('j') => out.push_str(&format!("{yday:03}")),
            Some('%') => out.push('%'),
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    out
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render(src: &str, msgs: serde_json::Value, gen_prompt: bool) -> String {
        let t = ChatTemplate::new(src, &json!({"bos_token": "<s>", "eos_token": "</s>"})).unwrap();
        t.render(msgs.as_array().unwrap(), gen_prompt, None)
            .unwrap()
    }

    #[test]
    fn strftime_formats_known_dates() {
        assert_eq!(strftime(0, "%d %b %Y"), "01 Jan 1970");
        assert_eq!(
            strftime(1_721_952_000, "%d %B %Y %A %j"),
            "26 July 2024 Friday 208"
        );
        assert_eq!(
            strftime(951_782_400 + 3723, "%Y-%m-%d %H:%M:%S %y %a"),
            "2000-02-29 01:02:03 00 Tue"
        );
    }

    #[test]
    fn tojson_is_pythons() {
        let src = "{{ messages[0] | tojson }}|{{ messages[0] | tojson(indent=2) }}";
        let out = render(
            src,
            json!([{"role": "user", "content": "a<b & c's é", "z": [1, 2]}]),
            false,
        );
        assert_eq!(
            out,
            "{\"role\": \"user\", \"content\": \"a<b & c's é\", \"z\": [1, 2]}|{\n  \"role\": \"user\",\n  \"content\": \"a<b & c's é\",\n  \"z\": [\n    1,\n    2\n  ]\n}"
        );
    }

    #[test]
    fn helpers_and_python_methods() {
        let src = "{% if messages[0]['role'] != 'user' %}{{ raise_exception('bad role ' + messages[0]['role']) }}{% endif %}{{ messages[0].content.strip().upper() }}{% generation %}x{% endgeneration %}";
        assert_eq!(
            render(src, json!([{"role": "user", "content": "  hi "}]), false),
            "HIx"
        );
        let t = ChatTemplate::new(src, &json!({})).unwrap();
        let e = t
            .render(&[json!({"role": "system", "content": "x"})], false, None)
            .unwrap_err();
        assert!(e.to_string().contains("bad role system"), "{e}");
    }
}
