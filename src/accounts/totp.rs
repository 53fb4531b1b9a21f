//! Time-based one-time passwords (RFC 6238, HMAC-SHA1, 30-second steps, 6 digits): what every
//! authenticator app speaks. One step of clock drift either way is accepted, and a code is
//! refused if its step is not newer than the last one used, so a seen code cannot be replayed.

use hmac::{Hmac, Mac};
use rand::RngCore;
use rand::rngs::OsRng;
use sha1::Sha1;

/// Seconds per step.
const STEP: u64 = 30;
/// Digits per code.
const DIGITS: u32 = 6;

/// A new 160-bit secret.
pub fn new_secret() -> Vec<u8> {
    let mut secret = vec![0u8; 20];
    OsRng.fill_bytes(&mut secret);
    secret
}

/// The secret as RFC 4648 base32 without padding, for typing into an app.
pub fn secret_base32(secret: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &byte in secret {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            out.push(char::from(ALPHABET[((buffer >> (bits - 5)) & 31) as usize]));
            bits -= 5;
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// The `otpauth://` URI authenticator apps import.
pub fn otpauth_uri(secret: &[u8], account: &str) -> String {
    let label: String =
        url::form_urlencoded::byte_serialize(format!("Tend:{account}").as_bytes()).collect();
    format!(
        "otpauth://totp/{label}?secret={}&issuer=Tend&algorithm=SHA1&digits=6&period=30",
        secret_base32(secret)
    )
}

/// The code for time step `counter` (RFC 4226 HOTP with dynamic truncation).
fn hotp(secret: &[u8], counter: u64) -> u32 {
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(secret) else {
        return u32::MAX;
    };
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let value = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    value % 10u32.pow(DIGITS)
}

/// The current time step at `unix_seconds`.
pub fn step_at(unix_seconds: u64) -> u64 {
    unix_seconds / STEP
}

/// Checks `code` at `unix_seconds`; returns the matched step so the caller can refuse replays
/// (a step not greater than `last_used_step`).
pub fn verify(
    secret: &[u8],
    code: &str,
    unix_seconds: u64,
    last_used_step: Option<u64>,
) -> Option<u64> {
    let code = code.trim().replace(' ', "");
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let wanted: u32 = code.parse().ok()?;
    let now = step_at(unix_seconds);
    [now.saturating_sub(1), now, now + 1]
        .into_iter()
        .filter(|step| last_used_step.is_none_or(|last| *step > last))
        .find(|step| hotp(secret, *step) == wanted)
}

/// The code an authenticator shows at `unix_seconds` (for tests and the demo).
pub fn code_at(secret: &[u8], unix_seconds: u64) -> String {
    format!("{:06}", hotp(secret, step_at(unix_seconds)))
}

/// Characters of a recovery code: no `i`, `l`, `o`, `0` or `1`, which are easy to misread.
const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// Characters per recovery code: 23 from 31 carry 113.9 bits, above the 112 bits under which
/// ASVS V6.5.2 asks for a salted password hash, so a fast hash of the code is safe to store.
const RECOVERY_LENGTH: usize = 23;

/// Recovery codes: ten like `k3fq8-wztab-cdefg-hjkm-npqr`, shown once and stored hashed
/// (by [`recovery_code_key`]).
pub fn new_recovery_codes() -> Vec<String> {
    (0..10)
        .map(|_| {
            let mut chars = String::with_capacity(RECOVERY_LENGTH + 4);
            let mut count = 0;
            while count < RECOVERY_LENGTH {
                let mut byte = [0u8; 1];
                OsRng.fill_bytes(&mut byte);
                // Rejection sampling: 248 is the largest multiple of 31 below 256, so every
                // character is equally likely.
                if usize::from(byte[0]) >= 248 {
                    continue;
                }
                if matches!(count, 5 | 10 | 15 | 19) {
                    chars.push('-');
                }
                chars.push(char::from(
                    RECOVERY_ALPHABET[usize::from(byte[0]) % RECOVERY_ALPHABET.len()],
                ));
                count += 1;
            }
            chars
        })
        .collect()
}

/// What is hashed and compared for a recovery code: lower case, without spaces or dashes, so
/// a code typed as `K3FQ8 WZTAB …` works as well as the dashed form it was shown in.
pub fn recovery_code_key(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 secret "12345678901234567890": 8-digit codes; the last six
    /// digits are the 6-digit codes.
    #[test]
    fn matches_the_rfc_6238_test_vectors() {
        let secret = b"12345678901234567890";
        for (time, eight) in [
            (59u64, "94287082"),
            (1_111_111_109, "07081804"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
        ] {
            assert_eq!(code_at(secret, time), eight[2..], "at {time}");
        }
    }

    #[test]
    fn accepts_one_step_of_drift_and_refuses_replays() {
        let secret = new_secret();
        let now = 1_800_000_000;
        let code = code_at(&secret, now - 30);
        let step = verify(&secret, &code, now, None).unwrap();
        assert_eq!(
            verify(&secret, &code, now, Some(step)),
            None,
            "replay refused"
        );
        assert_eq!(
            verify(&secret, &code_at(&secret, now - 90), now, None),
            None,
            "too old"
        );
        assert_eq!(verify(&secret, "12a456", now, None), None);
    }

    #[test]
    fn base32_matches_rfc_4648() {
        assert_eq!(secret_base32(b"foobar"), "MZXW6YTBOI");
    }

    #[test]
    fn recovery_codes_are_distinct_and_carry_at_least_112_bits() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), 10);
        let unique: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), 10);
        for code in &codes {
            let key = recovery_code_key(code);
            assert_eq!(key.len(), RECOVERY_LENGTH, "{code}");
            assert!(
                key.bytes().all(|b| RECOVERY_ALPHABET.contains(&b)),
                "{code}"
            );
            assert_eq!(code.matches('-').count(), 4, "{code}");
        }
        let bits = RECOVERY_LENGTH as f64 * (RECOVERY_ALPHABET.len() as f64).log2();
        assert!(bits >= 112.0, "{bits}");
    }

    #[test]
    fn recovery_codes_match_however_they_are_typed() {
        let key = recovery_code_key("k3fq8-wztab-cdefg-hjkm-npqr");
        assert_eq!(key, "k3fq8wztabcdefghjkmnpqr");
        assert_eq!(recovery_code_key(" K3FQ8 WZTAB CDEFG HJKM NPQR "), key);
    }
}
