//! What happened to one request: the [`RequestRecord`] the engine writes and the metrics read.
//!
//! All times are seconds from the run's start instant (the moment the first request was
//! due), on the monotonic clock.

use serde::{Deserialize, Serialize};

/// How a request ended. A failed request is data, not an error.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Outcome {
    /// Completed with at least one output token (or, for non-streaming, a parsed body).
    #[default]
    Ok,
    /// The server answered with a non-200 status.
    Http {
        /// The status code.
        status: u16,
    },
    /// The response started but the stream was unusable.
    Stream {
        /// What was wrong with it.
        problem: StreamProblem,
    },
    /// A time limit passed before the request finished.
    Timeout {
        /// Which limit.
        phase: TimeoutPhase,
    },
    /// No connection could be made.
    Connect,
    /// Another transport error (reset, protocol error).
    Transport,
    /// The client could not build the request (a body template failed for this request).
    Client,
    /// The client cancelled it (Ctrl-C, after the grace period for requests in flight).
    Cancelled,
}

/// Which time limit a request ran into (`request.timeouts`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeoutPhase {
    /// Connecting.
    Connect,
    /// Waiting for the response headers.
    FirstByte,
    /// Waiting for the next chunk of the body.
    Idle,
    /// The whole request.
    Total,
}

/// What was wrong with a response stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamProblem {
    /// The server sent an `{"error": …}` object inside a 200 response.
    InBandError,
    /// A frame was not the JSON the protocol expects.
    Malformed,
    /// The stream ended before its end marker.
    EarlyClose,
    /// The stream finished without a single output token.
    NoOutput,
    /// The connection broke part way through the body (the server disconnected).
    Disconnect,
}

impl Outcome {
    /// Whether the request counts as successful.
    pub fn is_ok(&self) -> bool {
        matches!(self, Outcome::Ok)
    }

    /// Stable name used when failures are counted by kind: `http_503`, `stream_early_close`,
    /// `timeout_idle`, `connect`, `transport`. A status outside 100–999 (which HTTP cannot
    /// carry) is `http`.
    pub fn kind(&self) -> &'static str {
        match self {
            Outcome::Http { status } => http_kind(*status),
            other => other.class(),
        }
    }

    /// The kind without an HTTP status (`http` for every status): a static name.
    pub fn class(&self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Http { .. } => "http",
            Outcome::Stream { problem } => match problem {
                StreamProblem::InBandError => "stream_in_band_error",
                StreamProblem::Malformed => "stream_malformed",
                StreamProblem::EarlyClose => "stream_early_close",
                StreamProblem::NoOutput => "stream_no_output",
                StreamProblem::Disconnect => "stream_disconnect",
            },
            Outcome::Timeout { phase } => match phase {
                TimeoutPhase::Connect => "timeout_connect",
                TimeoutPhase::FirstByte => "timeout_first_byte",
                TimeoutPhase::Idle => "timeout_idle",
                TimeoutPhase::Total => "timeout_total",
            },
            Outcome::Connect => "connect",
            Outcome::Transport => "transport",
            Outcome::Client => "client",
            Outcome::Cancelled => "cancelled",
        }
    }
}

/// The static name of a failure kind read back from results (`http_503`, `timeout_idle`...):
/// the same `&'static str` [`Outcome::kind`] gives. A name this version does not write (a
/// newer runner's) is kept as it is read.
pub fn kind_named(name: &str) -> &'static str {
    const CLASSES: [&str; 15] = [
        "ok",
        "http",
        "stream_in_band_error",
        "stream_malformed",
        "stream_early_close",
        "stream_no_output",
        "stream_disconnect",
        "timeout_connect",
        "timeout_first_byte",
        "timeout_idle",
        "timeout_total",
        "connect",
        "transport",
        "client",
        "cancelled",
    ];
    if let Some(status) = name
        .strip_prefix("http_")
        .and_then(|s| s.parse::<u16>().ok())
        && (100..=999).contains(&status)
    {
        return http_kind(status);
    }
    match CLASSES.iter().find(|c| **c == name) {
        Some(c) => c,
        // Bounded by the distinct names in the files read.
        None => Box::leak(name.to_owned().into_boxed_str()),
    }
}

/// `http_<status>` for every status HTTP can carry (100–999), written once on first use.
fn http_kind(status: u16) -> &'static str {
    static NAMES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    let names = NAMES.get_or_init(|| (100..1000).map(|s| format!("http_{s}")).collect());
    match status {
        100..=999 => &names[usize::from(status - 100)],
        _ => "http",
    }
}

/// When an output chunk arrived and what it carried (kept in memory for token accounting,
/// not written to the details file).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChunkEvent {
    /// Arrival, seconds from the run start.
    pub t_s: f64,
    /// Tokens in the chunk as the server counted them; 0 when the frame did not say.
    pub tokens: u32,
    /// Length in bytes of the output text after this chunk.
    pub text_end: u32,
}

/// One request's timeline and result (read back from a details file by `runner merge`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RequestRecord {
    /// Position in the run's records (dispatch order; turns of a conversation in order).
    pub index: usize,
    /// Index of the request (conversation) in the workload.
    pub request: usize,
    /// Turn within a multi-turn conversation, from 0; absent for single requests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub turn: Option<u32>,
    /// When the schedule said to send it.
    pub intended_s: f64,
    /// When the dispatcher got to it (later than `intended_s` when the client fell behind).
    pub dispatched_s: f64,
    /// When it was sent, after waiting for the concurrency cap.
    pub sent_s: f64,
    /// When the response headers arrived.
    pub first_byte_s: Option<f64>,
    /// When the first output token arrived (for non-streaming requests: the whole body).
    pub first_token_s: Option<f64>,
    /// When the response ended (last byte, or the failure).
    pub end_s: f64,
    /// Inter-token latencies in seconds: one per output token after the first. The gap
    /// before a chunk is split evenly over the tokens it carried; tokens that came with the
    /// first token have gap 0.
    pub itl_s: Vec<f64>,
    /// Output chunks, for token accounting.
    #[serde(skip)]
    pub chunk_events: Vec<ChunkEvent>,
    /// Prompt length in tokens as the dataset built it (for later turns of a conversation:
    /// as the server reported it).
    pub prompt_len: u32,
    /// Prompt length re-measured by encoding what was sent, when the dataset measured it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub measured_prompt_len: Option<u32>,
    /// Vision part of `prompt_len` (image datasets); the rest is text.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub vision_prompt_len: u32,
    /// Output length requested.
    pub requested_output_len: u32,
    /// Output length the server reported (usage / meta_info), when it did.
    pub reported_output_len: Option<u32>,
    /// Output length counted by retokenizing the output text (set after the run).
    pub retokenized_output_len: Option<u32>,
    /// Prompt length the server reported, when it did.
    pub reported_prompt_len: Option<u32>,
    /// Prompt tokens the server served from its prefix cache, when it said.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cached_tokens: Option<u32>,
    /// The server's split of `cached_tokens` by tier, when it sent one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cached_tokens_details: Option<serde_json::Value>,
    /// Number of chunks that carried output text.
    pub chunks: u32,
    /// Times the request was sent again because its pooled connection turned out closed
    /// before the server read it.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub retries: u32,
    /// Seconds spent opening a new connection for this request (its handshake is inside its
    /// TTFT); absent when it reused a warm or pooled connection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect_s: Option<f64>,
    /// The LoRA adapter the request used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lora: Option<String>,
    /// The generated text.
    pub text: String,
    /// How it ended.
    pub outcome: Outcome,
    /// The error message for failures (status text and body, or the transport error).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl RequestRecord {
    /// An empty record of a request due at `intended_s`.
    pub fn new(request: usize, intended_s: f64, requested_output_len: u32) -> RequestRecord {
        RequestRecord {
            index: request,
            request,
            intended_s,
            dispatched_s: intended_s,
            sent_s: intended_s,
            end_s: intended_s,
            requested_output_len,
            ..RequestRecord::default()
        }
    }

    /// Time to first token from the send time (bench_serving's TTFT), if any token came.
    pub fn ttft_s(&self) -> Option<f64> {
        self.first_token_s.map(|t| t - self.sent_s)
    }

    /// End-to-end latency from the send time (bench_serving's latency).
    pub fn latency_s(&self) -> f64 {
        self.end_s - self.sent_s
    }

    /// Time per output token after the first: (latency − ttft) / (output_len − 1), for
    /// outputs longer than one token.
    pub fn tpot_s(&self) -> Option<f64> {
        let out = self.output_len();
        (out > 1).then(|| (self.latency_s() - self.ttft_s().unwrap_or(0.0)) / (out - 1) as f64)
    }

    /// Time spent waiting for the concurrency cap after the dispatcher got to the request.
    pub fn queue_wait_s(&self) -> f64 {
        (self.sent_s - self.dispatched_s).max(0.0)
    }

    /// How late the dispatcher got to the request (the client falling behind its schedule).
    pub fn schedule_lag_s(&self) -> f64 {
        (self.dispatched_s - self.intended_s).max(0.0)
    }

    /// Output length used by the metrics: the server's count when it gave one, else the
    /// requested length (bench_serving's rule).
    pub fn output_len(&self) -> u32 {
        self.reported_output_len
            .unwrap_or(self.requested_output_len)
    }

    /// Rebuild `itl_s` from the chunk events, with `counts[k]` tokens in chunk `k`.
    pub fn set_itl(&mut self, counts: &[u32]) {
        self.itl_s.clear();
        let mut prev: Option<f64> = None;
        for (ev, &n) in self.chunk_events.iter().zip(counts) {
            let n = n.max(1);
            match prev {
                None => self.itl_s.extend(std::iter::repeat_n(0.0, n as usize - 1)),
                Some(p) => {
                    let gap = (ev.t_s - p) / n as f64;
                    self.itl_s.extend(std::iter::repeat_n(gap, n as usize));
                }
            }
            prev = Some(ev.t_s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn itl_splits_each_gap_over_the_chunk_tokens() {
        let mut r = RequestRecord::new(0, 0.0, 8);
        for (t, n) in [(1.0, 2), (1.5, 1), (2.5, 4)] {
            r.chunk_events.push(ChunkEvent {
                t_s: t,
                tokens: n,
                text_end: 0,
            });
        }
        r.set_itl(&[2, 1, 4]);
        assert_eq!(r.itl_s, vec![0.0, 0.5, 0.25, 0.25, 0.25, 0.25]);
    }

    #[test]
    fn failure_kinds_name_the_serialized_variants() {
        use StreamProblem::*;
        for problem in [InBandError, Malformed, EarlyClose, NoOutput, Disconnect] {
            let name = serde_json::to_value(problem).unwrap();
            let kind = Outcome::Stream { problem }.kind();
            assert_eq!(kind, format!("stream_{}", name.as_str().unwrap()));
        }
        use TimeoutPhase::*;
        for phase in [Connect, FirstByte, Idle, Total] {
            let name = serde_json::to_value(phase).unwrap();
            let kind = Outcome::Timeout { phase }.kind();
            assert_eq!(kind, format!("timeout_{}", name.as_str().unwrap()));
        }
    }

    #[test]
    fn failure_kinds_are_stable_names() {
        assert_eq!(Outcome::Http { status: 500 }.kind(), "http_500");
        assert_eq!(Outcome::Http { status: 100 }.kind(), "http_100");
        assert_eq!(Outcome::Http { status: 999 }.kind(), "http_999");
        assert_eq!(Outcome::Http { status: 42 }.kind(), "http");
        assert_eq!(
            Outcome::Stream {
                problem: StreamProblem::InBandError
            }
            .kind(),
            "stream_in_band_error"
        );
        assert_eq!(
            Outcome::Timeout {
                phase: TimeoutPhase::FirstByte
            }
            .kind(),
            "timeout_first_byte"
        );
    }
}
