//! Properties over generated input: any split of a valid SSE stream parses to the same
//! events; any generated scenario that validates also plans (and the plan has the product of
//! its axes' runs).

use proptest::prelude::*;
use runner::protocol::sse::{Event, Parser};
use runner::scenario::locate::Format;

fn parse(pieces: &[&[u8]]) -> Vec<Event> {
    let mut p = Parser::new();
    let mut out = Vec::new();
    for piece in pieces {
        p.push(piece, &mut out);
    }
    p.finish(&mut out);
    out
}

/// A valid stream: events of data lines (any text without line breaks), some with an
/// `event:` or `id:` field or a comment, `\n` or `\r\n` line ends.
fn stream() -> impl Strategy<Value = Vec<u8>> {
    let line = "[^\r\n]{0,40}";
    let event = (
        prop::collection::vec(line, 1..4),
        prop::option::of("[a-z]{1,8}"),
        prop::option::of("[0-9]{1,4}"),
        any::<bool>(),
    );
    (prop::collection::vec(event, 0..8), any::<bool>()).prop_map(|(events, crlf)| {
        let nl = if crlf { "\r\n" } else { "\n" };
        let mut s = String::new();
        for (data, kind, id, comment) in events {
            if comment {
                s.push_str(&format!(": keep-alive{nl}"));
            }
            if let Some(k) = kind {
                s.push_str(&format!("event: {k}{nl}"));
            }
            if let Some(i) = id {
                s.push_str(&format!("id: {i}{nl}"));
            }
            for d in data {
                s.push_str(&format!("data: {d}{nl}"));
            }
            s.push_str(nl);
        }
        s.push_str(&format!("data: [DONE]{nl}{nl}"));
        s.into_bytes()
    })
}

proptest! {
    #[test]
    fn any_split_of_a_stream_parses_the_same(
        s in stream(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
    ) {
        let whole = parse(&[&s]);
        let mut at: Vec<usize> = cuts.iter().map(|i| i.index(s.len() + 1)).collect();
        at.sort_unstable();
        let mut pieces = Vec::new();
        let mut prev = 0;
        for a in at {
            pieces.push(&s[prev..a]);
            prev = a;
        }
        pieces.push(&s[prev..]);
        prop_assert_eq!(parse(&pieces), whole);
    }

    #[test]
    fn any_scenario_that_validates_also_plans(
        backend in prop::sample::select(vec!["sglang", "vllm", "vllm-chat", "sglang-oai", "trt"]),
        kind in prop::sample::select(vec!["random", "random-ids", "generated-shared-prefix"]),
        rates in prop::collection::vec(prop::sample::select(vec!["1", "2.5", "inf", "0", "-1"]), 1..4),
        concs in prop::collection::vec(prop::sample::select(vec!["1", "8", "null", "0"]), 1..3),
        n in 0usize..50,
        zip in any::<bool>(),
    ) {
        let text = format!(
            "name: p\ntargets:\n  - {{ name: t, backend: {backend}, embedded: {{ preset: instant }} }}\n\
             datasets:\n  - {{ name: d, kind: {kind}, num_prompts: {n} }}\n\
             load: {{ request_rate: [{}], max_concurrency: [{}] }}\n\
             sweep: {{ mode: {} }}\n",
            rates.join(", "),
            concs.join(", "),
            if zip { "zip" } else { "product" },
        );
        if let Ok(s) = runner::scenario::load_str(&text, "p.yaml", Format::Yaml) {
            let p = runner::plan::build(&s);
            // Zip pairs the axes (a single value is used with every entry of the other).
            let want = if zip { rates.len().max(concs.len()) } else { rates.len() * concs.len() };
            prop_assert_eq!(p.runs.len(), want, "{}", text);
            prop_assert!(!p.render(&s).is_empty());
        }
    }
}
