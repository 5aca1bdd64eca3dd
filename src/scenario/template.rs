//! Compiling body templates (`request.template`, a target's `template`): the half of
//! `protocol::template` that validation needs.
//!
//! In: a template's source. Out: a minijinja environment holding it as `body` (undefined
//! variables are errors, nothing is auto-escaped), or the [`TemplateError`] naming its line.

use minijinja::{Environment, UndefinedBehavior};

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

/// The problem with a template at `pointer`, if it does not compile.
pub fn problem(pointer: &str, name: &str, source: &str) -> Option<super::Problem> {
    let e = compile(name, source).err()?;
    Some(super::Problem::new(
        pointer,
        format!("template line {}: {}", e.line, e.message),
    ))
}
