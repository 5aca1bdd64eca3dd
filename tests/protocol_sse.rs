//! Recorded llama.cpp streams (llama-server from PyPI, SmolLM2-135M, `ignore_eos`,
//! `stream_options.include_usage`) through the SSE parser split at every byte boundary, then
//! through the completions and chat adapters.

use runner::protocol::sse::{EndState, Event, Parser};
use runner::protocol::{Chat, Completions, Output, Protocol, StreamState};

fn parse_in(pieces: &[&[u8]]) -> (Vec<Event>, EndState) {
    let mut p = Parser::new();
    let mut out = Vec::new();
    for piece in pieces {
        p.push(piece, &mut out);
    }
    let end = p.finish(&mut out);
    (out, end)
}

fn every_split_agrees(stream: &[u8]) -> Vec<Event> {
    let (whole, end) = parse_in(&[stream]);
    assert_eq!(end, EndState::Clean);
    for at in 0..=stream.len() {
        let (a, b) = stream.split_at(at);
        assert_eq!(parse_in(&[a, b]).0, whole, "split at byte {at}");
    }
    let bytes: Vec<&[u8]> = stream.chunks(1).collect();
    assert_eq!(parse_in(&bytes).0, whole, "one byte at a time");
    // CRLF line endings give the same events.
    let crlf = String::from_utf8(stream.to_vec())
        .unwrap()
        .replace('\n', "\r\n");
    assert_eq!(parse_in(&[crlf.as_bytes()]).0, whole, "CRLF");
    whole
}

fn run(protocol: &dyn Protocol, events: &[Event]) -> (StreamState, usize, bool) {
    let mut st = StreamState::default();
    let mut chunks = 0;
    let mut done = false;
    for ev in events {
        if runner::protocol::sse::is_done(&ev.data) {
            done = true;
            continue;
        }
        match protocol.frame(&ev.data, &mut st).unwrap() {
            Output::Nothing => {}
            Output::Chunk | Output::Tokens(_) => chunks += 1,
        }
    }
    (st, chunks, done)
}

#[test]
fn recorded_llamacpp_completions_stream() {
    let stream = include_bytes!("fixtures/llamacpp-completions.sse");
    let events = every_split_agrees(stream);
    assert_eq!(events.len(), 10);
    let (st, chunks, done) = run(&Completions, &events);
    assert!(done);
    assert_eq!(st.text, " Paris.\n\nThe United States has");
    assert_eq!(chunks, 8);
    assert_eq!((st.completion_tokens, st.prompt_tokens), (Some(8), Some(5)));
}

#[test]
fn recorded_llamacpp_chat_stream() {
    let stream = include_bytes!("fixtures/llamacpp-chat.sse");
    let events = every_split_agrees(stream);
    assert_eq!(events.len(), 10);
    let (st, chunks, done) = run(&Chat, &events);
    assert!(done);
    assert_eq!(st.text, "I'm glad you're here");
    assert_eq!(chunks, 6);
    assert_eq!(
        (st.completion_tokens, st.prompt_tokens),
        (Some(6), Some(32))
    );
}

#[test]
fn a_stream_cut_inside_the_last_event_still_yields_it_but_reports_the_cut() {
    let stream = include_bytes!("fixtures/llamacpp-completions.sse");
    let cut = &stream[..stream.len() - 2];
    let (events, end) = parse_in(&[cut]);
    assert_eq!(end, EndState::PartialEvent);
    assert_eq!(events.last().unwrap().data, "[DONE]");
}
