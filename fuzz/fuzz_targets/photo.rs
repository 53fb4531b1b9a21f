//! Directory photos: any uploaded bytes are decoded within Tend's size and dimension limits
//! and re-encoded as a square JPEG, or refused with a message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tend::directory::photo::{SIDE, process};

fuzz_target!(|data: &[u8]| {
    if let Ok(processed) = process(data) {
        let stored = image::load_from_memory_with_format(&processed.jpeg, image::ImageFormat::Jpeg)
            .unwrap_or_else(|e| panic!("the stored photo does not open: {e}"));
        assert_eq!((stored.width(), stored.height()), (SIDE, SIDE));
    }
});
