//! Incremental Server-Sent-Events (`text/event-stream`) framing parser.
//!
//! Implements the WHATWG "event stream interpretation" rules on arbitrary byte
//! chunks, as they come off a streaming HTTP body:
//!
//! * chunks may split anywhere (inside a line, a CRLF pair, or a UTF-8 char);
//! * line endings are LF, CRLF or a lone CR (a CR ending one chunk followed by
//!   an LF starting the next is a single line ending);
//! * a leading UTF-8 BOM at stream start is skipped;
//! * `:` lines are comments (ignored but counted, see [`Parser::comments`]);
//! * `data`, `event`, `id` (ignored if it contains NUL) and `retry` (ASCII
//!   digits only) are understood; unknown fields are ignored;
//! * a blank line dispatches the event if the data buffer is non-empty.
//!
//! Deliberate deviation from the spec for benchmarking: at end of stream,
//! [`Parser::finish`] treats an unterminated final line as complete and emits
//! a pending event (e.g. a server that closes right after `data: [DONE]\n`),
//! reporting [`EndState::PartialEvent`] so the caller can classify the close.
//!
//! The parser never interprets payloads (`[DONE]`, JSON); see [`is_done`].
//! Bytes are only copied when a line straddles chunks, internal buffers are
//! reused, and an emitted event's `data` string is a recycled one when the caller
//! gives handled events back ([`Parser::recycle`]). Invalid
//! UTF-8 is replaced lossily (U+FFFD), never panics.
//!
//! ```
//! use runner::protocol::sse::{self, EndState, Parser};
//! let mut p = Parser::new();
//! let mut out = Vec::new();
//! p.push(b"data: hel", &mut out);
//! p.push(b"lo\n\ndata: [DONE]\n", &mut out);
//! assert_eq!(p.finish(&mut out), EndState::PartialEvent);
//! assert_eq!(out[0].data, "hello");
//! assert!(sse::is_done(&out[1].data));
//! ```

/// One dispatched server-sent event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Event {
    /// The `event:` type, or `None` when unset (i.e. the default `message`).
    pub event: Option<String>,
    /// The joined `data:` lines (separated by `\n`, no trailing newline).
    pub data: String,
    /// The stream's last event ID at dispatch time (it persists across events,
    /// as per the spec), or `None` if empty / never set.
    pub id: Option<String>,
    /// A valid `retry:` value (milliseconds) seen within this event's lines.
    pub retry: Option<u64>,
}

/// How a stream ended, as reported by [`Parser::finish`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndState {
    /// The stream ended on an event boundary: nothing was pending.
    Clean,
    /// The stream ended inside an event (field lines without a closing blank
    /// line) or inside an unterminated line. Any pending event with data was
    /// still emitted.
    PartialEvent,
}

/// Returns true if `data` is the OpenAI-style end-of-stream sentinel `[DONE]`
/// (surrounding whitespace ignored).
pub fn is_done(data: &str) -> bool {
    data.trim() == "[DONE]"
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Incremental SSE parser for a single stream; reusable after [`Parser::finish`].
#[derive(Debug, Default)]
pub struct Parser {
    /// Bytes of an incomplete line carried over between chunks.
    line: Vec<u8>,
    /// Data buffer: each `data:` value followed by `\n`.
    data: String,
    /// Event type buffer.
    event: String,
    /// Last event ID buffer (persists across events).
    last_id: String,
    retry: Option<u64>,
    /// The previous chunk ended with CR: skip an LF at the next chunk start.
    pending_cr: bool,
    /// A line was processed, so a leading BOM is no longer possible.
    started: bool,
    /// A non-comment field line was seen since the last blank line.
    in_event: bool,
    comments: u64,
    /// Data strings of handled events, given back ([`Parser::recycle`]) for the next ones.
    spare: Vec<String>,
}

impl Parser {
    /// Creates a parser positioned at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Total comment lines (starting with `:`) seen by this parser, across
    /// all streams it has parsed (not reset by [`Parser::finish`]).
    pub fn comments(&self) -> u64 {
        self.comments
    }

    /// Feeds the next chunk of the stream, appending every event completed
    /// by it to `out` (zero or more). Partial lines are buffered internally.
    pub fn push(&mut self, mut chunk: &[u8], out: &mut Vec<Event>) {
        if self.pending_cr && !chunk.is_empty() {
            self.pending_cr = false;
            if chunk[0] == b'\n' {
                chunk = &chunk[1..];
            }
        }
        while let Some(pos) = chunk.iter().position(|&b| b == b'\n' || b == b'\r') {
            let line = &chunk[..pos];
            let mut rest = &chunk[pos + 1..];
            if chunk[pos] == b'\r' {
                match rest.first() {
                    Some(b'\n') => rest = &rest[1..],
                    None => self.pending_cr = true,
                    Some(_) => {}
                }
            }
            if self.line.is_empty() {
                self.process_line(line, out);
            } else {
                let mut buf = std::mem::take(&mut self.line);
                buf.extend_from_slice(line);
                self.process_line(&buf, out);
                buf.clear();
                self.line = buf;
            }
            chunk = rest;
        }
        self.line.extend_from_slice(chunk);
    }

    /// Empties `events` (handled), keeping their data strings for the next events, so a
    /// stream read chunk by chunk allocates none in the steady state.
    pub fn recycle(&mut self, events: &mut Vec<Event>) {
        for e in events.drain(..) {
            let mut data = e.data;
            data.clear();
            self.spare.push(data);
        }
    }

    /// Signals end of stream. An unterminated final line is processed as a
    /// complete line, and a pending event with non-empty data is emitted
    /// even without its closing blank line. Returns whether the stream ended
    /// mid-event/mid-line. Afterwards the parser is reset for a new stream
    /// (buffer capacity and the [`Parser::comments`] count are kept).
    pub fn finish(&mut self, out: &mut Vec<Event>) -> EndState {
        let mut partial = false;
        if !self.line.is_empty() {
            partial = true;
            let buf = std::mem::take(&mut self.line);
            self.process_line(&buf, out);
            self.line = buf;
            self.line.clear();
        }
        partial |= self.in_event;
        self.dispatch(out);
        self.last_id.clear();
        self.pending_cr = false;
        self.started = false;
        if partial {
            EndState::PartialEvent
        } else {
            EndState::Clean
        }
    }

    fn process_line(&mut self, mut line: &[u8], out: &mut Vec<Event>) {
        if !self.started {
            self.started = true;
            line = line.strip_prefix(BOM).unwrap_or(line);
        }
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        if line[0] == b':' {
            self.comments += 1;
            return;
        }
        self.in_event = true;
        let (name, value) = match line.iter().position(|&b| b == b':') {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (line, &[][..]),
        };
        match name {
            b"data" => {
                self.data.push_str(&String::from_utf8_lossy(value));
                self.data.push('\n');
            }
            b"event" => {
                self.event.clear();
                self.event.push_str(&String::from_utf8_lossy(value));
            }
            b"id" if !value.contains(&0) => {
                self.last_id.clear();
                self.last_id.push_str(&String::from_utf8_lossy(value));
            }
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                // Overflowing values are ignored like any other invalid value.
                self.retry = value.iter().try_fold(0u64, |acc, &d| {
                    acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
                });
            }
            _ => {}
        }
    }

    fn dispatch(&mut self, out: &mut Vec<Event>) {
        self.in_event = false;
        let retry = self.retry.take();
        if self.data.is_empty() {
            self.event.clear();
            return;
        }
        let mut data = self.spare.pop().unwrap_or_default();
        data.push_str(&self.data[..self.data.len() - 1]);
        self.data.clear();
        let event = (!self.event.is_empty()).then(|| self.event.clone());
        self.event.clear();
        let id = (!self.last_id.is_empty()).then(|| self.last_id.clone());
        out.push(Event {
            event,
            data,
            id,
            retry,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(chunks: &[&[u8]]) -> (Vec<Event>, EndState, u64) {
        let mut p = Parser::new();
        let mut out = Vec::new();
        for c in chunks {
            p.push(c, &mut out);
        }
        let end = p.finish(&mut out);
        (out, end, p.comments())
    }

    fn data_of(events: &[Event]) -> Vec<&str> {
        events.iter().map(|e| e.data.as_str()).collect()
    }

    fn msg(data: &str) -> Event {
        Event {
            data: data.into(),
            ..Event::default()
        }
    }

    /// Checks `input` gives `expected` whole, split at every byte boundary
    /// into two chunks, and fed one byte at a time.
    fn check_all_splits(input: &[u8], expected: &(Vec<Event>, EndState, u64)) {
        assert_eq!(&run(&[input]), expected, "whole");
        for i in 0..=input.len() {
            let (a, b) = input.split_at(i);
            assert_eq!(&run(&[a, b]), expected, "split at {i}");
        }
        let bytes: Vec<&[u8]> = input.chunks(1).collect();
        assert_eq!(&run(&bytes), expected, "byte at a time");
    }

    const OPENAI: &str = concat!(
        "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n",
        "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Héllo\"}}]}\n\n",
        ": keep-alive\n\n",
        "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" 世界 🚀\"}}]}\n\n",
        "data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":3}}\n\n",
        "data: [DONE]\n\n",
    );

    #[test]
    fn openai_stream_whole_every_split_and_bytewise() {
        let expected = run(&[OPENAI.as_bytes()]);
        let (events, end, comments) = &expected;
        assert_eq!(*end, EndState::Clean);
        assert_eq!(*comments, 1);
        assert_eq!(events.len(), 5);
        assert!(events[1].data.ends_with("\"Héllo\"}}]}"));
        assert!(events[2].data.contains(" 世界 🚀"));
        assert!(events[..4].iter().all(|e| e.data.starts_with("{\"id\"")));
        assert!(events.iter().all(|e| e.event.is_none() && e.id.is_none()));
        assert_eq!(events[4], msg("[DONE]"));
        assert!(is_done(&events[4].data));
        check_all_splits(OPENAI.as_bytes(), &expected);
    }

    #[test]
    fn crlf_and_cr_line_endings() {
        let expected = (vec![msg("a\nb"), msg("c")], EndState::Clean, 1);
        check_all_splits(
            b"data: a\r\ndata: b\r\n\r\n: x\r\ndata: c\r\n\r\n",
            &expected,
        );
        check_all_splits(b"data: a\rdata: b\r\r: x\rdata: c\r\r", &expected);
        check_all_splits(b"data: a\ndata: b\r\r\n: x\rdata: c\r\n\n", &expected);
    }

    #[test]
    fn cr_lf_split_across_chunks_is_one_line_ending() {
        // If CR|LF were two endings, "a" would be dispatched on its own.
        let (ev, end, _) = run(&[b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"]);
        assert_eq!((ev, end), (vec![msg("a\nb")], EndState::Clean));
        // Two CRs across chunks are two endings: a blank line.
        let (ev, _, _) = run(&[b"data: a\r", b"\rdata: b\r", b"", b"\r"]);
        assert_eq!(ev, vec![msg("a"), msg("b")]);
    }

    #[test]
    fn comments_ignored_and_counted() {
        let (ev, end, comments) =
            run(&[b": keep-alive\n:\n: ping\r\ndata: x\n: mid-event\n\n: trailing\n"]);
        assert_eq!(ev, vec![msg("x")]);
        assert_eq!(comments, 5);
        assert_eq!(
            end,
            EndState::Clean,
            "comment after dispatch is not an event"
        );
    }

    #[test]
    fn event_id_retry_fields() {
        let input = b"event: delta\nid: 7\nretry: 1500\ndata: one\n\n\
            event: foo\nretry: 5\n\n\
            data: two\nretry: 12x\n\n\
            id: bad\0id\nretry:99999999999999999999999\ndata:three\n\n\
            id\ndata: four\nevent\n\n";
        let (ev, end, _) = run(&[input]);
        let mk = |event: Option<&str>, data: &str, id: Option<&str>, retry| Event {
            event: event.map(Into::into),
            data: data.into(),
            id: id.map(Into::into),
            retry,
        };
        assert_eq!(
            ev,
            vec![
                mk(Some("delta"), "one", Some("7"), Some(1500)),
                // id persists; invalid retry ignored; a data-less blank
                // line resets the event type (and drops its retry).
                mk(None, "two", Some("7"), None),
                // id containing NUL ignored; overflowing retry ignored.
                mk(None, "three", Some("7"), None),
                // `id` with no colon resets the last event id to empty.
                mk(None, "four", None, None),
            ]
        );
        assert_eq!(end, EndState::Clean);
    }

    #[test]
    fn data_field_variants() {
        let input =
            b"data: line1\ndata:line2\ndata:  two spaces\ndata\ndata:\nunknown: z\nnocolon\n\n\
            data\n\n";
        let (ev, _, _) = run(&[input]);
        assert_eq!(data_of(&ev), vec!["line1\nline2\n two spaces\n\n", ""]);
    }

    #[test]
    fn final_frame_without_blank_line_is_emitted_by_finish() {
        let expected = (vec![msg("x"), msg("[DONE]")], EndState::PartialEvent, 0);
        check_all_splits(b"data: x\n\ndata: [DONE]\n", &expected);
        check_all_splits(b"data: x\n\ndata: [DONE]", &expected);
        check_all_splits(b"data: x\r\n\r\ndata: [DONE]\r", &expected);
        // Mid-event without data: nothing emitted, still partial.
        let (ev, end, _) = run(&[b"data: x\n\nevent: foo\n"]);
        assert_eq!((ev, end), (vec![msg("x")], EndState::PartialEvent));
        // Unterminated comment line: partial line, no event.
        let (ev, end, c) = run(&[b"data: x\n\n: pi"]);
        assert_eq!((ev, end, c), (vec![msg("x")], EndState::PartialEvent, 1));
    }

    #[test]
    fn clean_close() {
        assert_eq!(run(&[]), (vec![], EndState::Clean, 0));
        assert_eq!(run(&[b"", b""]), (vec![], EndState::Clean, 0));
        assert_eq!(run(&[b"data: x\n\n"]), (vec![msg("x")], EndState::Clean, 0));
        assert_eq!(run(&[b"data: x\r\r"]), (vec![msg("x")], EndState::Clean, 0));
    }

    #[test]
    fn multibyte_utf8_split_across_chunks() {
        let s = "data: é世🚀\n\n".as_bytes();
        let expected = (vec![msg("é世🚀")], EndState::Clean, 0);
        check_all_splits(s, &expected);
        // Split inside the 4-byte emoji across three chunks.
        let at = s.len() - 5;
        assert_eq!(run(&[&s[..at], &s[at..at + 2], &s[at + 2..]]), expected);
    }

    #[test]
    fn invalid_utf8_is_replaced_lossily() {
        let (ev, _, _) = run(&[b"data: a\xFFb\xE4\n\nevent: \xC3\n", b"data: ok\n\n"]);
        assert_eq!(data_of(&ev), vec!["a\u{FFFD}b\u{FFFD}", "ok"]);
        assert_eq!(ev[1].event.as_deref(), Some("\u{FFFD}"));
    }

    #[test]
    fn error_frame_is_an_ordinary_event() {
        let input = b"data: {\"error\": {\"message\": \"overloaded\", \"code\": 503}}\n\n";
        let (ev, end, _) = run(&[input]);
        assert_eq!(ev.len(), 1);
        assert_eq!(
            ev[0].data,
            "{\"error\": {\"message\": \"overloaded\", \"code\": 503}}"
        );
        assert!(!is_done(&ev[0].data));
        assert_eq!(end, EndState::Clean);
    }

    #[test]
    fn bom_skipped_only_at_stream_start() {
        let expected = (vec![msg("x")], EndState::Clean, 0);
        check_all_splits(b"\xEF\xBB\xBFdata: x\n\n", &expected);
        // A second BOM is not stripped: "\u{FEFF}data" is an unknown field.
        let (ev, _, _) = run(&[b"\xEF\xBB\xBF\xEF\xBB\xBFdata: x\n\n"]);
        assert!(ev.is_empty());
        let (ev, _, _) = run(&[b"data: x\n\xEF\xBB\xBFdata: y\n\n"]);
        assert_eq!(ev, vec![msg("x")]);
    }

    #[test]
    fn parser_is_reusable_after_finish() {
        let mut p = Parser::new();
        let mut out = Vec::new();
        p.push(b"id: 1\n: c\ndata: a\r", &mut out);
        assert_eq!(p.finish(&mut out), EndState::PartialEvent);
        p.push(b"\xEF\xBB\xBF\ndata: b\n\n", &mut out);
        assert_eq!(p.finish(&mut out), EndState::Clean);
        let a = Event {
            id: Some("1".into()),
            ..msg("a")
        };
        assert_eq!(out, vec![a, msg("b")]);
        assert_eq!(p.comments(), 1);
    }

    #[test]
    fn is_done_helper() {
        assert!(is_done("[DONE]"));
        assert!(is_done("  [DONE]\n"));
        assert!(!is_done("[done]"));
        assert!(!is_done("{\"done\":true}"));
        assert!(!is_done(""));
    }
}
