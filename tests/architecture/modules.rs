//! Reads a crate's module tree and the imports between its modules from
//! source text, and finds import cycles.
//!
//! An import from module `s` of something in module `t` is lifted to the
//! two siblings under their closest common ancestor: `serve::auth` using
//! `serve::issuers::JsonBody` is an edge `serve::auth -> serve::issuers`;
//! `serve::residents::me` using `serve::state` is `serve::residents ->
//! serve::state`. A module using its own ancestors or descendants adds no
//! edge: a parent composes its children, and a child may use what its
//! parent gives it. Any cycle left is two parts of the code that each need
//! the other.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

pub struct Crate {
    pub name: String,
    pub src: PathBuf,
}

/// The workspace's crates: the root package and every member folder with
/// a `Cargo.toml` and a `src/`. Binaries under `src/bin/` are their own
/// crate roots and are read as such.
pub fn workspace_crates(repo: &Path) -> Vec<Crate> {
    let mut crates = vec![Crate {
        name: "hazardline".into(),
        src: repo.join("src"),
    }];
    let mut members: Vec<PathBuf> = fs::read_dir(repo)
        .expect("repository root")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("Cargo.toml").is_file() && p.join("src").is_dir())
        .filter(|p| !p.ends_with("fuzz"))
        .collect();
    members.sort();
    for dir in members {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        crates.push(Crate {
            name,
            src: dir.join("src"),
        });
    }
    crates
}

/// Every `.rs` file under `src`, except binaries in `src/bin/`.
pub fn source_files(src: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                if !(dir == src && path.ends_with("bin")) {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

type ModulePath = Vec<String>;

fn module_of(src: &Path, file: &Path) -> ModulePath {
    let relative = file.strip_prefix(src).unwrap();
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap();
    let stem = last.trim_end_matches(".rs");
    if !matches!(stem, "mod" | "lib" | "main") {
        parts.push(stem.to_string());
    }
    parts
}

fn display(module: &[String]) -> String {
    if module.is_empty() {
        "crate".into()
    } else {
        module.join("::")
    }
}

/// Source text with comments, string literals and character literals
/// blanked out (same length, newlines kept), so that what remains is code.
fn code_only(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = bytes.to_vec();
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for b in &mut out[from..to.min(bytes.len())] {
            if *b != b'\n' {
                *b = b' ';
            }
        }
    };
    let mut i = 0;
    while i < bytes.len() {
        let rest = &bytes[i..];
        if rest.starts_with(b"//") {
            let end = rest
                .iter()
                .position(|&b| b == b'\n')
                .map_or(bytes.len(), |p| i + p);
            blank(&mut out, i, end);
            i = end;
        } else if rest.starts_with(b"/*") {
            let mut depth = 0;
            let mut j = i;
            while j < bytes.len() {
                if bytes[j..].starts_with(b"/*") {
                    depth += 1;
                    j += 2;
                } else if bytes[j..].starts_with(b"*/") {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            blank(&mut out, i, j);
            i = j;
        } else if (rest.starts_with(b"r\"") || rest.starts_with(b"r#"))
            && (i == 0 || !is_ident(bytes[i - 1]))
        {
            let hashes = rest[1..].iter().take_while(|&&b| b == b'#').count();
            if rest.get(1 + hashes) != Some(&b'"') {
                i += 1;
                continue;
            }
            let mut closing = vec![b'"'];
            closing.extend(std::iter::repeat_n(b'#', hashes));
            let body = i + 2 + hashes;
            let end = bytes[body..]
                .windows(closing.len())
                .position(|w| w == closing.as_slice())
                .map_or(bytes.len(), |p| body + p + closing.len());
            blank(&mut out, i, end);
            i = end;
        } else if rest[0] == b'"' {
            let mut j = i + 1;
            while j < bytes.len() && bytes[j] != b'"' {
                j += if bytes[j] == b'\\' { 2 } else { 1 };
            }
            blank(&mut out, i, j + 1);
            i = j + 1;
        } else if rest[0] == b'\'' {
            // A character literal ('x', '\n', '{'), not a lifetime ('a).
            let len = if rest.get(1) == Some(&b'\\') {
                rest[2..].iter().position(|&b| b == b'\'').map(|p| p + 3)
            } else {
                let ch_len = text[i + 1..].chars().next().map_or(1, char::len_utf8);
                (rest.get(1 + ch_len) == Some(&b'\'')).then_some(ch_len + 2)
            };
            match len {
                Some(len) => {
                    blank(&mut out, i, i + len);
                    i += len;
                }
                None => i += 1,
            }
        } else {
            i += 1;
        }
    }
    String::from_utf8(out).unwrap_or_default()
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Where a `#[cfg(test)]`-gated module starts: the byte range of an inline
/// `mod name { ... }` to cut, or the name of an out-of-line `mod name;`.
enum TestModule {
    Inline(std::ops::Range<usize>),
    OutOfLine(String),
}

fn test_modules(code: &str) -> Vec<TestModule> {
    let mut found = Vec::new();
    let mut search = 0;
    while let Some(at) = code[search..].find("#[cfg(test)]") {
        let start = search + at;
        search = start + 1;
        // Skip further attributes and whitespace to the item.
        let mut rest = &code[start + "#[cfg(test)]".len()..];
        loop {
            rest = rest.trim_start();
            if rest.starts_with("#[") {
                let Some(close) = rest.find(']') else { break };
                rest = &rest[close + 1..];
            } else {
                break;
            }
        }
        let item = rest.strip_prefix("pub ").unwrap_or(rest);
        let Some(after_mod) = item.strip_prefix("mod ") else {
            continue;
        };
        let name: String = after_mod
            .trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let after_name = after_mod.trim_start()[name.len()..].trim_start();
        if after_name.starts_with(';') {
            found.push(TestModule::OutOfLine(name));
        } else if after_name.starts_with('{') {
            let open = code.len() - after_name.len();
            let mut depth = 0usize;
            let mut end = code.len();
            for (offset, b) in code.as_bytes()[open..].iter().enumerate() {
                match b {
                    b'{' => depth += 1,
                    b'}' => {
                        depth -= 1;
                        if depth == 0 {
                            end = open + offset + 1;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            found.push(TestModule::Inline(start..end));
            search = end;
        }
    }
    found
}

/// The file's code with inline test modules removed.
pub fn strip_test_modules(text: &str) -> String {
    let code = code_only(text);
    let mut out = code.clone();
    for module in test_modules(&code) {
        if let TestModule::Inline(range) = module {
            out.replace_range(range.clone(), &" ".repeat(range.len()));
        }
    }
    // Drop the trailing blank lines a cut test module leaves.
    out.trim_end().to_string()
}

/// One `use` tree expanded into paths (`a::{b, c::d}` -> `a::b`, `a::c::d`;
/// `a::{self}` -> `a`; a glob `a::*` -> `a`).
fn expand_use_tree(tree: &str) -> Vec<Vec<String>> {
    fn skip_space(s: &[u8], i: &mut usize) {
        while *i < s.len() && s[*i].is_ascii_whitespace() {
            *i += 1;
        }
    }
    fn one_tree(s: &[u8], i: &mut usize, prefix: &[String], out: &mut Vec<Vec<String>>) {
        let mut path = prefix.to_vec();
        loop {
            skip_space(s, i);
            if *i >= s.len() || s[*i] == b',' || s[*i] == b'}' {
                break;
            }
            match s[*i] {
                b'{' => {
                    *i += 1;
                    loop {
                        one_tree(s, i, &path, out);
                        skip_space(s, i);
                        match s.get(*i) {
                            Some(b',') => *i += 1,
                            Some(b'}') => {
                                *i += 1;
                                return;
                            }
                            _ => return,
                        }
                    }
                }
                b'*' | b':' => *i += 1,
                _ => {
                    let start = *i;
                    while *i < s.len() && is_ident(s[*i]) {
                        *i += 1;
                    }
                    if start == *i {
                        *i += 1;
                        continue;
                    }
                    match std::str::from_utf8(&s[start..*i]).unwrap_or("") {
                        "as" => {
                            skip_space(s, i);
                            while *i < s.len() && is_ident(s[*i]) {
                                *i += 1;
                            }
                        }
                        "self" if !path.is_empty() => {}
                        word => path.push(word.to_string()),
                    }
                }
            }
        }
        if !path.is_empty() {
            out.push(path);
        }
    }
    let mut out = Vec::new();
    let mut i = 0;
    one_tree(tree.as_bytes(), &mut i, &[], &mut out);
    out
}

/// The `use` statements of some code: (byte range, line, tree text).
fn use_statements(code: &str) -> Vec<(std::ops::Range<usize>, usize, String)> {
    let bytes = code.as_bytes();
    let mut found = Vec::new();
    let mut search = 0;
    while let Some(at) = code[search..].find("use ") {
        let start = search + at;
        search = start + 4;
        if start > 0 && is_ident(bytes[start - 1]) {
            continue;
        }
        // A statement starts the line, after optional visibility.
        let line_start = code[..start].rfind('\n').map_or(0, |p| p + 1);
        let lead = code[line_start..start].trim();
        let lead_ok = lead.is_empty()
            || lead == "pub"
            || (lead.starts_with("pub(") && lead.ends_with(')'))
            || lead.ends_with('{')
            || lead.ends_with(';')
            || lead.ends_with(']');
        if !lead_ok {
            continue;
        }
        let Some(end) = code[start..].find(';') else {
            break;
        };
        let line = code[..start].matches('\n').count() + 1;
        found.push((
            start..start + end + 1,
            line,
            code[start + 4..start + end].to_string(),
        ));
        search = start + end + 1;
    }
    found
}

/// Paths written inline in code: `crate::a::b`, `super::super::c`, `self::d`.
fn inline_paths(code: &str) -> Vec<(usize, Vec<String>)> {
    let bytes = code.as_bytes();
    let mut found = Vec::new();
    for anchor in ["crate::", "super::", "self::"] {
        let mut search = 0;
        while let Some(at) = code[search..].find(anchor) {
            let start = search + at;
            search = start + anchor.len();
            if start > 0
                && (is_ident(bytes[start - 1])
                    || bytes[start - 1] == b'$'
                    || bytes[start - 1] == b':')
            {
                continue;
            }
            let mut end = start;
            while end < bytes.len() && (is_ident(bytes[end]) || bytes[end] == b':') {
                end += 1;
            }
            let path: Vec<String> = code[start..end]
                .split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            let line = code[..start].matches('\n').count() + 1;
            found.push((line, path));
        }
    }
    found
}

struct Import {
    file: String,
    line: usize,
    path: String,
}

pub struct ModuleGraph {
    /// Sibling edges, each with one import that makes it.
    edges: BTreeMap<ModulePath, BTreeMap<ModulePath, Import>>,
}

pub struct Cycle {
    steps: Vec<(ModulePath, ModulePath, String)>,
}

impl Cycle {
    pub fn describe(&self) -> String {
        let mut names: Vec<String> = self
            .steps
            .iter()
            .map(|(from, _, _)| display(from))
            .collect();
        names.push(display(&self.steps[0].0));
        let evidence: Vec<&str> = self.steps.iter().map(|(_, _, why)| why.as_str()).collect();
        format!("{}   [{}]", names.join(" -> "), evidence.join("; "))
    }
}

impl ModuleGraph {
    pub fn read(krate: &Crate) -> ModuleGraph {
        let files = source_files(&krate.src);
        let mut modules: BTreeSet<ModulePath> =
            files.iter().map(|f| module_of(&krate.src, f)).collect();
        // Out-of-line test modules and everything below them are test code.
        let mut test_only: Vec<ModulePath> = Vec::new();
        let mut sources = Vec::new();
        for file in &files {
            let module = module_of(&krate.src, file);
            let text = fs::read_to_string(file).unwrap_or_default();
            let code = code_only(&text);
            for test_module in test_modules(&code) {
                if let TestModule::OutOfLine(name) = test_module {
                    let mut child = module.clone();
                    child.push(name);
                    test_only.push(child);
                }
            }
            sources.push((file.clone(), module, strip_test_modules(&text)));
        }
        modules.retain(|m| !test_only.iter().any(|t| m.starts_with(t)));

        let mut edges: BTreeMap<ModulePath, BTreeMap<ModulePath, Import>> = BTreeMap::new();
        for (file, module, code) in sources {
            if test_only.iter().any(|t| module.starts_with(t)) {
                continue;
            }
            let relative_file = file
                .strip_prefix(krate.src.parent().unwrap_or(&krate.src))
                .unwrap_or(&file)
                .to_string_lossy()
                .into_owned();
            let mut masked = code.clone();
            let mut references: Vec<(usize, Vec<String>)> = Vec::new();
            for (range, line, tree) in use_statements(&code) {
                masked.replace_range(range.clone(), &" ".repeat(range.len()));
                for path in expand_use_tree(&tree) {
                    references.push((line, path));
                }
            }
            references.extend(inline_paths(&masked));
            for (line, path) in references {
                let Some(target) = resolve(&modules, &module, &path) else {
                    continue;
                };
                let Some((from, to)) = lift(&module, &target) else {
                    continue;
                };
                edges.entry(from).or_default().entry(to).or_insert(Import {
                    file: relative_file.clone(),
                    line,
                    path: path.join("::"),
                });
            }
        }
        ModuleGraph { edges }
    }

    /// One cycle per strongly connected group of sibling modules.
    pub fn cycles(&self) -> Vec<Cycle> {
        let nodes: BTreeSet<&ModulePath> = self
            .edges
            .iter()
            .flat_map(|(from, tos)| std::iter::once(from).chain(tos.keys()))
            .collect();
        let mut reported: BTreeSet<&ModulePath> = BTreeSet::new();
        let mut cycles = Vec::new();
        for start in nodes {
            if reported.contains(start) {
                continue;
            }
            if let Some(path) = self.path_back(start) {
                let steps: Vec<(ModulePath, ModulePath, String)> = path
                    .windows(2)
                    .map(|w| {
                        let import = &self.edges[&w[0]][&w[1]];
                        let why = format!("{}:{} {}", import.file, import.line, import.path);
                        (w[0].clone(), w[1].clone(), why)
                    })
                    .collect();
                for (from, _, _) in &steps {
                    if let Some(node) = self.edges.keys().find(|k| *k == from) {
                        reported.insert(node);
                    }
                }
                cycles.push(Cycle { steps });
            }
        }
        cycles
    }

    /// The shortest import path from `start` back to itself, if any.
    fn path_back(&self, start: &ModulePath) -> Option<Vec<ModulePath>> {
        let mut previous: BTreeMap<ModulePath, ModulePath> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([start.clone()]);
        while let Some(node) = queue.pop_front() {
            for next in self.edges.get(&node).into_iter().flat_map(|t| t.keys()) {
                if next == start {
                    let mut chain = vec![node.clone()];
                    let mut at = node.clone();
                    while at != *start {
                        at = previous[&at].clone();
                        chain.push(at.clone());
                    }
                    chain.reverse();
                    chain.push(start.clone());
                    return Some(chain);
                }
                if !previous.contains_key(next) && next != start {
                    previous.insert(next.clone(), node.clone());
                    queue.push_back(next.clone());
                }
            }
        }
        None
    }
}

/// The module a path names, or `None` for another crate's path.
fn resolve(
    modules: &BTreeSet<ModulePath>,
    current: &ModulePath,
    path: &[String],
) -> Option<ModulePath> {
    let (mut base, rest): (ModulePath, &[String]) = match path.first().map(String::as_str) {
        Some("crate") => (Vec::new(), &path[1..]),
        Some("self") => (current.clone(), &path[1..]),
        Some("super") => {
            let mut base = current.clone();
            let mut rest = path;
            while rest.first().map(String::as_str) == Some("super") {
                base.pop()?;
                rest = &rest[1..];
            }
            (base, rest)
        }
        Some(first) => {
            let mut child = current.clone();
            child.push(first.to_string());
            if !modules.contains(&child) {
                return None;
            }
            (current.clone(), path)
        }
        None => return None,
    };
    for segment in rest {
        let mut deeper = base.clone();
        deeper.push(segment.clone());
        if modules.contains(&deeper) {
            base = deeper;
        } else {
            break;
        }
    }
    Some(base)
}

/// The sibling edge an import from `from` of `to` makes, if any.
fn lift(from: &ModulePath, to: &ModulePath) -> Option<(ModulePath, ModulePath)> {
    if from.starts_with(to) || to.starts_with(from) {
        return None;
    }
    let common = from.iter().zip(to).take_while(|(a, b)| a == b).count();
    Some((from[..=common].to_vec(), to[..=common].to_vec()))
}
