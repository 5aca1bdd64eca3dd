//! Fault rules of the embedded server: which requests break and how (the runtime that fires
//! them is `sim`'s).
//!
//! In: a rule from a scenario's `embedded.faults` or a `--fault` flag. Out: a checked
//! [`Fault`], or every [`Problem`] with it.

use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Problem;

/// What goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer with an HTTP error status (`status`, default 503) and a JSON error body;
    /// 429 and 503 carry `Retry-After` (`retry_after_s`, default 1).
    Http,
    /// Reset the request's TCP connection before any response.
    Reset,
    /// The server goes down: reset every open connection and close the listening port for
    /// `seconds` (default 1), so new connections are refused; then listen again.
    Refuse,
    /// Write `after_tokens` tokens (default 1), then abort the connection mid-body.
    Disconnect,
    /// Write `after_tokens` tokens, then end the response cleanly but without its end marker
    /// (`data: [DONE]`).
    Truncate,
    /// Write `after_tokens` tokens, then pause `seconds` (default 1) before going on.
    Stall,
    /// Write `after_tokens` tokens, then a frame that is not valid JSON.
    Malformed,
    /// Write `after_tokens` tokens, then an `{"error": …}` object inside the 200 response.
    InBandError,
    /// Answer 200 with a well-formed response that carries no output tokens.
    NoOutput,
    /// Hold the response headers back for `seconds` (default 1); generation starts anyway.
    SlowHeaders,
}

impl FaultKind {
    /// The name as written in scenario files.
    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::Http => "http",
            FaultKind::Reset => "reset",
            FaultKind::Refuse => "refuse",
            FaultKind::Disconnect => "disconnect",
            FaultKind::Truncate => "truncate",
            FaultKind::Stall => "stall",
            FaultKind::Malformed => "malformed",
            FaultKind::InBandError => "in_band_error",
            FaultKind::NoOutput => "no_output",
            FaultKind::SlowHeaders => "slow_headers",
        }
    }

    /// Whether it strikes part way through the output (and so uses `after_tokens`).
    pub fn mid_stream(self) -> bool {
        matches!(
            self,
            FaultKind::Disconnect
                | FaultKind::Truncate
                | FaultKind::Stall
                | FaultKind::Malformed
                | FaultKind::InBandError
        )
    }
}

/// One fault rule: what happens, and to which requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// What goes wrong.
    pub kind: FaultKind,
    /// `http`: the status code (default 503).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 400, max = 599))]
    pub status: Option<u16>,
    /// `http`: the `Retry-After` header in seconds (default 1 for 429 and 503, absent
    /// otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_s: Option<u32>,
    /// `disconnect`, `truncate`, `stall`, `malformed`, `in_band_error`: output tokens written
    /// before the fault strikes (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_tokens: Option<u32>,
    /// `stall`: the pause; `slow_headers`: the header delay; `refuse`: how long the port stays
    /// closed. Seconds, default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0))]
    pub seconds: Option<f64>,
    /// Chance in [0, 1] that a request gets this fault, decided per request from the server's
    /// `seed` and the request's arrival index.
    #[serde(default)]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub probability: f64,
    /// Arrival indices of requests that always get this fault (0 = the first generation or
    /// embedding request the server receives, warmup included).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requests: Vec<u64>,
}

impl Fault {
    /// A rule of `kind` for the listed requests, every parameter at its default.
    pub fn on_requests(kind: FaultKind, requests: &[u64]) -> Fault {
        Fault {
            kind,
            status: None,
            retry_after_s: None,
            after_tokens: None,
            seconds: None,
            probability: 0.0,
            requests: requests.to_vec(),
        }
    }

    /// HTTP status for `http`.
    pub fn status(&self) -> u16 {
        self.status.unwrap_or(503)
    }

    /// `Retry-After` seconds, if the response carries the header.
    pub fn retry_after(&self) -> Option<u32> {
        self.retry_after_s
            .or(matches!(self.status(), 429 | 503).then_some(1))
    }

    /// Tokens written before a mid-stream fault strikes.
    pub fn after_tokens(&self) -> u32 {
        self.after_tokens.unwrap_or(1)
    }

    /// Seconds of a stall, header delay or downtime.
    pub fn seconds(&self) -> f64 {
        self.seconds.unwrap_or(1.0)
    }

    /// Every problem with the parameters (pointers relative to the rule).
    pub fn check(&self) -> Vec<Problem> {
        let k = self.kind.as_str();
        let mut out = Vec::new();
        if !(0.0..=1.0).contains(&self.probability) {
            out.push(Problem::new(
                "/probability",
                format!("`probability` must be in [0, 1], got {}", self.probability),
            ));
        } else if self.probability == 0.0 && self.requests.is_empty() {
            out.push(Problem::new(
                "/kind",
                format!("fault `{k}` never fires: give `probability` or `requests`"),
            ));
        }
        if (self.status.is_some() || self.retry_after_s.is_some()) && self.kind != FaultKind::Http {
            let field = if self.status.is_some() {
                "/status"
            } else {
                "/retry_after_s"
            };
            out.push(Problem::new(
                field,
                format!("`status` and `retry_after_s` apply to kind `http`, not `{k}`"),
            ));
        } else if let Some(s) = self.status
            && !(400..=599).contains(&s)
        {
            out.push(Problem::new(
                "/status",
                format!("`status` must be an error status (400–599), got {s}"),
            ));
        }
        if self.after_tokens.is_some() && !self.kind.mid_stream() {
            out.push(Problem::new(
                "/after_tokens",
                format!("`after_tokens` applies to disconnect, truncate, stall, malformed and in_band_error, not `{k}`"),
            ));
        }
        let timed = matches!(
            self.kind,
            FaultKind::Stall | FaultKind::SlowHeaders | FaultKind::Refuse
        );
        if self.seconds.is_some() && !timed {
            out.push(Problem::new(
                "/seconds",
                format!("`seconds` applies to stall, slow_headers and refuse, not `{k}`"),
            ));
        } else if let Some(s) = self.seconds
            && !(s.is_finite() && s >= 0.0)
        {
            out.push(Problem::new(
                "/seconds",
                format!("`seconds` must be a finite number ≥ 0, got {s}"),
            ));
        }
        out
    }
}

/// `--fault` syntax: comma-separated `key=value` pairs with the keys of [`Fault`]; the first
/// item may be the bare kind; `requests` lists indices separated by `:`. Examples:
/// `http,status=429,probability=0.05`, `kind=disconnect,after_tokens=3,requests=0:4`.
impl FromStr for Fault {
    type Err = String;

    fn from_str(s: &str) -> Result<Fault, String> {
        let mut obj = serde_json::Map::new();
        for (i, item) in s.split(',').map(str::trim).enumerate() {
            let (key, value) = match item.split_once('=') {
                Some((k, v)) => (k.trim(), v.trim()),
                None if i == 0 => ("kind", item),
                None => return Err(format!("`{item}` is not key=value")),
            };
            let v = match key {
                "kind" => serde_json::Value::from(value),
                "requests" => {
                    let ids: Result<Vec<u64>, _> = value.split(':').map(str::parse).collect();
                    serde_json::Value::from(
                        ids.map_err(|_| format!("`requests={value}`: give indices like 0:5:9"))?,
                    )
                }
                _ => serde_json::from_str(value)
                    .map_err(|_| format!("`{key}={value}`: the value must be a number"))?,
            };
            obj.insert(key.to_owned(), v);
        }
        let f: Fault =
            serde_json::from_value(serde_json::Value::Object(obj)).map_err(|e| e.to_string())?;
        match f.check().into_iter().next() {
            Some(p) => Err(p.message),
            None => Ok(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_flag_syntax() {
        let f: Fault = "http,status=429,probability=0.25".parse().unwrap();
        assert_eq!(
            (f.kind, f.status(), f.retry_after(), f.probability),
            (FaultKind::Http, 429, Some(1), 0.25)
        );
        let f: Fault = "kind=disconnect,after_tokens=3,requests=0:4"
            .parse()
            .unwrap();
        assert_eq!(f.kind, FaultKind::Disconnect);
        assert_eq!((f.after_tokens(), f.requests.clone()), (3, vec![0, 4]));
        let e = "stall,status=500,requests=1".parse::<Fault>().unwrap_err();
        assert!(e.contains("apply to kind `http`"), "{e}");
        let e = "bogus,requests=1".parse::<Fault>().unwrap_err();
        assert!(e.contains("unknown variant `bogus`"), "{e}");
        let e = "reset".parse::<Fault>().unwrap_err();
        assert!(e.contains("never fires"), "{e}");
        let e = "stall,requests=1,secs=2".parse::<Fault>().unwrap_err();
        assert!(e.contains("unknown field `secs`"), "{e}");
    }
}
