//! Backup files handed to `tend restore`: anything that is not a whole backup under this
//! installation's key is refused before anything is written, and a sealed snapshot opens to
//! exactly what was sealed.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use tend::backup::{open, seal};
use tend::crypto::Keyring;
use tend::db::Backend;

static KEYRING: LazyLock<Keyring> = LazyLock::new(|| {
    Keyring::from_env_value("dGVuZC1mdXp6LWtleS10aGlydHktdHdvLWJ5dGVzISE=")
        .unwrap_or_else(|e| panic!("keyring: {e}"))
});

fuzz_target!(|data: &[u8]| {
    match data.split_first() {
        Some((0, snapshot)) => {
            let sealed = seal(&KEYRING, Backend::Sqlite, snapshot)
                .unwrap_or_else(|e| panic!("sealing: {e}"));
            let (_, opened) = open(&KEYRING, &sealed).unwrap_or_else(|e| panic!("opening: {e}"));
            assert_eq!(opened, snapshot);
        }
        _ => {
            let _ = open(&KEYRING, data);
        }
    }
});
