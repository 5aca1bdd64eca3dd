//! The scenario `--dump-scenario` prints, without secrets.
//!
//! In: the one-run scenario built from the flags. Out: its YAML with every `--header` value
//! replaced by a `${RUNNER_HEADER_<NAME>}` reference (and a comment saying what to export),
//! so a printed or committed scenario never carries a key, and `runner run` reads the value
//! from the environment.

use crate::scenario::Scenario;

/// The environment variable that stands for header `name`'s value.
pub fn header_var(name: &str) -> String {
    let upper: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("RUNNER_HEADER_{upper}")
}

/// The scenario as a file: a schema line, a note, then YAML (through JSON, so enums are
/// plain maps, never YAML tags).
pub fn to_yaml(s: &Scenario) -> String {
    let value = serde_json::to_value(s).expect("a scenario serializes");
    let body = serde_yaml_ng::to_string(&value).expect("JSON values serialize as YAML");
    format!(
        "# yaml-language-server: $schema=../schema/scenario.schema.json\n\
         # Made by `runner bench --dump-scenario`; `runner run FILE` sends the same requests\n\
         # on the same schedule.\n{body}"
    )
}

/// `s` as a scenario file, header values as environment references.
pub fn without_secrets(s: &Scenario) -> String {
    let mut s = s.clone();
    let mut vars = Vec::new();
    for t in &mut s.targets {
        for (name, value) in &mut t.headers {
            let var = header_var(name);
            *value = format!("${{{var}}}");
            vars.push(var);
        }
    }
    let yaml = to_yaml(&s);
    if vars.is_empty() {
        return yaml;
    }
    let exports: Vec<String> = vars.iter().map(|v| format!("{v}=…")).collect();
    let (schema, rest) = yaml.split_once('\n').unwrap_or((&yaml, ""));
    format!(
        "{schema}\n# --header values are not written here: export {} (the values given to\n\
         # --header) before `runner run`.\n{rest}",
        exports.join(" ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names_become_variable_names() {
        assert_eq!(header_var("Authorization"), "RUNNER_HEADER_AUTHORIZATION");
        assert_eq!(header_var("x-api-key"), "RUNNER_HEADER_X_API_KEY");
    }
}
