//! The import rules, checked over the source: in `shared` the rule written at the top of
//! `src/lib.rs`, in the simulator its own (below). Every path that names a module counts:
//! `crate::a::b`, and `super::b` and `self::b` resolved against the file's module. Each import
//! must point to the same layer or one below, and no files may import each other in a loop.
//! Code after the first `#[cfg(test)]` is test code and not counted. Not read: a folder face's
//! own `use child::...` (`mod.rs` re-exporting its children, or a type's impl split over
//! files as the simulator's engine does), which is the folder's business.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// shared: error, log <- verify/ <- guard/ <- config/ <- caller/ <- deps/, metrics <- endpoint,
/// events, jwks.
fn shared_layer(top: &str) -> Option<u8> {
    Some(match top {
        "error" | "log" => 0,
        "verify" => 1,
        "guard" => 2,
        "config" => 3,
        "caller" => 4,
        "deps" | "metrics" => 5,
        "endpoint" | "events" | "jwks" => 6,
        _ => return None,
    })
}

/// simulator: its building blocks <- engine/ and the network blocks (Verify's rules, knowing
/// no HTTP face) <- v2's auth, callbacks and problem documents <- state (the shared handle) <-
/// the faces (v2, the Network Unblock call) <- the hooks <- server. Modules are named in full
/// where a folder spans two layers (`v2`).
fn simulator_layer(module: &str) -> Option<u8> {
    let top = module.split("::").next().unwrap_or("");
    Some(match (top, module) {
        ("clock" | "params" | "reply" | "numbers" | "faults" | "limits", _) => 0,
        ("engine" | "network", _) => 1,
        (_, "v2::auth" | "v2::callbacks" | "v2::problem") => 2,
        ("state", _) => 3,
        ("network_api", _) | (_, "v2") => 4,
        ("hooks", _) => 5,
        ("server", _) => 6,
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

/// Production code only: comment lines dropped, and everything from the first `#[cfg(test)]`.
fn code_of(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or("");
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The module `prefix` (`crate`, `super`, `self`) stands for in module `me`; `super::super`
/// climbs twice.
fn anchor(me: &str, rest: &str, prefix: &str) -> Option<(String, usize)> {
    let mut base: Vec<&str> = me.split("::").filter(|s| !s.is_empty()).collect();
    match prefix {
        "crate" => base.clear(),
        "self" => {}
        _ => {
            base.pop()?;
        }
    }
    let mut used = 0;
    while let Some(r) = rest[used..].strip_prefix("super::") {
        base.pop()?;
        used = rest.len() - r.len();
    }
    Some((base.join("::"), used))
}

/// What `pub use` re-exports: an item's path where it is re-exported (`Fields`,
/// `config::Env`) -> the path it names (`caller::Fields`, `config::env::Env`). Module `""` is
/// the crate root (`lib.rs`). Without this an upward import through a re-export
/// (`use crate::Reply` from `guard/`) named no module and passed unseen.
fn reexports(sources: &[(String, String)]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (me, text) in sources {
        let code = code_of(text);
        for stmt in code.split(';') {
            let Some(at) = stmt.find("pub use ") else {
                continue;
            };
            let body: String = stmt[at + "pub use ".len()..]
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            let (path, items) = match body.split_once("::{") {
                Some((p, group)) => (p.to_string(), group.trim_end_matches('}').to_string()),
                None => match body.rsplit_once("::") {
                    Some((p, item)) => (p.to_string(), item.to_string()),
                    None => continue,
                },
            };
            // `crate::a`, `super::a`, `self::a` or (2018 paths) a child module `a`.
            let (base, rest) = match path.split_once("::") {
                Some((first @ ("crate" | "super" | "self"), rest)) => {
                    match anchor(me, &format!("{rest}::"), first) {
                        Some((base, used)) => (base, rest[used.min(rest.len())..].to_string()),
                        None => continue,
                    }
                }
                _ if path == "crate" || path == "super" || path == "self" => continue,
                _ => (me.clone(), path.clone()),
            };
            let join = |a: &str, b: &str| match (a.is_empty(), b.is_empty()) {
                (true, _) => b.to_string(),
                (false, true) => a.to_string(),
                (false, false) => format!("{a}::{b}"),
            };
            for item in items.split(',') {
                let item = item.split(" as ").next().unwrap_or("").trim();
                if item.is_empty() || item == "self" || item.contains('{') {
                    continue;
                }
                let last = item.rsplit("::").next().unwrap_or(item);
                out.insert(join(me, last), join(&join(&base, &rest), item));
            }
        }
    }
    out
}

/// Every module path the file's code names, as the longest known module, expanding
/// `{a, b::c}` groups and following re-exports.
fn imports(
    me: &str,
    text: &str,
    modules: &BTreeSet<String>,
    reexported: &BTreeMap<String, String>,
) -> BTreeSet<String> {
    let code = code_of(text);
    let mut paths: Vec<(String, String)> = Vec::new(); // (absolute base, the text after it)
    for prefix in ["crate", "super", "self"] {
        let needle = format!("{prefix}::");
        for (i, _) in code.match_indices(&needle) {
            let before = code[..i].chars().last();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue; // `foo_crate::`, or the `super::` inside `super::super::`
            }
            let rest = &code[i + needle.len()..];
            if let Some((base, used)) = anchor(me, rest, prefix) {
                paths.push((base, rest[used..].to_string()));
            }
        }
    }
    let mut out = BTreeSet::new();
    for (base, rest) in paths {
        let path: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        let join = |p: &str| match (base.is_empty(), p.is_empty()) {
            (true, _) => p.to_string(),
            (false, true) => base.clone(),
            (false, false) => format!("{base}::{p}"),
        };
        let mut candidates = vec![join(path.trim_end_matches(':'))];
        if let Some(group) = rest[path.len()..].strip_prefix('{') {
            let inner = group.split('}').next().unwrap_or("");
            for item in inner.split(',') {
                let item = item.trim().split("::").next().unwrap_or("").trim();
                if !item.is_empty() && item != "self" {
                    candidates.push(join(&format!("{path}{item}")));
                }
            }
        }
        // An item's path names its module; never climb above the anchor (`self::f` is me).
        let floor = base.split("::").filter(|s| !s.is_empty()).count().max(1);
        for mut c in candidates {
            // Through re-exports to where the item lives (a chain is followed a few steps).
            for _ in 0..4 {
                match reexported.get(&c) {
                    Some(target) if !modules.contains(&c) => c = target.clone(),
                    _ => break,
                }
            }
            let mut segs: Vec<&str> = c.split("::").filter(|s| !s.is_empty()).collect();
            while segs.len() >= floor {
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

/// The problems in a crate's `src`: imports against the rule, and loops.
fn check(src: &Path, layer: impl Fn(&str) -> Option<u8>, by_top: bool) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let sources: Vec<(String, String)> = files
        .iter()
        .map(|f| (module_of(src, f), std::fs::read_to_string(f).expect("read")))
        .filter(|(m, _)| !m.starts_with("bin::") && m != "main")
        .map(|(m, t)| (if m == "lib" { String::new() } else { m }, t))
        .collect();
    check_sources(&sources, layer, by_top)
}

/// As [`check`], over (module, text) pairs. `by_top`: modules of one top folder share a layer
/// and may import each other; otherwise each module has its own layer.
fn check_sources(
    sources: &[(String, String)],
    layer: impl Fn(&str) -> Option<u8>,
    by_top: bool,
) -> Vec<String> {
    let reexported = reexports(sources);
    // The crate root only re-exports: its own imports are not checked.
    let sources: Vec<&(String, String)> = sources.iter().filter(|(m, _)| !m.is_empty()).collect();
    let modules: BTreeSet<String> = sources.iter().map(|(m, _)| m.clone()).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut problems = Vec::new();
    let top = |m: &str| m.split("::").next().unwrap_or("").to_string();
    let key = |m: &str| if by_top { top(m) } else { m.to_string() };
    for (me, text) in sources {
        let Some(my_layer) = layer(&key(me)) else {
            problems.push(format!("{me}: not in the rule"));
            continue;
        };
        let mut deps = imports(me, text, &modules, &reexported);
        deps.remove(me);
        for dep in &deps {
            let Some(dep_layer) = layer(&key(dep)) else {
                problems.push(format!("{dep}: not in the rule"));
                continue;
            };
            let sideways = dep_layer == my_layer && top(dep) != top(me);
            if dep_layer > my_layer || sideways {
                problems.push(format!(
                    "{me} imports {dep} (layer {dep_layer} > {my_layer})"
                ));
            }
        }
        graph.insert(me.clone(), deps);
    }
    // Loops: a depth-first search finds no back edge.
    fn visit(
        m: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
        problems: &mut Vec<String>,
    ) {
        match state.get(m) {
            Some(2) => return,
            Some(1) => {
                problems.push(format!("import loop: {} -> {m}", path.join(" -> ")));
                return;
            }
            _ => {}
        }
        state.insert(m.to_string(), 1);
        path.push(m.to_string());
        for d in graph.get(m).into_iter().flatten() {
            visit(d, graph, state, path, problems);
        }
        path.pop();
        state.insert(m.to_string(), 2);
    }
    let mut state = BTreeMap::new();
    for m in graph.keys() {
        visit(m, &graph, &mut state, &mut Vec::new(), &mut problems);
    }
    problems
}

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn shared_follows_its_import_rule_and_has_no_loops() {
    let problems = check(&manifest().join("src"), shared_layer, true);
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn the_simulator_follows_its_import_rule_and_has_no_loops() {
    let problems = check(&manifest().join("../simulator/src"), simulator_layer, false);
    assert!(problems.is_empty(), "{problems:#?}");
}

fn sources(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(m, t)| (m.to_string(), t.to_string()))
        .collect()
}

/// The circles this test missed before it read `super::` (both were in the tree).
#[test]
fn a_port_that_names_its_adapters_is_a_loop() {
    let found = check_sources(
        &sources(&[
            ("guard", ""),
            ("guard::store", "use super::memory::MemoryStore;"),
            ("guard::memory", "use super::store::{Store, Record};"),
        ]),
        shared_layer,
        true,
    );
    assert!(
        found.iter().any(|p| p.starts_with("import loop")),
        "{found:?}"
    );
    let found = check_sources(
        &sources(&[
            ("engine", ""),
            ("state", ""),
            ("server", "use crate::hooks;\npub struct Simulator;"),
            ("hooks", "use crate::server::Simulator;"),
            ("v2", ""),
        ]),
        simulator_layer,
        false,
    );
    assert!(
        found.iter().any(|p| p.contains("hooks imports server")),
        "{found:?}"
    );
    let found = check_sources(
        &sources(&[
            ("engine::start_v2", "let n = crate::v2::name(c);"),
            ("v2", ""),
        ]),
        simulator_layer,
        false,
    );
    assert!(
        found
            .iter()
            .any(|p| p.contains("engine::start_v2 imports v2")),
        "{found:?}"
    );
}

/// An upward import through a re-export: `crate::Reply` is `caller::response::Reply`.
#[test]
fn an_import_through_a_re_export_is_seen() {
    let tree = |guard_text: &'static str| {
        check_sources(
            &sources(&[
                ("", "pub mod caller;\npub use caller::{Fields, Reply};"),
                ("caller", "pub mod response;\npub use response::Reply;"),
                ("caller::response", "pub struct Reply;"),
                ("guard", guard_text),
            ]),
            shared_layer,
            true,
        )
    };
    let found = tree("use crate::Reply;");
    assert!(
        found.iter().any(|p| p.contains("guard imports caller")),
        "{found:?}"
    );
    assert!(tree("pub struct Guard;").is_empty());
}

#[test]
fn the_scanner_resolves_paths() {
    let modules: BTreeSet<String> = [
        "verify",
        "verify::types",
        "caller",
        "caller::status",
        "guard",
        "guard::store",
        "guard::store::key",
        "guard::rules",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    let found = imports(
        "guard::store::memory",
        "use crate::caller::{status, Fields};\n// use crate::nothing\nlet x = crate::verify::types::X;\nuse super::key;\nuse super::super::rules::DAY;\nlet y = self::helper();\n#[cfg(test)]\nmod tests { use crate::guard::Guard; }",
        &modules,
        &BTreeMap::new(),
    );
    let expect: BTreeSet<String> = [
        "caller",
        "caller::status",
        "verify::types",
        "guard::store::key",
        "guard::rules",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(found, expect);
}

/// Every setting goes through `config::env::Env`: no other file in `shared/src` or
/// `local/src` reads the process environment (a stray read is how a bad value got ignored).
#[test]
fn only_config_env_reads_the_environment() {
    let mut files = Vec::new();
    rust_files(&manifest().join("src"), &mut files);
    rust_files(&manifest().join("../local/src"), &mut files);
    let readers: Vec<String> = files
        .iter()
        .filter(|f| !f.ends_with("config/env.rs"))
        .filter(|f| {
            let code = code_of(&std::fs::read_to_string(f).expect("read"));
            ["env::var(", "env::vars(", "env::var_os(", "env::vars_os("]
                .iter()
                .any(|call| code.contains(call))
        })
        .map(|f| f.display().to_string())
        .collect();
    assert!(
        readers.is_empty(),
        "read the environment themselves: {readers:?}"
    );
    assert!(files.len() > 40, "the scan found the sources");
}
