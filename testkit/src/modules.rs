//! A crate's module graph, read from its sources, for tests of its shape: which module imports
//! which of its siblings (through `crate::…`, `super::…` or `self::…` paths), so a test can
//! say that sibling modules form no cycle and that a crate's top-level modules import one way.
//!
//! Read by hand rather than with a Rust parser: the paths are all it needs, and a parser crate
//! in every test build would cost more than this file. `#[cfg(test)] mod tests` blocks are left
//! out (their `super::*` is the module itself, and tests may reach anywhere).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A module's path in its crate: `["records", "list", "filter"]`; the crate root is empty.
pub type ModPath = Vec<String>;

/// The modules of one crate and, for each, the paths its source names.
#[derive(Debug, Default)]
pub struct Modules {
    /// Every module that has a file of its own.
    modules: BTreeSet<ModPath>,
    /// Per module, the absolute paths (in module segments) it refers to.
    refs: BTreeMap<ModPath, BTreeSet<ModPath>>,
}

/// A sibling import: under `parent`, module `from` refers to module `to`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Edge {
    pub parent: ModPath,
    pub from: String,
    pub to: String,
}

impl Modules {
    /// Reads every `.rs` file under `src` (a crate's `src/`).
    pub fn read(src: &Path) -> Self {
        let mut modules = Modules::default();
        modules.visit(src, Vec::new());
        modules
    }

    fn visit(&mut self, dir: &Path, at: ModPath) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
            .map(|e| e.expect("a directory entry").path())
            .collect();
        entries.sort();
        for path in entries {
            let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            if path.is_dir() {
                let mut inner = at.clone();
                inner.push(stem.to_owned());
                self.visit(&path, inner);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let module = match stem {
                "lib" | "main" if at.is_empty() => at.clone(),
                "mod" => at.clone(),
                name => {
                    let mut m = at.clone();
                    m.push(name.to_owned());
                    m
                }
            };
            let text = std::fs::read_to_string(&path).expect("a source file");
            let refs = paths_in(&without_comments(&without_tests(&text)), &module);
            self.modules.insert(module.clone());
            self.refs.entry(module).or_default().extend(refs);
        }
    }

    /// Whether `path` is a module of the crate.
    fn is_module(&self, path: &[String]) -> bool {
        self.modules.iter().any(|m| m.as_slice() == path)
    }

    /// Every import of one sibling module by another (or by a module inside it): a parent's use
    /// of its children, and a child's of its parent, are not sibling imports; nor are a Leptos
    /// page's server functions calling their server half (`board` calling `ssr`).
    pub fn sibling_edges(&self) -> BTreeSet<Edge> {
        let mut edges = BTreeSet::new();
        for (module, refs) in &self.refs {
            for target in refs {
                let common = module
                    .iter()
                    .zip(target)
                    .take_while(|(a, b)| a == b)
                    .count();
                let (Some(from), Some(to)) = (module.get(common), target.get(common)) else {
                    continue;
                };
                let own_half = to == "ssr";
                if self.is_module(&target[..=common]) && !own_half {
                    edges.insert(Edge {
                        parent: module[..common].to_vec(),
                        from: from.clone(),
                        to: to.clone(),
                    });
                }
            }
        }
        edges
    }

    /// Each cycle among sibling modules, as the names around it under their parent
    /// (`records: list -> tools -> list`).
    pub fn cycles(&self) -> Vec<String> {
        let mut by_parent: BTreeMap<ModPath, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
        for e in self.sibling_edges() {
            by_parent
                .entry(e.parent)
                .or_default()
                .entry(e.from)
                .or_default()
                .insert(e.to);
        }
        let mut found = Vec::new();
        for (parent, graph) in &by_parent {
            for start in graph.keys() {
                if let Some(mut path) = cycle_from(graph, start) {
                    // One cycle, whichever module it was found from: shown from its least name.
                    path.pop();
                    let least = (0..path.len()).min_by_key(|i| &path[*i]).unwrap_or(0);
                    path.rotate_left(least);
                    path.push(path[0].clone());
                    let shown = format!("{}: {}", parent.join("::"), path.join(" -> "));
                    if !found.contains(&shown) {
                        found.push(shown);
                    }
                }
            }
        }
        found
    }

    /// The imports among the crate's top-level modules that go against `layers` (bottom to
    /// top; a module may use those in the layers below its own, and the first layer's modules
    /// each other). A top-level module missing from `layers` is reported too.
    pub fn against_layers(&self, layers: &[&[&str]]) -> Vec<String> {
        let layer_of = |m: &str| layers.iter().position(|l| l.contains(&m));
        let mut wrong = Vec::new();
        for m in self.modules.iter().filter(|m| m.len() == 1) {
            if layer_of(&m[0]).is_none() {
                wrong.push(format!("`{}` is in no layer: give it a place", m[0]));
            }
        }
        for e in self
            .sibling_edges()
            .into_iter()
            .filter(|e| e.parent.is_empty())
        {
            let (Some(from), Some(to)) = (layer_of(&e.from), layer_of(&e.to)) else {
                continue;
            };
            if to > from || (to == from && from > 0) {
                wrong.push(format!("{} uses {}", e.from, e.to));
            }
        }
        wrong
    }
}

/// A path back to `start` through `graph`, if there is one.
fn cycle_from(graph: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    let mut stack = vec![(start.to_owned(), vec![start.to_owned()])];
    let mut seen = BTreeSet::new();
    while let Some((at, path)) = stack.pop() {
        for next in graph.get(&at).into_iter().flatten() {
            if next == start {
                let mut cycle = path.clone();
                cycle.push(start.to_owned());
                return Some(cycle);
            }
            if seen.insert(next.clone()) {
                let mut longer = path.clone();
                longer.push(next.clone());
                stack.push((next.clone(), longer));
            }
        }
    }
    None
}

/// The source without its `#[cfg(test)] mod tests { … }` blocks, wherever they stand (to the
/// brace that closes each; braces in strings and comments are counted too, which a test
/// module's balanced code makes no matter).
fn without_tests(text: &str) -> String {
    const OPENING: &str = "#[cfg(test)]\nmod tests {";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(OPENING) {
        out.push_str(&rest[..at]);
        let body = &rest[at + OPENING.len()..];
        let mut depth = 1usize;
        let mut end = body.len();
        for (i, b) in body.bytes().enumerate() {
            match b {
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &body[end..];
    }
    out.push_str(rest);
    out
}

/// The source without its line comments (docs name modules without importing them). A `//`
/// inside a string (`"http://…"`) ends the line early: what follows it there is not read.
fn without_comments(text: &str) -> String {
    text.lines()
        .map(|line| line.split_once("//").map_or(line, |(code, _)| code))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The absolute module paths `text`, the source of `module`, names: `crate::a::b`,
/// `super::c` (from `module`'s parent), `self::d`, each brace group expanded.
fn paths_in(text: &str, module: &[String]) -> BTreeSet<ModPath> {
    let mut out = BTreeSet::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        let starts_word = i == 0 || !is_ident(bytes[i - 1]);
        let base = if !starts_word {
            None
        } else if rest.starts_with("crate::") {
            Some((Vec::new(), "crate::".len()))
        } else if rest.starts_with("super::") {
            let mut base = module.to_vec();
            let mut len = 0;
            while text[i + len..].starts_with("super::") {
                base.pop();
                len += "super::".len();
            }
            Some((base, len))
        } else if rest.starts_with("self::") {
            Some((module.to_vec(), "self::".len()))
        } else {
            None
        };
        let Some((base, len)) = base else {
            i += rest.chars().next().map_or(1, char::len_utf8);
            continue;
        };
        let (paths, used) = path_tree(&text[i + len..]);
        for p in paths {
            let mut full = base.clone();
            full.extend(p);
            out.insert(full);
        }
        i += len + used;
    }
    out
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The paths a `use` tree or a plain path at the start of `text` names (`a::b`,
/// `a::{b, c::d}`), and how many bytes it took.
fn path_tree(text: &str) -> (Vec<Vec<String>>, usize) {
    let mut segments = Vec::new();
    let mut i = 0;
    let bytes = text.as_bytes();
    loop {
        let start = i;
        while i < text.len() && is_ident(bytes[i]) {
            i += 1;
        }
        if i > start {
            segments.push(text[start..i].to_owned());
        }
        if text[i..].starts_with("::{") {
            i += 3;
            let mut out = Vec::new();
            loop {
                while i < text.len() && (bytes[i] == b' ' || bytes[i] == b'\n' || bytes[i] == b',')
                {
                    i += 1;
                }
                if i >= text.len() || bytes[i] == b'}' {
                    i += 1;
                    break;
                }
                let (inner, used) = path_tree(&text[i..]);
                for p in inner {
                    let mut full = segments.clone();
                    full.extend(p);
                    out.push(full);
                }
                // Skip `as name` and anything else up to the next item.
                i += used.max(1);
                while i < text.len() && !matches!(bytes[i], b',' | b'}') {
                    i += 1;
                }
            }
            return (out, i);
        }
        if text[i..].starts_with("::") {
            i += 2;
            continue;
        }
        return (vec![segments], i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(path: &str) -> ModPath {
        path.split("::")
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn paths_are_read_absolute_with_their_brace_groups() {
        let text = "use crate::a::{b::C, d};\nuse super::e::F;\nfn x() { self::g::h(); }";
        let found = paths_in(text, &m("p::q"));
        assert!(found.contains(&m("a::b::C")), "{found:?}");
        assert!(found.contains(&m("a::d")));
        assert!(found.contains(&m("p::e::F")));
        assert!(found.contains(&m("p::q::g::h")));
    }

    #[test]
    fn sibling_imports_make_edges_and_a_loop_is_a_cycle() {
        let mut modules = Modules::default();
        for name in ["", "a", "b", "c", "c::d"] {
            modules.modules.insert(m(name));
        }
        let refs = |list: &[&str]| list.iter().map(|p| m(p)).collect::<BTreeSet<_>>();
        modules.refs.insert(m("a"), refs(&["b::X"]));
        modules.refs.insert(m("b"), refs(&["c::d::Y"]));
        modules.refs.insert(m("c::d"), refs(&["c::Z"]));
        assert!(modules.cycles().is_empty(), "a parent's item is no sibling");
        assert!(modules.against_layers(&[&["c"], &["b"], &["a"]]).is_empty());
        assert_eq!(
            modules.against_layers(&[&["a"], &["b"], &["c"]]),
            vec!["a uses b", "b uses c"]
        );
        modules.refs.insert(m("c::d"), refs(&["a::W"]));
        assert_eq!(modules.cycles(), vec![": a -> b -> c -> a".to_owned()]);
    }

    #[test]
    fn comments_name_no_module() {
        let text = "//! See [`crate::a`].\nuse crate::b::C; // and crate::d\n";
        let found = paths_in(&without_comments(text), &m("x"));
        assert_eq!(found, [m("b::C")].into_iter().collect());
    }

    #[test]
    fn tests_blocks_are_left_out_wherever_they_stand() {
        let text = "use crate::a::B;\n#[cfg(test)]\nmod tests {\n    fn f() { crate::c::d(); }\n}\nuse crate::e::F;\n";
        let found = paths_in(&without_tests(text), &m("x"));
        assert_eq!(found, [m("a::B"), m("e::F")].into_iter().collect());
    }
}
