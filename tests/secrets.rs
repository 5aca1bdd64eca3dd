//! A key planted in every place a user can put one — a header value, `${VAR}` values in the
//! URL, a header and `extra_body` — appears in no output: stdout and stderr, runs.jsonl,
//! summary.csv, requests/*.jsonl, `runner plan`, `runner validate`, `runner bench`'s result
//! file and `--dump-scenario`, and error messages.

mod support;

use std::path::Path;
use std::process::Output;

use support::Sim;

const KEY: &str = "sk-planted-7f3a9c2e51";
const KEY_URL: &str = "urlsecret-48d1c0";
const KEY_BODY: &str = "bodysecret-93ab27";

fn runner(dir: &Path, args: &[&str]) -> Output {
    support::runner()
        .current_dir(dir)
        .env("PLANTED_KEY", KEY)
        .env("PLANTED_URL_PASS", KEY_URL)
        .env("PLANTED_BODY", KEY_BODY)
        .args(args)
        .output()
        .unwrap()
}

/// Fail when any planted key is in `text`.
fn clean(what: &str, text: &str) {
    for k in [KEY, KEY_URL, KEY_BODY] {
        assert!(!text.contains(k), "{what} shows {k}:\n{text}");
    }
}

fn outputs(what: &str, out: &Output) {
    clean(
        &format!("{what} stdout"),
        &String::from_utf8_lossy(&out.stdout),
    );
    clean(
        &format!("{what} stderr"),
        &String::from_utf8_lossy(&out.stderr),
    );
}

/// Every file under `dir`.
fn files(dir: &Path, what: &str) -> usize {
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            n += files(&p, what);
        } else {
            clean(
                &format!("{what} {}", p.display()),
                &std::fs::read_to_string(&p).unwrap(),
            );
            n += 1;
        }
    }
    n
}

fn scenario(url: &str) -> String {
    let with_pass = url.replace("http://", "http://user:${PLANTED_URL_PASS}@");
    format!(
        "name: secrets\ntargets:\n  - name: t\n    backend: vllm\n    base_url: \"{with_pass}\"\n\
         \x20   headers: {{ Authorization: \"Bearer ${{PLANTED_KEY}}\", X-Literal: \"{KEY}\" }}\n\
         datasets:\n  - {{ name: r, kind: random, num_prompts: 6, input_len: 16, output_len: 4 }}\n\
         load: {{ request_rate: inf, warmup_requests: 1 }}\n\
         request: {{ extra_body: {{ user: \"${{PLANTED_BODY}}\" }} }}\n\
         output: {{ dir: out, details: true, cache_report: true }}\n"
    )
}

#[test]
fn planted_keys_appear_in_no_output() {
    let sim = Sim::fast();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("s.yaml"), scenario(&sim.url())).unwrap();

    for cmd in [
        &["validate", "s.yaml"][..],
        &["plan", "s.yaml"],
        &["run", "s.yaml"],
    ] {
        let out = runner(d, cmd);
        assert!(out.status.success(), "{cmd:?}: {out:?}");
        outputs(&format!("runner {}", cmd[0]), &out);
    }
    assert!(files(&d.join("out"), "results") >= 3);
    // The requests did carry the keys.
    assert!(sim.truth().len() >= 7);

    // Errors: the same scenario against a dead port; and an invalid value made of a key.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dead = scenario(&format!("http://127.0.0.1:{port}"))
        .replace("out }", "out2 }")
        .replace("backend: vllm", "backend: vllm\n    ready_timeout_s: 0.5");
    std::fs::write(d.join("dead.yaml"), dead).unwrap();
    let out = runner(d, &["run", "dead.yaml"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    outputs("dead target", &out);
    std::fs::write(
        d.join("bad.yaml"),
        scenario(&sim.url()).replace(
            "backend: vllm",
            "backend: vllm\n    ready_timeout_s: \"${PLANTED_KEY}\"",
        ),
    )
    .unwrap();
    let out = runner(d, &["run", "bad.yaml"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    outputs("invalid scenario", &out);

    // runner bench: --header, its dump, its result file with details.
    let header = format!("Authorization=Bearer {KEY}");
    let bench = [
        "bench",
        "--backend",
        "vllm",
        "--base-url",
        &sim.url(),
        "--dataset-name",
        "random",
        "--num-prompts",
        "4",
        "--random-input-len",
        "16",
        "--random-output-len",
        "4",
        "--header",
        &header,
        "--output-file",
        "bench.jsonl",
        "--output-details",
    ];
    let out = runner(d, &bench);
    assert!(out.status.success(), "{out:?}");
    outputs("runner bench", &out);
    clean(
        "bench.jsonl",
        &std::fs::read_to_string(d.join("bench.jsonl")).unwrap(),
    );
    let mut dump = bench.to_vec();
    dump.push("--dump-scenario");
    let out = runner(d, &dump);
    assert!(out.status.success(), "{out:?}");
    outputs("--dump-scenario", &out);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("${RUNNER_HEADER_AUTHORIZATION}"), "{text}");
}
