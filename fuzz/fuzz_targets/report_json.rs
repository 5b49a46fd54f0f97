//! The JSON body of POST /api/v1/reports: any bytes, through JSON, into the domain's report
//! parser. It returns a report or an error naming a field; it never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    match zglos::domain::NewReport::parse(&body) {
        Ok(report) => {
            assert!(!report.category.is_empty());
            assert!(
                report.description.chars().count() <= zglos::domain::new_report::MAX_DESCRIPTION_CHARS
            );
        }
        Err(e) => assert!(!e.message.is_empty()),
    }
});
