//! The request a dataset row becomes: a prompt and its lengths, before any backend shapes it
//! into a body. In: nothing (plain data). Out: [`RequestSpec`] and [`Prompt`], built by
//! `dataset` and sent by `engine` and `protocol`.

/// One request to send: what a dataset row becomes (bench_serving's `DatasetRow`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RequestSpec {
    /// The prompt.
    pub prompt: Prompt,
    /// Prompt length in tokens as bench_serving counts it (text + vision): for `random`, the
    /// nominal drawn length; for most other kinds, the encoded length of the prompt.
    pub prompt_len: u32,
    /// The prompt's length re-measured by encoding what is sent (special tokens added), when
    /// it was measured; differs from `prompt_len` when decode/re-encode drifts.
    pub measured_prompt_len: Option<u32>,
    /// Text part of `prompt_len`.
    pub text_prompt_len: u32,
    /// Vision part of `prompt_len` (image datasets).
    pub vision_prompt_len: u32,
    /// Output tokens to ask for.
    pub output_len: u32,
    /// Images as data URIs (`data:image/png;base64,…`).
    pub images: Vec<String>,
    /// Extra body fields of this row; they win over the scenario's `request.extra_body`.
    pub extra_body: serde_json::Map<String, serde_json::Value>,
    /// Routing key header value (generated-shared-prefix `send_routing_key`).
    pub routing_key: Option<String>,
    /// Due time from a trace, in seconds from the start (trace replay).
    pub timestamp_s: Option<f64>,
}

/// The prompt of a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Prompt {
    /// Plain text.
    Text(String),
    /// Token ids (bench_serving's `--tokenize-prompt`; native and completions APIs).
    Ids(Vec<u32>),
    /// A ready chat message list (`[{role, content}, …]`), sent verbatim to chat APIs.
    Messages(Vec<serde_json::Value>),
    /// User turns of a multi-turn conversation, replayed one request per turn.
    Turns(Vec<String>),
    /// Per-turn message deltas of a multi-turn conversation (`agentic-trace`): turn `i`
    /// appends these messages to the history (which holds the real replies so far), then
    /// one request is sent.
    MessageTurns(Vec<Vec<serde_json::Value>>),
}

impl Default for Prompt {
    fn default() -> Self {
        Prompt::Text(String::new())
    }
}

impl Prompt {
    /// The text, when the prompt is plain text.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Prompt::Text(s) => Some(s),
            _ => None,
        }
    }

    /// Whether this is a multi-turn conversation, replayed one request per turn.
    pub fn is_conversation(&self) -> bool {
        matches!(self, Prompt::Turns(_) | Prompt::MessageTurns(_))
    }

    /// Number of turns of a conversation (1 for any other prompt).
    pub fn turn_count(&self) -> usize {
        match self {
            Prompt::Turns(t) => t.len(),
            Prompt::MessageTurns(t) => t.len(),
            _ => 1,
        }
    }

    /// The messages turn `j` of a conversation appends to the history.
    pub fn turn(&self, j: usize) -> Option<Vec<serde_json::Value>> {
        match self {
            Prompt::Turns(t) => t
                .get(j)
                .map(|u| vec![serde_json::json!({"role": "user", "content": u})]),
            Prompt::MessageTurns(t) => t.get(j).cloned(),
            _ => None,
        }
    }
}

impl RequestSpec {
    /// A text request whose whole prompt length is text.
    pub fn text(prompt: impl Into<String>, prompt_len: u32, output_len: u32) -> RequestSpec {
        RequestSpec {
            prompt: Prompt::Text(prompt.into()),
            prompt_len,
            text_prompt_len: prompt_len,
            output_len,
            ..RequestSpec::default()
        }
    }
}
