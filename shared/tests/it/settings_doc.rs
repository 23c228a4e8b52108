//! Every setting the code asks `Env` for is in the README's Configuration table and set by
//! `template.yaml` (or marked local there), and the other way round: a documented or deployed
//! variable that no code reads is as wrong as a read one nobody can find.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// An environment variable's name: capitals, digits and `_`.
fn is_var(s: &str) -> bool {
    s.len() > 2
        && s.starts_with(|c: char| c.is_ascii_uppercase())
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// The string literals that are variable names in the settings' code (tests excluded).
fn asked_for() -> BTreeSet<String> {
    let mut files: Vec<String> = std::fs::read_dir(root().join("shared/src/config"))
        .expect("config/")
        .map(|e| {
            format!(
                "shared/src/config/{}",
                e.expect("entry").file_name().to_string_lossy()
            )
        })
        .collect();
    files.push("local/src/config.rs".into());
    let mut names = BTreeSet::new();
    for f in files {
        let text = read(&f);
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        for (i, part) in code.split('"').enumerate() {
            if i % 2 == 1 && is_var(part) {
                names.insert(part.to_string());
            }
        }
    }
    names
}

/// The Configuration table: each variable with its template column.
fn documented() -> BTreeMap<String, String> {
    let readme = read("README.md");
    let section = readme
        .split("\n## Configuration\n")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("a Configuration section");
    let mut rows = BTreeMap::new();
    for line in section.lines().filter(|l| l.starts_with("| `")) {
        let cols: Vec<&str> = line.split(" | ").collect();
        assert!(cols.len() >= 4, "a row of four columns: {line}");
        for (i, part) in cols[0].split('`').enumerate() {
            if i % 2 == 1 && is_var(part) {
                rows.insert(part.to_string(), cols[2].to_string());
            }
        }
    }
    rows
}

/// The variables the template sets, and its parameters.
fn template() -> (BTreeSet<String>, BTreeSet<String>) {
    let text = read("template.yaml");
    let key = |l: &str| l.trim_start().split(':').next().unwrap_or("").to_string();
    let vars = text
        .lines()
        .filter(|l| l.starts_with("  ") && l.contains(": "))
        .map(key)
        .filter(|k| is_var(k))
        .collect();
    let params = text
        .split("\nParameters:\n")
        .nth(1)
        .and_then(|s| s.split("\n\n").next().or(Some(s)))
        .map(|s| s.split("\nRules:").next().unwrap_or(s))
        .map(|s| s.split("\nConditions:").next().unwrap_or(s))
        .unwrap_or("")
        .lines()
        .filter(|l| l.starts_with("  ") && !l.starts_with("   ") && l.ends_with(':'))
        .map(key)
        .collect();
    (vars, params)
}

#[test]
fn the_code_the_readme_and_the_template_name_the_same_settings() {
    let code = asked_for();
    let docs = documented();
    let (deployed, params) = template();
    assert!(
        code.len() > 50 && docs.len() > 50 && deployed.len() > 30,
        "the scans found them"
    );
    let undocumented: Vec<_> = code.iter().filter(|v| !docs.contains_key(*v)).collect();
    assert!(
        undocumented.is_empty(),
        "read but not in the README: {undocumented:?}"
    );
    let unread: Vec<_> = docs.keys().filter(|v| !code.contains(*v)).collect();
    assert!(
        unread.is_empty(),
        "in the README but read by no code: {unread:?}"
    );
    let stray: Vec<_> = deployed.iter().filter(|v| !code.contains(*v)).collect();
    assert!(
        stray.is_empty(),
        "set by the template but read by no code: {stray:?}"
    );
    for (var, where_) in &docs {
        let local = where_.contains("local") || where_.contains("set by Lambda");
        match (deployed.contains(var), local) {
            (false, false) => {
                panic!("{var}: deployable, but template.yaml does not set it ({where_})")
            }
            (true, true) if where_.trim() == "local" => {
                panic!("{var}: marked local, but template.yaml sets it")
            }
            _ => {}
        }
        let parameter = |n: &str| {
            n.starts_with(|c: char| c.is_ascii_uppercase())
                && n.bytes().all(|b| b.is_ascii_alphanumeric())
        };
        for (i, name) in where_.split('`').enumerate() {
            if i % 2 == 1 && !is_var(name) && parameter(name) && !where_.starts_with("fixed") {
                assert!(params.contains(name), "{var}: no template parameter {name}");
            }
        }
    }
}
