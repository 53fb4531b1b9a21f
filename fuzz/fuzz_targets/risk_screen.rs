//! Risk screening of anything a client writes: the phrase rules, negation and figures of
//! speech, the text handed to the meaning model and the windows it is cut into. Nothing may
//! panic, and no word of what was written may escape the windows the model reads.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tend::safety::meaning::windows;
use tend::safety::screen::{Level, read};

fuzz_target!(|data: &[u8]| {
    let Some(text) = tend_fuzz::text(data) else {
        return;
    };
    let (screening, for_meaning) = read(text);
    let highest = screening
        .signals
        .iter()
        .map(|s| s.level)
        .max()
        .unwrap_or(Level::None);
    assert_eq!(
        screening.level, highest,
        "the level is the highest signal's"
    );
    if let Some(for_meaning) = for_meaning {
        let cut = windows(&for_meaning);
        let read_words: std::collections::HashSet<&str> =
            cut.iter().flat_map(|w| w.split_whitespace()).collect();
        // Runs of punctuation alone may be left out; nothing with a letter or digit may.
        let words = for_meaning
            .split_whitespace()
            .filter(|w| w.chars().any(char::is_alphanumeric));
        for word in words {
            assert!(read_words.contains(word), "{word:?} is in no window");
        }
        for window in &cut {
            assert!(window.split_whitespace().count() <= 60, "window too long");
        }
    }
});
