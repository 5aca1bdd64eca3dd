//! Tokenizer sources: a fake Hugging Face cache layout, the offline error for a missing model
//! (library and binary, with `HF_HUB_CACHE`/`HF_HUB_OFFLINE`), and a server's `/tokenize`
//! and `/detokenize`.

mod support;

use std::path::Path;

use runner::dataset::Sources;
use runner::tokenizer::Tokenizer;
use serde_json::json;
use support::{byte_level_tokenizer, dataset, tokenizer_config};

/// `hub/models--acme--tiny-chat` with an old snapshot and the one `refs/main` names.
fn fake_hub(root: &Path) -> std::path::PathBuf {
    let hub = root.join("hub");
    let repo = hub.join("models--acme--tiny-chat");
    let main = repo.join("snapshots").join("0123abcd");
    byte_level_tokenizer(&main);
    tokenizer_config(
        &main,
        "{{ bos_token }}{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}\n{% endfor %}{% if add_generation_prompt %}[assistant]{% endif %}",
        "<s>",
        "</s>",
    );
    let old = repo.join("snapshots").join("ffff0000");
    std::fs::create_dir_all(&old).unwrap();
    std::fs::write(old.join("tokenizer.json"), "not a tokenizer").unwrap();
    std::fs::create_dir_all(repo.join("refs")).unwrap();
    std::fs::write(repo.join("refs").join("main"), "0123abcd\n").unwrap();
    hub
}

#[test]
fn loads_from_a_hugging_face_cache_layout() {
    let dir = tempfile::tempdir().unwrap();
    let mut src = Sources::offline_in(dir.path());
    src.hf_hub_cache = fake_hub(dir.path());
    let tok = Tokenizer::resolve(Some("acme/tiny-chat"), &src).unwrap();
    assert!(
        tok.name()
            .ends_with("models--acme--tiny-chat/snapshots/0123abcd/tokenizer.json"),
        "{}",
        tok.name()
    );
    assert_eq!(tok.num_special_tokens_to_add(), 1);
    assert_eq!(tok.chat_prompt("hi").unwrap(), "[user] hi\n[assistant]");
    assert!(tok.count("the sea is big") > 0);
}

#[test]
fn offline_and_missing_says_what_to_provide() {
    let dir = tempfile::tempdir().unwrap();
    let mut src = Sources::offline_in(dir.path());
    src.hf_hub_cache = fake_hub(dir.path());
    let e = Tokenizer::resolve(Some("meta-llama/Llama-3.1-8B-Instruct"), &src)
        .unwrap_err()
        .to_string();
    println!("{e}");
    for part in [
        "meta-llama/Llama-3.1-8B-Instruct",
        "models--meta-llama--Llama-3.1-8B-Instruct/snapshots",
        "offline",
        "give `tokenizer:` a path to a tokenizer.json or a model directory",
        "huggingface-cli download meta-llama/Llama-3.1-8B-Instruct tokenizer.json",
    ] {
        assert!(e.contains(part), "missing {part:?} in: {e}");
    }
}

#[test]
fn the_binary_reads_hf_hub_cache_and_fails_clearly_offline() {
    let dir = tempfile::tempdir().unwrap();
    let hub = fake_hub(dir.path());
    let scenario = |tok: &str| {
        let p = dir.path().join(format!("{}.yaml", tok.replace('/', "_")));
        std::fs::write(&p, format!(
            "name: t\ntokenizer: {tok}\ntargets: [{{name: a, backend: vllm, base_url: 'http://127.0.0.1:1'}}]\ndatasets:\n  - {{name: r, kind: random, num_prompts: 5, input_len: 20, output_len: 4}}\n"
        )).unwrap();
        p
    };
    let run = |file: &Path| {
        support::runner()
            .args(["dataset", "inspect"])
            .arg(file)
            .env("HF_HUB_CACHE", &hub)
            .env("HF_HUB_OFFLINE", "1")
            .env("RUNNER_CACHE_DIR", dir.path().join("cache"))
            .output()
            .unwrap()
    };
    let ok = run(&scenario("acme/tiny-chat"));
    let out = String::from_utf8_lossy(&ok.stdout);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(
        out.contains("snapshots/0123abcd/tokenizer.json")
            && out.contains("dataset r (random): 5 requests"),
        "{out}"
    );
    let bad = run(&scenario("acme/absent"));
    assert_eq!(bad.status.code(), Some(1));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("tokenizer `acme/absent`") && err.contains("offline"),
        "{err}"
    );
}

/// `/tokenize` and `/detokenize` as vLLM answers them, backed by the built-in tokenizer.
async fn tokenize_server() -> (String, tokio::task::JoinHandle<()>) {
    use axum::{Json, Router, routing::post};
    let tok = std::sync::Arc::new(Tokenizer::builtin());
    let (t1, t2) = (tok.clone(), tok);
    let app = Router::new()
        .route(
            "/tokenize",
            post(move |Json(v): Json<serde_json::Value>| async move {
                let ids = if v["add_special_tokens"] == true {
                    t1.encode_with_special(v["prompt"].as_str().unwrap())
                } else {
                    t1.encode(v["prompt"].as_str().unwrap())
                };
                Json(json!({"tokens": ids, "count": ids.len(), "max_model_len": 4096}))
            }),
        )
        .route(
            "/detokenize",
            post(move |Json(v): Json<serde_json::Value>| async move {
                let ids: Vec<u32> = serde_json::from_value(v["tokens"].clone()).unwrap();
                Json(json!({"prompt": t2.decode(&ids)}))
            }),
        )
        // No keep-alive: once the server task is aborted, no pooled connection outlives it
        // (its connection tasks close gracefully, racing the client's next request).
        .layer(axum::middleware::map_response(
            |mut r: axum::response::Response| async move {
                r.headers_mut().insert(
                    axum::http::header::CONNECTION,
                    axum::http::HeaderValue::from_static("close"),
                );
                r
            },
        ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (url, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_tokenizer_uses_tokenize_and_detokenize() {
    let (url, task) = tokenize_server().await;
    let tok = tokio::task::spawn_blocking(move || {
        let tok = Tokenizer::resolve(Some(&format!("server:{url}")), &Sources::from_env()).unwrap();
        let builtin = Tokenizer::builtin();
        let text = "the quick brown fox jumps over the lazy dog";
        assert_eq!(tok.encode(text), builtin.encode(text));
        assert_eq!(
            tok.decode(&builtin.encode(text)),
            builtin.decode(&builtin.encode(text))
        );
        assert!(tok.sample_ids().len() > 500, "ids of the built-in corpus");
        let d = dataset(json!({"kind": "random", "name": "r", "num_prompts": 10,
            "input_len": 30, "output_len": 5, "range_ratio": 1.0}));
        let dir = tempfile::tempdir().unwrap();
        let reqs = support::build_with(&d, 3, dir.path(), &tok);
        assert_eq!(reqs.len(), 10);
        assert!(
            reqs.iter()
                .all(|r| r.prompt_len == 30 && r.measured_prompt_len == Some(30))
        );
        tok
    })
    .await
    .unwrap();
    drop(tok);
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_tokenizer_failures_are_counted_not_silent() {
    let (url, task) = tokenize_server().await;
    let tok = Tokenizer::resolve(Some(&format!("server:{url}")), &Sources::from_env()).unwrap();
    assert_eq!(tok.take_errors().count, 0);
    task.abort();
    let _ = task.await;
    // Called on an async worker, as the sweep does: the wait moves off the worker.
    assert_eq!(tok.encode("the quick brown fox"), Vec::<u32>::new());
    assert_eq!(tok.count("the lazy dog"), 0);
    let errors = tok.take_errors();
    assert_eq!(errors.count, 2, "{errors}");
    assert!(errors.first.unwrap().contains("/tokenize"));
    assert_eq!(tok.take_errors().count, 0, "taking resets the count");
}
