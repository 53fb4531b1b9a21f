//! Fixed-window rate limits kept in memory, per instance.
//!
//! Keys name what is limited (`login-ip:1.2.3.4`, `login-account:<email>`). With several
//! instances each keeps its own windows, so the effective limit is at most N times the
//! configured one; that still stops online guessing, which is the point.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::AppError;

/// A window's start and how many hits it has seen.
#[derive(Clone, Copy)]
struct Window {
    started: Instant,
    hits: u32,
}

/// Shared rate-limit state.
#[derive(Clone, Default)]
pub struct RateLimiter {
    windows: Arc<Mutex<HashMap<String, Window>>>,
}

/// Stop keeping old windows once this many keys exist.
const PRUNE_ABOVE: usize = 10_000;

impl RateLimiter {
    /// Counts one hit on `key`; refuses with 429 and the seconds left once `max` hits were
    /// seen within `per`.
    pub fn hit(&self, key: &str, max: u32, per: Duration) -> Result<(), AppError> {
        let now = Instant::now();
        let mut windows = self
            .windows
            .lock()
            .map_err(|_| AppError::Internal("rate limiter poisoned".into()))?;
        if windows.len() > PRUNE_ABOVE {
            windows.retain(|_, w| now.duration_since(w.started) < per);
        }
        let window = windows.entry(key.to_string()).or_insert(Window {
            started: now,
            hits: 0,
        });
        if now.duration_since(window.started) >= per {
            *window = Window {
                started: now,
                hits: 0,
            };
        }
        if window.hits >= max {
            let left = per.saturating_sub(now.duration_since(window.started));
            return Err(AppError::RateLimited {
                retry_after: left.as_secs().max(1),
            });
        }
        window.hits += 1;
        Ok(())
    }

    /// Forgets `key` (for example after a successful sign-in).
    pub fn clear(&self, key: &str) {
        if let Ok(mut windows) = self.windows.lock() {
            windows.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_after_the_limit_with_a_retry_after() {
        let limiter = RateLimiter::default();
        for _ in 0..3 {
            limiter.hit("k", 3, Duration::from_secs(60)).unwrap();
        }
        match limiter.hit("k", 3, Duration::from_secs(60)) {
            Err(AppError::RateLimited { retry_after }) => assert!((1..=60).contains(&retry_after)),
            other => panic!("expected 429, got {other:?}"),
        }
        limiter.hit("other", 3, Duration::from_secs(60)).unwrap();
        limiter.clear("k");
        limiter.hit("k", 3, Duration::from_secs(60)).unwrap();
    }
}
