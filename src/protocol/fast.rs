//! The common OpenAI stream frame, parsed typed and borrowing: no `Value` map, no copy of
//! the text unless it holds escapes.
//!
//! In: a frame's JSON text. Out: what [`super::openai`] reads from it (the first choice's
//! text or delta, the usage counts), or `None` when the frame is anything else — an
//! `error`, SGLang's `sglext` or `meta_info`, a field of an unexpected type, a duplicate key,
//! malformed JSON — and the general `Value` path must read it. A frame read here gives
//! exactly what the general path gives.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, IgnoredAny, SeqAccess, Visitor};

use super::{Output, StreamState};

/// The fields read; the rest are skipped (a missing `Option` field is `None`).
#[derive(Deserialize)]
struct Frame<'a> {
    #[serde(borrow)]
    choices: Option<First<Choice<'a>>>,
    usage: Option<Usage>,
    error: Option<IgnoredAny>,
    sglext: Option<IgnoredAny>,
    meta_info: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct Choice<'a> {
    #[serde(borrow)]
    text: Option<Cow<'a, str>>,
    #[serde(borrow)]
    delta: Option<Delta<'a>>,
}

#[derive(Deserialize)]
struct Delta<'a> {
    #[serde(borrow)]
    content: Option<Cow<'a, str>>,
    #[serde(borrow)]
    reasoning_content: Option<Cow<'a, str>>,
    #[serde(borrow)]
    reasoning: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Usage {
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
    prompt_tokens_details: Option<Details>,
}

#[derive(Deserialize)]
struct Details {
    cached_tokens: Option<u64>,
}

/// The first element of an array (the rest skipped); `None` for an empty one.
struct First<T>(Option<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for First<T> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = First<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<First<T>, A::Error> {
                let first = seq.next_element()?;
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(First(first))
            }
        }
        d.deserialize_seq(V(std::marker::PhantomData))
    }
}

fn u32_of(n: u64) -> u32 {
    n.min(u64::from(u32::MAX)) as u32
}

/// Parse `data`, or `None` for the general path.
fn parse(data: &str) -> Option<Frame<'_>> {
    let f: Frame<'_> = serde_json::from_str(data).ok()?;
    (f.error.is_none() && f.sglext.is_none() && f.meta_info.is_none()).then_some(f)
}

/// The usage counts into `st`, as the general path's `take_usage`; the completion count.
fn usage(u: Option<Usage>, st: &mut StreamState) -> Option<u32> {
    let u = u?;
    if let Some(n) = u.prompt_tokens_details.and_then(|d| d.cached_tokens) {
        st.cached_tokens = Some(u32_of(n));
    }
    if let Some(n) = u.prompt_tokens {
        st.prompt_tokens = Some(u32_of(n));
    }
    let n = u32_of(u.completion_tokens?);
    st.completion_tokens = Some(n);
    Some(n)
}

/// A completions frame (`choices[0].text`), or `None` for the general path.
pub(super) fn completion(data: &str, st: &mut StreamState) -> Option<Output> {
    let f = parse(data)?;
    let usage = usage(f.usage, st);
    let choice = f.choices.and_then(|c| c.0);
    let text = choice
        .as_ref()
        .and_then(|c| c.text.as_deref())
        .unwrap_or("");
    Some(st.push_text(text, usage))
}

/// A chat stream frame (`choices[0].delta`: reasoning, then content), or `None` for the
/// general path.
pub(super) fn chat_delta(data: &str, st: &mut StreamState) -> Option<Output> {
    let f = parse(data)?;
    let usage = usage(f.usage, st);
    let delta = f.choices.and_then(|c| c.0).and_then(|c| c.delta);
    let (reasoning, content) = match &delta {
        Some(d) => (
            d.reasoning_content.as_deref().or(d.reasoning.as_deref()),
            d.content.as_deref(),
        ),
        None => (None, None),
    };
    let text: Cow<'_, str> = match (reasoning, content) {
        (Some(r), Some(c)) => Cow::Owned(format!("{r}{c}")),
        (Some(t), None) | (None, Some(t)) => Cow::Borrowed(t),
        (None, None) => Cow::Borrowed(""),
    };
    Some(st.push_text(&text, usage))
}
