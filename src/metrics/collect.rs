//! Collects a run's records as each request finishes, with memory bounded when details are
//! off.
//!
//! In: each finished [`RequestRecord`] (from the engine, in completion order), the tokenizer.
//! Out: the run's [`Summary`] and the records the reports need.
//!
//! Each request's token accounting (retokenizing its output, splitting multi-token chunks)
//! runs as it finishes; it is then folded into histograms and exact sums ([`Fold`]). While
//! the run is within the exact budget ([`EXACT_MAX_REQUESTS`] requests and
//! [`EXACT_MAX_ITL_VALUES`] inter-token latencies, about 70 MB) its records are kept too,
//! without their text unless details were asked for, and the summary is computed from them
//! exactly as before (NumPy-identical percentiles). Past the budget the kept records are
//! dropped (except the first failures, for the error note) and the summary comes from the
//! fold. With details on every record is kept whole and the summary is always exact.

use super::{Fold, Percentiles, Summary, count_one, summarize};
use crate::record::RequestRecord;
use crate::tokenizer::Tokenizer;

/// Most requests (turns) whose records a run keeps for exact percentiles.
pub const EXACT_MAX_REQUESTS: usize = 100_000;

/// Most inter-token latencies a run keeps for exact percentiles (8 bytes each).
pub const EXACT_MAX_ITL_VALUES: usize = 4_000_000;

/// Failed records kept past the budget (for the first-error note).
const KEPT_FAILURES: usize = 100;

/// A run's records as they come in.
pub struct Collector<'a> {
    tokenizer: Option<&'a Tokenizer>,
    keep_all: bool,
    exact: Option<Vec<RequestRecord>>,
    failures: Vec<RequestRecord>,
    itl_values: usize,
    budget: (usize, usize),
    fold: Fold,
    watch: Option<Watcher<'a>>,
}

/// What [`Collector::watched`] shows each record to.
type Watcher<'a> = Box<dyn FnMut(&RequestRecord) + Send + 'a>;

impl<'a> Collector<'a> {
    /// A collector doing token accounting with `tokenizer` (none: records are kept as sent,
    /// e.g. for warmup). `keep_all` keeps every record whole (details files, per-request
    /// goodput) and the summary exact.
    pub fn new(tokenizer: Option<&'a Tokenizer>, keep_all: bool) -> Collector<'a> {
        Collector {
            tokenizer,
            keep_all,
            exact: Some(Vec::new()),
            failures: Vec::new(),
            itl_values: 0,
            budget: (EXACT_MAX_REQUESTS, EXACT_MAX_ITL_VALUES),
            fold: Fold::default(),
            watch: None,
        }
    }

    /// The same, showing each record to `watch` as it comes in (e.g. [`crate::hint::Watch`]).
    pub fn watched(mut self, watch: impl FnMut(&RequestRecord) + Send + 'a) -> Self {
        self.watch = Some(Box::new(watch));
        self
    }

    /// The same with a smaller exact budget (tests).
    pub fn with_budget(mut self, requests: usize, itl_values: usize) -> Self {
        self.budget = (requests, itl_values);
        self
    }

    /// Take one finished request.
    pub fn push(&mut self, mut r: RequestRecord) {
        if let Some(w) = &mut self.watch {
            w(&r);
        }
        if let Some(tok) = self.tokenizer
            && r.outcome.is_ok()
        {
            count_one(&mut r, tok);
        }
        self.fold.add(&r);
        if self.keep_all {
            self.exact.get_or_insert_default().push(r);
            return;
        }
        r.text = String::new();
        r.chunk_events = Vec::new();
        if !r.outcome.is_ok() && self.failures.len() < KEPT_FAILURES {
            self.failures.push(r.clone());
        }
        let Some(kept) = self.exact.as_mut() else {
            return;
        };
        self.itl_values += r.itl_s.len();
        if kept.len() >= self.budget.0 || self.itl_values > self.budget.1 {
            self.exact = None;
            return;
        }
        kept.push(r);
    }

    /// End of the last response so far, seconds from the run start.
    pub fn max_end_s(&self) -> f64 {
        self.fold.max_end_s
    }

    /// Every record kept, in dispatch order with `index` set (no summary).
    pub fn into_records(self) -> Vec<RequestRecord> {
        let mut records = self.exact.unwrap_or(self.failures);
        records.sort_by_key(|r| (r.request, r.turn));
        for (i, r) in records.iter_mut().enumerate() {
            r.index = i;
        }
        records
    }

    /// The summary over `duration_s` and the records kept (in dispatch order, `index` set):
    /// all of them within the budget, else the first failures only.
    pub fn finish(self, duration_s: f64) -> (Summary, Vec<RequestRecord>) {
        match self.exact {
            Some(mut records) => {
                records.sort_by_key(|r| (r.request, r.turn));
                for (i, r) in records.iter_mut().enumerate() {
                    r.index = i;
                }
                let mut s = match self.tokenizer {
                    Some(tok) => summarize(&records, duration_s, tok),
                    None => summarize(&records, duration_s, &Tokenizer::builtin()),
                };
                s.percentiles = Percentiles::Exact;
                s.histograms = self.fold.histograms();
                (s, records)
            }
            None => {
                let mut failures = self.failures;
                failures.sort_by_key(|r| (r.request, r.turn));
                (self.fold.summary(duration_s), failures)
            }
        }
    }
}
