//! The fast path ([`super::fast`]) against the general `Value` path ([`super::openai`]): every
//! frame the fast path reads gives the same output and state both ways; the rest it leaves.

use super::StreamState;
use super::fast::{chat_delta, completion};
use super::openai::{chat_value, completion_value};
use super::{FrameError, Output};

type Read = fn(&str, &mut StreamState) -> Option<Output>;
type General = fn(&str, &mut StreamState) -> Result<Output, FrameError>;

/// Every frame gives the same output and state both ways (or is left to the general
/// path); `fast` says which frames this path reads itself.
fn same(read: Read, general: General, frames: &[(&str, bool)]) {
    for &(f, fast) in frames {
        let (mut a, mut b) = (StreamState::default(), StreamState::default());
        a.counted_tokens = 2;
        b.counted_tokens = 2;
        let out = read(f, &mut a);
        assert_eq!(out.is_some(), fast, "{f}");
        let want = general(f, &mut b);
        if let Some(out) = out {
            assert_eq!(Ok(out), want, "{f}");
            assert_eq!(
                (
                    &a.text,
                    a.completion_tokens,
                    a.prompt_tokens,
                    a.counted_tokens
                ),
                (
                    &b.text,
                    b.completion_tokens,
                    b.prompt_tokens,
                    b.counted_tokens
                ),
                "{f}"
            );
            assert_eq!(a.cached_tokens, b.cached_tokens, "{f}");
        }
    }
}

#[test]
fn completion_frames_read_as_the_general_path_reads_them() {
    same(
        completion,
        completion_value,
        &[
            (
                r#"{"id":"x","choices":[{"index":0,"text":"hi","logprobs":null}]}"#,
                true,
            ),
            (r#"{"choices":[{"text":"a\"b\u00e9"},{"text":"no"}]}"#, true),
            (
                r#"{"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":5}}"#,
                true,
            ),
            (
                r#"{"choices":[{"text":"x"}],"usage":{"completion_tokens":9}}"#,
                true,
            ),
            (
                r#"{"usage":{"prompt_tokens":3,"prompt_tokens_details":{"cached_tokens":2}}}"#,
                true,
            ),
            (r#"{"choices":null,"usage":null,"error":null}"#, true),
            (r#"{"choices":[{"text":null}]}"#, true),
            (r#"{"choices":[{"text":1}]}"#, false),
            (r#"{"choices":[null]}"#, false),
            (r#"{"usage":{"completion_tokens":-1}}"#, false),
            (r#"{"error":{"message":"boom"}}"#, false),
            (
                r#"{"sglext":{"cached_tokens_details":{"device":1}}}"#,
                false,
            ),
            (
                r#"{"choices":[{"text":"a"}],"choices":[{"text":"b"}]}"#,
                false,
            ),
            ("not json", false),
        ],
    );
}

#[test]
fn chat_frames_read_as_the_general_path_reads_them() {
    same(
        chat_delta,
        chat_value,
        &[
            (r#"{"choices":[{"delta":{"role":"assistant"}}]}"#, true),
            (r#"{"choices":[{"delta":{"content":"hi"}}]}"#, true),
            (
                r#"{"choices":[{"delta":{"reasoning_content":"r","content":"c"}}]}"#,
                true,
            ),
            (
                r#"{"choices":[{"delta":{"reasoning_content":null,"reasoning":"r"}}]}"#,
                true,
            ),
            (
                r#"{"choices":[{"delta":{"reasoning":"r","content":null}}]}"#,
                true,
            ),
            (
                r#"{"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":4}}"#,
                true,
            ),
            (r#"{"choices":[{"delta":"x"}]}"#, false),
            (r#"{"error":{"message":"boom"}}"#, false),
        ],
    );
}
