//! The boundaries between the service's layers, checked on the sources themselves so that a
//! change which crosses one fails here rather than in a review:
//! - the domain, the use cases, storage, CQL2, exports and the spatial core know nothing of HTTP
//!   (no axum, no tower, no `crate::http`, where the HTTP error lives);
//! - SQL statements are written only in `storage` (CQL2 turns filters into a bound WHERE
//!   fragment with `QueryBuilder`, which is its job);
//! - no two top-level modules import each other, directly or through others.
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("readable source folder") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// The top-level module a file of `src/` belongs to (`src/app/staff.rs` → `app`).
fn top_module(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).expect("inside src");
    let first = rel.components().next().expect("a component");
    first
        .as_os_str()
        .to_string_lossy()
        .trim_end_matches(".rs")
        .to_owned()
}

/// The code of a file without its `#[cfg(test)]` modules and comments: tests may use anything.
fn code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]") {
        Some(i) => &text[..i],
        None => text,
    };
    text.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `crate::name` references of a piece of code, including grouped `use crate::{a, b::c}`.
fn crate_refs(code: &str) -> BTreeSet<String> {
    let mut refs = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    refs.insert(name);
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                refs.insert(name);
            }
        }
    }
    refs
}

struct Tree {
    /// Module → the code of its files, by file.
    files: Vec<(String, PathBuf, String)>,
}

fn tree() -> Tree {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = sources(&src)
        .into_iter()
        .filter(|f| !f.ends_with("architecture_tests.rs"))
        .map(|f| {
            let text = std::fs::read_to_string(&f).expect("readable file");
            (top_module(&src, &f), f, code(&text))
        })
        .collect();
    Tree { files }
}

const HTTP_FREE: &[&str] = &[
    "domain",
    "app",
    "storage",
    "cql",
    "export",
    "engine",
    "catalogue",
    "city",
    "mail",
];

#[test]
fn the_layers_below_http_know_nothing_of_it() {
    let mut offences = Vec::new();
    for (module, file, code) in &tree().files {
        if !HTTP_FREE.contains(&module.as_str()) {
            continue;
        }
        for needle in ["axum", "tower", "crate::http", "StatusCode"] {
            if code.contains(needle) {
                offences.push(format!("{} uses {needle}", file.display()));
            }
        }
    }
    assert!(offences.is_empty(), "{offences:#?}");
}

#[test]
fn sql_is_written_only_in_storage() {
    let mut offences = Vec::new();
    for (module, file, code) in &tree().files {
        if module == "storage" || module == "cql" {
            continue;
        }
        for needle in ["sqlx::query", "QueryBuilder", "query_as(", "query_scalar("] {
            if code.contains(needle) {
                offences.push(format!("{} uses {needle}", file.display()));
            }
        }
    }
    assert!(offences.is_empty(), "{offences:#?}");
}

#[test]
fn no_two_top_level_modules_import_each_other() {
    let t = tree();
    let modules: BTreeSet<String> = t.files.iter().map(|(m, _, _)| m.clone()).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, _, code) in &t.files {
        let deps = graph.entry(module.clone()).or_default();
        for r in crate_refs(code) {
            if &r != module && modules.contains(&r) {
                deps.insert(r);
            }
        }
    }
    // The composition roots may name everything; nothing names them back.
    for root in ["lib", "main", "startup"] {
        graph.remove(root);
    }
    // A depth-first search that reports the first cycle through each module.
    fn visit(
        m: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
        cycles: &mut Vec<String>,
    ) {
        if let Some(i) = path.iter().position(|p| p == m) {
            cycles.push(format!("{} -> {m}", path[i..].join(" -> ")));
            return;
        }
        if !done.insert(m.to_owned()) {
            return;
        }
        path.push(m.to_owned());
        for d in graph.get(m).into_iter().flatten() {
            visit(d, graph, path, done, cycles);
        }
        path.pop();
    }
    let mut cycles = Vec::new();
    let mut done = BTreeSet::new();
    for m in graph.keys() {
        visit(m, &graph, &mut Vec::new(), &mut done, &mut cycles);
    }
    assert!(
        cycles.is_empty(),
        "import cycles: {cycles:#?}\ngraph: {graph:#?}"
    );
}

#[test]
fn the_checks_see_grouped_and_plain_imports() {
    let refs = crate_refs(
        "use crate::{app::staff, domain::Role};\nlet x = crate::storage::reports::list;",
    );
    assert_eq!(
        refs,
        ["app", "domain", "storage"]
            .map(String::from)
            .into_iter()
            .collect()
    );
    assert_eq!(
        code("use crate::a; // crate::b\n#[cfg(test)]\nmod tests { use crate::c; }"),
        "use crate::a; "
    );
}
