//! Checks that run on the scenario as parsed, before (and whether or not) it fits the typed
//! model, so a structural error elsewhere does not hide them: names that would leave the
//! results directory, an empty `output.dir`, `output_len: 0`, body templates that use unknown
//! variables or do not render JSON. In: the scenario as a JSON value. Out: every [`Problem`].

use serde_json::Value;

use super::{Problem, template};

/// Every problem found in the raw value.
pub fn problems(v: &Value) -> Vec<Problem> {
    let mut out = Vec::new();
    name(&mut out, "/name", v.get("name"));
    for list in ["targets", "datasets"] {
        for (i, item) in items(v, list) {
            name(&mut out, &format!("/{list}/{i}/name"), item.get("name"));
        }
    }
    if v.pointer("/output/dir").and_then(Value::as_str) == Some("") {
        out.push(
            Problem::new("/output/dir", "`output.dir` is empty")
                .hint("leave it out for results/<scenario name>, or name a directory"),
        );
    }
    for (i, d) in items(v, "datasets") {
        if d.get("output_len").and_then(Value::as_u64) == Some(0) {
            out.push(
                Problem::new(
                    format!("/datasets/{i}/output_len"),
                    "`output_len: 0` asks for no output; every streamed request would fail \
                     (`stream_no_output`)",
                )
                .hint("ask for at least 1 token"),
            );
        }
    }
    let num = |p: &str| v.pointer(p).and_then(Value::as_f64);
    let (temperature, top_p) = (num("/request/temperature"), num("/request/top_p"));
    if let Some(src) = v.pointer("/request/template").and_then(Value::as_str) {
        out.extend(template::problems(
            "/request/template",
            "request.template",
            src,
            temperature,
            top_p,
        ));
    }
    for (i, t) in items(v, "targets") {
        if let Some(src) = t.get("template").and_then(Value::as_str) {
            out.extend(template::problems(
                &format!("/targets/{i}/template"),
                &format!("targets[{i}].template"),
                src,
                temperature,
                top_p,
            ));
        }
    }
    out
}

fn items<'v>(v: &'v Value, list: &str) -> impl Iterator<Item = (usize, &'v Value)> {
    v.get(list)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
}

/// Names become directory and file names: no path separators, no `..`, not empty.
fn name(out: &mut Vec<Problem>, pointer: &str, v: Option<&Value>) {
    let Some(s) = v.and_then(Value::as_str) else {
        return;
    };
    let bad = if s.is_empty() {
        Some("is empty")
    } else if s.contains(['/', '\\']) {
        Some("contains a path separator")
    } else if s.contains("..") {
        Some("contains `..`")
    } else {
        None
    };
    if let Some(why) = bad {
        out.push(
            Problem::new(pointer, format!("name `{s}` {why}; names are identifiers"))
                .hint("use letters, digits, `.`, `_` and `-` (results are written under the name)"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pointers(v: Value) -> Vec<String> {
        problems(&v).into_iter().map(|p| p.pointer).collect()
    }

    #[test]
    fn names_output_dir_and_output_len() {
        let v = json!({
            "name": "../../escaped",
            "targets": [{"name": "a/b"}, {"name": "ok"}],
            "datasets": [{"name": "..", "output_len": 0}, {"name": "d", "output_len": 1}],
            "output": {"dir": ""}
        });
        assert_eq!(
            pointers(v),
            [
                "/name",
                "/targets/0/name",
                "/datasets/0/name",
                "/output/dir",
                "/datasets/0/output_len"
            ]
        );
        assert_eq!(
            pointers(json!({"name": "quick.start-1_x"})),
            Vec::<String>::new()
        );
    }

    #[test]
    fn templates_are_rendered_whatever_else_is_wrong() {
        let v = json!({"targets": "not a list",
                       "request": {"template": "{\"p\": {{ promt | tojson }}}"}});
        let p = problems(&v);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].pointer, "/request/template");
        assert_eq!(p[0].message, "template line 1: undefined variable `promt`");
    }
}
