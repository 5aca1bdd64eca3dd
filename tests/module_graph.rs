//! The crate's module graph (top-level modules of src/, edges from `crate::x` paths in their
//! source) has no cycle, `scenario` imports nothing else of the crate, and inside each folder
//! of src/ the files' graph (edges from `super::x` paths) has no cycle either.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Graph = BTreeMap<String, BTreeSet<String>>;

/// The top-level module a source file under src/ belongs to (`src/sim/http/mod.rs` → `sim`).
fn module_of(rel: &Path) -> String {
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// Every `crate::name` in `text`, and every `name` inside `use crate::{a, b::c}` groups.
fn crate_refs(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let code: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        let after = &rest[at + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item.trim().chars().take_while(is_ident).collect();
                if !name.is_empty() {
                    out.insert(name);
                }
            }
        } else {
            out.insert(after.chars().take_while(is_ident).collect());
        }
        rest = after;
    }
    out
}

fn is_ident(c: &char) -> bool {
    c.is_ascii_alphanumeric() || *c == '_'
}

fn walk(dir: &Path, root: &Path, graph: &mut Graph) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(&path, root, graph);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path.strip_prefix(root).unwrap();
            let from = module_of(rel);
            let text = std::fs::read_to_string(&path).unwrap();
            let deps = graph.entry(from.clone()).or_default();
            deps.extend(crate_refs(&text).into_iter().filter(|m| *m != from));
        }
    }
}

/// The crate's graph; modules that are not top-level modules of src/ (items of lib.rs) are
/// dropped.
fn graph() -> Graph {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph = Graph::new();
    walk(&root, &root, &mut graph);
    let modules: BTreeSet<String> = graph.keys().cloned().collect();
    for deps in graph.values_mut() {
        deps.retain(|d| modules.contains(d));
    }
    graph.retain(|m, _| !matches!(m.as_str(), "lib" | "main"));
    graph
}

/// A cycle of `graph` as a path `a → b → … → a`, if there is one (depth-first search).
fn cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &Graph,
        done: &mut BTreeSet<String>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = stack.iter().position(|n| n == node) {
            let mut found = stack[at..].to_vec();
            found.push(node.to_string());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.to_string());
        for dep in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(dep, graph, done, stack) {
                return Some(found);
            }
        }
        stack.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|m| visit(m, graph, &mut done, &mut Vec::new()))
}

#[test]
fn the_module_graph_has_no_cycle() {
    let graph = graph();
    assert!(graph.len() > 10, "{graph:?}");
    if let Some(found) = cycle(&graph) {
        panic!("module cycle: {}\ngraph: {graph:#?}", found.join(" → "));
    }
}

#[test]
fn scenario_imports_nothing_of_the_crate() {
    let graph = graph();
    assert_eq!(graph["scenario"], BTreeSet::new());
}

#[test]
fn the_check_finds_a_planted_cycle_and_group_imports() {
    let refs = crate_refs(
        "use crate::{plan::zip_len, sim};\nlet x = crate::dataset::f();\n// crate::engine",
    );
    assert_eq!(refs, ["dataset", "plan", "sim"].map(String::from).into());
    let mut graph = Graph::new();
    graph.insert("a".into(), ["b".to_string()].into());
    graph.insert("b".into(), ["c".to_string()].into());
    graph.insert("c".into(), ["a".to_string()].into());
    assert_eq!(cycle(&graph).unwrap(), ["a", "b", "c", "a"]);
    graph.get_mut("c").unwrap().clear();
    assert_eq!(cycle(&graph), None);
}

/// The stage of each module named at the head of an item of docs/architecture.md's numbered
/// list in `## Layout` (`0. \`scenario\` (…), \`requests\` …`): a backticked name that is a module.
fn readme_stages(readme: &str, modules: &BTreeSet<String>) -> BTreeMap<String, usize> {
    let layout = &readme[readme.find("## Layout").expect("a Layout section")..];
    let mut stages = BTreeMap::new();
    let mut stage = None;
    // Names outside parentheses only: `(… \`metrics::hist\` …)` describes, not places.
    let mut depth = 0;
    for line in layout.lines().skip(1) {
        if line.starts_with("## ") {
            break;
        }
        let number = line
            .split_once(". ")
            .and_then(|(n, _)| n.parse::<usize>().ok());
        if number.is_some() {
            stage = number;
            depth = 0;
        } else if !line.starts_with("   ") {
            stage = None;
        }
        let Some(stage) = stage else { continue };
        for (i, c) in line.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                '`' if depth == 0 => {
                    let name: String = line[i + 1..].chars().take_while(is_ident).collect();
                    if modules.contains(&name) && line[i + 1 + name.len()..].starts_with('`') {
                        stages.entry(name).or_insert(stage);
                    }
                }
                _ => {}
            }
        }
    }
    stages
}

#[test]
fn the_readme_draws_the_graph_stage_by_stage() {
    let graph = graph();
    let modules: BTreeSet<String> = graph.keys().cloned().collect();
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/architecture.md"))
            .unwrap();
    let stages = readme_stages(&readme, &modules);
    let missing: Vec<&String> = modules
        .iter()
        .filter(|m| !stages.contains_key(*m))
        .collect();
    assert!(
        missing.is_empty(),
        "modules missing from docs/architecture.md's Layout: {missing:?}"
    );
    let mut wrong = Vec::new();
    for (m, deps) in &graph {
        for d in deps.iter().filter(|d| stages[*d] >= stages[m]) {
            wrong.push(format!(
                "{m} (stage {}) uses {d} (stage {})",
                stages[m], stages[d]
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "docs/architecture.md's Layout stages are not true:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn readme_stages_read_the_numbered_list_outside_parentheses() {
    let modules: BTreeSet<String> = ["a", "b", "c", "d"].map(String::from).into();
    let text = "## Layout\nintro `d`\n\n0. `a` (uses `b`, and\n   `c`), `b`\n   (`c`) and `c`.\n1. `d`.\n\n## Next\n";
    let stages = readme_stages(text, &modules);
    let want: BTreeMap<String, usize> = [("a", 0), ("b", 0), ("c", 0), ("d", 1)]
        .map(|(m, s)| (m.to_string(), s))
        .into();
    assert_eq!(stages, want);
}

/// The graph inside each folder of src/ (`bench`, `sim/http`, …): its nodes are the folder's
/// files and subfolders (`src/bench/setup.rs` → `setup`, `src/report/plot/` → `plot`), its
/// edges the `super::name`, `super::super::name` (a test module's way up), `super::{a, b}`
/// and `crate::folder::name` paths that name another node. A folder's `mod.rs` is its front
/// door, not a node: it declares and re-exports its children.
fn folder_graphs() -> BTreeMap<String, Graph> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    collect(&root, &mut files);
    // Every folder's nodes.
    let mut graphs: BTreeMap<String, Graph> = BTreeMap::new();
    let mut nodes: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for rel in &files {
        let parts: Vec<String> = rel
            .components()
            .map(|c| {
                c.as_os_str()
                    .to_string_lossy()
                    .trim_end_matches(".rs")
                    .to_string()
            })
            .collect();
        for depth in 1..parts.len() {
            let folder = parts[..depth].join("/");
            let node = &parts[depth];
            if !(depth == parts.len() - 1 && node == "mod") {
                nodes.entry(folder).or_default().insert(node.clone());
            }
        }
    }
    for rel in &files {
        let parts: Vec<String> = rel
            .components()
            .map(|c| {
                c.as_os_str()
                    .to_string_lossy()
                    .trim_end_matches(".rs")
                    .to_string()
            })
            .collect();
        let text = std::fs::read_to_string(root.join(rel)).unwrap();
        let code = without_comments(&text);
        let is_mod = parts.last().is_some_and(|p| p == "mod");
        // The folder `super::` names, and this file's node in it.
        let dir = &parts[..parts.len() - 1];
        let up = if is_mod {
            dir.len().saturating_sub(1)
        } else {
            dir.len()
        };
        for depth in 1..parts.len() {
            let folder = parts[..depth].join("/");
            let Some(names) = nodes.get(&folder) else {
                continue;
            };
            let from = &parts[depth];
            if depth == parts.len() - 1 && from == "mod" {
                continue;
            }
            let mut refs = path_refs(&code, &format!("crate::{}::", parts[..depth].join("::")));
            if depth == up {
                refs.extend(path_refs(&code, "super::"));
            }
            let deps = graphs
                .entry(folder)
                .or_default()
                .entry(from.clone())
                .or_default();
            deps.extend(refs.into_iter().filter(|r| r != from && names.contains(r)));
        }
    }
    graphs
}

fn collect(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path.strip_prefix(&root).unwrap().to_path_buf());
        }
    }
}

fn without_comments(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The names right after each `prefix` in `code` (after any further `super::`), and every
/// name of a `prefix{a, b::c}` group. A `prefix` right after an identifier character
/// (`x_super::`) does not start a path.
fn path_refs(code: &str, prefix: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (at, _) in code.match_indices(prefix) {
        if code[..at].chars().next_back().is_some_and(|c| is_ident(&c)) {
            continue;
        }
        let mut after = &code[at + prefix.len()..];
        while let Some(a) = after.strip_prefix("super::") {
            after = a;
        }
        if let Some(group) = after.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item.trim().chars().take_while(is_ident).collect();
                if !name.is_empty() {
                    out.insert(name);
                }
            }
        } else {
            out.insert(after.chars().take_while(is_ident).collect());
        }
    }
    out
}

#[test]
fn no_folder_has_an_import_cycle_inside() {
    let graphs = folder_graphs();
    assert!(
        graphs.contains_key("bench") && graphs.contains_key("report/plot"),
        "{graphs:?}"
    );
    let cycles: Vec<String> = graphs
        .iter()
        .filter_map(|(folder, g)| Some(format!("src/{folder}: {}", cycle(g)?.join(" → "))))
        .collect();
    assert!(
        cycles.is_empty(),
        "import cycles inside folders:\n{}",
        cycles.join("\n")
    );
}

#[test]
fn the_folder_check_reads_super_paths_and_groups() {
    let refs = path_refs(
        "use super::{a, b::c};\nlet x = super::super::d::f();\nlet y = crate::bench::e::g;",
        "super::",
    );
    assert_eq!(refs, ["a", "b", "d"].map(String::from).into());
    let refs = path_refs("use crate::bench::{e, f};", "crate::bench::");
    assert_eq!(refs, ["e", "f"].map(String::from).into());
    // A `super::` inside a longer path is not a path start.
    assert_eq!(path_refs("x_super::a", "super::"), BTreeSet::new());
}
