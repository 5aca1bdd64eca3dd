//! Validation of a parsed scenario: JSON Schema checks (every error at once), then the
//! semantic checks a schema cannot express. In: the scenario as a JSON value plus the source
//! positions of its nodes. Out: a typed [`Scenario`] or every [`Diagnostic`] found.

use std::fmt;
use std::sync::OnceLock;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{ValidationError, Validator};
use serde_json::Value;

use super::Scenario;
use super::locate::{Locations, Pos};
use super::problem::closest;

/// One problem in a scenario file.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// The file.
    pub file: String,
    /// Where in it (1-based line and column).
    pub pos: Pos,
    /// JSON pointer of the field (`/targets/0/backend`; empty for the whole file).
    pub pointer: String,
    /// What is wrong.
    pub message: String,
    /// What to do about it, when there is something useful to say.
    pub hint: Option<String>,
}

impl Diagnostic {
    /// A diagnostic at a known position.
    pub fn at(file: &str, pos: Pos, pointer: &str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            file: file.to_owned(),
            pos,
            pointer: pointer.to_owned(),
            message: message.into(),
            hint: None,
        }
    }

    /// Adds a hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hint = Some(hint.into());
        self
    }

    /// The field path in dotted form: `targets[0].backend`.
    pub fn field(&self) -> String {
        let mut out = String::new();
        for seg in self.pointer.split('/').skip(1) {
            let seg = seg.replace("~1", "/").replace("~0", "~");
            if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
                out.push_str(&format!("[{seg}]"));
            } else {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(&seg);
            }
        }
        out
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.pos.line, self.pos.col)?;
        let field = self.field();
        if !field.is_empty() {
            write!(f, "{field}: ")?;
        }
        f.write_str(&self.message)?;
        if let Some(h) = &self.hint {
            write!(f, "\n    hint: {h}")?;
        }
        Ok(())
    }
}

/// Validate `value` (parsed from `file`) and build the typed scenario.
pub fn check(mut value: Value, file: &str, loc: &Locations) -> Result<Scenario, Vec<Diagnostic>> {
    if let Value::Object(map) = &mut value {
        map.retain(|k, _| !k.starts_with("x-"));
    }
    let mut diags = Vec::new();
    for err in validator().iter_errors(&value) {
        flatten(&err, &mut |pointer, message, hint| {
            let pos = loc.best(pointer);
            let mut d = Diagnostic::at(file, pos, pointer, message);
            d.hint = hint;
            diags.push(d);
        });
    }
    // Checks of the raw value run whatever the schema says, so fixing structural errors
    // does not reveal a second round of problems.
    let schema_ok = diags.is_empty();
    diags.extend(located(super::raw::problems(&value), file, loc));
    if schema_ok {
        match serde_json::from_value::<Scenario>(value) {
            Ok(scenario) => {
                diags.extend(located(super::semantic::problems(&scenario), file, loc));
                if diags.is_empty() {
                    return super::optional::apply(scenario).map_err(|m| {
                        vec![Diagnostic::at(file, loc.best("/targets"), "/targets", m)]
                    });
                }
            }
            Err(e) => diags.push(Diagnostic::at(file, Pos::new(1, 1), "", e.to_string())),
        }
    }
    diags.sort_by_key(|d| (d.pos.line, d.pos.col));
    diags.dedup();
    Err(diags)
}

fn schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(Scenario::json_schema)
}

fn validator() -> &'static Validator {
    static VALIDATOR: OnceLock<Validator> = OnceLock::new();
    VALIDATOR
        .get_or_init(|| jsonschema::validator_for(schema()).expect("generated schema compiles"))
}

type Sink<'a> = dyn FnMut(&str, String, Option<String>) + 'a;

/// Turn one schema error into user-facing diagnostics. Alternatives (`anyOf`/`oneOf`) are
/// resolved to the branch the user most likely meant, so a typo in a tagged enum's field is
/// reported as that field's problem, not as "matches no alternative".
fn flatten(err: &ValidationError<'_>, sink: &mut Sink<'_>) {
    let base = err.instance_path().as_str().to_owned();
    match err.kind() {
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            alternatives(err.instance(), &base, context, sink)
        }
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let allowed = allowed_properties(err.schema_path().as_str());
            for name in unexpected {
                let pointer = format!("{base}/{}", name.replace('~', "~0").replace('/', "~1"));
                let hint = closest(name, &allowed)
                    .map(|c| format!("did you mean `{c}`?"))
                    .or_else(|| {
                        (!allowed.is_empty())
                            .then(|| format!("expected one of: {}", allowed.join(", ")))
                    });
                sink(&pointer, format!("unknown field `{name}`"), hint);
            }
        }
        _ => sink(&base, message(err.kind(), err.instance()), quoted_hint(err)),
    }
}

/// A number or boolean written in quotes: say so.
fn quoted_hint(err: &ValidationError<'_>) -> Option<String> {
    let (ValidationErrorKind::Type { .. }, Value::String(s)) =
        (err.kind(), err.instance().as_ref())
    else {
        return None;
    };
    let unquoted: Value = serde_json::from_str(s).ok()?;
    (!unquoted.is_string()).then(|| format!("remove the quotes: `{s}`, not `\"{s}\"`"))
}

fn alternatives(
    instance: &Value,
    base: &str,
    context: &[Vec<ValidationError<'static>>],
    sink: &mut Sink<'_>,
) {
    let kind_ptr = format!("{base}/kind");
    let at_kind = |b: &Vec<ValidationError<'static>>| {
        b.iter().any(|e| e.instance_path().as_str() == kind_ptr)
    };
    if let Some(kind) = instance.get("kind")
        && !context.is_empty()
        && context.iter().all(at_kind)
    {
        let expected = const_strings(context.iter().flatten());
        let got = kind
            .as_str()
            .map_or_else(|| kind.to_string(), str::to_owned);
        let hint = closest(&got, &expected).map(|c| format!("did you mean `{c}`?"));
        let msg = format!(
            "unknown kind `{got}`; expected one of: {}",
            expected.join(", ")
        );
        let likely = closest(&got, &expected);
        sink(&kind_ptr, msg, hint);
        // The options are checked as those of the kind the user most likely meant.
        if let Some(branch) = likely.and_then(|k| {
            context
                .iter()
                .find(|b| const_strings(b.iter()).contains(&k))
        }) {
            for e in branch
                .iter()
                .filter(|e| e.instance_path().as_str() != kind_ptr)
            {
                flatten(e, sink);
            }
        }
        return;
    }
    let candidates: Vec<&Vec<ValidationError<'static>>> = if instance.get("kind").is_some() {
        context.iter().filter(|b| !at_kind(b)).collect()
    } else {
        context.iter().collect()
    };
    // One branch left (a tagged enum with a known `kind`): its own errors say it best.
    if let [only] = candidates.as_slice() {
        for e in only.iter() {
            flatten(e, sink);
        }
        return;
    }
    let shallow = candidates
        .iter()
        .all(|b| b.iter().all(|e| e.instance_path().as_str() == base));
    if shallow {
        let mut wanted = Vec::new();
        for e in candidates.iter().copied().flatten() {
            let w = expectation(e);
            if !wanted.contains(&w) {
                wanted.push(w);
            }
        }
        let consts = const_strings(candidates.iter().copied().flatten());
        let hint = instance
            .as_str()
            .and_then(|s| closest(s, &consts))
            .map(|c| format!("did you mean `{c}`?"));
        let msg = if !consts.is_empty() && consts.len() == wanted.len() {
            format!("{} is not one of: {}", short(instance), consts.join(", "))
        } else {
            format!(
                "{} is not valid here; expected {}",
                short(instance),
                wanted.join(" or ")
            )
        };
        return sink(base, msg, hint);
    }
    let depth = |b: &Vec<ValidationError<'static>>| {
        b.iter()
            .map(|e| e.instance_path().as_str().matches('/').count())
            .max()
            .unwrap_or(0)
    };
    if let Some(best) = candidates
        .iter()
        .max_by(|a, b| depth(a).cmp(&depth(b)).then(b.len().cmp(&a.len())))
    {
        for e in best.iter() {
            flatten(e, sink);
        }
    }
}

/// The string constants failed `const` keywords wanted (an enum's or a tag's values).
fn const_strings<'e>(errors: impl Iterator<Item = &'e ValidationError<'static>>) -> Vec<String> {
    errors
        .filter_map(|e| match e.kind() {
            ValidationErrorKind::Constant { expected_value } => {
                expected_value.as_str().map(str::to_owned)
            }
            _ => None,
        })
        .collect()
}

/// What a failed keyword wanted, for "expected A or B" messages.
fn expectation(e: &ValidationError<'_>) -> String {
    match e.kind() {
        ValidationErrorKind::Type { kind } => article_types(kind),
        ValidationErrorKind::Constant { expected_value } => format!("{expected_value}"),
        ValidationErrorKind::ExclusiveMinimum { limit } => format!("a number > {limit}"),
        ValidationErrorKind::Minimum { limit } => format!("a value >= {limit}"),
        ValidationErrorKind::Maximum { limit } => format!("a value <= {limit}"),
        ValidationErrorKind::MinItems { limit } => format!("a list of at least {limit}"),
        ValidationErrorKind::Enum { options } => format!("one of {options}"),
        ValidationErrorKind::AnyOf { context } => {
            let wanted: Vec<String> = context.iter().flatten().map(expectation).collect();
            wanted.join(" or ")
        }
        _ => e.to_string(),
    }
}

fn article_types(kind: &TypeKind) -> String {
    let name = |t: &jsonschema::JsonType| {
        let s = t.to_string();
        match s.as_str() {
            "array" => "a list".to_owned(),
            "object" => "a mapping".to_owned(),
            "integer" => "an integer".to_owned(),
            "null" => "null".to_owned(),
            "boolean" => "true or false".to_owned(),
            other => format!("a {other}"),
        }
    };
    match kind {
        TypeKind::Single(t) => name(t),
        TypeKind::Multiple(ts) => ts.iter().map(|t| name(&t)).collect::<Vec<_>>().join(" or "),
    }
}

fn message(kind: &ValidationErrorKind, instance: &Value) -> String {
    let v = short(instance);
    match kind {
        ValidationErrorKind::Type { kind } => match instance {
            Value::String(s) => format!(
                "expected {}, got the string \"{}\"",
                article_types(kind),
                s.chars().take(56).collect::<String>()
            ),
            Value::Null => format!("expected {}, got nothing (null)", article_types(kind)),
            _ => format!("expected {}, got {v}", article_types(kind)),
        },
        ValidationErrorKind::Required { property } => {
            format!(
                "missing required field `{}`",
                property.as_str().unwrap_or("?")
            )
        }
        ValidationErrorKind::Enum { options } => format!("{v} is not one of {options}"),
        ValidationErrorKind::Constant { expected_value } => {
            format!("expected {expected_value}, got {v}")
        }
        ValidationErrorKind::Minimum { limit } => format!("{v} is too small: at least {limit}"),
        ValidationErrorKind::Maximum { limit } => format!("{v} is too large: at most {limit}"),
        ValidationErrorKind::ExclusiveMinimum { limit } => {
            format!("{v} must be greater than {limit}")
        }
        ValidationErrorKind::MinItems { limit } => {
            format!(
                "needs at least {limit} entr{}",
                if *limit == 1 { "y" } else { "ies" }
            )
        }
        ValidationErrorKind::Pattern { pattern } => format!("{v} does not match `{pattern}`"),
        other => format!("{v}: {other:?}"),
    }
}

/// A value as it appears in messages: strings in backticks, others as compact JSON.
fn short(v: &Value) -> String {
    let s = match v {
        Value::String(s) => format!("`{s}`"),
        other => format!("`{other}`"),
    };
    if s.chars().count() > 60 {
        format!("{}…`", s.chars().take(56).collect::<String>())
    } else {
        s
    }
}

/// Property names allowed by the schema object that owns an `additionalProperties` keyword.
fn allowed_properties(schema_path: &str) -> Vec<String> {
    let parent = schema_path
        .strip_suffix("/additionalProperties")
        .unwrap_or(schema_path);
    schema()
        .pointer(parent)
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

/// Problems as diagnostics, each located in the file.
fn located(problems: Vec<super::Problem>, file: &str, loc: &Locations) -> Vec<Diagnostic> {
    problems
        .into_iter()
        .map(|p| Diagnostic {
            hint: p.hint,
            ..Diagnostic::at(file, loc.best(&p.pointer), &p.pointer, p.message)
        })
        .collect()
}
