//! The engine model's scheduling, without clocks: continuous batching in discrete steps.
//!
//! In: submitted sequences. Out, per step: its duration and then what each sequence emitted.
//! A step (1) admits waiting sequences in arrival order while fewer than `max_batch` run and
//! the KV cache has room for prompt + maximum output; (2) gives prompt tokens not found in
//! the prefix cache to sequences still prefilling, up to `prefill_chunk` tokens in all;
//! (3) decodes every other running sequence by one token, or by the speculative accept
//! length. It costs `step_ms + prefill tokens × prefill_token_ms + decoding sequences ×
//! decode_token_ms`. A sequence's first token comes at the end of the step that finishes its
//! prefill.

use std::collections::VecDeque;

use super::EngineParams;
use super::cache::PrefixCache;
use super::hash::{mix2, unit};
use super::text::{BLOCK, PromptShape};

/// Why a sequence ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// It reached its maximum output length.
    Length,
    /// It produced the end-of-sequence token.
    Stop,
}

/// One request inside the engine.
#[derive(Debug, Clone, Default)]
pub struct Seq {
    /// Request index at the server.
    pub id: u64,
    prompt_tokens: u32,
    blocks: Vec<u64>,
    max_tokens: u32,
    /// Output length at which EOS comes, when it comes before `max_tokens`.
    stop_at: Option<u32>,
    spec_seed: u64,
    cached: u32,
    prefilled: u32,
    generated: u32,
    verify_steps: u32,
    step_prefill: u32,
    step_decode: bool,
}

impl Seq {
    /// A sequence for a prompt of `shape`, generating up to `max_tokens` (EOS at `stop_at`).
    pub fn new(
        id: u64,
        shape: &PromptShape,
        max_tokens: u32,
        stop_at: Option<u32>,
        seed: u64,
    ) -> Seq {
        Seq {
            id,
            prompt_tokens: shape.tokens.max(1),
            blocks: shape.blocks.clone(),
            max_tokens,
            stop_at: stop_at.filter(|&s| s < max_tokens),
            spec_seed: mix2(seed, id),
            ..Seq::default()
        }
    }

    /// KV tokens reserved while it runs.
    fn kv_need(&self) -> u64 {
        u64::from(self.prompt_tokens) + u64::from(self.max_tokens)
    }

    fn limit(&self) -> u32 {
        self.stop_at.unwrap_or(self.max_tokens)
    }

    fn finish(&self) -> Option<Finish> {
        if self.generated < self.limit() {
            None
        } else if self.stop_at.is_some() {
            Some(Finish::Stop)
        } else {
            Some(Finish::Length)
        }
    }
}

/// What a sequence produced in one step.
#[derive(Debug, Clone, PartialEq)]
pub struct Emission {
    /// The sequence.
    pub id: u64,
    /// New output tokens.
    pub tokens: u32,
    /// Set on its last emission.
    pub finish: Option<Finish>,
    /// Prompt tokens found in the prefix cache.
    pub cached: u32,
    /// Decode steps so far (SGLang's `spec_verify_ct`).
    pub verify_steps: u32,
}

/// Running totals, for `/metrics` and `/server_info`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Totals {
    /// Sequences finished.
    pub finished: u64,
    /// Prompt tokens of sequences whose prefill completed.
    pub prompt_tokens: u64,
    /// Of which found in the prefix cache.
    pub cached_tokens: u64,
    /// Output tokens emitted.
    pub generated: u64,
    /// Decode steps, summed over sequences.
    pub decode_steps: u64,
    /// Tokens emitted by those decode steps.
    pub decode_tokens: u64,
}

/// The scheduler state.
pub struct Batcher {
    p: EngineParams,
    waiting: VecDeque<Seq>,
    running: Vec<Seq>,
    kv_used: u64,
    cache: PrefixCache,
    /// Running totals.
    pub totals: Totals,
}

impl Batcher {
    /// An empty engine.
    pub fn new(p: EngineParams) -> Batcher {
        Batcher {
            cache: PrefixCache::new(p.prefix_cache_tokens),
            p,
            waiting: VecDeque::new(),
            running: Vec::new(),
            kv_used: 0,
            totals: Totals::default(),
        }
    }

    /// Queue a sequence.
    pub fn submit(&mut self, seq: Seq) {
        self.waiting.push_back(seq);
    }

    /// Drop a sequence whose client went away.
    pub fn cancel(&mut self, id: u64) {
        self.waiting.retain(|s| s.id != id);
        if let Some(i) = self.running.iter().position(|s| s.id == id) {
            let s = self.running.remove(i);
            self.kv_used -= s.kv_need();
        }
    }

    /// Nothing waiting or running.
    pub fn is_idle(&self) -> bool {
        self.waiting.is_empty() && self.running.is_empty()
    }

    /// Sequences running, waiting.
    pub fn counts(&self) -> (usize, usize) {
        (self.running.len(), self.waiting.len())
    }

    /// KV tokens reserved, prefix-cache tokens held.
    pub fn usage(&self) -> (u64, u64) {
        (self.kv_used, self.cache.tokens())
    }

    /// Empty the prefix cache if nothing runs or waits (SGLang refuses otherwise).
    pub fn flush_cache(&mut self) -> bool {
        if self.is_idle() {
            self.cache.clear();
            true
        } else {
            false
        }
    }

    /// Admit, plan the next step and return its duration in ms; `None` when idle.
    pub fn plan(&mut self) -> Option<f64> {
        while self.running.len() < self.p.max_batch as usize {
            let Some(front) = self.waiting.front() else {
                break;
            };
            let need = front.kv_need();
            if self.kv_used + need > self.p.kv_tokens {
                break;
            }
            let mut s = self.waiting.pop_front().expect("front exists");
            let hit = self.cache.lookup(&s.blocks) as u32 * BLOCK;
            s.cached = hit.min(s.prompt_tokens - 1);
            s.prefilled = s.cached;
            self.kv_used += need;
            self.running.push(s);
        }
        if self.running.is_empty() {
            return None;
        }
        let mut budget = self.p.prefill_chunk;
        let (mut prefill, mut decode) = (0u32, 0u32);
        for s in &mut self.running {
            s.step_prefill = 0;
            s.step_decode = false;
            if s.prefilled < s.prompt_tokens {
                let n = budget.min(s.prompt_tokens - s.prefilled);
                s.step_prefill = n;
                budget -= n;
                prefill += n;
            } else {
                s.step_decode = true;
                decode += 1;
            }
        }
        Some(
            self.p.step_ms
                + f64::from(prefill) * self.p.prefill_token_ms
                + f64::from(decode) * self.p.decode_token_ms,
        )
    }

    /// Finish the planned step: what each sequence emitted. Finished sequences leave.
    pub fn complete(&mut self) -> Vec<Emission> {
        let mut out = Vec::new();
        let accept = self.p.spec_accept_length;
        for s in &mut self.running {
            let tokens = if s.step_prefill > 0 {
                s.prefilled += s.step_prefill;
                s.step_prefill = 0;
                if s.prefilled < s.prompt_tokens {
                    continue;
                }
                self.cache.insert(&s.blocks);
                self.totals.prompt_tokens += u64::from(s.prompt_tokens);
                self.totals.cached_tokens += u64::from(s.cached);
                s.generated = s.max_tokens.min(1);
                s.generated
            } else if s.step_decode {
                let extra = unit(mix2(s.spec_seed, u64::from(s.verify_steps))) < accept.fract();
                let k = (accept.floor() as u32 + u32::from(extra)).min(s.limit() - s.generated);
                s.generated += k;
                s.verify_steps += 1;
                self.totals.decode_steps += 1;
                self.totals.decode_tokens += u64::from(k);
                k
            } else {
                continue;
            };
            self.totals.generated += u64::from(tokens);
            out.push(Emission {
                id: s.id,
                tokens,
                finish: s.finish(),
                cached: s.cached,
                verify_steps: s.verify_steps,
            });
        }
        let mut freed = 0;
        self.running.retain(|s| {
            let done = s.prefilled >= s.prompt_tokens && s.finish().is_some();
            if done {
                freed += s.kv_need();
            }
            !done
        });
        self.kv_used -= freed;
        self.totals.finished += out.iter().filter(|e| e.finish.is_some()).count() as u64;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> EngineParams {
        EngineParams {
            max_batch: 2,
            kv_tokens: 10_000,
            prefill_chunk: 512,
            step_ms: 1.0,
            prefill_token_ms: 0.01,
            decode_token_ms: 0.5,
            prefix_cache_tokens: 10_000,
            spec_accept_length: 1.0,
        }
    }

    fn shape(tokens: u32, salt: u64) -> PromptShape {
        let mut s = PromptShape::default();
        s.push_ids(&(0..u64::from(tokens)).map(|t| t + salt).collect::<Vec<_>>());
        s
    }

    /// Run steps until idle; per step: (duration, emissions).
    fn drain(b: &mut Batcher) -> Vec<(f64, Vec<Emission>)> {
        let mut steps = Vec::new();
        while let Some(ms) = b.plan() {
            steps.push((ms, b.complete()));
        }
        steps
    }

    #[test]
    fn batch_limit_queues_the_third_request() {
        let mut b = Batcher::new(params());
        for id in 0..3 {
            b.submit(Seq::new(id, &shape(10, id * 100), 3, None, 0));
        }
        let steps = drain(&mut b);
        // Step 1: two prefills of 10 tokens; steps 2, 3: two decodes; step 4: third prefill.
        assert!((steps[0].0 - (1.0 + 20.0 * 0.01)).abs() < 1e-9);
        assert_eq!(steps[0].1.len(), 2);
        assert!((steps[1].0 - 2.0).abs() < 1e-9);
        let first_of_2 = steps.iter().position(|(_, e)| e.iter().any(|e| e.id == 2));
        assert_eq!(first_of_2, Some(3));
        let tokens: u32 = steps.iter().flat_map(|s| &s.1).map(|e| e.tokens).sum();
        assert_eq!(tokens, 9);
        assert_eq!(b.totals.finished, 3);
        assert_eq!(b.usage().0, 0, "KV is freed");
    }

    #[test]
    fn long_prompts_prefill_in_chunks() {
        let mut b = Batcher::new(params());
        b.submit(Seq::new(0, &shape(1000, 0), 2, None, 0));
        let steps = drain(&mut b);
        assert!(steps[0].1.is_empty(), "512 of 1000 tokens after one step");
        assert_eq!(
            steps[1].1[0].tokens, 1,
            "first token once the prefill completes"
        );
        assert!((steps[1].0 - (1.0 + 488.0 * 0.01)).abs() < 1e-9);
        assert_eq!(steps.len(), 3);
    }

    #[test]
    fn kv_limit_holds_requests_back() {
        let p = EngineParams {
            kv_tokens: 150,
            max_batch: 8,
            ..params()
        };
        let mut b = Batcher::new(p);
        b.submit(Seq::new(0, &shape(50, 0), 50, None, 0));
        b.submit(Seq::new(1, &shape(50, 100), 50, None, 0));
        b.plan();
        assert_eq!(b.counts(), (1, 1), "100 + 100 > 150");
        b.complete();
        drain(&mut b);
        assert!(b.is_idle());
    }

    #[test]
    fn prefix_cache_skips_known_blocks_until_flushed() {
        let mut b = Batcher::new(params());
        b.submit(Seq::new(0, &shape(100, 0), 1, None, 0));
        let cold = drain(&mut b);
        assert_eq!(cold[0].1[0].cached, 0);
        b.submit(Seq::new(1, &shape(100, 0), 1, None, 0));
        let warm = drain(&mut b);
        assert_eq!(warm[0].1[0].cached, 96, "six whole 16-token blocks");
        assert!(warm[0].0 < cold[0].0);
        assert!(b.flush_cache());
        b.submit(Seq::new(2, &shape(100, 0), 1, None, 0));
        assert_eq!(drain(&mut b)[0].1[0].cached, 0);
        assert_eq!(b.totals.cached_tokens, 96);
    }

    #[test]
    fn speculative_steps_emit_the_mean_accept_length() {
        let p = EngineParams {
            spec_accept_length: 2.5,
            ..params()
        };
        let mut b = Batcher::new(p);
        b.submit(Seq::new(0, &shape(4, 0), 2001, None, 9));
        let steps = drain(&mut b);
        let decode: Vec<u32> = steps[1..].iter().map(|s| s.1[0].tokens).collect();
        assert!(decode[..decode.len() - 1].iter().all(|&k| k == 2 || k == 3));
        assert_eq!(decode.iter().sum::<u32>(), 2000);
        let mean = 2000.0 / decode.len() as f64;
        assert!((mean - 2.5).abs() < 0.1, "{mean}");
    }

    #[test]
    fn eos_stops_early_and_zero_output_ends_at_prefill() {
        let mut b = Batcher::new(params());
        b.submit(Seq::new(0, &shape(4, 0), 10, Some(3), 0));
        b.submit(Seq::new(1, &shape(4, 50), 0, None, 0));
        let steps = drain(&mut b);
        let e1 = &steps[0].1.iter().find(|e| e.id == 1).unwrap();
        assert_eq!((e1.tokens, e1.finish), (0, Some(Finish::Length)));
        let all: Vec<&Emission> = steps
            .iter()
            .flat_map(|s| &s.1)
            .filter(|e| e.id == 0)
            .collect();
        assert_eq!(all.iter().map(|e| e.tokens).sum::<u32>(), 3);
        assert_eq!(all.last().unwrap().finish, Some(Finish::Stop));
    }

    /// Poisson arrivals at `rate` per second against the engine `p`, in model time (no
    /// clocks, so no machine load can change it): each request's TTFT in ms (first emission
    /// minus arrival) in arrival order, and the throughput of the middle 60 % of completions
    /// in requests/s.
    fn sweep_point(p: &EngineParams, rate: f64, n: usize, seed: u64) -> (Vec<f64>, f64) {
        use rand::SeedableRng;
        use rand_distr::{Distribution, Exp};
        const INPUT: u32 = 32;
        const OUTPUT: u32 = 16;
        let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(seed);
        let gap = Exp::new(rate / 1000.0).unwrap();
        let due: Vec<f64> = (0..n)
            .scan(0.0, |t, _| {
                *t += gap.sample(&mut rng);
                Some(*t)
            })
            .collect();
        let mut b = Batcher::new(p.clone());
        let (mut now, mut next) = (0.0, 0);
        let (mut first, mut end) = (vec![f64::NAN; n], vec![f64::NAN; n]);
        loop {
            while next < n && due[next] <= now {
                let id = next as u64;
                b.submit(Seq::new(id, &shape(INPUT, id * 1000), OUTPUT, None, 0));
                next += 1;
            }
            match b.plan() {
                Some(ms) => {
                    now += ms;
                    for e in b.complete() {
                        let i = e.id as usize;
                        if first[i].is_nan() {
                            first[i] = now;
                        }
                        if e.finish.is_some() {
                            end[i] = now;
                        }
                    }
                }
                None if next < n => now = due[next],
                None => break,
            }
        }
        let ttft = first.iter().zip(&due).map(|(f, d)| f - d).collect();
        end.sort_by(f64::total_cmp);
        let (k1, k2) = (n / 5, n * 4 / 5);
        (ttft, (k2 - k1) as f64 / (end[k2] - end[k1]) * 1000.0)
    }

    #[test]
    fn a_rate_sweep_shows_the_knee_at_the_predicted_capacity() {
        let p = crate::sim::SimConfig::preset(crate::sim::Preset::Tiny)
            .resolve()
            .unwrap()
            .engine()
            .unwrap()
            .clone();
        let capacity = p.capacity_rps(32, 16);
        let unloaded = p.step_ms + 32.0 * p.prefill_token_ms;
        let (alone, _) = sweep_point(&p, 0.001, 1, 0);
        assert!((alone[0] - unloaded).abs() < 1e-9, "{alone:?}");
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        for (load, n) in [(0.3, 600), (0.6, 900)] {
            let (ttft, _) = sweep_point(&p, load * capacity, n, 7);
            let m = mean(&ttft);
            // A few steps of queueing at most.
            assert!(
                m < unloaded + 3.0 * p.step_ms,
                "load {load}: mean TTFT {m:.2} ms vs unloaded {unloaded:.2}"
            );
        }
        for (load, n) in [(1.5, 2000), (2.5, 2000)] {
            let (ttft, throughput) = sweep_point(&p, load * capacity, n, 7);
            let q = n / 4;
            let (first, last) = (mean(&ttft[..q]), mean(&ttft[n - q..]));
            assert!(
                mean(&ttft) > 20.0 * unloaded,
                "load {load}: {}",
                mean(&ttft)
            );
            assert!(
                last > 4.0 * first,
                "load {load}: TTFT {first:.1} → {last:.1}"
            );
            let err = (throughput - capacity).abs() / capacity;
            assert!(
                err < 0.03,
                "load {load}: {throughput:.1} vs predicted {capacity:.1} req/s"
            );
        }
    }
}
