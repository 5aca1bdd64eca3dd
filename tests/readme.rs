//! Every example in README.md runs as written: each YAML block validates (fragments are
//! completed into a one-target scenario on the embedded server first; a `request:` fragment
//! is also run there and every request must complete), and each command in a `sh` block runs. Commands
//! that need a live server are checked without one: `runner bench` with `--dump-scenario`
//! (its flags parse into a scenario, nothing is sent). `SKIP` lists the rest, with why.

mod support;

use std::path::Path;

use support::runner;

/// Commands not run here, and why.
const SKIP: &[(&str, &str)] = &[("cargo test --locked", "this test is part of it")];

/// What a fragment lacks to be a scenario: the embedded server keeps it self-contained.
const BASE: &[(&str, &str)] = &[
    ("name", "name: readme\n"),
    (
        "targets",
        "targets:\n  - { name: t, backend: sglang-oai, embedded: {} }\n",
    ),
    (
        "datasets",
        "datasets:\n  - { name: d, kind: random, num_prompts: 4, input_len: 8, output_len: 4 }\n",
    ),
];

/// (first line, language, body) of every fenced block.
fn blocks(text: &str) -> Vec<(usize, String, String)> {
    let mut out = Vec::new();
    let mut open: Option<(usize, String, String)> = None;
    for (i, line) in text.lines().enumerate() {
        match (&mut open, line.strip_prefix("```")) {
            (None, Some(lang)) => open = Some((i + 1, lang.trim().to_owned(), String::new())),
            (Some(_), Some(_)) => out.push(open.take().unwrap()),
            (Some((_, _, body)), None) => {
                body.push_str(line);
                body.push('\n');
            }
            (None, None) => {}
        }
    }
    out
}

/// A YAML block as a whole scenario: a top-level `embedded:` fragment becomes a target's,
/// and missing `name`, `targets`, `datasets` come from [`BASE`].
fn complete(body: &str) -> String {
    let keys: Vec<&str> = body
        .lines()
        .filter(|l| !l.starts_with([' ', '#', '-']) && l.contains(':'))
        .filter_map(|l| l.split(':').next())
        .collect();
    let mut text = String::new();
    let body = if keys == ["embedded"] {
        let indented: String = body.lines().map(|l| format!("    {l}\n")).collect();
        format!("targets:\n  - name: t\n    backend: vllm\n{indented}")
    } else {
        body.to_owned()
    };
    let has_targets = keys.contains(&"targets") || body.starts_with("targets:");
    for (key, yaml) in BASE {
        let present = keys.contains(key) || (*key == "targets" && has_targets);
        if !present {
            text.push_str(yaml);
        }
    }
    text.push_str(&body);
    text
}

#[test]
fn every_yaml_example_validates() {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let yaml: Vec<_> = blocks(&readme)
        .into_iter()
        .filter(|(_, lang, _)| lang == "yaml")
        .collect();
    assert!(yaml.len() >= 4, "README has {} YAML blocks", yaml.len());
    for (line, _, body) in yaml {
        // The examples must not depend on the caller's environment.
        let text = complete(&body);
        let f = dir.path().join(format!("readme-{line}.yaml"));
        std::fs::write(&f, &text).unwrap();
        let out = runner()
            .arg("validate")
            .arg(&f)
            .env_remove("OPENAI_API_KEY")
            .env_remove("VLLM_URL")
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "README.md:{line}: the YAML example does not validate:\n{text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // A request fragment (a body template) must also work: every request of a run
        // against the embedded server completes.
        if body.starts_with("request:") {
            let results = dir.path().join(format!("results-{line}"));
            let out = runner()
                .arg("run")
                .arg(&f)
                .arg("--output")
                .arg(&results)
                .output()
                .unwrap();
            let runs = std::fs::read_to_string(results.join("runs.jsonl")).unwrap_or_default();
            assert!(
                out.status.success() && runs.contains("\"failed\":0"),
                "README.md:{line}: a run of the example fails:\n{text}\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

/// The commands of the `sh` blocks, continuation lines joined, `cargo run --locked --`
/// read as `runner`.
fn commands(readme: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (line, lang, body) in blocks(readme) {
        if lang != "sh" {
            continue;
        }
        let joined = body.replace("\\\n", " ");
        for cmd in joined.lines().map(str::trim).filter(|l| !l.is_empty()) {
            out.push((line, cmd.split_whitespace().collect::<Vec<_>>().join(" ")));
        }
    }
    out
}

fn run_command(line: usize, cmd: &str, dir: &Path) {
    let args: Vec<&str> = if let Some(rest) = cmd.strip_prefix("cargo run --locked -- ") {
        rest.split(' ').collect()
    } else if let Some(rest) = cmd.strip_prefix("runner ") {
        rest.split(' ').collect()
    } else {
        panic!("README.md:{line}: `{cmd}` is neither a runner command nor in SKIP");
    };
    let mut c = runner();
    c.args(&args);
    // Needs a live server: check that the flags make a scenario.
    if args[0] == "bench" {
        c.arg("--dump-scenario");
    }
    // Commands run in a temporary directory (results land there, not in the checkout)
    // that sees the repository's scenarios.
    let out = c.current_dir(dir).output().unwrap();
    // A gated diff of two runs of the same scenario exits 4 when the machine's load moved a
    // metric past the gate between them: that is the gate working, not the example failing.
    let gate = args[0] == "diff" && args.contains(&"--fail-on");
    assert!(
        out.status.success() || (gate && out.status.code() == Some(4) && !out.stdout.is_empty()),
        "README.md:{line}: `{cmd}` failed ({:?}):\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_command_example_runs() {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let repo = std::env::current_dir().unwrap();
    for d in ["scenarios", "schema", "tests", "examples"] {
        std::os::unix::fs::symlink(repo.join(d), dir.path().join(d)).unwrap();
    }
    let cmds = commands(&readme);
    assert!(cmds.len() >= 3, "{cmds:?}");
    let mut ran = 0;
    for (line, cmd) in &cmds {
        if SKIP.iter().any(|(s, _)| s == cmd) {
            continue;
        }
        run_command(*line, cmd, dir.path());
        ran += 1;
    }
    assert!(ran >= 2, "{cmds:?}");
}
