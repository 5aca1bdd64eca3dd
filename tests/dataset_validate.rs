//! Dataset entries in scenario files: every kind loads, unknown keys and impossible
//! combinations are reported with their field.

use runner::scenario::locate::Format;
use runner::scenario::{LoadError, load_str};

fn scenario(datasets: &str, extra: &str) -> Result<runner::scenario::Scenario, Vec<String>> {
    let text = format!(
        "name: t\ntargets: [{{name: a, backend: vllm-chat, base_url: 'http://127.0.0.1:1'}}]\ndatasets:\n{datasets}{extra}"
    );
    load_str(&text, "t.yaml", Format::Yaml).map_err(|e| match e {
        LoadError::Invalid(d) => d.iter().map(|d| d.to_string()).collect(),
        other => vec![other.to_string()],
    })
}

#[test]
fn every_kind_loads_with_its_options() {
    let s = scenario(
        "  - {name: a, kind: sharegpt, path: s.json, output_len: 16, context_len: 4096, prompt_suffix: x, apply_chat_template: true}
  - {name: b, kind: random, input_len: 8, source: sharegpt, path: s.json, exact_len: true, tokenize_prompt: true}
  - {name: c, kind: random-ids, input_len: 8, range_ratio: 1}
  - {name: d, kind: image, image_count: 2, random_image_count: true, resolution: 'random:10x10-20x20', format: png, content: blank, image_tokens: {per_image: 64}}
  - {name: e, kind: generated-shared-prefix, num_groups: 2, group_distribution: zipf, zipf_alpha: 1.1, num_turns: 2, ordered: true, send_routing_key: true}
  - {name: f, kind: mmmu, path: m.jsonl, output_len: 64}
  - {name: g, kind: mooncake, workload: toolagent, slowdown_factor: 2, num_rounds: 2, prompt: sglang, block_size: 512}
  - {name: h, kind: custom, path: c.jsonl}
  - {name: i, kind: openai, path: o.jsonl, num_prompts: 0}
  - {name: j, kind: longbench_v2, path: l.jsonl, output_len: 10}
  - {name: k, kind: speed-bench, path: sb.jsonl, category: high_entropy}
  - {name: l, kind: agentic-trace, path: a.json, offset: 3, max_turns: 5}
",
        "",
    )
    .unwrap();
    let kinds: Vec<&str> = s.datasets.iter().map(|d| d.kind()).collect();
    assert_eq!(
        kinds,
        [
            "sharegpt",
            "random",
            "random-ids",
            "image",
            "generated-shared-prefix",
            "mmmu",
            "mooncake",
            "custom",
            "openai",
            "longbench_v2",
            "speed-bench",
            "agentic-trace"
        ]
    );
}

#[test]
fn mistakes_are_reported_with_their_field() {
    let errs = scenario(
        "  - {name: a, kind: random, input_lenn: 8}
  - {name: b, kind: image, resolution: huge}
  - {name: c, kind: generated-shared-prefix, group_distribution: zipf}
  - {name: d, kind: mmmu}
  - {name: e, kind: sharegpt, output_len: 2}
",
        "",
    )
    .unwrap_err();
    let all = errs.join("\n");
    println!("{all}");
    for part in [
        "datasets[0].input_lenn: unknown field `input_lenn`",
        "did you mean `input_len`?",
        "datasets[1].resolution",
        "datasets[3]",
        "path",
        "datasets[4].output_len",
    ] {
        assert!(all.contains(part), "missing {part:?} in:\n{all}");
    }
    let errs = scenario(
        "  - {name: c, kind: generated-shared-prefix, group_distribution: zipf}\n",
        "",
    )
    .unwrap_err();
    assert!(
        errs[0].contains("datasets[0].zipf_alpha") && errs[0].contains("needs `zipf_alpha`"),
        "{errs:?}"
    );
    let errs = scenario(
        "  - {name: r, kind: random}\n  - {name: m, kind: mooncake, path: t.jsonl}\n",
        "load: {arrival: trace}\n",
    )
    .unwrap_err();
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].contains("datasets[0].kind")
            && errs[0].contains("`arrival: trace` needs timestamps"),
        "{errs:?}"
    );
}
