//! Body templates: a minijinja template that renders a request's whole JSON body, replacing
//! the backend's default body (`request.template`, or a target's `template`).
//!
//! In: the template source, then per request a context object (see docs/scenarios.md: `model`,
//! `prompt`, `messages`, `output_len`, `images`, `stream`, `ignore_eos`, `temperature`,
//! `top_p`, `lora`, `extra`, `index`, `seed`, `default_body`). Out: the body as JSON. Undefined
//! variables are errors, nothing is auto-escaped (use `| tojson` for strings), and the rendered
//! text must parse as JSON. Every error names the template line it comes from.

use minijinja::Environment;
use serde_json::Value;

/// A compiled body template.
pub struct BodyTemplate {
    env: Environment<'static>,
    name: String,
}

impl std::fmt::Debug for BodyTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodyTemplate")
            .field("name", &self.name)
            .finish()
    }
}

pub use crate::scenario::template::TemplateError;
use crate::scenario::template::{compile, error};

impl BodyTemplate {
    /// Compile `source`; `name` says where it comes from in error messages.
    pub fn compile(name: &str, source: &str) -> Result<BodyTemplate, TemplateError> {
        Ok(BodyTemplate {
            env: compile(name, source)?,
            name: name.to_owned(),
        })
    }

    /// Render the body for one request's context.
    pub fn render(&self, ctx: &Value) -> Result<Value, TemplateError> {
        let tmpl = self.env.get_template("body").expect("added at compile");
        let ctx = minijinja::Value::from(minijinja::value::Serde(ctx));
        let text = tmpl
            .render(ctx.clone())
            .map_err(|e| error(&self.name, &e))?;
        serde_json::from_str(&text).map_err(|e| {
            // Find the template line that wrote the offending output byte.
            let offset = byte_offset(&text, e.line(), e.column());
            let line = tmpl
                .render_with_spans(ctx)
                .ok()
                .and_then(|(_, spans)| {
                    spans
                        .iter()
                        .filter(|s| s.output_range().start <= offset)
                        .max_by_key(|s| s.output_range().start)
                        .map(|s| s.line())
                })
                .unwrap_or(0);
            let out_line = text.lines().nth(e.line().saturating_sub(1)).unwrap_or("");
            let out_line: String = out_line.chars().take(120).collect();
            TemplateError {
                name: self.name.clone(),
                line,
                message: format!("the rendered body is not JSON ({e}): `{}`", out_line.trim()),
            }
        })
    }
}

/// Byte offset of a 1-based (line, column) position in `text`.
fn byte_offset(text: &str, line: usize, column: usize) -> usize {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    (start + column.saturating_sub(1)).min(text.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const TEMPLATE: &str = r#"{
  "model": {{ model | tojson }},
  "input": {{ prompt | tojson }},
  "parameters": {"max_new_tokens": {{ output_len }}, "seed": {{ seed + index }}},
  {%- if lora %} "adapter": {{ lora | tojson }},{% endif %}
  "stream": {{ stream | tojson }}
}"#;

    fn ctx() -> Value {
        json!({"model": "m", "prompt": "say \"hi\"", "output_len": 4, "seed": 42, "index": 1,
               "lora": null, "stream": true})
    }

    #[test]
    fn renders_json() {
        let t = BodyTemplate::compile("request.template", TEMPLATE).unwrap();
        assert_eq!(
            t.render(&ctx()).unwrap(),
            json!({"model": "m", "input": "say \"hi\"",
                   "parameters": {"max_new_tokens": 4, "seed": 43}, "stream": true})
        );
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let e = BodyTemplate::compile("request.template", "{\n  \"a\": {{ model }\n}").unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        assert!(
            e.to_string()
                .starts_with("request.template: line 2: syntax error"),
            "{e}"
        );
    }

    #[test]
    fn undefined_variables_name_the_line() {
        let t = BodyTemplate::compile("t", "{\n\"a\": 1,\n\"b\": {{ modle }}\n}").unwrap();
        let e = t.render(&ctx()).unwrap_err();
        assert_eq!(e.line, 3, "{e}");
        assert!(e.message.contains("undefined"), "{e}");
    }

    #[test]
    fn output_that_is_not_json_names_the_line_that_wrote_it() {
        // `prompt` is written without tojson: the quotes inside break the JSON.
        let t = BodyTemplate::compile(
            "t",
            "{\n\"model\": \"{{ model }}\",\n\"input\": \"{{ prompt }}\"\n}",
        )
        .unwrap();
        let e = t.render(&ctx()).unwrap_err();
        assert_eq!(e.line, 3, "{e}");
        assert!(e.message.contains("not JSON"), "{e}");
    }
}
