//! SSE parser and stream adapters: any bytes, pushed in pieces (the first byte sets the
//! piece size), each event's data through the native, completions and chat frame parsers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use runner::protocol::sse::Parser;
use runner::protocol::{Chat, Completions, Generate, Protocol, StreamState};

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let size = usize::from(first).max(1);
    let mut p = Parser::new();
    let mut events = Vec::new();
    for piece in rest.chunks(size) {
        p.push(piece, &mut events);
    }
    p.finish(&mut events);
    let protocols: [&dyn Protocol; 3] = [&Generate, &Completions, &Chat];
    for proto in protocols {
        let mut st = StreamState::default();
        for e in &events {
            let _ = proto.frame(&e.data, &mut st);
        }
        let _ = proto.whole(&String::from_utf8_lossy(rest), &mut StreamState::default());
    }
});
