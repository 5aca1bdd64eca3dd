//! runner: a declarative benchmark runner for LLM inference servers.
//!
//! Pipeline, one module per stage: [`scenario`] (load + validate) → [`plan`] (expand the
//! matrix) → per run: [`workload`] (requests) → [`schedule`] (due times) → [`engine`]
//! (send, record) → [`metrics`] (summaries) → [`report`] (console, JSONL, CSV).
//! [`sim`] is the embedded inference server.

pub mod bench;
pub mod calibrate;
pub mod chat_template;
pub mod cli;
pub mod clock;
pub mod dataset;
pub mod diff;
pub mod engine;
pub mod exit;
pub mod fetch;
pub mod hint;
pub mod interrupt;
pub mod merge;
pub mod metrics;
pub mod nofile;
pub mod plan;
pub mod protocol;
pub mod provenance;
pub mod record;
pub mod repeats;
pub mod report;
pub mod requests;
pub mod resume;
pub mod run;
pub mod scenario;
pub mod schedule;
pub mod search;
pub mod shard;
pub mod sim;
pub mod slo;
pub mod stats;
pub mod tokenizer;
pub mod workload;
