//! Checks the layering stated in the crate's documentation by reading the crate's sources: every
//! `crate::` path in a module must name a module of a lower rank (or an item the crate root
//! re-exports from one). Strictly lower ranks also rule out import cycles.
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

/// The rank of every module of the crate. A module may use only modules of lower ranks; one
/// rank for several modules means they do not use each other.
const RANKS: &[(&str, u8)] = &[
    // Primitives.
    ("mercator", 0),
    ("geometry", 0),
    ("decode", 0),
    // File formats of the basemap, on nothing else: PMTiles and label glyphs.
    ("pmtiles", 0),
    ("glyphs", 0),
    // Records, and beside them the indexes that need only the primitives.
    ("record", 1),
    ("dedup", 1),
    ("districts", 1),
    ("routing", 1),
    ("filter", 2),
    // Names of places: the primitives and the district index.
    ("gazetteer", 2),
    // Store and heat index: the store owns a heat index, the heat index knows records only.
    ("aggregate", 3),
    ("store", 4),
    // MVT encoding.
    ("tile", 5),
];

/// Files that are not modules of a layer: the crate root and this check.
const NOT_LAYERED: &[&str] = &["lib", "layers"];

/// The source without comments and without the contents of string and char literals.
fn code_of(src: &str) -> String {
    let s = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'/' if s.get(i + 1) == Some(&b'/') => {
                while i < s.len() && s[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if s.get(i + 1) == Some(&b'*') => {
                let mut depth = 0;
                while i < s.len() {
                    if s[i..].starts_with(b"/*") {
                        depth += 1;
                        i += 2;
                    } else if s[i..].starts_with(b"*/") {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
                out.push(' ');
            }
            b'r' if matches!(s.get(i + 1), Some(b'"' | b'#'))
                && (i == 0 || !is_ident(s[i - 1])) =>
            {
                let hashes = s[i + 1..].iter().take_while(|&&c| c == b'#').count();
                if s.get(i + 1 + hashes) != Some(&b'"') {
                    out.push('r');
                    i += 1;
                    continue;
                }
                let close: Vec<u8> = std::iter::once(b'"')
                    .chain(std::iter::repeat_n(b'#', hashes))
                    .collect();
                i += 2 + hashes;
                while i < s.len() && !s[i..].starts_with(&close) {
                    i += 1;
                }
                i += close.len();
                out.push_str("\"\"");
            }
            b'"' => {
                i += 1;
                while i < s.len() && s[i] != b'"' {
                    i += if s[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
                out.push_str("\"\"");
            }
            // A char literal ('x', '\n', '\u{..}'); a lifetime ('a) is left as it is.
            b'\'' if s.get(i + 1) == Some(&b'\\') => {
                i += 3;
                while i < s.len() && s[i] != b'\'' {
                    i += 1;
                }
                i += 1;
                out.push_str("' '");
            }
            b'\'' if s.get(i + 2) == Some(&b'\'') => {
                i += 3;
                out.push_str("' '");
            }
            _ => {
                // Copy one whole (possibly multi-byte) character.
                let len = src[i..].chars().next().map_or(1, char::len_utf8);
                out.push_str(&src[i..i + len]);
                i += len;
            }
        }
    }
    out
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn ident_at(s: &[u8], mut i: usize) -> (String, usize) {
    while i < s.len() && s[i].is_ascii_whitespace() {
        i += 1;
    }
    let start = i;
    while i < s.len() && is_ident(s[i]) {
        i += 1;
    }
    (String::from_utf8_lossy(&s[start..i]).into_owned(), i)
}

/// The first segment of every `crate::` path in `code` (already without comments and strings):
/// `crate::store::X` gives `store`; `crate::{a::X, b}` gives `a` and `b`.
fn crate_paths(code: &str) -> BTreeSet<String> {
    let s = code.as_bytes();
    let mut found = BTreeSet::new();
    let mut from = 0;
    while let Some(at) = code[from..].find("crate") {
        let start = from + at;
        from = start + 5;
        if start > 0 && (is_ident(s[start - 1]) || s[start - 1] == b'$') {
            continue;
        }
        let mut i = from;
        while i < s.len() && s[i].is_ascii_whitespace() {
            i += 1;
        }
        if !s[i..].starts_with(b"::") {
            continue;
        }
        i += 2;
        while i < s.len() && s[i].is_ascii_whitespace() {
            i += 1;
        }
        if s.get(i) == Some(&b'{') {
            // The first segment of each item of the group, at the group's own depth.
            let mut depth = 0;
            let mut item_start = true;
            while i < s.len() {
                match s[i] {
                    b'{' => {
                        depth += 1;
                        i += 1;
                    }
                    b'}' => {
                        depth -= 1;
                        i += 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    b',' if depth == 1 => {
                        item_start = true;
                        i += 1;
                    }
                    c if depth == 1 && item_start && is_ident(c) => {
                        let (name, next) = ident_at(s, i);
                        found.insert(name);
                        item_start = false;
                        i = next;
                    }
                    _ => i += 1,
                }
            }
        } else {
            let (name, next) = ident_at(s, i);
            if !name.is_empty() {
                found.insert(name);
            }
            from = next;
        }
    }
    found
}

/// Names the crate root re-exports (`pub use module::{A, B};`), by the module they come from.
fn root_reexports(lib_code: &str) -> HashMap<String, String> {
    let mut names = HashMap::new();
    for statement in lib_code.split(';') {
        let Some(rest) = statement.trim().strip_prefix("pub use ") else {
            continue;
        };
        let idents: Vec<&str> = rest
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|w| !w.is_empty() && *w != "self" && *w != "crate")
            .collect();
        if let Some((module, items)) = idents.split_first() {
            for item in items {
                names.insert(item.to_string(), module.to_string());
            }
        }
    }
    names
}

/// Every import that goes to a module of the same or a higher rank, or to something unknown, as
/// "module → target" lines. `files`: (module the file belongs to, code without comments).
fn violations(
    files: &[(String, String)],
    ranks: &HashMap<&str, u8>,
    roots: &HashMap<String, String>,
) -> Vec<String> {
    let mut found = Vec::new();
    for (module, code) in files {
        let Some(&rank) = ranks.get(module.as_str()) else {
            found.push(format!("{module}: not in the table of layers"));
            continue;
        };
        for name in crate_paths(code) {
            let target = roots.get(&name).cloned().unwrap_or(name);
            if &target == module {
                continue;
            }
            match ranks.get(target.as_str()) {
                Some(&r) if r < rank => {}
                Some(&r) => found.push(format!(
                    "{module} (layer {rank}) uses {target} (layer {r}): an import upwards"
                )),
                None => found.push(format!("{module} uses crate::{target}: not a known module")),
            }
        }
    }
    found
}

/// Every `.rs` file under `dir`, with the top-level module it belongs to (`tile/points.rs`
/// belongs to `tile`).
fn sources(dir: &Path, module: Option<&str>, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("the crate's source folder")
        .map(|e| e.expect("a folder entry").path())
        .collect();
    entries.sort();
    for path in entries {
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let owner = module.map_or(stem.clone(), str::to_owned);
        if path.is_dir() {
            sources(&path, Some(&owner), out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("a source file");
            out.push((owner, code_of(&text)));
        }
    }
}

#[test]
fn no_module_imports_one_of_a_higher_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, None, &mut files);
    let lib = code_of(&std::fs::read_to_string(src.join("lib.rs")).unwrap());
    let ranks: HashMap<&str, u8> = RANKS.iter().copied().collect();
    // Every module the root declares has a layer.
    for statement in lib.split(';') {
        let last = statement.trim().lines().last().unwrap_or("").trim();
        if let Some(m) = last
            .strip_prefix("pub mod ")
            .or_else(|| last.strip_prefix("mod "))
        {
            let m = m.trim();
            assert!(
                ranks.contains_key(m) || NOT_LAYERED.contains(&m),
                "module {m} has no layer in RANKS"
            );
        }
    }
    files.retain(|(m, _)| !NOT_LAYERED.contains(&m.as_str()));
    assert!(files.len() >= RANKS.len(), "the sources were not found");
    let found = violations(&files, &ranks, &root_reexports(&lib));
    assert!(found.is_empty(), "layering broken:\n{}", found.join("\n"));
}

#[test]
fn the_check_sees_imports_in_every_form_and_only_in_code() {
    let code = code_of(
        r##"
        use crate::aggregate::HeatIndex;
        use crate::{filter::Filter, mercator::{self, TileId}, LocalMetres};
        use crate :: record;
        // use crate::tile;
        /* crate::tile /* nested */ crate::tile */
        let s = "crate::tile \" crate::tile";
        let r = r#"crate::tile"#;
        let q = '"'; let e = '\''; let lifetime: &'static str = "";
        let x = crate::dedup::f();
        let y = zglos_crate::tile;
        "##,
    );
    let found: Vec<String> = crate_paths(&code).into_iter().collect();
    assert_eq!(
        found,
        [
            "LocalMetres",
            "aggregate",
            "dedup",
            "filter",
            "mercator",
            "record"
        ]
    );
}

#[test]
fn the_check_fails_on_an_import_upwards_or_a_cycle() {
    let ranks: HashMap<&str, u8> = RANKS.iter().copied().collect();
    let roots =
        root_reexports("pub use mercator::TileId; pub use geometry::{anchor_of, LocalMetres};");
    assert_eq!(roots["LocalMetres"], "geometry");
    let file = |m: &str, code: &str| (m.to_string(), code_of(code));
    // The heat index reaching back into the store it belongs to.
    let upwards = [file("aggregate", "use crate::store::ReportStore;")];
    assert_eq!(violations(&upwards, &ranks, &roots).len(), 1);
    // Two modules of one layer using each other.
    let sideways = [
        file("dedup", "use crate::districts::District;"),
        file("districts", "use crate::dedup::DedupIndex;"),
    ];
    assert_eq!(violations(&sideways, &ranks, &roots).len(), 2);
    // An unknown module, and a module without a layer.
    let unknown = [file("tile", "use crate::cluster;"), file("cluster", "")];
    assert_eq!(violations(&unknown, &ranks, &roots).len(), 2);
    // Downwards, through the root's re-exports too, is fine.
    let fine = [file(
        "tile",
        "use crate::{aggregate, store::ReportStore, TileId}; use crate::LocalMetres;",
    )];
    assert!(violations(&fine, &ranks, &roots).is_empty());
}
