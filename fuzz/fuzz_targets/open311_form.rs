//! The Open311 "create a request" form body: decoded, checked for unknown fields and read into
//! a report, exactly as POST /open311/v2/requests.json does between its API-key and service
//! look-ups.
#![no_main]
use libfuzzer_sys::fuzz_target;
use zglos::domain::open311_form::{FormError, Open311Form};

fuzz_target!(|data: &[u8]| {
    let Ok(form) = Open311Form::decode(data) else {
        return;
    };
    let _ = form.field("api_key");
    let _ = form.field("device_id");
    match form.report("pothole", "Pothole") {
        Ok(r) => {
            assert!(!r.report.description.is_empty());
            if let Some(u) = r.media_url {
                assert!(u.starts_with("http://") || u.starts_with("https://"));
            }
        }
        Err(FormError::Bad(m)) => assert!(!m.is_empty()),
        Err(FormError::Invalid(e)) => assert!(!e.message.is_empty()),
    }
});
