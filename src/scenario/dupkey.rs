//! Finding a duplicate key in a YAML mapping, so the error names its line (the YAML parser
//! reports duplicates without a position). In: YAML text. Out: the second occurrence's
//! position and the key.

use std::collections::HashSet;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

use super::locate::Pos;

enum Frame {
    Map {
        keys: HashSet<String>,
        key_next: bool,
    },
    Seq,
}

#[derive(Default)]
struct Finder {
    stack: Vec<Frame>,
    found: Option<(Pos, String)>,
}

impl Finder {
    /// A node starts: as a key (`Some(text)` for scalars) or a value of the open mapping.
    fn node(&mut self, key: Option<String>, mark: Marker) {
        if let Some(Frame::Map { keys, key_next }) = self.stack.last_mut() {
            if *key_next
                && let Some(k) = key
                && !keys.insert(k.clone())
                && self.found.is_none()
            {
                self.found = Some((Pos::new(mark.line(), mark.col() + 1), k));
            }
            *key_next = !*key_next;
        }
    }
}

impl MarkedEventReceiver for Finder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        match ev {
            Event::Scalar(text, ..) => self.node(Some(text), mark),
            Event::Alias(_) => self.node(None, mark),
            Event::SequenceStart(..) => {
                self.node(None, mark);
                self.stack.push(Frame::Seq);
            }
            Event::MappingStart(..) => {
                self.node(None, mark);
                self.stack.push(Frame::Map {
                    keys: HashSet::new(),
                    key_next: true,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                self.stack.pop();
            }
            _ => {}
        }
    }
}

/// The first key that repeats within one mapping: where its second occurrence is, and the key.
pub fn find(text: &str) -> Option<(Pos, String)> {
    let mut f = Finder::default();
    let _ = Parser::new_from_str(text).load(&mut f, false);
    f.found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_second_occurrence() {
        let text = "name: a\ntargets:\n  - name: x\n    backend: vllm\n    name: y\nname: b\n";
        assert_eq!(find(text), Some((Pos::new(5, 5), "name".to_owned())));
        assert_eq!(find("a: 1\nb: [1, 1]\nc: {x: 1, y: 1}\n"), None);
        assert_eq!(
            find("{\"a\": 1,\n \"a\": 2}"),
            Some((Pos::new(2, 2), "a".to_owned()))
        );
    }
}
