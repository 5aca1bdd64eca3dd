//! What happened to one request: the [`RequestRecord`] the engine writes and the metrics read.
//!
//! All times are seconds from the run's start instant (the moment the first request was
//! due), on the monotonic clock.

use serde::Serialize;

/// How a request ended. A failed request is data, not an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Outcome {
    /// Completed with at least one output token (or, for non-streaming, a parsed body).
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
    Timeout,
    /// No connection could be made.
    Connect,
    /// Another transport error (reset, protocol error).
    Transport,
}

/// What was wrong with a response stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
    /// Reading the body failed part way.
    Read,
}

impl Outcome {
    /// Whether the request counts as successful.
    pub fn is_ok(&self) -> bool {
        matches!(self, Outcome::Ok)
    }

    /// Stable name used when failures are counted by kind: `http_503`, `stream_early_close`,
    /// `timeout`, `connect`, `transport`.
    pub fn kind(&self) -> String {
        match self {
            Outcome::Ok => "ok".into(),
            Outcome::Http { status } => format!("http_{status}"),
            Outcome::Stream { problem } => {
                let p = serde_json::to_value(problem).expect("serializes");
                format!("stream_{}", p.as_str().unwrap_or("unknown"))
            }
            Outcome::Timeout => "timeout".into(),
            Outcome::Connect => "connect".into(),
            Outcome::Transport => "transport".into(),
        }
    }
}

/// One request's timeline and result.
#[derive(Debug, Clone, Serialize)]
pub struct RequestRecord {
    /// Position in the run's request list (dispatch order).
    pub index: usize,
    /// When the schedule said to send it.
    pub intended_s: f64,
    /// When it was sent, after waiting for the concurrency cap.
    pub sent_s: f64,
    /// When the first output token arrived (for non-streaming requests: the whole body).
    pub first_token_s: Option<f64>,
    /// When the response ended (last byte, or the failure).
    pub end_s: f64,
    /// Inter-token latencies in seconds, bench_serving's way: the gap before a chunk split
    /// evenly over the tokens it carried.
    pub itl_s: Vec<f64>,
    /// Prompt length in tokens as the dataset built it.
    pub prompt_len: u32,
    /// Output length requested.
    pub requested_output_len: u32,
    /// Output length the server reported (usage / meta_info), when it did.
    pub reported_output_len: Option<u32>,
    /// Prompt length the server reported, when it did.
    pub reported_prompt_len: Option<u32>,
    /// Number of chunks that carried output text.
    pub chunks: u32,
    /// The generated text.
    pub text: String,
    /// How it ended.
    pub outcome: Outcome,
    /// The error message for failures (status text and body, or the transport error).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl RequestRecord {
    /// Time to first token from the send time (bench_serving's TTFT), if any token came.
    pub fn ttft_s(&self) -> Option<f64> {
        self.first_token_s.map(|t| t - self.sent_s)
    }

    /// End-to-end latency from the send time (bench_serving's latency).
    pub fn latency_s(&self) -> f64 {
        self.end_s - self.sent_s
    }

    /// Time spent waiting for the concurrency cap (and the client) after the request was due.
    pub fn queue_wait_s(&self) -> f64 {
        (self.sent_s - self.intended_s).max(0.0)
    }

    /// Output length used by the metrics: the server's count when it gave one, else the
    /// requested length (bench_serving's rule).
    pub fn output_len(&self) -> u32 {
        self.reported_output_len
            .unwrap_or(self.requested_output_len)
    }
}
