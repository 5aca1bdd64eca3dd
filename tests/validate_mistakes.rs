//! `runner validate` catches what a run would otherwise hit: body templates that use unknown
//! variables or do not render JSON, `output_len: 0`, multi-turn datasets on non-chat
//! backends, names that leave the results directory, an empty `output.dir`; structural errors
//! do not hide them; duplicate keys, quoted numbers, empty files, directories and `.json`
//! files get messages that say what is wrong and where.

mod support;

use std::path::{Path, PathBuf};

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Exit code and stderr of `runner validate FILE`.
fn validate(path: &Path) -> (Option<i32>, String) {
    let out = support::runner()
        .arg("validate")
        .arg(path)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout),
    )
}

/// `line:col: field: message` lines, without the file name.
fn located(out: &str, file: &Path) -> Vec<String> {
    let prefix = format!("{}:", file.display());
    out.lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .map(str::to_owned)
        .collect()
}

const MISTAKES: &str = r#"name: "../../escaped"
targets:
  - name: t
    backend: sglang-oai
    embedded: {}
    template: '{"model": {{ model }}, "prompt": {{ prompt | tojson }}}'
datasets:
  - name: conv
    kind: generated-shared-prefix
    num_groups: 2
    prompts_per_group: 2
    num_turns: 3
  - name: zero
    kind: random
    num_prompts: 4
    input_len: 8
    output_len: 0
request:
  template: '{"prompt": {{ promt | tojson }}, "max_tokens": {{ output_len }}}'
output:
  dir: ""
"#;

#[test]
fn every_mistake_a_run_would_hit_is_reported_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "s.yaml", MISTAKES);
    let (code, out) = validate(&f);
    assert_eq!(code, Some(2), "{out}");
    let got = located(&out, &f);
    let want = [
        "1:1: name: name `../../escaped` contains a path separator; names are identifiers",
        "6:5: targets[0].template: the template's output is not JSON (expected value at line 1 column 11); for a sample request it renders `{\"model\": model, \"prompt\": \"Hello\"}`",
        "9:5: datasets[0].kind: dataset `conv` replays multi-turn conversations, which need a chat backend; target `t` uses `sglang-oai`",
        "17:5: datasets[1].output_len: `output_len: 0` asks for no output; every streamed request would fail (`stream_no_output`)",
        "19:3: request.template: template line 1: undefined variable `promt`",
        "21:3: output.dir: `output.dir` is empty",
    ];
    assert_eq!(got, want, "{out}");
    assert!(out.contains("hint: did you mean `prompt`?"), "{out}");
}

#[test]
fn structural_errors_do_not_hide_the_others() {
    let dir = tempfile::tempdir().unwrap();
    // A schema error (a string concurrency) beside a raw-value problem (output_len: 0) and an
    // unknown kind whose options are still checked as the closest kind's.
    let f = write(
        dir.path(),
        "s.yaml",
        "name: s\ntargets:\n  - {name: t, backend: vllm, embedded: {}}\ndatasets:\n  - name: d\n    kind: randm\n    num_prompts: many\n    input_len: 8\n    output_len: 0\nload:\n  max_concurrency: lots\n",
    );
    let (code, out) = validate(&f);
    assert_eq!(code, Some(2), "{out}");
    let fields: Vec<String> = located(&out, &f)
        .iter()
        .map(|l| l.split(':').nth(2).unwrap().trim().to_owned())
        .collect();
    assert_eq!(
        fields,
        [
            "datasets[0].kind",
            "datasets[0].num_prompts",
            "datasets[0].output_len",
            "load.max_concurrency"
        ],
        "{out}"
    );
    assert!(out.contains("unknown kind `randm`"), "{out}");
    assert!(out.contains("hint: did you mean `random`?"), "{out}");
}

#[test]
fn duplicate_keys_quoted_numbers_and_empty_files_say_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let base = "name: s\ntargets:\n  - {name: t, backend: vllm, embedded: {}}\ndatasets:\n  - name: d\n    kind: random\n    num_prompts: 4\n    input_len: 8\n";
    let dup = write(
        dir.path(),
        "dup.yaml",
        &format!("{base}    output_len: 8\n    output_len: 9\n"),
    );
    let (code, out) = validate(&dup);
    assert_eq!(code, Some(2), "{out}");
    assert_eq!(
        located(&out, &dup),
        ["10:5: duplicate key `output_len`"],
        "{out}"
    );

    let quoted = write(
        dir.path(),
        "q.yaml",
        &format!("{base}    output_len: \"8\"\n"),
    );
    let (code, out) = validate(&quoted);
    assert_eq!(code, Some(2), "{out}");
    assert_eq!(
        located(&out, &quoted),
        ["9:5: datasets[0].output_len: expected an integer, got the string \"8\""],
        "{out}"
    );
    assert!(
        out.contains("hint: remove the quotes: `8`, not `\"8\"`"),
        "{out}"
    );

    let empty = write(dir.path(), "e.yaml", "# nothing yet\n");
    let (code, out) = validate(&empty);
    assert_eq!(code, Some(2), "{out}");
    assert_eq!(located(&out, &empty), ["1:1: the file is empty"], "{out}");

    let (code, out) = validate(dir.path());
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("is a directory; give a scenario file"),
        "{out}"
    );
}

#[test]
fn json_scenarios_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "s.json",
        r#"{"name": "s", "targets": [{"name": "t", "backend": "vllm", "embedded": {}}],
  "datasets": [{"name": "d", "kind": "random", "num_prompts": 4, "input_len": 8, "output_len": 4}]}"#,
    );
    let (code, out) = validate(&f);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("ok (1 run)"), "{out}");
}
