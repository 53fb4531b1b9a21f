//! Single form fields with their own grammar: dates, times, time zones, money, moods,
//! directory tags, stored timestamps, recovery codes, email addresses, and the coach's
//! practice transcripts. The first byte picks the parser.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let Some(text) = tend_fuzz::text(rest) else {
        return;
    };
    match which % 10 {
        0 => {
            let _ = tend::plans::parse_date(text);
        }
        1 => {
            let _ = tend::directory::schedule::parse_hhmm("start", text);
        }
        2 => {
            let _ = tend::directory::schedule::parse_time_zone("time_zone", text);
        }
        3 => {
            if let Ok(Some(cents)) = tend::directory::profile::parse_money("fee", text) {
                assert!(cents >= 0, "{text:?} gave {cents}");
            }
        }
        4 => {
            let _ = tend::practice::pages::parse_mood("mood", Some(text));
        }
        5 => {
            let _ = tend::directory::vocab::Facet::parse_tag(text);
        }
        6 => {
            let _ = tend::db::Timestamp::parse_text(text);
        }
        7 => {
            // However a recovery code is typed, its key is the same once normalised.
            let key = tend::accounts::totp::recovery_code_key(text);
            assert_eq!(tend::accounts::totp::recovery_code_key(&key), key);
        }
        8 => {
            let _ = tend::web::extract::check_email("email", text);
        }
        _ => {
            let _ = tend::coach::summary::parse(text);
        }
    }
});
