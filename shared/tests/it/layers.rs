//! The import rule written at the top of `src/lib.rs`, checked over the source: every
//! `crate::` path points to the same layer or one below, and no files import each other in
//! a loop.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// error, log <- verify/ <- guard/ <- config <- caller/ <- deps, metrics <- endpoint, jwks (testing on top).
fn layer(top: &str) -> Option<u8> {
    Some(match top {
        "error" | "log" => 0,
        "verify" => 1,
        "guard" => 2,
        "config" => 3,
        "caller" => 4,
        "deps" | "metrics" => 5,
        "endpoint" | "events" | "jwks" => 6,
        "testing" => 7,
        _ => return None,
    })
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `verify/client.rs` -> `verify::client`; `verify/mod.rs` -> `verify`.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file
        .strip_prefix(src)
        .expect("under src")
        .with_extension("");
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .filter(|p| p != "mod")
        .collect();
    parts.join("::")
}

/// Every `crate::a::b` path in the file (code only: comments are skipped), as the longest
/// known module it names, expanding `crate::a::{b, c}` groups.
fn imports(text: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let code: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut out = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        let path: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        let mut candidates = vec![path.trim_end_matches(':').to_string()];
        if let Some(group) = rest[path.len()..].strip_prefix('{') {
            let inner = group.split('}').next().unwrap_or("");
            for item in inner.split(',') {
                let item = item.trim().split("::").next().unwrap_or("").trim();
                if !item.is_empty() && item != "self" {
                    candidates.push(format!("{path}{item}"));
                }
            }
        }
        for c in candidates {
            let mut segs: Vec<&str> = c.split("::").filter(|s| !s.is_empty()).collect();
            while !segs.is_empty() {
                let m = segs.join("::");
                if modules.contains(&m) {
                    out.insert(m);
                    break;
                }
                segs.pop();
            }
        }
    }
    out
}

#[test]
fn shared_follows_its_import_rule_and_has_no_loops() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(&src, f)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut violations = Vec::new();
    for file in &files {
        let me = module_of(&src, file);
        if me == "lib" {
            continue; // the crate root declares and re-exports every module
        }
        let text = std::fs::read_to_string(file).expect("read");
        let my_top = me.split("::").next().unwrap_or("").to_string();
        let my_layer = layer(&my_top).unwrap_or_else(|| panic!("{me}: not in the rule"));
        let mut deps = imports(&text, &modules);
        deps.remove(&me);
        for dep in &deps {
            let top = dep.split("::").next().unwrap_or("");
            let dep_layer = layer(top).unwrap_or_else(|| panic!("{dep}: not in the rule"));
            let sideways_between_tops = dep_layer == my_layer && top != my_top;
            if dep_layer > my_layer || sideways_between_tops {
                violations.push(format!("{me} imports {dep}"));
            }
        }
        graph.insert(me, deps);
    }
    assert!(violations.is_empty(), "upward imports: {violations:#?}");
    assert!(graph.len() >= 15, "the scan found the modules: {graph:?}");

    // No loops: a depth-first search finds no back edge.
    fn visit(
        m: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) {
        match state.get(m) {
            Some(2) => return,
            Some(1) => panic!("import loop: {} -> {m}", path.join(" -> ")),
            _ => {}
        }
        state.insert(m.to_string(), 1);
        path.push(m.to_string());
        for d in graph.get(m).into_iter().flatten() {
            visit(d, graph, state, path);
        }
        path.pop();
        state.insert(m.to_string(), 2);
    }
    let mut state = BTreeMap::new();
    for m in graph.keys() {
        visit(m, &graph, &mut state, &mut Vec::new());
    }
}

#[test]
fn the_scanner_sees_groups_and_paths() {
    let modules: BTreeSet<String> = ["verify", "verify::types", "caller", "caller::status"]
        .into_iter()
        .map(String::from)
        .collect();
    let found = imports(
        "use crate::caller::{status, Fields};\n// use crate::nothing\nlet x = crate::verify::types::X;",
        &modules,
    );
    let expect: BTreeSet<String> = ["caller", "caller::status", "verify::types"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(found, expect);
}
