//! Crisis resources: the verified default lines (`safety/crisis_lines.json`, from the
//! reference's §11), ordered for the practice's region (`TEND_CRISIS_REGION`), with the
//! practice's own lines (set by an admin) first.
//!
//! Every page's layout carries the resolved list, so any page can show the crisis block at
//! once. The practice's lines are cached for a short time per instance, so an admin's change
//! reaches every instance within [`CACHE_FOR`].

use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::db::{Db, DbResult};
use crate::with_pool;

/// How long an instance reuses the practice's lines before reading them again.
pub const CACHE_FOR: Duration = Duration::from_secs(30);

/// The settings key for the practice's own lines (JSON list of [`Line`]).
const SETTING: &str = "safety.crisis_lines";

/// One way to reach help.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Line {
    /// Who answers.
    pub name: String,
    /// How to reach them ("Call or text").
    pub how: String,
    /// The number or address as shown.
    pub contact: String,
    /// `tel:`, `sms:` or `https:` link; empty for none.
    pub href: String,
}

/// A region's lines.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Region {
    /// `us`, `uk-ie`, `other`, or `practice`.
    pub id: String,
    /// Heading.
    pub name: String,
    /// Its lines.
    pub lines: Vec<Line>,
}

/// The shipped file.
#[derive(Deserialize)]
struct Defaults {
    regions: Vec<Region>,
}

/// The verified defaults, parsed once (a unit test proves the file parses).
static DEFAULTS: LazyLock<Vec<Region>> = LazyLock::new(|| {
    serde_json::from_str::<Defaults>(include_str!("../../safety/crisis_lines.json"))
        .map(|d| d.regions)
        .unwrap_or_default()
});

/// The lines to show: the practice's own first (if any), then the defaults with `region`
/// first.
pub fn resolve(region: &str, practice: &[Line]) -> Vec<Region> {
    let mut regions: Vec<Region> = Vec::new();
    if !practice.is_empty() {
        regions.push(Region {
            id: "practice".into(),
            name: "Your practice".into(),
            lines: practice.to_vec(),
        });
    }
    let mut defaults = DEFAULTS.clone();
    defaults.sort_by_key(|r| (r.id != region, r.id == "other"));
    regions.extend(defaults);
    regions
}

/// Checks a practice line an admin entered; the message names what is wrong.
pub fn check_line(line: &Line) -> Result<(), String> {
    if line.name.trim().is_empty() || line.contact.trim().is_empty() {
        return Err("Each line needs a name and a number or address.".into());
    }
    let href = line.href.trim();
    if !(href.is_empty()
        || href.starts_with("tel:")
        || href.starts_with("sms:")
        || href.starts_with("https://"))
    {
        return Err("Links must start with tel:, sms: or https://.".into());
    }
    Ok(())
}

/// Lines with the moment they were read.
type Cached = Option<(Instant, Vec<Line>)>;

/// A per-instance cache of the practice's lines.
#[derive(Clone, Default)]
pub struct Cache(Arc<Mutex<Cached>>);

impl Cache {
    /// The practice's lines, read again when the cache is older than [`CACHE_FOR`].
    pub async fn practice_lines(&self, db: &Db) -> Vec<Line> {
        if let Ok(guard) = self.0.lock()
            && let Some((at, lines)) = guard.as_ref()
            && at.elapsed() < CACHE_FOR
        {
            return lines.clone();
        }
        match db.practice_crisis_lines().await {
            Ok(lines) => {
                if let Ok(mut guard) = self.0.lock() {
                    *guard = Some((Instant::now(), lines.clone()));
                }
                lines
            }
            Err(err) => {
                // The defaults still show; the database being down is logged elsewhere too.
                tracing::warn!(error = %err, "could not read the practice's crisis lines");
                Vec::new()
            }
        }
    }

    /// Forgets the cached lines (after an admin saves new ones).
    pub fn forget(&self) {
        if let Ok(mut guard) = self.0.lock() {
            *guard = None;
        }
    }
}

impl Db {
    /// The practice's own crisis lines.
    pub async fn practice_crisis_lines(&self) -> DbResult<Vec<Line>> {
        let value: Option<String> = with_pool!(self, |pool| {
            sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
                .bind(SETTING)
                .fetch_optional(pool)
                .await?
        });
        Ok(value
            .and_then(|v| serde_json::from_str(&v).ok())
            .unwrap_or_default())
    }

    /// Replaces the practice's own crisis lines.
    pub async fn set_practice_crisis_lines(&self, lines: &[Line]) -> DbResult<()> {
        let value = serde_json::to_string(lines).unwrap_or_else(|_| "[]".into());
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = $2",
            )
            .bind(SETTING)
            .bind(value)
            .execute(pool)
            .await?;
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_lines_parse_and_hold_only_verified_numbers() {
        let all = resolve("us", &[]);
        let ids: Vec<&str> = all.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["us", "uk-ie", "other"]);
        let contacts: Vec<&str> = all
            .iter()
            .flat_map(|r| r.lines.iter().map(|l| l.contact.as_str()))
            .collect();
        assert!(contacts.contains(&"988") && contacts.contains(&"116 123"));
        // 999 and 112 are marked UNVERIFIED in the reference.
        assert!(!contacts.iter().any(|c| *c == "999" || *c == "112"));
    }

    #[test]
    fn the_practice_region_and_own_lines_come_first() {
        let own = Line {
            name: "Our on-call clinician".into(),
            how: "Call".into(),
            contact: "555 0100".into(),
            href: "tel:5550100".into(),
        };
        let ids: Vec<String> = resolve("uk-ie", std::slice::from_ref(&own))
            .into_iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(ids, ["practice", "uk-ie", "us", "other"]);
        assert!(check_line(&own).is_ok());
        let bad = Line {
            href: "javascript:alert(1)".into(),
            ..own
        };
        assert!(check_line(&bad).is_err());
    }
}
