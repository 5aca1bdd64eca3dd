//! Usage errors as users see them (exit code 2 and stderr), pinned as insta snapshots:
//! `runner bench` flag errors in flag terms, and `runner validate` on bad files.

mod support;

/// Exit code and stderr of `runner ARGS`, run from the repository root.
fn usage_error(args: &[&str]) -> String {
    let out = support::runner()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{args:?}");
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn bench_flag_errors_name_the_flags() {
    let cases: &[&[&str]] = &[
        &["--request-rate", "0"],
        &["--sharegpt-output-len", "3"],
        &["--dataset-name", "random", "--random-range-ratio", "2"],
        &[
            "--dataset-name",
            "generated-shared-prefix",
            "--gsp-group-distribution",
            "zipf",
            "--gsp-num-groups",
            "0",
        ],
        &[
            "--dataset-name",
            "generated-shared-prefix",
            "--gsp-group-distribution",
            "zipf",
        ],
        &["--top-p", "2", "--temperature", "-1"],
        &["--lora-name", "a", "--lora-request-distribution", "skewed"],
        &["--dataset-name", "custom"],
        &["--backend", "gserver"],
        &["--backend", "nope"],
        &[
            "--backend",
            "vllm-chat",
            "--dataset-name",
            "random",
            "--tokenize-prompt",
        ],
        &["--plot-throughput"],
    ];
    let text: Vec<String> = cases
        .iter()
        .map(|args| {
            let mut all = vec!["bench", "--dump-scenario"];
            all.extend_from_slice(args);
            format!("$ runner {}\n{}", all.join(" "), usage_error(&all))
        })
        .collect();
    insta::assert_snapshot!("bench_flag_errors", text.join("\n"));
}

#[test]
fn validate_reports_bad_files() {
    for (name, file) in [
        (
            "validate_three_problems_yaml",
            "tests/fixtures/three-problems.yaml",
        ),
        (
            "validate_three_problems_toml",
            "tests/fixtures/three-problems.toml",
        ),
        (
            "validate_embedded_problems",
            "tests/fixtures/embedded-problems.yaml",
        ),
    ] {
        insta::assert_snapshot!(name, usage_error(&["validate", file]));
    }
}
