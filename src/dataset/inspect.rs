//! `runner dataset inspect`: what a dataset will send, without sending anything.
//!
//! In: the requests of one dataset. Out: text: length statistics (nominal and measured input,
//! output), the nominal-vs-measured drift, images and turns, a histogram of input lengths,
//! and the first requests with their prompts shortened.

use std::fmt::Write as _;

use crate::requests::{Prompt, RequestSpec};

/// How far measured prompt lengths are from the recorded ones.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Drift {
    /// Requests whose length was measured.
    pub measured: usize,
    /// Of those, how many differ from `prompt_len`.
    pub differing: usize,
    /// Mean of |measured − nominal| / nominal, in percent.
    pub mean_abs_pct: f64,
    /// Largest |measured − nominal| / nominal, in percent.
    pub max_abs_pct: f64,
}

/// The drift of `requests`, when any length was measured.
pub fn drift(requests: &[RequestSpec]) -> Option<Drift> {
    let pcts: Vec<(bool, f64)> = requests
        .iter()
        .filter_map(|r| {
            let m = r.measured_prompt_len?;
            let n = r.prompt_len.max(1) as f64;
            Some((
                m != r.prompt_len,
                (f64::from(m) - f64::from(r.prompt_len)).abs() / n * 100.0,
            ))
        })
        .collect();
    if pcts.is_empty() {
        return None;
    }
    Some(Drift {
        measured: pcts.len(),
        differing: pcts.iter().filter(|p| p.0).count(),
        mean_abs_pct: pcts.iter().map(|p| p.1).sum::<f64>() / pcts.len() as f64,
        max_abs_pct: pcts.iter().map(|p| p.1).fold(0.0, f64::max),
    })
}

impl std::fmt::Display for Drift {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} of {} prompts re-encode to a different length than recorded (mean |drift| {:.2}%, max {:.2}%)",
            self.differing, self.measured, self.mean_abs_pct, self.max_abs_pct
        )
    }
}

fn stats(label: &str, v: &[u32]) -> String {
    if v.is_empty() {
        return format!("{label:<16} -\n");
    }
    let mut s = v.to_vec();
    s.sort_unstable();
    let total: u64 = s.iter().map(|&x| u64::from(x)).sum();
    let pct = |q: f64| s[((s.len() - 1) as f64 * q).round() as usize];
    format!(
        "{label:<16} total {total}  min {}  mean {:.1}  p50 {}  p99 {}  max {}\n",
        s[0],
        total as f64 / s.len() as f64,
        pct(0.5),
        pct(0.99),
        s[s.len() - 1]
    )
}

/// A text histogram of `v` in `bins` equal-width bins.
pub fn histogram(v: &[u32], bins: usize) -> String {
    let (Some(&lo), Some(&hi)) = (v.iter().min(), v.iter().max()) else {
        return String::new();
    };
    let width = ((hi - lo) as usize / bins + 1).max(1);
    let mut counts = vec![0usize; bins];
    for &x in v {
        counts[((x - lo) as usize / width).min(bins - 1)] += 1;
    }
    let peak = counts.iter().copied().max().unwrap_or(1).max(1);
    let mut out = String::new();
    for (i, c) in counts.iter().enumerate() {
        let start = lo as usize + i * width;
        if start > hi as usize {
            break;
        }
        let bar = "#".repeat((c * 40).div_ceil(peak));
        let _ = writeln!(out, "  [{start:>7}, {:>7})  {bar:<40} {c}", start + width);
    }
    out
}

fn shorten(s: &str, n: usize) -> String {
    let flat: String = s.chars().map(|c| if c == '\n' { '⏎' } else { c }).collect();
    if flat.chars().count() <= n {
        format!("{flat:?}")
    } else {
        format!("{:?}…", flat.chars().take(n).collect::<String>())
    }
}

fn prompt_preview(p: &Prompt) -> String {
    match p {
        Prompt::Text(t) => shorten(t, 100),
        Prompt::Ids(ids) => format!("{} token ids {:?}…", ids.len(), &ids[..ids.len().min(8)]),
        Prompt::Messages(m) => format!(
            "{} messages, last: {}",
            m.len(),
            shorten(
                &m.last()
                    .map(|m| m["content"].to_string())
                    .unwrap_or_default(),
                80
            )
        ),
        Prompt::Turns(t) => format!("{} turns, first: {}", t.len(), shorten(&t[0], 80)),
        Prompt::MessageTurns(t) => format!("{} turns of messages", t.len()),
    }
}

/// The inspection report of one dataset's requests.
pub fn render(title: &str, requests: &[RequestSpec], first: usize) -> String {
    let mut out = format!("{title}: {} requests\n", requests.len());
    let input: Vec<u32> = requests.iter().map(|r| r.prompt_len).collect();
    let measured: Vec<u32> = requests
        .iter()
        .filter_map(|r| r.measured_prompt_len)
        .collect();
    let output: Vec<u32> = requests.iter().map(|r| r.output_len).collect();
    out.push_str(&stats("input tokens", &input));
    if !measured.is_empty() {
        out.push_str(&stats("measured input", &measured));
    }
    out.push_str(&stats("output tokens", &output));
    let vision: Vec<u32> = requests.iter().map(|r| r.vision_prompt_len).collect();
    if vision.iter().any(|&v| v > 0) {
        out.push_str(&stats("vision tokens", &vision));
    }
    let images: usize = requests.iter().map(|r| r.images.len()).sum();
    if images > 0 {
        let bytes: usize = requests
            .iter()
            .flat_map(|r| &r.images)
            .map(String::len)
            .sum();
        let _ = writeln!(
            out,
            "images           {images} ({:.1} per request, {:.0} KiB per request as data URIs)",
            images as f64 / requests.len() as f64,
            bytes as f64 / 1024.0 / requests.len() as f64
        );
    }
    let turns: usize = requests
        .iter()
        .map(|r| match &r.prompt {
            Prompt::Turns(t) => t.len(),
            Prompt::MessageTurns(t) => t.len(),
            _ => 1,
        })
        .sum();
    if turns > requests.len() {
        let _ = writeln!(out, "turns            {turns} (multi-turn replay)");
    }
    if requests.iter().any(|r| r.timestamp_s.is_some()) {
        let last = requests
            .iter()
            .filter_map(|r| r.timestamp_s)
            .fold(0.0, f64::max);
        let _ = writeln!(
            out,
            "trace            {last:.3} s from first to last request"
        );
    }
    if let Some(d) = drift(requests) {
        let _ = writeln!(out, "drift            {d}");
    }
    if !input.is_empty() {
        out.push_str("input length histogram:\n");
        out.push_str(&histogram(&input, 10));
    }
    for (i, r) in requests.iter().take(first).enumerate() {
        let measured = r
            .measured_prompt_len
            .filter(|&m| m != r.prompt_len)
            .map(|m| format!(" (measured {m})"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "#{i}: input {}{measured}, output {}{}{}: {}",
            r.prompt_len,
            r.output_len,
            if r.images.is_empty() {
                String::new()
            } else {
                format!(", {} image(s)", r.images.len())
            },
            r.timestamp_s
                .map(|t| format!(", at {t:.3} s"))
                .unwrap_or_default(),
            prompt_preview(&r.prompt)
        );
    }
    out
}
