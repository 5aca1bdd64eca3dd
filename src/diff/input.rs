//! Reading the inputs of `runner diff`: a results directory (its `runs.jsonl`, else its
//! `summary.csv`), a `runs.jsonl`, a `summary.csv` (any runner version's columns: cells are
//! read by column name), or a bench_serving JSONL result file (its keys, spec §7, with the
//! bare `Infinity` / `NaN` tokens Python's json writes).
//!
//! In: a path. Out: an [`Input`] with one [`Row`] per result line, in file order. Lines with
//! `"record": "aggregate"` are derived from the repeat lines beside them and are skipped.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

/// One result line or row.
#[derive(Debug, Clone)]
pub struct Row {
    /// The line's keys and values.
    pub fields: Map<String, Value>,
}

impl Row {
    /// A numeric field, also from a numeric string; `None` when absent, null or not finite.
    pub fn num(&self, key: &str) -> Option<f64> {
        match self.fields.get(key)? {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        }
        .filter(|v| v.is_finite())
    }

    /// A field as text for keys and labels: strings bare, numbers normalised (`20.0` and `20`
    /// both read `20`; `Infinity`, `inf` read `inf`), null as `-`.
    pub fn text(&self, key: &str) -> String {
        match self.fields.get(key) {
            None | Some(Value::Null) => "-".into(),
            Some(Value::String(s)) => match s.trim().parse::<f64>() {
                Ok(v) => number_text(v),
                Err(_) => s.clone(),
            },
            Some(Value::Number(n)) => n.as_f64().map_or_else(|| n.to_string(), number_text),
            Some(v) => v.to_string(),
        }
    }
}

fn number_text(v: f64) -> String {
    if v.is_infinite() {
        if v > 0.0 { "inf" } else { "-inf" }.into()
    } else {
        format!("{v}")
    }
}

/// One input file's rows.
#[derive(Debug, Clone)]
pub struct Input {
    /// The path as given.
    pub path: PathBuf,
    /// The file actually read (a directory's runs.jsonl or summary.csv).
    pub file: PathBuf,
    /// Rows in file order.
    pub rows: Vec<Row>,
    /// Aggregate lines skipped.
    pub aggregates: usize,
}

impl Input {
    /// Every row has a `run_id` (runner's results); otherwise rows are joined on key columns.
    pub fn has_run_ids(&self) -> bool {
        self.rows.iter().all(|r| r.fields.contains_key("run_id"))
    }
}

/// Read one input.
pub fn read(path: &Path) -> Result<Input, String> {
    let file = if path.is_dir() {
        ["runs.jsonl", "summary.csv"]
            .iter()
            .map(|n| path.join(n))
            .find(|p| p.is_file())
            .ok_or_else(|| {
                format!(
                    "{}: a directory without runs.jsonl or summary.csv; give a results \
                     directory written by `runner run`, or a result file",
                    path.display()
                )
            })?
    } else {
        path.to_owned()
    };
    let text = std::fs::read_to_string(&file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    // CSV by name, or by content (`summary.csv.bak`): JSON lines start with `{`.
    let is_csv = file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
        || !text.trim_start().starts_with('{');
    let rows = if is_csv {
        csv_rows(&text).map_err(|e| format!("{}: {e}", file.display()))?
    } else {
        jsonl_rows(&text).map_err(|e| format!("{}: {e}", file.display()))?
    };
    let total = rows.len();
    let rows: Vec<Row> = rows
        .into_iter()
        .filter(|r| r.fields.get("record").and_then(Value::as_str) != Some("aggregate"))
        .collect();
    if total == 0 {
        return Err(format!("{}: no result lines", file.display()));
    }
    Ok(Input {
        path: path.to_owned(),
        file,
        aggregates: total - rows.len(),
        rows,
    })
}

fn jsonl_rows(text: &str) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(&python_json(line))
            .map_err(|e| format!("line {}: not a JSON object ({e})", i + 1))?;
        let Value::Object(fields) = v else {
            return Err(format!("line {}: not a JSON object", i + 1));
        };
        rows.push(Row { fields });
    }
    Ok(rows)
}

/// Python's `json.dumps` writes `Infinity`, `-Infinity` and `NaN` bare; make them strict
/// JSON (`"inf"`, `"-inf"`, null) without touching the insides of strings.
pub fn python_json(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let (mut in_str, mut escaped) = (false, false);
    let mut rest = line;
    while let Some(c) = rest.chars().next() {
        if in_str {
            in_str = escaped || c != '"';
            escaped = !escaped && c == '\\';
        } else if c == '"' {
            in_str = true;
        } else {
            let token = [
                ("-Infinity", "\"-inf\""),
                ("Infinity", "\"inf\""),
                ("NaN", "null"),
            ]
            .into_iter()
            .find(|(t, _)| rest.starts_with(t));
            if let Some((t, with)) = token {
                out.push_str(with);
                rest = &rest[t.len()..];
                continue;
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

fn csv_rows(text: &str) -> Result<Vec<Row>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| e.to_string())?
        .iter()
        .map(str::to_owned)
        .collect();
    let mut rows = Vec::new();
    for rec in reader.records() {
        let rec = rec.map_err(|e| e.to_string())?;
        let mut fields = Map::new();
        for (name, cell) in header.iter().zip(rec.iter()) {
            let v = if cell.is_empty() {
                Value::Null
            } else if name == "labels" {
                serde_json::from_str(cell).unwrap_or_else(|_| Value::String(cell.into()))
            } else {
                match cell
                    .parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                {
                    Some(n) if name != "run_id" => Value::Number(n),
                    _ => Value::String(cell.into()),
                }
            };
            fields.insert(name.clone(), v);
        }
        rows.push(Row { fields });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_tokens_become_strict_json() {
        assert_eq!(
            python_json(
                r#"{"request_rate": Infinity, "x": NaN, "y": -Infinity, "s": "NaN Infinity \" NaN"}"#
            ),
            r#"{"request_rate": "inf", "x": null, "y": "-inf", "s": "NaN Infinity \" NaN"}"#
        );
    }

    #[test]
    fn keys_and_numbers_normalise() {
        let rows = jsonl_rows("{\"request_rate\": Infinity, \"max_concurrency\": 16.0, \"a\": null, \"p\": 1.5}\n\n{\"request_rate\": 20}\n").unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].text("request_rate"), "inf");
        assert_eq!(rows[0].text("max_concurrency"), "16");
        assert_eq!(rows[0].text("a"), "-");
        assert_eq!(rows[0].num("p"), Some(1.5));
        assert_eq!(rows[0].num("request_rate"), None);
        assert_eq!(rows[1].text("request_rate"), "20");
        let rows = csv_rows(
            "run_id,request_rate,p99_ttft_ms,labels\n1,inf,3.5,\"{\"\"a\"\":\"\"b\"\"}\"\n",
        )
        .unwrap();
        assert_eq!(rows[0].text("run_id"), "1");
        assert_eq!(rows[0].text("request_rate"), "inf");
        assert_eq!(rows[0].num("p99_ttft_ms"), Some(3.5));
        assert_eq!(rows[0].fields["labels"]["a"], "b");
    }
}
