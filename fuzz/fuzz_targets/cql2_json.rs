//! CQL2 JSON filters (`filter-lang=cql2-json`): parsed into the AST or refused with a CqlError.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = zglos::cql::parse_json(s);
    }
});
