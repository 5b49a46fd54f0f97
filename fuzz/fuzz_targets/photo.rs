//! Photo uploads: arbitrary bytes through the decoder and re-encoder. A photo or a PhotoError,
//! never a panic; run with -rss_limit_mb=512 so an allocation past the decoder limits is a crash.
#![no_main]
use libfuzzer_sys::fuzz_target;
use zglos::domain::photo::{Photo, PhotoError, MAX_SIDE, THUMB_SIDE};

fuzz_target!(|data: &[u8]| {
    match Photo::from_upload(data) {
        Ok(p) => {
            assert!(p.width.max(p.height) <= MAX_SIDE);
            assert!(p.jpeg.starts_with(&[0xFF, 0xD8]));
            assert!(p.thumbnail.starts_with(&[0xFF, 0xD8]));
            let _ = THUMB_SIDE;
        }
        Err(PhotoError::Encode(e)) => panic!("a decoded image failed to encode: {e}"),
        Err(_) => {}
    }
});
