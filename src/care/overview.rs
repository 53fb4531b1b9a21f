//! The caseload table's per-client columns beyond names and dates: latest scores with their
//! reliable-change status and homework adherence. Pure, so the arithmetic is
//! tested without a database; `pages` gathers the facts.

use std::collections::HashMap;

use uuid::Uuid;

use crate::db::Timestamp;
use crate::measures::change::ChangeStatus;

/// The window homework adherence looks back over.
pub const ADHERENCE_DAYS: i64 = 28;

/// One questionnaire's line in a client's row: "PHQ-9 17 → 9, reliably improved".
#[derive(Clone, Debug, PartialEq)]
pub struct ScoreLine {
    /// Short instrument name.
    pub instrument: String,
    /// First total.
    pub baseline: String,
    /// Latest total.
    pub latest: String,
    /// Reliable-change status in words.
    pub status: &'static str,
    /// Whether the client is reliably worse or not on track (drawn as a warning).
    pub warn: bool,
}

impl ScoreLine {
    /// The line as read aloud and shown: one score alone when only one was given.
    pub fn text(&self, administrations: i64) -> String {
        if administrations < 2 {
            format!("{} {} (first score)", self.instrument, self.latest)
        } else {
            format!(
                "{} {} → {}, {}",
                self.instrument, self.baseline, self.latest, self.status
            )
        }
    }
}

/// The status stored in `measure_summaries` (snake case, as serialised), in words.
pub fn status_words(stored: &str) -> &'static str {
    ChangeStatus::from_stored(stored).map_or("change not yet known", ChangeStatus::describe)
}

/// A suggested practice, as adherence needs it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct HomeworkFact {
    /// The client.
    pub client_id: Uuid,
    /// Which practice.
    pub practice_id: String,
    /// Every N days, or once.
    pub every_days: Option<i64>,
    /// When it was suggested.
    pub created_at: Timestamp,
}

/// A practice done.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CompletionFact {
    /// The client.
    pub client_id: Uuid,
    /// Which practice.
    pub practice_id: String,
    /// When.
    pub completed_at: Timestamp,
}

/// Suggested practices done against those due, over the last [`ADHERENCE_DAYS`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Adherence {
    /// Done (each suggestion counts at most as often as it was due).
    pub done: i64,
    /// Due.
    pub due: i64,
}

impl Adherence {
    /// Whole percent done, for sorting and the bar.
    pub fn percent(self) -> i64 {
        if self.due == 0 {
            0
        } else {
            self.done * 100 / self.due
        }
    }

    /// "5 of 8 done".
    pub fn text(self) -> String {
        format!("{} of {} done", self.done, self.due)
    }
}

/// Adherence per client. A practice suggested every N days is due once per whole N days of the
/// window it has existed for; a one-off is due once, a week after it was suggested. Nothing
/// is due before its first period has passed, unless the client has already done it (then it
/// counts, done). Completions beyond what was due don't cover another suggestion: extra
/// practice is good, but it doesn't make up for a missed one.
pub fn adherence(
    homework: &[HomeworkFact],
    completions: &[CompletionFact],
    now: Timestamp,
) -> HashMap<Uuid, Adherence> {
    let window_start = now - time::Duration::days(ADHERENCE_DAYS);
    let mut out: HashMap<Uuid, Adherence> = HashMap::new();
    for h in homework {
        let from = if h.created_at > window_start {
            h.created_at
        } else {
            window_start
        };
        let done = completions
            .iter()
            .filter(|c| {
                c.client_id == h.client_id
                    && c.practice_id == h.practice_id
                    && c.completed_at >= from
                    && c.completed_at <= now
            })
            .count();
        let done = i64::try_from(done).unwrap_or(i64::MAX);
        let days = (now - from).whole_days();
        let periods = match h.every_days {
            Some(every) if every > 0 => days / every,
            _ => i64::from(days >= 7),
        };
        let due = periods.max(done.min(1));
        if due == 0 {
            continue;
        }
        let entry = out.entry(h.client_id).or_default();
        entry.due += due;
        entry.done += done.min(due);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(days_ago: i64) -> Timestamp {
        Timestamp::from(time::macros::datetime!(2026-11-27 12:00 UTC))
            - time::Duration::days(days_ago)
    }

    fn hw(client: u128, practice: &str, every: Option<i64>, days_ago: i64) -> HomeworkFact {
        HomeworkFact {
            client_id: Uuid::from_u128(client),
            practice_id: practice.into(),
            every_days: every,
            created_at: at(days_ago),
        }
    }

    fn done(client: u128, practice: &str, days_ago: i64) -> CompletionFact {
        CompletionFact {
            client_id: Uuid::from_u128(client),
            practice_id: practice.into(),
            completed_at: at(days_ago),
        }
    }

    #[test]
    fn adherence_counts_what_was_due_in_the_window() {
        let now = at(0);
        let homework = [
            // Every 7 days for months: 4 due in the window; done 3 times in it, once before.
            hw(1, "breath", Some(7), 90),
            // Once, 10 days ago: due, done.
            hw(1, "letter", None, 10),
            // Every 2 days, suggested yesterday, not done yet: nothing due so far.
            hw(1, "walk", Some(2), 1),
            // Another client, done more often than due: capped.
            hw(2, "breath", Some(14), 20),
        ];
        let completions = [
            done(1, "breath", 2),
            done(1, "breath", 9),
            done(1, "breath", 20),
            done(1, "breath", 40),
            done(1, "letter", 3),
            done(2, "breath", 1),
            done(2, "breath", 2),
            done(2, "breath", 3),
        ];
        let got = adherence(&homework, &completions, now);
        assert_eq!(got[&Uuid::from_u128(1)], Adherence { done: 4, due: 5 });
        assert_eq!(got[&Uuid::from_u128(1)].percent(), 80);
        assert_eq!(got[&Uuid::from_u128(2)], Adherence { done: 1, due: 1 });
        assert_eq!(got[&Uuid::from_u128(2)].text(), "1 of 1 done");
        // Done early counts before the first period has passed.
        let early = adherence(&[hw(3, "walk", Some(7), 2)], &[done(3, "walk", 1)], now);
        assert_eq!(early[&Uuid::from_u128(3)], Adherence { done: 1, due: 1 });
        // Nothing due, nothing shown.
        assert!(adherence(&[hw(4, "walk", None, 3)], &[], now).is_empty());
    }

    #[test]
    fn score_lines_read_plainly() {
        assert_eq!(
            crate::measures::library::short_title("Patient Health Questionnaire-9 (PHQ-9)"),
            "PHQ-9"
        );
        assert_eq!(
            crate::measures::library::short_title("Something plain"),
            "Something plain"
        );
        assert_eq!(status_words("reliably_improved"), "reliably improved");
        assert_eq!(status_words("garbled"), "change not yet known");
        let line = ScoreLine {
            instrument: "PHQ-9".into(),
            baseline: "17".into(),
            latest: "9".into(),
            status: "reliably improved",
            warn: false,
        };
        assert_eq!(line.text(4), "PHQ-9 17 → 9, reliably improved");
        assert_eq!(line.text(1), "PHQ-9 9 (first score)");
    }
}
