//! Source positions for values in YAML and TOML scenario files.
//!
//! [`Locations::build`] parses a document a second time, only to record where
//! every node sits, keyed by JSON pointer (`/targets/0/backend`). Validation
//! errors found by the real parser can then be reported as `file:line:col`.
//!
//! YAML is read with the `yaml-rust2` event parser (first document only).
//! Aliases resolve to the node where the anchor was defined, and merge keys
//! (`<<: *base`, `<<: [*a, *b]`) expose the merged entries under the merging
//! mapping. TOML is read with `toml::de::DeTable::parse`, whose values carry
//! byte spans.

use std::collections::{HashMap, HashSet};

use toml::Spanned;
use toml::de::{DeTable, DeValue};
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Input language of a document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// YAML 1.2 (only the first document of a stream is used).
    Yaml,
    /// TOML 1.x.
    Toml,
}

/// A position in the source text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pos {
    /// Line, starting at 1.
    pub line: usize,
    /// Column in characters (not bytes), starting at 1.
    pub col: usize,
}

impl Pos {
    /// A position from 1-based line and column.
    pub fn new(line: usize, col: usize) -> Pos {
        Pos { line, col }
    }

    /// The position of a byte offset in `text`.
    pub fn from_offset(text: &str, offset: usize) -> Pos {
        let before = &text[..offset.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Pos::new(line, before[line_start..].chars().count() + 1)
    }
}

const START: Pos = Pos { line: 1, col: 1 };
/// Upper bound on recorded paths, so alias bombs cannot exhaust memory.
const MAX_ENTRIES: usize = 100_000;

/// Where a path's key (for mapping entries) and value start.
struct Entry {
    key: Option<Pos>,
    value: Pos,
}

/// Positions of every node of a document, keyed by JSON pointer.
pub struct Locations {
    map: HashMap<Vec<String>, Entry>,
}

impl Locations {
    /// Build from source text. Never fails hard: on a syntax error return an
    /// empty map (the caller reports syntax errors separately from its real parser).
    pub fn build(text: &str, format: Format) -> Locations {
        let mut map = HashMap::new();
        match format {
            Format::Yaml => yaml_locations(text, &mut map),
            Format::Toml => toml_locations(text, &mut map),
        }
        Locations { map }
    }

    /// Position of the VALUE at a JSON pointer path such as
    /// `/targets/0/backend` (`""` = document root).
    pub fn value(&self, pointer: &str) -> Option<Pos> {
        self.map.get(&segments(pointer)?).map(|e| e.value)
    }

    /// Position of the KEY of a mapping entry at the pointer (e.g. for an
    /// unknown key `/load/bogus`). `None` for array items and the root.
    pub fn key(&self, pointer: &str) -> Option<Pos> {
        self.map.get(&segments(pointer)?).and_then(|e| e.key)
    }

    /// Best position for a pointer: the key if known, else the value, else the
    /// nearest known ancestor; falls back to 1:1.
    pub fn best(&self, pointer: &str) -> Pos {
        let mut segs = segments(pointer).unwrap_or_default();
        loop {
            if let Some(e) = self.map.get(&segs) {
                return e.key.unwrap_or(e.value);
            }
            if segs.pop().is_none() {
                return START;
            }
        }
    }
}

/// Split a JSON pointer into unescaped segments (`~1` → `/`, `~0` → `~`).
fn segments(pointer: &str) -> Option<Vec<String>> {
    if pointer.is_empty() {
        return Some(Vec::new());
    }
    let rest = pointer.strip_prefix('/')?;
    Some(
        rest.split('/')
            .map(|s| s.replace("~1", "/").replace("~0", "~"))
            .collect(),
    )
}

// ---------------------------------------------------------------- YAML ----

enum Kind {
    /// Scalar text as written, and whether it was plain (unquoted).
    Scalar(String, bool),
    Seq(Vec<usize>),
    /// Alternating key and value node ids.
    Map(Vec<usize>),
}

struct Node {
    pos: Pos,
    kind: Kind,
}

/// Builds a node graph from parser events; aliases share the anchored node id.
#[derive(Default)]
struct Builder {
    nodes: Vec<Node>,
    anchors: HashMap<usize, usize>,
    open: Vec<usize>,
    root: Option<usize>,
}

fn to_pos(mark: Marker) -> Pos {
    let (line, col) = (mark.line(), mark.col() + 1);
    Pos { line, col }
}

impl Builder {
    fn add(&mut self, kind: Kind, anchor: usize, mark: Marker) -> usize {
        let (id, pos) = (self.nodes.len(), to_pos(mark));
        self.nodes.push(Node { pos, kind });
        if anchor > 0 {
            self.anchors.insert(anchor, id);
        }
        self.attach(id, pos);
        id
    }

    /// Append `id` (seen at `at`) to the innermost open collection.
    fn attach(&mut self, id: usize, at: Pos) {
        let Some(&parent) = self.open.last() else {
            self.root.get_or_insert(id);
            return;
        };
        let node = &mut self.nodes[parent];
        match &mut node.kind {
            Kind::Seq(items) => items.push(id),
            Kind::Map(items) => {
                // Block mappings are marked after their first key; use the key.
                if items.is_empty() && (at.line, at.col) < (node.pos.line, node.pos.col) {
                    node.pos = at;
                }
                items.push(id);
            }
            Kind::Scalar(..) => {}
        }
    }

    /// Record `id` at `path`, then its children. `stack` breaks alias cycles.
    fn walk(
        &self,
        id: usize,
        path: &mut Vec<String>,
        key: Option<Pos>,
        stack: &mut Vec<usize>,
        out: &mut HashMap<Vec<String>, Entry>,
    ) {
        if out.len() >= MAX_ENTRIES || stack.contains(&id) {
            return;
        }
        // An omitted value (`key:`) is marked at the next token; use the key.
        let value = match (&self.nodes[id].kind, key) {
            (Kind::Scalar(text, true), Some(k)) if text.is_empty() => k,
            _ => self.nodes[id].pos,
        };
        out.entry(path.clone()).or_insert(Entry { key, value });
        stack.push(id);
        match &self.nodes[id].kind {
            Kind::Scalar(..) => {}
            Kind::Seq(items) => {
                for (i, &item) in items.iter().enumerate() {
                    path.push(i.to_string());
                    self.walk(item, path, None, stack, out);
                    path.pop();
                }
            }
            Kind::Map(_) => {
                for (name, key_pos, val) in self.entries(id, 0) {
                    path.push(name);
                    self.walk(val, path, Some(key_pos), stack, out);
                    path.pop();
                }
            }
        }
        stack.pop();
    }

    /// Effective entries of a mapping: explicit keys first, then merged ones
    /// (`<<`) that are not already present, earlier merge sources winning.
    fn entries(&self, id: usize, depth: usize) -> Vec<(String, Pos, usize)> {
        let mut found = Vec::new();
        let Kind::Map(items) = &self.nodes[id].kind else {
            return found;
        };
        if depth > 32 {
            return found; // merge cycle or absurd nesting
        }
        let mut seen = HashSet::new();
        let mut merges = Vec::new();
        for pair in items.chunks_exact(2) {
            let (k, v) = (pair[0], pair[1]);
            let Kind::Scalar(text, plain) = &self.nodes[k].kind else {
                continue; // only scalar keys are addressable
            };
            if *plain && text == "<<" {
                merges.push(v);
            } else if seen.insert(text.clone()) {
                found.push((text.clone(), self.nodes[k].pos, v));
            }
        }
        for m in merges {
            let sources = match &self.nodes[m].kind {
                Kind::Seq(list) => list.clone(),
                _ => vec![m],
            };
            for src in sources {
                for entry in self.entries(src, depth + 1) {
                    if seen.insert(entry.0.clone()) {
                        found.push(entry);
                    }
                }
            }
        }
        found
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        match ev {
            Event::Scalar(text, style, anchor, _) => {
                let plain = style == TScalarStyle::Plain;
                self.add(Kind::Scalar(text, plain), anchor, mark);
            }
            Event::Alias(anchor) => {
                if let Some(&id) = self.anchors.get(&anchor) {
                    self.attach(id, to_pos(mark));
                }
            }
            Event::SequenceStart(anchor, _) => {
                let id = self.add(Kind::Seq(Vec::new()), anchor, mark);
                self.open.push(id);
            }
            Event::MappingStart(anchor, _) => {
                let id = self.add(Kind::Map(Vec::new()), anchor, mark);
                self.open.push(id);
            }
            Event::SequenceEnd | Event::MappingEnd => {
                self.open.pop();
            }
            _ => {}
        }
    }
}

fn yaml_locations(text: &str, out: &mut HashMap<Vec<String>, Entry>) {
    let mut builder = Builder::default();
    let parsed = Parser::new_from_str(text).load(&mut builder, false);
    if let (Ok(()), Some(root)) = (parsed, builder.root) {
        builder.walk(root, &mut Vec::new(), None, &mut Vec::new(), out);
    }
}

// ---------------------------------------------------------------- TOML ----

/// Converts byte offsets to 1-based line and character column.
struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl LineIndex<'_> {
    fn pos(&self, offset: usize) -> Pos {
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts[line - 1];
        let col = self
            .text
            .get(start..offset)
            .map_or(0, |s| s.chars().count());
        Pos { line, col: col + 1 }
    }
}

fn toml_locations(text: &str, out: &mut HashMap<Vec<String>, Entry>) {
    let Ok(doc) = DeTable::parse(text) else {
        return;
    };
    let starts = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let lines = LineIndex { text, starts };
    let root = Spanned::new(doc.span(), DeValue::Table(doc.into_inner()));
    toml_walk(&root, &mut Vec::new(), None, &lines, out);
}

fn toml_walk(
    value: &Spanned<DeValue<'_>>,
    path: &mut Vec<String>,
    key: Option<Pos>,
    lines: &LineIndex<'_>,
    out: &mut HashMap<Vec<String>, Entry>,
) {
    let pos = lines.pos(value.span().start);
    out.insert(path.clone(), Entry { key, value: pos });
    match value.get_ref() {
        DeValue::Table(table) => {
            for (k, v) in table.iter() {
                path.push(k.get_ref().to_string());
                toml_walk(v, path, Some(lines.pos(k.span().start)), lines, out);
                path.pop();
            }
        }
        DeValue::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                path.push(i.to_string());
                toml_walk(v, path, None, lines, out);
                path.pop();
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(line: usize, col: usize) -> Option<Pos> {
        Some(Pos { line, col })
    }

    const YAML: &str = "\
name: demo
defaults: &base
  backend: http
  timeout: 5
extra: &extra
  retries: 3
  timeout: 9
targets:
  - name: a
    backend: grpc
    <<: *base
  - { name: b, kind: random }
  - name: c
    <<: [*extra, *base]
    opts: *extra
load:
  rates: [1, 2, inf]
  \"a/b\": x
  empty:
---
other: 1
";

    #[test]
    fn yaml_nested_block() {
        let loc = Locations::build(YAML, Format::Yaml);
        assert_eq!(loc.value(""), p(1, 1));
        assert_eq!(loc.key(""), None);
        assert_eq!(loc.key("/targets"), p(8, 1));
        assert_eq!(loc.value("/targets"), p(9, 3));
        assert_eq!(loc.value("/targets/0"), p(9, 5));
        assert_eq!(loc.key("/targets/0/name"), p(9, 5));
        assert_eq!(loc.value("/load/empty"), p(19, 3));
        assert_eq!(loc.value("/other"), None, "only the first document");
    }

    #[test]
    fn yaml_flow_collections() {
        let loc = Locations::build(YAML, Format::Yaml);
        assert_eq!(loc.value("/targets/1"), p(12, 5));
        assert_eq!(loc.key("/targets/1/kind"), p(12, 16));
        assert_eq!(loc.value("/targets/1/kind"), p(12, 22));
        assert_eq!(loc.value("/load/rates"), p(17, 10));
        assert_eq!(loc.value("/load/rates/2"), p(17, 17));
        assert_eq!(loc.key("/load/rates/2"), None);
    }

    #[test]
    fn yaml_anchor_alias_and_merge() {
        let loc = Locations::build(YAML, Format::Yaml);
        // Alias: the value and its children are where the anchor was defined.
        assert_eq!(loc.key("/targets/2/opts"), p(15, 5));
        assert_eq!(loc.value("/targets/2/opts"), p(6, 3));
        assert_eq!(loc.value("/targets/2/opts/retries"), p(6, 12));
        // Merge with an override: the explicit key wins.
        assert_eq!(loc.key("/targets/0/backend"), p(10, 5));
        assert_eq!(loc.value("/targets/0/backend"), p(10, 14));
        assert_eq!(loc.key("/targets/0/timeout"), p(4, 3));
        assert_eq!(loc.value("/targets/0/timeout"), p(4, 12));
        assert_eq!(loc.value("/targets/0/<<"), None);
        // Merge list: earlier sources win.
        assert_eq!(loc.key("/targets/2/timeout"), p(7, 3));
        assert_eq!(loc.key("/targets/2/backend"), p(3, 3));
        assert_eq!(loc.key("/targets/2/retries"), p(6, 3));
    }

    const TOML: &str = "\
name = \"demo\"
load.rates = [1, 2, inf]

[[targets]]
name = \"a\"
backend = \"grpc\"

[[targets]]
name = \"b\"
opts = { \"é\" = 3, \"a/b\" = \"x\" }
";

    #[test]
    fn toml_tables_arrays_and_dotted_keys() {
        let loc = Locations::build(TOML, Format::Toml);
        assert_eq!(loc.value(""), p(1, 1));
        assert_eq!(loc.key("/load"), p(2, 1));
        assert_eq!(loc.key("/load/rates"), p(2, 6));
        assert_eq!(loc.value("/load/rates/2"), p(2, 21));
        assert_eq!(loc.key("/targets"), p(4, 3));
        assert_eq!(loc.value("/targets/1"), p(8, 1));
        assert_eq!(loc.key("/targets/1"), None);
        assert_eq!(loc.value("/targets/0/backend"), p(6, 11));
        assert_eq!(loc.value("/targets/1/opts"), p(10, 8));
        assert_eq!(loc.value("/targets/1/opts/é"), p(10, 16));
        // Columns count characters: "é" is two bytes but one column.
        assert_eq!(loc.key("/targets/1/opts/a~1b"), p(10, 19));
        assert_eq!(loc.value("/targets/1/opts/a~1b"), p(10, 27));
    }

    #[test]
    fn best_walks_up_to_known_ancestor() {
        let yaml = Locations::build(YAML, Format::Yaml);
        assert_eq!(yaml.best("/load/bogus/x"), Pos { line: 16, col: 1 });
        assert_eq!(yaml.best("/targets/1"), Pos { line: 12, col: 5 });
        assert_eq!(yaml.best("/nope"), Pos { line: 1, col: 1 });
        assert_eq!(yaml.best("no-slash"), Pos { line: 1, col: 1 });
        let toml = Locations::build(TOML, Format::Toml);
        assert_eq!(toml.best("/load/bogus/x"), Pos { line: 2, col: 1 });
    }

    #[test]
    fn pointer_escaping() {
        let loc = Locations::build(YAML, Format::Yaml);
        assert_eq!(loc.key("/load/a~1b"), p(18, 3));
        assert_eq!(loc.value("/load/a~1b"), p(18, 10));
        assert_eq!(loc.value("/load/a/b"), None);
        // Also: YAML columns count characters ("é" is two bytes).
        let tilde = Locations::build("\"é~/y\": 1\n", Format::Yaml);
        assert_eq!(tilde.value("/é~0~1y"), p(1, 9));
        assert_eq!(segments("/a~01"), Some(vec!["a~1".to_string()]));
    }

    #[test]
    fn syntax_errors_give_empty_map() {
        for bad in [
            "a: [1, 2\n",
            "a: b: c\n",
            "a: *nope\n",
            "x:\n  - 1\n y: 2\n",
        ] {
            let loc = Locations::build(bad, Format::Yaml);
            assert!(loc.map.is_empty(), "{bad:?}");
            assert_eq!(loc.best("/a"), Pos { line: 1, col: 1 });
        }
        for bad in ["a = \n", "[x\n", "a = 1\na = 2\n"] {
            assert!(
                Locations::build(bad, Format::Toml).map.is_empty(),
                "{bad:?}"
            );
        }
    }
}
