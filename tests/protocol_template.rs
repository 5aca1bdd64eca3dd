//! Body templates as users write them: checked by `runner validate` with the template line,
//! and used for every request of a run against the embedded server.

mod support;

use support::runner;

#[test]
fn validate_names_the_template_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.yaml");
    std::fs::write(
        &path,
        "name: t\ntargets:\n  - name: a\n    backend: vllm\n    embedded: {}\n    template: |\n      {\"model\": {{ model | tojson }},\n       \"prompt\": {{ prompt | tojson }\n      }\ndatasets:\n  - {name: r, kind: random}\n",
    )
    .unwrap();
    let out = runner().arg("validate").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("targets[0].template: template line 2: syntax error"),
        "{err}"
    );
}

#[test]
fn a_template_body_is_what_the_server_gets() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.yaml");
    // The template asks for 3 tokens whatever the dataset says; the server's count shows it.
    std::fs::write(
        &path,
        r#"name: t
targets:
  - {name: sim, backend: vllm, embedded: {ttft_ms: 1, itl_ms: 1}}
datasets:
  - {name: r, kind: random, num_prompts: 4, input_len: 8, output_len: 20, range_ratio: 1}
load: {warmup_requests: 0}
request:
  template: |
    {"model": {{ model | tojson }}, "prompt": {{ prompt | tojson }},
     "max_tokens": 3, "stream": {{ stream | tojson }},
     "stream_options": {"include_usage": true}, "user": "req-{{ index }}-{{ seed }}"}
output: {details: true}
"#,
    )
    .unwrap();
    let out = runner()
        .arg("run")
        .arg(&path)
        .arg("--output")
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let records = std::fs::read_to_string(
        dir.path()
            .join("out/requests/sim_r_rate_inf_conc_none.jsonl"),
    )
    .unwrap();
    for line in records.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["outcome"]["kind"], "ok");
        assert_eq!(
            (
                v["reported_output_len"].as_u64(),
                v["requested_output_len"].as_u64()
            ),
            (Some(3), Some(20))
        );
    }
}
