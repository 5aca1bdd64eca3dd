//! Every example in README.md and docs/*.md runs as written: each YAML block validates
//! (fragments are completed into a one-target scenario on the embedded server first; a
//! `request:` fragment is also run there and every request must complete), and each command in
//! a `sh` block runs. Commands that need a live server are checked without one: `runner bench`
//! with `--dump-scenario` (its flags parse into a scenario, nothing is sent). `SKIP` lists the
//! rest, with why. Every relative link of those pages leads to a file that exists and, with a
//! `#fragment`, to a heading of it; every page of docs/ is linked from both indexes.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

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

/// The pages whose examples run and whose links are checked: README.md, then docs/*.md by name.
fn pages() -> Vec<PathBuf> {
    let mut docs: Vec<PathBuf> = std::fs::read_dir("docs")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    assert!(docs.len() >= 10, "docs/ has {} pages: {docs:?}", docs.len());
    let mut out = vec![PathBuf::from("README.md")];
    out.extend(docs);
    out
}

fn read(page: &Path) -> String {
    std::fs::read_to_string(page).unwrap_or_else(|e| panic!("{}: {e}", page.display()))
}

#[test]
fn every_yaml_example_validates() {
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for page in pages() {
        let name = page.display().to_string();
        for (line, _, body) in blocks(&read(&page))
            .into_iter()
            .filter(|(_, lang, _)| lang == "yaml")
        {
            check_yaml(&name, line, &body, dir.path());
            checked += 1;
        }
    }
    // README.md's scenario, and the 6 examples the manual had when it was one README.
    assert!(checked >= 7, "{checked} YAML blocks checked");
}

fn check_yaml(page: &str, line: usize, body: &str, dir: &Path) {
    // The examples must not depend on the caller's environment.
    let text = complete(body);
    let stem = page.replace(['/', '.'], "-");
    let f = dir.join(format!("{stem}-{line}.yaml"));
    std::fs::write(&f, &text).unwrap();
    let out = runner()
        .arg("validate")
        .arg(&f)
        .env_remove("OPENAI_API_KEY")
        .env_remove("VLLM_URL")
        .env_remove("SGLANG_URL")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{page}:{line}: the YAML example does not validate:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A request fragment (a body template) must also work: every request of a run
    // against the embedded server completes.
    if body.starts_with("request:") {
        let results = dir.join(format!("results-{stem}-{line}"));
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
            "{page}:{line}: a run of the example fails:\n{text}\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The commands of the `sh` blocks, continuation lines joined, `cargo run --locked --`
/// read as `runner`.
fn commands(page: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (line, lang, body) in blocks(page) {
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

fn run_command(page: &str, line: usize, cmd: &str, dir: &Path) {
    let args: Vec<&str> = if let Some(rest) = cmd.strip_prefix("cargo run --locked -- ") {
        rest.split(' ').collect()
    } else if let Some(rest) = cmd.strip_prefix("runner ") {
        rest.split(' ').collect()
    } else {
        panic!("{page}:{line}: `{cmd}` is neither a runner command nor in SKIP");
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
        "{page}:{line}: `{cmd}` failed ({:?}):\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_command_example_runs() {
    let repo = std::env::current_dir().unwrap();
    let (mut found, mut ran) = (0, 0);
    for page in pages() {
        let cmds = commands(&read(&page));
        if cmds.is_empty() {
            continue;
        }
        // One directory per page: a page's commands run in order, each seeing what the
        // earlier ones wrote (`runner report` reads the quick start's results).
        let dir = tempfile::tempdir().unwrap();
        for d in ["scenarios", "schema", "tests", "examples"] {
            std::os::unix::fs::symlink(repo.join(d), dir.path().join(d)).unwrap();
        }
        let name = page.display().to_string();
        for (line, cmd) in &cmds {
            found += 1;
            if SKIP.iter().any(|(s, _)| s == cmd) {
                continue;
            }
            run_command(&name, *line, cmd, dir.path());
            ran += 1;
        }
    }
    // The 6 commands the manual had when it was one README (one skipped), and README.md's
    // everyday tasks.
    assert!(found >= 10 && ran >= 9, "{found} commands found, {ran} run");
}

/// A heading's anchor as GitHub makes it: lowercase, every character that is not a letter, a
/// digit, `-`, `_` or a space dropped, spaces turned into `-`.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The text of a page outside fenced blocks and inline code, where links are.
fn prose(text: &str) -> String {
    let mut fence = false;
    let mut out = String::new();
    for line in text.lines() {
        if line.starts_with("```") {
            fence = !fence;
        } else if !fence {
            out.push_str(line);
            out.push('\n');
        }
    }
    // Inline code spans: every other piece between backticks.
    out.split('`').step_by(2).collect::<Vec<_>>().join(" ")
}

/// The anchors of a page's headings (outside fenced blocks); a repeated heading gets `-1`,
/// `-2`, … as on GitHub.
fn anchors(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut fence = false;
    for line in text.lines() {
        if line.starts_with("```") {
            fence = !fence;
        }
        let Some(heading) = line.trim_start_matches('#').strip_prefix(' ') else {
            continue;
        };
        if fence || !line.starts_with('#') {
            continue;
        }
        let base = anchor(heading);
        let mut a = base.clone();
        let mut n = 0;
        while out.contains(&a) {
            n += 1;
            a = format!("{base}-{n}");
        }
        out.insert(a);
    }
    out
}

/// The relative link targets of a page, `[text](target)` and `![alt](target)`.
fn links(text: &str) -> Vec<String> {
    let prose = prose(text);
    prose
        .match_indices("](")
        .map(|(i, _)| {
            let rest = &prose[i + 2..];
            rest[..rest.find(')').unwrap_or(rest.len())].to_owned()
        })
        .filter(|t| !t.contains("://") && !t.starts_with("mailto:"))
        .collect()
}

/// Every relative link of `pages` whose file or `#anchor` does not exist, as `page: target`.
fn broken_links(pages: &[PathBuf]) -> Vec<String> {
    let mut broken = Vec::new();
    for page in pages {
        let dir = page.parent().unwrap_or(Path::new(""));
        for target in links(&read(page)) {
            let (path, fragment) = target.split_once('#').unwrap_or((&target, ""));
            let file = if path.is_empty() {
                page.clone()
            } else {
                dir.join(path)
            };
            let ok = file.exists()
                && (fragment.is_empty()
                    || std::fs::read_to_string(&file)
                        .is_ok_and(|t| anchors(&t).contains(fragment)));
            if !ok {
                broken.push(format!("{}: {target}", page.display()));
            }
        }
    }
    broken
}

#[test]
fn every_relative_link_resolves() {
    let pages = pages();
    // The examples' READMEs link into the manual too.
    let mut checked = pages.clone();
    checked.extend(
        ["ci", "kubernetes", "slurm"].map(|e| PathBuf::from(format!("examples/{e}/README.md"))),
    );
    let broken = broken_links(&checked);
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
    // Both indexes lead to every page of the manual.
    for index in ["README.md", "docs/README.md"] {
        let index = Path::new(index);
        let dir = index.parent().unwrap();
        let linked: BTreeSet<PathBuf> = links(&read(index))
            .iter()
            .map(|t| dir.join(t.split('#').next().unwrap()))
            .collect();
        let orphans: Vec<_> = pages
            .iter()
            .filter(|p| p.starts_with("docs") && !p.ends_with("docs/README.md"))
            .filter(|p| !linked.contains(*p))
            .collect();
        assert!(
            orphans.is_empty(),
            "{} does not link {orphans:?}",
            index.display()
        );
    }
}

#[test]
fn anchors_and_links_are_read_as_github_does() {
    assert_eq!(
        anchor("`runner bench`: bench_serving's command line"),
        "runner-bench-bench_servings-command-line"
    );
    assert_eq!(
        anchor("Long sweeps: repeats, ramps, stop rules, interrupt and resume"),
        "long-sweeps-repeats-ramps-stop-rules-interrupt-and-resume"
    );
    let text = "# A b\n\n## A b\n\n```yaml\n# not a heading\n```\nsee [x](#a-b-1), `[y](code.md)` and\n![z](p.png)\n";
    assert_eq!(anchors(text), ["a-b", "a-b-1"].map(String::from).into());
    assert_eq!(links(text), ["#a-b-1", "p.png"]);

    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.md");
    std::fs::write(
        &a,
        "# Top\n[ok](b.md#there) [self](#top) [gone](c.md) [bad](b.md#nowhere)\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("b.md"), "## There\n").unwrap();
    let name = a.display();
    assert_eq!(
        broken_links(std::slice::from_ref(&a)),
        [format!("{name}: c.md"), format!("{name}: b.md#nowhere")]
    );
}
