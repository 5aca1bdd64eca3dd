//! Every example command of the bench_serving guide (sglang's docs/developer_guide/
//! bench_serving.md, and its module docstring), run with `runner bench` against the embedded
//! server: each prints the full result block.
//!
//! Sizes are scaled down (prompts, lengths, groups) to keep the tests fast. Commands naming an
//! HF model with `--model` also get `--tokenizer builtin`, since tests download nothing
//! (bench_serving, like runner, would load `--model`'s tokenizer). ShareGPT and Mooncake come
//! from local fixtures via `--dataset-path`.

mod support;

use support::*;

const MODEL: &str = "meta-llama/Llama-3.1-8B-Instruct";

/// The block has every row of spec §6 in order (plus `extra` after the text-token row) and
/// `ok` successful requests.
fn full_block(stdout: &str, backend: &str, ok: usize, vision: bool) -> Vec<(String, String)> {
    let rows = block(stdout);
    let mut want: Vec<&str> = BLOCK_LABELS.to_vec();
    if vision {
        want.insert(7, "Total input vision tokens:");
    }
    assert_eq!(labels(&rows), want, "{stdout}");
    assert_eq!(value(&rows, "Backend:"), backend);
    assert_eq!(
        value(&rows, "Successful requests:"),
        ok.to_string(),
        "{stdout}"
    );
    rows
}

#[test]
fn quick_start_sglang_host_port_sharegpt() {
    let sim = Sim::fast();
    let dir = tempfile::tempdir().unwrap();
    let data = sharegpt_plain_file(dir.path(), 40);
    let port = sim.port().to_string();
    let (out, err) = bench_ok(
        dir.path(),
        &[
            "--backend",
            "sglang",
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--num-prompts",
            "8",
            "--model",
            MODEL,
            "--tokenizer",
            "builtin",
            "--dataset-path",
            data.to_str().unwrap(),
        ],
    );
    full_block(&out, "sglang", 8, false);
    assert!(out.starts_with("#Input tokens: "), "{out}");
    assert!(out.contains("\n#Output tokens: "), "{out}");
    assert!(
        out.contains("Starting warmup with 1 sequences...\n"),
        "{out}"
    );
    assert!(
        out.contains("Warmup completed with 1 sequences. Starting main benchmark run...\n"),
        "{out}"
    );
    assert!(!err.contains("note: no --tokenizer"), "{err}");
}

#[test]
fn docstring_random_with_abbreviated_flags() {
    let sim = Sim::fast();
    let dir = tempfile::tempdir().unwrap();
    let (out, _) = bench_ok(
        dir.path(),
        &[
            "--backend",
            "sglang",
            "--base-url",
            &sim.url(),
            "--dataset-name",
            "random",
            "--num-prompts",
            "12",
            "--random-input",
            "128",
            "--random-output",
            "16",
            "--random-range-ratio",
            "0.5",
        ],
    );
    let rows = full_block(&out, "sglang", 12, false);
    assert_eq!(value(&rows, "Traffic request rate:"), "inf");
    assert_eq!(value(&rows, "Max request concurrency:"), "not set");
}

#[test]
fn native_random_with_rate_cap_output_file_and_details() {
    let sim = Sim::fast();
    let dir = tempfile::tempdir().unwrap();
    let port = sim.port().to_string();
    let (out, _) = bench_ok(
        dir.path(),
        &[
            "--backend",
            "sglang",
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--model",
            MODEL,
            "--tokenizer",
            "builtin",
            "--dataset-name",
            "random",
            "--random-input-len",
            "128",
            "--random-output-len",
            "16",
            "--random-range-ratio",
            "0.5",
            "--num-prompts",
            "20",
            "--request-rate",
            "100",
            "--max-concurrency",
            "8",
            "--output-file",
            "sglang_random.jsonl",
            "--output-details",
        ],
    );
    let rows = full_block(&out, "sglang", 20, false);
    assert_eq!(value(&rows, "Traffic request rate:"), "100.0");
    assert_eq!(value(&rows, "Max request concurrency:"), "8");
    let lines = json_lines(&dir.path().join("sglang_random.jsonl"));
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["input_lens"].as_array().unwrap().len(), 20);
}

#[test]
fn completions_sharegpt_with_fixed_output_len() {
    let sim = Sim::fast();
    let dir = tempfile::tempdir().unwrap();
    let data = sharegpt_plain_file(dir.path(), 40);
    let (out, _) = bench_ok(
        dir.path(),
        &[
            "--backend",
            "vllm",
            "--base-url",
            &sim.url(),
            "--model",
            MODEL,
            "--tokenizer",
            "builtin",
            "--dataset-name",
            "sharegpt",
            "--num-prompts",
            "10",
            "--sharegpt-output-len",
            "12",
            "--dataset-path",
            data.to_str().unwrap(),
        ],
    );
    let rows = full_block(&out, "vllm", 10, false);
    assert_eq!(value(&rows, "Total generated tokens:"), "120");
}

#[test]
fn chat_random_with_chat_template_flag() {
    let sim = Sim::fast();
    let dir = tempfile::tempdir().unwrap();
    let (out, err) = bench_ok(
        dir.path(),
        &[
            "--backend",
            "vllm-chat",
            "--base-url",
            &sim.url(),
            "--model",
            MODEL,
            "--tokenizer",
            "builtin",
            "--dataset-name",
            "random",
            "--num-prompts",
            "10",
            "--random-input-len",
            "64",
            "--random-output-len",
            "8",
            "--apply-chat-template",
        ],
    );
    full_block(&out, "vllm-chat", 10, false);
    // bench_serving applies the chat template to sharegpt and custom only; runner says so.
    assert!(err.contains("note: --apply-chat-template does not apply to --dataset-name random"));
}

#[test]
fn chat_sharegpt_with_chat_template() {
    let sim = Sim::fast();
    let dir = tempfile::tempdir().unwrap();
    let data = sharegpt_plain_file(dir.path(), 20);
    let (out, err) = bench_ok(
        dir.path(),
        &[
            "--backend",
            "vllm-chat",
            "--base-url",
            &sim.url(),
            "--tokenizer",
            "builtin",
            "--dataset-name",
            "sharegpt",
            "--num-prompts",
            "6",
            "--sharegpt-output-len",
            "8",
            "--apply-chat-template",
            "--dataset-path",
            data.to_str().unwrap(),
        ],
    );
    full_block(&out, "vllm-chat", 6, false);
    assert!(!err.contains("apply-chat-template"), "{err}");
}

#[test]
fn images_every_variant_of_the_guide() {
    let sim = Sim::fast();
    let dir = tempfile::tempdir().unwrap();
    let url = sim.url();
    let port = sim.port().to_string();
    let runs: [(&str, Vec<&str>); 4] = [
        (
            "sglang-oai-chat",
            vec![
                "--backend",
                "sglang-oai-chat",
                "--base-url",
                &url,
                "--dataset-name",
                "image",
                "--num-prompts",
                "2",
                "--image-count",
                "3",
                "--image-resolution",
                "360p",
                "--random-input-len",
                "64",
                "--random-output-len",
                "8",
            ],
        ),
        (
            "sglang",
            vec![
                "--backend",
                "sglang",
                "--host",
                "127.0.0.1",
                "--port",
                &port,
                "--model",
                "your-vlm-model",
                "--tokenizer",
                "builtin",
                "--dataset-name",
                "image",
                "--image-count",
                "2",
                "--image-resolution",
                "720p",
                "--random-input-len",
                "32",
                "--random-output-len",
                "8",
                "--num-prompts",
                "2",
                "--apply-chat-template",
            ],
        ),
        (
            "sglang",
            vec![
                "--backend",
                "sglang",
                "--base-url",
                &url,
                "--model",
                "your-vlm-model",
                "--tokenizer",
                "builtin",
                "--dataset-name",
                "image",
                "--image-count",
                "1",
                "--image-resolution",
                "512x768",
                "--random-input-len",
                "64",
                "--random-output-len",
                "8",
                "--num-prompts",
                "3",
                "--apply-chat-template",
            ],
        ),
        (
            "sglang",
            vec![
                "--backend",
                "sglang",
                "--base-url",
                &url,
                "--model",
                "your-vlm-model",
                "--tokenizer",
                "builtin",
                "--dataset-name",
                "image",
                "--image-count",
                "1",
                "--image-resolution",
                "1080p",
                "--image-format",
                "png",
                "--image-content",
                "blank",
                "--random-input-len",
                "64",
                "--random-output-len",
                "8",
                "--num-prompts",
                "2",
                "--apply-chat-template",
            ],
        ),
    ];
    for (backend, args) in runs {
        let n: usize = args[args.iter().position(|a| *a == "--num-prompts").unwrap() + 1]
            .parse()
            .unwrap();
        let (out, _) = bench_ok(dir.path(), &args);
        let rows = full_block(&out, backend, n, true);
        let vision: u64 = value(&rows, "Total input vision tokens:").parse().unwrap();
        let text: u64 = value(&rows, "Total input text tokens:").parse().unwrap();
        let total: u64 = value(&rows, "Total input tokens:").parse().unwrap();
        assert!(vision > 0 && text > 0 && vision + text == total, "{out}");
        assert!(out.contains("#Total images: "), "{out}");
    }
    // Four runs, four auto-named files (`…_{count}imgs_{resolution}.jsonl`).
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".jsonl"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 4, "{names:?}");
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("sglang-oai-chat_") && n.ends_with("_2_64_8_3imgs_360p.jsonl")),
        "{names:?}"
    );
    assert!(
        names
            .iter()
            .any(|n| n.ends_with("_3_64_8_1imgs_512x768.jsonl")),
        "{names:?}"
    );
}

#[test]
fn generated_shared_prefix() {
    let sim = Sim::fast();
    let dir = tempfile::tempdir().unwrap();
    let port = sim.port().to_string();
    let (out, err) = bench_ok(
        dir.path(),
        &[
            "--backend",
            "sglang",
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--model",
            MODEL,
            "--tokenizer",
            "builtin",
            "--dataset-name",
            "generated-shared-prefix",
            "--gsp-num-groups",
            "4",
            "--gsp-prompts-per-group",
            "3",
            "--gsp-system-prompt-len",
            "256",
            "--gsp-question-len",
            "32",
            "--gsp-output-len",
            "8",
            "--num-prompts",
            "1024",
        ],
    );
    full_block(&out, "sglang", 12, false);
    assert!(out.contains("\nGenerated shared prefix dataset statistics:\nNumber of groups: 4\n"));
    assert!(err.contains("note: --num-prompts does not apply to generated-shared-prefix"));
}

#[test]
fn tokenized_prompts() {
    let sim = Sim::fast();
    let dir = tempfile::tempdir().unwrap();
    let port = sim.port().to_string();
    let (out, _) = bench_ok(
        dir.path(),
        &[
            "--backend",
            "sglang",
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--model",
            MODEL,
            "--tokenizer",
            "builtin",
            "--dataset-name",
            "random",
            "--tokenize-prompt",
            "--random-input-len",
            "256",
            "--random-output-len",
            "16",
            "--random-range-ratio",
            "0.2",
            "--num-prompts",
            "10",
        ],
    );
    full_block(&out, "sglang", 10, false);
    // Token ids reach the server: it counts exactly the drawn lengths.
    let server: u64 = sim
        .truth()
        .iter()
        .skip(1)
        .map(|t| u64::from(t.prompt_tokens))
        .sum();
    let rows = block(&out);
    assert_eq!(value(&rows, "Total input tokens:"), server.to_string());
}

#[test]
fn profile_and_flush_cache() {
    let sim = Sim::fast();
    let dir = tempfile::tempdir().unwrap();
    let data = sharegpt_plain_file(dir.path(), 20);
    let port = sim.port().to_string();
    let (out, err) = bench_ok(
        dir.path(),
        &[
            "--backend",
            "sglang",
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--model",
            MODEL,
            "--tokenizer",
            "builtin",
            "--profile",
            "--flush-cache",
            "--num-prompts",
            "5",
            "--dataset-path",
            data.to_str().unwrap(),
        ],
    );
    full_block(&out, "sglang", 5, false);
    assert!(!err.contains("warning"), "{err}");
}

#[test]
fn tensorrt_llm_streaming() {
    let sim = Sim::fast();
    let dir = tempfile::tempdir().unwrap();
    let (out, _) = bench_ok(
        dir.path(),
        &[
            "--backend",
            "trt",
            "--base-url",
            &sim.url(),
            "--model",
            "your-trt-llm-model",
            "--tokenizer",
            "builtin",
            "--dataset-name",
            "random",
            "--num-prompts",
            "10",
            "--random-input-len",
            "64",
            "--random-output-len",
            "16",
            "--disable-ignore-eos",
        ],
    );
    full_block(&out, "trt", 10, false);
    assert!(
        sim.truth()
            .iter()
            .all(|t| t.endpoint.contains("generate_stream"))
    );
}

#[test]
fn mooncake_trace_replay() {
    let sim = Sim::fast();
    let dir = tempfile::tempdir().unwrap();
    let trace = mooncake_file(dir.path(), 6);
    let port = sim.port().to_string();
    // The guide's command, with one round: bench_serving's sglang backend fires every round
    // at once with placeholder replies; runner replays rounds with the real replies, which
    // needs a chat backend (below).
    let (out, err) = bench_ok(
        dir.path(),
        &[
            "--backend",
            "sglang",
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--model",
            "model-name",
            "--tokenizer",
            "builtin",
            "--dataset-name",
            "mooncake-conversation",
            "--mooncake-slowdown-factor",
            "1.0",
            "--mooncake-num-rounds",
            "1",
            "--use-trace-timestamps",
            "true",
            "--random-output-len",
            "256",
            "--num-prompts",
            "6",
            "--dataset-path",
            trace.to_str().unwrap(),
        ],
    );
    let rows = full_block(&out, "sglang", 6, false);
    assert_eq!(value(&rows, "Traffic request rate:"), "trace");
    assert_eq!(value(&rows, "Total generated tokens:"), "48");
    assert!(err.contains("--random-output-len does not apply"), "{err}");
    // Arrivals follow the trace: 40 ms apart (the first truth entry is the warmup).
    let truth = sim.truth();
    let t0 = truth[1].arrival;
    let last = truth
        .last()
        .unwrap()
        .arrival
        .duration_since(t0)
        .as_secs_f64();
    assert!((0.18..0.35).contains(&last), "last arrival at {last} s");
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with("_6_mooncake-conversation.jsonl"))
        .collect();
    assert_eq!(names.len(), 1);
    let line = &json_lines(&dir.path().join(&names[0]))[0];
    assert_eq!(line["request_rate"], "trace");

    let (out, _) = bench_ok(
        dir.path(),
        &[
            "--backend",
            "sglang-oai-chat",
            "--base-url",
            &sim.url(),
            "--dataset-name",
            "mooncake",
            "--mooncake-num-rounds",
            "2",
            "--num-prompts",
            "3",
            "--dataset-path",
            trace.to_str().unwrap(),
        ],
    );
    full_block(&out, "sglang-oai-chat", 6, false);
}
