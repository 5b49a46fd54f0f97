//! CQL2 text filters (OGC API Features Part 3, `filter-lang=cql2-text`): parsed into the AST or
//! refused with a CqlError; never a panic, never unbounded recursion.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = zglos::cql::parse_text(s);
        let _ = zglos::cql::parse(s, Some("cql2-text"));
    }
});
