//! Generated datasets: counts, length bounds and determinism under a seed for `random`
//! (vocabulary and ShareGPT token space), `random-ids`, `image` and `generated-shared-prefix`.

mod support;

use base64::Engine as _;
use runner::tokenizer::Tokenizer;
use runner::workload::Prompt;
use serde_json::json;
use support::{build, dataset, sharegpt_file, text};

fn assert_deterministic(d: &runner::scenario::Dataset, dir: &std::path::Path) {
    let a = build(d, 7, dir);
    assert_eq!(a, build(d, 7, dir), "same seed, same requests");
    assert_ne!(a, build(d, 8, dir), "another seed, other requests");
}

#[test]
fn random_from_the_vocabulary() {
    let dir = tempfile::tempdir().unwrap();
    let d = dataset(json!({"kind": "random", "name": "r", "num_prompts": 300,
        "input_len": 64, "output_len": 16, "range_ratio": 0.5}));
    let reqs = build(&d, 7, dir.path());
    assert_eq!(reqs.len(), 300);
    let tok = Tokenizer::builtin();
    for r in &reqs {
        assert!((32..=64).contains(&r.prompt_len), "{}", r.prompt_len);
        assert!((8..=16).contains(&r.output_len), "{}", r.output_len);
        assert_eq!(
            tok.count(text(r)) as u32,
            r.prompt_len,
            "built-in words round-trip"
        );
        assert_eq!(r.measured_prompt_len, Some(r.prompt_len));
    }
    assert!(reqs.iter().any(|r| r.prompt_len == 32) && reqs.iter().any(|r| r.prompt_len == 64));
    assert_deterministic(&d, dir.path());
}

#[test]
fn random_in_sharegpt_token_space() {
    let dir = tempfile::tempdir().unwrap();
    let path = sharegpt_file(dir.path(), 80);
    let d = dataset(
        json!({"kind": "random", "name": "rs", "num_prompts": 50, "input_len": 200,
        "output_len": 20, "range_ratio": 0.25, "source": "sharegpt", "path": path}),
    );
    let reqs = build(&d, 7, dir.path());
    assert_eq!(reqs.len(), 50);
    let sharegpt = std::fs::read_to_string(&path).unwrap();
    for r in &reqs {
        assert!((50..=200).contains(&r.prompt_len), "{}", r.prompt_len);
        assert!((5..=20).contains(&r.output_len));
        // Made of ShareGPT prompt text, cut or repeated.
        let first: String = text(r).split(' ').take(3).collect::<Vec<_>>().join(" ");
        assert!(sharegpt.contains(&first), "{first}");
    }
    assert_deterministic(&d, dir.path());
    // More requests than conversations: bench_serving stops at the end of the file.
    let d = dataset(
        json!({"kind": "random", "name": "rs", "num_prompts": 500, "input_len": 10,
        "source": "sharegpt", "path": path}),
    );
    assert_eq!(build(&d, 7, dir.path()).len(), 80);
}

#[test]
fn random_ids_are_consecutive() {
    let dir = tempfile::tempdir().unwrap();
    let d = dataset(
        json!({"kind": "random-ids", "name": "ri", "num_prompts": 40,
        "input_len": 30, "output_len": 9, "range_ratio": 1.0, "tokenize_prompt": true}),
    );
    let reqs = build(&d, 7, dir.path());
    assert_eq!(reqs.len(), 40);
    let vocab = Tokenizer::builtin().vocab_size() as u32;
    for r in &reqs {
        let Prompt::Ids(ids) = &r.prompt else {
            panic!("ids expected")
        };
        assert_eq!((ids.len(), r.prompt_len, r.output_len), (30, 30, 9));
        assert!(ids.windows(2).all(|w| w[1] == (w[0] + 1) % vocab));
    }
    assert_deterministic(&d, dir.path());
}

#[test]
fn images_have_the_asked_sizes_counts_and_formats() {
    let dir = tempfile::tempdir().unwrap();
    let d = dataset(
        json!({"kind": "image", "name": "img", "num_prompts": 12, "input_len": 20,
        "output_len": 8, "image_count": 3, "random_image_count": true, "format": "png",
        "resolution": "random:16x20-40x50", "image_tokens": {"patch_px": 14}}),
    );
    let reqs = build(&d, 7, dir.path());
    assert_eq!(reqs.len(), 12);
    let mut counts = std::collections::BTreeSet::new();
    for r in &reqs {
        counts.insert(r.images.len());
        assert!((1..=3).contains(&r.images.len()));
        let mut vision = 0;
        for uri in &r.images {
            let b64 = uri
                .strip_prefix("data:image/png;base64,")
                .expect("png data URI");
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap();
            let img = image::load_from_memory(&bytes).unwrap();
            let (w, h) = (img.width(), img.height());
            assert!((20..=50).contains(&w) && (16..=40).contains(&h), "{w}x{h}");
            vision += w.div_ceil(14) * h.div_ceil(14);
        }
        assert_eq!(r.vision_prompt_len, vision);
        assert_eq!(r.prompt_len, r.text_prompt_len + r.vision_prompt_len);
        assert!((1..=8).contains(&r.output_len));
    }
    assert!(counts.len() > 1, "image counts vary: {counts:?}");
    assert_deterministic(&d, dir.path());

    let d = dataset(
        json!({"kind": "image", "name": "jpg", "num_prompts": 2, "input_len": 5,
        "resolution": "360p", "content": "blank", "image_tokens": {"per_image": 100}}),
    );
    for r in build(&d, 1, dir.path()) {
        let b64 = r.images[0]
            .strip_prefix("data:image/jpeg;base64,")
            .expect("jpeg");
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        let img = image::load_from_memory(&bytes).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), (640, 360));
        assert!(
            img.pixels().all(|p| p.0.iter().all(|&c| c > 240)),
            "blank is white"
        );
        assert_eq!(r.vision_prompt_len, 100);
    }
}

#[test]
fn shared_prefix_groups_uniform_and_zipf() {
    let dir = tempfile::tempdir().unwrap();
    let d = dataset(
        json!({"kind": "generated-shared-prefix", "name": "g", "num_groups": 4,
        "prompts_per_group": 5, "system_prompt_len": 40, "question_len": 8, "output_len": 12,
        "send_routing_key": true}),
    );
    let reqs = build(&d, 7, dir.path());
    assert_eq!(reqs.len(), 20);
    let mut by_group = std::collections::BTreeMap::<String, Vec<&str>>::new();
    for r in &reqs {
        assert_eq!(r.output_len, 12);
        let key = r.routing_key.clone().expect("routing key");
        by_group.entry(key).or_default().push(text(r));
    }
    assert_eq!(by_group.len(), 4);
    for prompts in by_group.values() {
        assert_eq!(prompts.len(), 5);
        let system = prompts[0].split("\n\n").next().unwrap();
        assert_eq!(Tokenizer::builtin().count(system), 40);
        assert!(
            prompts.iter().all(|p| p.starts_with(system)),
            "one system prompt per group"
        );
    }
    assert_deterministic(&d, dir.path());
    let ordered = dataset(
        json!({"kind": "generated-shared-prefix", "name": "g", "num_groups": 4,
        "prompts_per_group": 5, "system_prompt_len": 40, "question_len": 8, "ordered": true,
        "send_routing_key": true}),
    );
    let keys: Vec<String> = build(&ordered, 7, dir.path())
        .iter()
        .map(|r| r.routing_key.clone().unwrap())
        .collect();
    assert!(
        keys.windows(5)
            .step_by(5)
            .all(|w| w.iter().all(|k| k == &w[0]))
    );

    let zipf = dataset(
        json!({"kind": "generated-shared-prefix", "name": "z", "num_groups": 8,
        "prompts_per_group": 50, "system_prompt_len": 4, "question_len": 2, "output_len": 2,
        "group_distribution": "zipf", "zipf_alpha": 1.2, "send_routing_key": true, "num_turns": 3}),
    );
    let reqs = build(&zipf, 7, dir.path());
    assert_eq!(reqs.len(), 400);
    let mut counts = [0usize; 8];
    for r in &reqs {
        let g: usize = r
            .routing_key
            .as_ref()
            .unwrap()
            .rsplit('_')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        counts[g] += 1;
        let Prompt::Turns(t) = &r.prompt else {
            panic!("multi-turn")
        };
        assert_eq!(t.len(), 3);
    }
    println!("zipf(1.2) group counts over 400 prompts: {counts:?}");
    assert!(counts[0] > counts[1] && counts[1] > counts[7], "{counts:?}");
    assert_deterministic(&zipf, dir.path());
}
