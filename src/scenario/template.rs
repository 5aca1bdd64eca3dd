//! Compiling body templates (`request.template`, a target's `template`): the half of
//! `protocol::template` that validation needs.
//!
//! In: a template's source. Out: a minijinja environment holding it as `body` (undefined
//! variables are errors, nothing is auto-escaped), or the [`TemplateError`] naming its line.

use minijinja::{Environment, UndefinedBehavior};
use serde_json::{Value, json};

use super::Problem;

/// A template that does not compile, fails to render, or renders something that is not JSON.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{name}: line {line}: {message}")]
pub struct TemplateError {
    /// Where the template comes from (`request.template`, `targets[1].template`).
    pub name: String,
    /// 1-based line in the template source (0 when unknown).
    pub line: usize,
    /// What went wrong.
    pub message: String,
}

/// Compile `source` as the template `body`; `name` says where it comes from in errors.
pub fn compile(name: &str, source: &str) -> Result<Environment<'static>, TemplateError> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env.add_template_owned("body", source.to_owned())
        .map_err(|e| error(name, &e))?;
    Ok(env)
}

/// A minijinja error as a [`TemplateError`] of template `name`.
pub fn error(name: &str, e: &minijinja::Error) -> TemplateError {
    let message = match e.detail() {
        Some(d) => format!("{}: {d}", e.kind()),
        None => e.kind().to_string(),
    };
    TemplateError {
        name: name.to_owned(),
        line: e.line().unwrap_or(0),
        message,
    }
}

/// The variables a body template can use: the context every request renders with.
pub const CONTEXT_KEYS: &[&str] = &[
    "model",
    "prompt",
    "messages",
    "output_len",
    "images",
    "stream",
    "ignore_eos",
    "temperature",
    "top_p",
    "lora",
    "extra",
    "index",
    "seed",
    "default_body",
];

/// A representative request context: what a text prompt of a streamed request renders with
/// (`temperature`/`top_p` as the scenario sets them, null when it does not).
fn sample_context(temperature: Option<f64>, top_p: Option<f64>) -> Value {
    let messages = json!([{"role": "user", "content": "Hello"}]);
    json!({
        "model": "model",
        "prompt": "Hello",
        "messages": messages,
        "output_len": 16,
        "images": [],
        "stream": true,
        "ignore_eos": false,
        "temperature": temperature,
        "top_p": top_p,
        "lora": null,
        "extra": {},
        "index": 0,
        "seed": 0,
        "default_body": {
            "model": "model", "prompt": "Hello", "text": "Hello", "messages": messages,
            "max_tokens": 16, "max_completion_tokens": 16, "stream": true,
            "sampling_params": {"max_new_tokens": 16, "temperature": 0.0, "ignore_eos": false},
            "temperature": 0.0, "ignore_eos": false, "best_of": 1,
        },
    })
}

/// Every problem with the template at `pointer` (`name` locates it in messages): syntax
/// errors, variables the request context does not hold (named), and output that is not JSON
/// when rendered for a representative request.
pub fn problems(
    pointer: &str,
    name: &str,
    source: &str,
    temperature: Option<f64>,
    top_p: Option<f64>,
) -> Vec<Problem> {
    let env = match compile(name, source) {
        Ok(env) => env,
        Err(e) => {
            return vec![Problem::new(
                pointer,
                format!("template line {}: {}", e.line, e.message),
            )];
        }
    };
    let tmpl = env.get_template("body").expect("added at compile");
    let globals: Vec<String> = env.globals().map(|(k, _)| k.to_owned()).collect();
    let mut unknown: Vec<String> = tmpl
        .undeclared_variables(false)
        .into_iter()
        .filter(|v| !CONTEXT_KEYS.contains(&v.as_str()) && !globals.contains(v))
        .collect();
    unknown.sort();
    if !unknown.is_empty() {
        let keys: Vec<String> = CONTEXT_KEYS.iter().map(|k| (*k).to_owned()).collect();
        return unknown
            .iter()
            .map(|v| {
                let hint = match super::problem::closest(v, &keys) {
                    Some(c) => format!("did you mean `{c}`?"),
                    None => format!("the variables are: {}", CONTEXT_KEYS.join(", ")),
                };
                Problem::new(
                    pointer,
                    format!(
                        "template line {}: undefined variable `{v}`",
                        line_of(source, v)
                    ),
                )
                .hint(hint)
            })
            .collect();
    }
    let ctx = minijinja::Value::from(minijinja::value::Serde(sample_context(temperature, top_p)));
    match tmpl.render(ctx) {
        // Depends on a value only a real request has (an attribute of `default_body`).
        Err(e) if e.kind() == minijinja::ErrorKind::UndefinedError => Vec::new(),
        Err(e) => {
            let e = error(name, &e);
            vec![Problem::new(
                pointer,
                format!("template line {}: {}", e.line, e.message),
            )]
        }
        Ok(text) => match serde_json::from_str::<Value>(&text) {
            Ok(_) => Vec::new(),
            Err(e) => {
                let out: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
                let out: String = out.chars().take(100).collect();
                vec![
                    Problem::new(
                        pointer,
                        format!(
                            "the template's output is not JSON ({e}); for a sample request it renders `{out}`"
                        ),
                    )
                    .hint("write strings with `| tojson`: {{ prompt | tojson }}"),
                ]
            }
        },
    }
}

/// The 1-based line of the first use of identifier `word` in `source` (1 when not found).
fn line_of(source: &str, word: &str) -> usize {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    for (i, line) in source.lines().enumerate() {
        let mut from = 0;
        while let Some(at) = line[from..].find(word) {
            let start = from + at;
            let end = start + word.len();
            let before = line[..start].chars().next_back().is_none_or(|c| !ident(c));
            let after = line[end..].chars().next().is_none_or(|c| !ident(c));
            if before && after {
                return i + 1;
            }
            from = end;
        }
    }
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msgs(src: &str) -> Vec<String> {
        problems("/request/template", "request.template", src, None, None)
            .into_iter()
            .map(|p| format!("{} | {}", p.message, p.hint.unwrap_or_default()))
            .collect()
    }

    #[test]
    fn undefined_variables_are_named_with_their_line() {
        let m = msgs("{\n  \"prompt\": {{ promt | tojson }},\n  \"n\": {{ output_len }}\n}");
        assert_eq!(
            m,
            ["template line 2: undefined variable `promt` | did you mean `prompt`?"]
        );
    }

    #[test]
    fn output_that_is_not_json_is_reported() {
        let m = msgs("{\"prompt\": {{ prompt }}}");
        assert_eq!(m.len(), 1);
        assert!(
            m[0].starts_with("the template's output is not JSON"),
            "{m:?}"
        );
        assert!(m[0].contains("{\"prompt\": Hello}"), "{m:?}");
    }

    #[test]
    fn good_templates_and_loops_pass() {
        let src = "{\"model\": {{ model | tojson }}, \"input\": {{ prompt | tojson }}, \
                   \"ids\": [{% for m in messages %}{{ loop.index }}{% if not loop.last %},{% endif %}{% endfor %}], \
                   \"max\": {{ default_body.max_tokens }}, \"r\": {{ range(2) | list | tojson }}}";
        assert_eq!(msgs(src), Vec::<String>::new());
        // An attribute only the real backend body has is left to run time.
        assert_eq!(
            msgs("{\"x\": {{ default_body.nope }}}"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn syntax_errors_keep_their_line() {
        assert_eq!(
            msgs("{\n\"a\": {{ model }\n}"),
            ["template line 2: syntax error: unexpected `}`, expected end of variable block | "]
        );
    }
}
