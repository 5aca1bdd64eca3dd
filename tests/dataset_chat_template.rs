//! Chat templates from `tokenizer_config.json`, rendered with minijinja: a Llama-3 style and a
//! ChatML template (written here), with and without `add_generation_prompt`; BOS stripping;
//! Python-style `tojson`, `raise_exception` and `strftime_now`.

mod support;

use runner::chat_template::ChatTemplate;
use runner::tokenizer::Tokenizer;
use serde_json::{Value, json};
use support::{byte_level_tokenizer, tokenizer_config};

/// Llama 3 Instruct's template.
const LLAMA3: &str = "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";

/// A multi-line ChatML template in the Qwen 2.5 manner: default system prompt, tools as JSON,
/// block tags on their own lines (so `trim_blocks`/`lstrip_blocks` matter).
const CHATML: &str = "{% for message in messages %}
    {% if loop.first and message['role'] != 'system' %}
<|im_start|>system
You are a helpful assistant.
        {% if tools %}
{% for tool in tools %}
{{ tool | tojson }}
{% endfor %}
        {% endif %}
<|im_end|>
    {% endif %}
    {% if message['role'] not in ['system', 'user', 'assistant'] %}
{{ raise_exception('unknown role ' + message['role']) }}
    {% endif %}
<|im_start|>{{ message['role'] }}
{{ message['content'].strip() }}<|im_end|>
{% endfor %}
{% if add_generation_prompt %}
<|im_start|>assistant
{% endif %}
";

fn chat() -> Vec<Value> {
    vec![
        json!({"role": "system", "content": "You are terse."}),
        json!({"role": "user", "content": " Hi there! "}),
        json!({"role": "assistant", "content": "Hello."}),
        json!({"role": "user", "content": "Count to 3"}),
    ]
}

fn config(bos: &str, eos: &str) -> Value {
    json!({"bos_token": bos, "eos_token": {"content": eos}})
}

#[test]
fn llama3_style_renders_as_transformers_does() {
    let t = ChatTemplate::new(LLAMA3, &config("<|begin_of_text|>", "<|eot_id|>")).unwrap();
    let body = "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|>\
<|start_header_id|>user<|end_header_id|>\n\nHi there!<|eot_id|>\
<|start_header_id|>assistant<|end_header_id|>\n\nHello.<|eot_id|>\
<|start_header_id|>user<|end_header_id|>\n\nCount to 3<|eot_id|>";
    assert_eq!(t.render(&chat(), false, None).unwrap(), body);
    assert_eq!(
        t.render(&chat(), true, None).unwrap(),
        format!("{body}<|start_header_id|>assistant<|end_header_id|>\n\n")
    );
}

#[test]
fn chatml_renders_with_trimmed_blocks_tools_and_errors() {
    let t = ChatTemplate::new(CHATML, &config("", "<|im_end|>")).unwrap();
    let user = [json!({"role": "user", "content": "Hi!"})];
    assert_eq!(
        t.render(&user, true, None).unwrap(),
        "<|im_start|>system\nYou are a helpful assistant.\n<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n"
    );
    assert_eq!(
        t.render(&chat(), false, None).unwrap(),
        "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi there!<|im_end|>\n\
<|im_start|>assistant\nHello.<|im_end|>\n<|im_start|>user\nCount to 3<|im_end|>\n"
    );
    let tools = json!([{"type": "function", "function": {"name": "get_weather",
        "description": "a<b & c's \"x\" é", "parameters": {"z": 1, "a": [true, null]}}}]);
    let out = t.render(&user, true, Some(&tools)).unwrap();
    assert!(
        out.contains("\n{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"a<b & c's \\\"x\\\" é\", \"parameters\": {\"z\": 1, \"a\": [true, null]}}}\n"),
        "Python json.dumps layout, keys in order, no HTML escaping: {out}"
    );
    let e = t
        .render(&[json!({"role": "tool", "content": "x"})], true, None)
        .unwrap_err();
    assert!(e.to_string().contains("unknown role tool"), "{e}");
}

#[test]
fn strftime_now_gives_todays_date() {
    let t = ChatTemplate::new("{{ strftime_now('%Y-%m-%d') }}", &json!({})).unwrap();
    let out = t.render(&[], false, None).unwrap();
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert_eq!(out, runner::chat_template::strftime(days, "%Y-%m-%d"));
    assert_eq!(out.len(), 10);
}

#[test]
fn model_directory_template_and_bos_stripping() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    byte_level_tokenizer(&model);
    tokenizer_config(
        &model,
        &LLAMA3.replace("<|begin_of_text|>", "<s>"),
        "<s>",
        "</s>",
    );
    let tok = Tokenizer::from_path(&model).unwrap();
    assert!(tok.has_chat_template());
    assert_eq!((tok.bos_token(), tok.eos_token()), ("<s>", "</s>"));
    let rendered = tok
        .apply_chat_template(&[json!({"role": "user", "content": "hi"})], true, None)
        .unwrap();
    assert!(rendered.starts_with("<s><|start_header_id|>user"));
    let prompt = tok.chat_prompt("hi").unwrap();
    assert_eq!(
        prompt,
        "<|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
        "BOS removed: the server adds it again"
    );
    assert_eq!(
        tok.count_with_special(&prompt),
        tok.count(&rendered),
        "one BOS either way"
    );

    // A `chat_template.jinja` file is used when the config has no template.
    std::fs::write(
        model.join("tokenizer_config.json"),
        "{\"bos_token\": \"<s>\"}",
    )
    .unwrap();
    std::fs::write(model.join("chat_template.jinja"), CHATML).unwrap();
    let tok = Tokenizer::from_path(&model).unwrap();
    assert!(
        tok.chat_prompt("yo")
            .unwrap()
            .ends_with("<|im_start|>user\nyo<|im_end|>\n<|im_start|>assistant\n")
    );
}
