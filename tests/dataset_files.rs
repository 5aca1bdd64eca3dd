//! File-based datasets on generated fixtures: `sharegpt`, `custom`, `mmmu`, `mooncake`,
//! `openai`, `longbench_v2`, `speed-bench`, `agentic-trace`: counts, length bounds, filters
//! and determinism; and the offline error when a file would have to be downloaded.

mod support;

use base64::Engine as _;
use runner::dataset::Sources;
use runner::tokenizer::Tokenizer;
use runner::workload::Prompt;
use serde_json::json;
use support::{build, dataset, jsonl, sharegpt_file, text};

#[test]
fn sharegpt_filters_shuffles_and_is_seeded() {
    let dir = tempfile::tempdir().unwrap();
    let path = sharegpt_file(dir.path(), 60);
    let tok = Tokenizer::builtin();
    let d = dataset(json!({"kind": "sharegpt", "name": "s", "num_prompts": 25, "path": path}));
    let reqs = build(&d, 7, dir.path());
    assert_eq!(reqs.len(), 25);
    for r in &reqs {
        assert_eq!(r.prompt_len, tok.count(text(r)) as u32);
        assert!(r.prompt_len >= 2 && r.output_len >= 2);
    }
    let again = build(&d, 7, dir.path());
    assert_eq!(reqs, again);
    assert_ne!(reqs, build(&d, 8, dir.path()));

    // Everything usable, filtered by context length; the two bad entries never appear.
    let d = dataset(
        json!({"kind": "sharegpt", "name": "s", "num_prompts": 1000, "path": path,
        "context_len": 70}),
    );
    let reqs = build(&d, 7, dir.path());
    assert!(!reqs.is_empty() && reqs.len() < 60, "{}", reqs.len());
    assert!(reqs.iter().all(|r| r.prompt_len + r.output_len <= 70));

    let d = dataset(
        json!({"kind": "sharegpt", "name": "s", "num_prompts": 5, "path": path,
        "output_len": 16, "prompt_suffix": " Be brief.", "apply_chat_template": true}),
    );
    for r in build(&d, 7, dir.path()) {
        assert_eq!(r.output_len, 16);
        assert!(text(&r).starts_with("<|im_start|>user\n"));
        assert!(text(&r).ends_with(" Be brief.Assistant:<|im_end|>\n<|im_start|>assistant\n"));
    }
}

#[test]
fn custom_reads_conversation_lines() {
    let dir = tempfile::tempdir().unwrap();
    let mut rows: Vec<_> = (0..30)
        .map(|i| {
            json!({"conversations": [
                {"role": "user", "content": format!("question number {i} about the sea")},
                {"role": "assistant", "content": "the sea is big and blue"}
            ]})
        })
        .collect();
    rows.push(json!({"conversation": [{"content": "only one"}]}));
    let path = jsonl(dir.path(), "custom.jsonl", &rows);
    std::fs::write(
        &path,
        std::fs::read_to_string(&path).unwrap() + "not json\n",
    )
    .unwrap();
    let d = dataset(json!({"kind": "custom", "name": "c", "num_prompts": 100, "path": path}));
    let reqs = build(&d, 7, dir.path());
    assert_eq!(reqs.len(), 30, "bad and one-turn lines skipped");
    assert!(
        reqs.iter()
            .all(|r| r.output_len == 6 && text(r).starts_with("question number"))
    );
    assert_ne!(reqs, build(&d, 8, dir.path()), "shuffled by seed");
}

#[test]
fn mmmu_samples_rows_with_their_image() {
    let dir = tempfile::tempdir().unwrap();
    let rows: Vec<_> = (0..6)
        .map(|i| {
            let px = vec![(i * 40) as u8; 30 * 20 * 3];
            let png =
                runner::dataset::image::encode(&px, 30, 20, runner::scenario::ImageFormat::Png)
                    .unwrap();
            let b64 = base64::engine::general_purpose::STANDARD.encode(png);
            let image = if i % 2 == 0 {
                json!(b64)
            } else {
                json!({"bytes": b64})
            };
            json!({"id": i, "question": format!("What is {i} + {i}?"), "image_1": image})
        })
        .collect();
    let path = jsonl(dir.path(), "mmmu.jsonl", &rows);
    let d = dataset(
        json!({"kind": "mmmu", "name": "m", "num_prompts": 4, "path": path,
        "output_len": 32}),
    );
    let reqs = build(&d, 7, dir.path());
    assert_eq!(reqs.len(), 4);
    for r in &reqs {
        assert!(text(r).starts_with("Question: What is ") && text(r).ends_with("\n\nAnswer: "));
        assert_eq!(r.images.len(), 1);
        assert!(r.images[0].starts_with("data:image/png;base64,"));
        assert_eq!(r.vision_prompt_len, 2, "30x20 px at 28 px per token: 2 x 1");
        assert_eq!(r.output_len, 32);
    }
    assert_eq!(reqs, build(&d, 7, dir.path()));
    assert_ne!(reqs, build(&d, 9, dir.path()));
}

#[test]
fn mooncake_scales_timestamps_and_shares_prefix_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let rows = vec![
        json!({"timestamp": 1000, "input_length": 40, "output_length": 5, "hash_ids": [1, 2, 3]}),
        json!({"timestamp": 0, "input_length": 30, "output_length": 6, "hash_ids": [1, 2]}),
        json!({"timestamp": 500, "input_length": 25, "output_length": 7, "hash_ids": [9]}),
        json!({"timestamp": 9000, "input_length": 10, "output_length": 8, "hash_ids": [4]}),
    ];
    let path = jsonl(dir.path(), "trace.jsonl", &rows);
    let d = dataset(
        json!({"kind": "mooncake", "name": "mc", "num_prompts": 3, "path": path,
        "slowdown_factor": 2.0, "block_size": 16}),
    );
    let reqs = build(&d, 7, dir.path());
    assert_eq!(reqs.len(), 3, "first num_prompts lines");
    let ts: Vec<f64> = reqs.iter().map(|r| r.timestamp_s.unwrap()).collect();
    assert_eq!(
        ts,
        vec![0.0, 1.0, 2.0],
        "sorted, (ts - ts0) / 1000 × slowdown"
    );
    assert_eq!(
        reqs.iter()
            .map(|r| (r.prompt_len, r.output_len))
            .collect::<Vec<_>>(),
        vec![(30, 6), (25, 7), (40, 5)]
    );
    let tok = Tokenizer::builtin();
    let (a, c) = (tok.encode(text(&reqs[0])), tok.encode(text(&reqs[2])));
    assert_eq!(a.len(), 30);
    assert_eq!(
        a[..30],
        c[..30],
        "hash ids 1, 2 give the same 32-token prefix, cut to 30"
    );
    assert_eq!(reqs, build(&d, 7, dir.path()));
    assert_ne!(reqs, build(&d, 8, dir.path()));

    let d = dataset(
        json!({"kind": "mooncake", "name": "mc", "path": path, "num_rounds": 3,
        "prompt": "sglang"}),
    );
    let reqs = build(&d, 7, dir.path());
    assert_eq!(reqs.len(), 4);
    let Prompt::Turns(t) = &reqs[0].prompt else {
        panic!("rounds are turns")
    };
    assert_eq!(t.len(), 3);
    assert!(t[2].starts_with("Round 3: 1hi hi"));
    assert!(t[0].ends_with("Tell me a story based on this context."));
}

#[test]
fn openai_rows_keep_their_extra_body() {
    let dir = tempfile::tempdir().unwrap();
    let rows = vec![
        json!({"model": "x", "messages": [{"role": "user", "content": "hello there"}],
               "max_tokens": 12, "temperature": 0.7}),
        json!({"messages": [{"role": "system", "content": "be kind"}, {"role": "user", "content": "hi"}],
               "tools": [{"type": "function", "function": {"name": "f"}}]}),
        json!({"no_messages": true}),
        json!({"messages": [{"role": "user", "content": "third"}]}),
    ];
    let path = jsonl(dir.path(), "openai.jsonl", &rows);
    let d = dataset(json!({"kind": "openai", "name": "o", "num_prompts": 0, "path": path}));
    let reqs = build(&d, 7, dir.path());
    assert_eq!(reqs.len(), 3);
    assert_eq!(reqs[0].output_len, 12);
    assert_eq!(reqs[1].output_len, 256);
    assert_eq!(reqs[0].extra_body.get("temperature"), Some(&json!(0.7)));
    assert!(!reqs[0].extra_body.contains_key("model"));
    assert!(reqs[1].extra_body.contains_key("tools"));
    let tok = Tokenizer::builtin();
    let rendered = "<|im_start|>user\nhello there<|im_end|>\n<|im_start|>assistant\n";
    assert_eq!(reqs[0].prompt_len, tok.count(rendered) as u32);
    assert!(matches!(&reqs[1].prompt, Prompt::Messages(m) if m.len() == 2));
    let d = dataset(
        json!({"kind": "openai", "name": "o", "num_prompts": 2, "path": path,
        "output_len": 5}),
    );
    let reqs = build(&d, 7, dir.path());
    assert_eq!(reqs.len(), 2);
    assert!(reqs.iter().all(|r| r.output_len == 5));
}

#[test]
fn longbench_speed_bench_and_agentic_trace() {
    let dir = tempfile::tempdir().unwrap();
    let rows: Vec<_> = (0..10)
        .map(|i| {
            json!({"context": "word ".repeat(10 * (i + 1)), "question": "which", "choice_A": "a",
                   "choice_B": "b", "choice_C": "c", "choice_D": "d"})
        })
        .collect();
    let path = jsonl(dir.path(), "lb.jsonl", &rows);
    let d = dataset(
        json!({"kind": "longbench_v2", "name": "lb", "num_prompts": 4, "path": path,
        "context_len": 75}),
    );
    let reqs = build(&d, 7, dir.path());
    assert_eq!(reqs.len(), 4);
    for r in &reqs {
        assert!(text(r).ends_with("\n\nQuestion: which\nA. a\nB. b\nC. c\nD. d\nAnswer:"));
        assert_eq!(r.output_len, 10);
        assert!(r.prompt_len + 10 <= 75);
    }
    assert_ne!(reqs, build(&d, 8, dir.path()));

    let rows: Vec<_> = (0..6)
        .map(|i| {
            let cat = if i < 2 { "mixed" } else { "low_entropy" };
            json!({"category": cat, "turns": [format!("prompt {i}"), "second"]})
        })
        .collect();
    let path = jsonl(dir.path(), "speed.jsonl", &rows);
    let d = dataset(
        json!({"kind": "speed-bench", "name": "sb", "num_prompts": 5, "path": path,
        "category": "mixed", "output_len": 64}),
    );
    let reqs = build(&d, 7, dir.path());
    assert_eq!(reqs.len(), 5, "two prompts repeated to five");
    assert!(
        reqs.iter()
            .all(|r| text(r).contains("prompt 0") || text(r).contains("prompt 1"))
    );
    assert!(
        reqs.iter()
            .all(|r| r.output_len == 64 && text(r).ends_with("assistant"))
    );

    let turn =
        |s: &str| json!({"messages": [{"role": "user", "content": s}], "prompt_tokens": 100});
    let doc = json!({"conversations": [
        [turn("a1"), turn("a2"), turn("a3")],
        [turn("b1"), {"messages": []}, turn("b2")],
        [turn("c1")]
    ]});
    let path = dir.path().join("agentic.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    let d = dataset(
        json!({"kind": "agentic-trace", "name": "at", "num_prompts": 2, "path": path,
        "offset": 1, "max_turns": 2}),
    );
    let reqs = build(&d, 7, dir.path());
    assert_eq!(reqs.len(), 2);
    let turns = |r: &runner::workload::RequestSpec| match &r.prompt {
        Prompt::MessageTurns(t) => t
            .iter()
            .map(|m| m[0]["content"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>(),
        _ => panic!("message turns"),
    };
    assert_eq!(
        turns(&reqs[0]),
        ["b1", "b2"],
        "rotated by offset, empty turn dropped"
    );
    assert_eq!(turns(&reqs[1]), ["c1"]);
    assert!(
        reqs.iter()
            .all(|r| r.output_len == 220 && r.prompt_len == 100)
    );
}

#[test]
fn offline_without_a_file_names_it_and_the_path_to_give() {
    let dir = tempfile::tempdir().unwrap();
    let src = Sources::offline_in(dir.path());
    let tok = Tokenizer::builtin();
    for (d, file) in [
        (
            json!({"kind": "sharegpt", "name": "s"}),
            "ShareGPT_V3_unfiltered_cleaned_split.json",
        ),
        (
            json!({"kind": "random", "name": "r", "source": "sharegpt"}),
            "ShareGPT_V3_unfiltered_cleaned_split.json",
        ),
        (
            json!({"kind": "mooncake", "name": "m", "workload": "toolagent"}),
            "toolagent_trace.jsonl",
        ),
    ] {
        let e = runner::dataset::build(&dataset(d), 1, &tok, &src)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(file) && e.contains("path:") && e.contains("offline"),
            "{e}"
        );
        println!("{e}");
    }
    // A file placed in the cache is used without any download.
    let cached = dir.path().join("runner").join("sharegpt");
    std::fs::create_dir_all(&cached).unwrap();
    std::fs::copy(
        sharegpt_file(dir.path(), 5),
        cached.join("ShareGPT_V3_unfiltered_cleaned_split.json"),
    )
    .unwrap();
    let d = dataset(json!({"kind": "sharegpt", "name": "s"}));
    assert_eq!(runner::dataset::build(&d, 1, &tok, &src).unwrap().len(), 5);
}
