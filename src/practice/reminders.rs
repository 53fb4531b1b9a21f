//! Practice reminders: off unless the client turns them on, never during their quiet hours,
//! and worded so that missing a day carries no guilt.
//!
//! Entry points: [`next_reminder`] (pure: when the next one is due), [`schedule`] (queues
//! it), [`send_and_reschedule`] (the job that sends one and queues the next, if reminders
//! are still wanted).

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime, Time, UtcOffset};
use uuid::Uuid;

use crate::db::{Db, DbResult, Timestamp};
use crate::email::Email;
use crate::error::AppResult;
use crate::jobs::{JobKind, enqueue_at};
use crate::web::AppState;
use crate::with_pool;

/// A client's reminder choices.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ReminderPrefs {
    /// Reminders are opt-in.
    pub enabled: bool,
    /// Hour of the day (0–23, the client's time) to be reminded.
    pub hour: u8,
    /// Start of quiet hours (0–23).
    pub quiet_start: u8,
    /// End of quiet hours (0–23); quiet hours may wrap past midnight.
    pub quiet_end: u8,
    /// The client's offset from UTC, in minutes.
    pub utc_offset_minutes: i32,
}

impl ReminderPrefs {
    /// Whether `hour` falls in the quiet hours.
    pub fn is_quiet(&self, hour: u8) -> bool {
        if self.quiet_start == self.quiet_end {
            return false;
        }
        if self.quiet_start < self.quiet_end {
            (self.quiet_start..self.quiet_end).contains(&hour)
        } else {
            hour >= self.quiet_start || hour < self.quiet_end
        }
    }
}

/// The next reminder time after `now`: the chosen hour in the client's time, moved to the end
/// of quiet hours if it falls inside them.
pub fn next_reminder(now: OffsetDateTime, prefs: &ReminderPrefs) -> OffsetDateTime {
    let offset =
        UtcOffset::from_whole_seconds(prefs.utc_offset_minutes.clamp(-14 * 60, 14 * 60) * 60)
            .unwrap_or(UtcOffset::UTC);
    let local_now = now.to_offset(offset);
    let hour = if prefs.is_quiet(prefs.hour) {
        prefs.quiet_end
    } else {
        prefs.hour
    };
    let at = Time::from_hms(hour.min(23), 0, 0).unwrap_or(Time::MIDNIGHT);
    let mut candidate = local_now.replace_time(at);
    if candidate <= local_now {
        candidate += Duration::days(1);
    }
    candidate.to_offset(UtcOffset::UTC)
}

/// The settings key holding a client's choices.
fn key(user_id: Uuid) -> String {
    format!("prefs.practice_reminders.{user_id}")
}

impl Db {
    /// A client's reminder choices (off by default).
    pub async fn reminder_prefs(&self, user_id: Uuid) -> DbResult<ReminderPrefs> {
        let k = key(user_id);
        let value: Option<String> = with_pool!(self, |pool| sqlx::query_scalar(
            "SELECT value FROM settings WHERE key = $1"
        )
        .bind(&k)
        .fetch_optional(pool)
        .await?);
        Ok(value
            .and_then(|v| serde_json::from_str(&v).ok())
            .unwrap_or(ReminderPrefs {
                hour: 18,
                quiet_start: 21,
                quiet_end: 8,
                ..Default::default()
            }))
    }

    /// Stores a client's reminder choices.
    pub async fn set_reminder_prefs(&self, user_id: Uuid, prefs: &ReminderPrefs) -> DbResult<()> {
        let k = key(user_id);
        let v = serde_json::to_string(prefs).unwrap_or_default();
        with_pool!(self, |pool| {
            sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = $2").bind(&k).bind(&v).execute(pool).await?;
        });
        Ok(())
    }
}

/// Queues the next reminder after `after` if the client wants reminders (one per time slot).
pub async fn schedule(state: &AppState, user_id: Uuid, after: OffsetDateTime) -> AppResult<()> {
    let prefs = state.db.reminder_prefs(user_id).await?;
    if !prefs.enabled {
        return Ok(());
    }
    let due = next_reminder(after, &prefs);
    let at = Timestamp::from(due);
    let key = format!("practice-reminder:{user_id}:{}", &at.to_text()[..13]);
    enqueue_at(
        state,
        &JobKind::PracticeReminder {
            user_id,
            due_unix: due.unix_timestamp(),
        },
        Some(&key),
        at,
    )
    .await?;
    Ok(())
}

/// Sends one reminder, if still wanted and there is a suggested practice, then queues the next.
pub async fn send_and_reschedule(state: &AppState, user_id: Uuid, due_unix: i64) -> AppResult<()> {
    let prefs = state.db.reminder_prefs(user_id).await?;
    let Some(user) = state.db.user_by_id(user_id).await? else {
        return Ok(());
    };
    if !prefs.enabled || user.disabled {
        return Ok(());
    }
    if !state.db.homework_of(user_id).await?.is_empty() {
        let email = Email {
            to: user.email.clone(),
            subject: "Your practice is here whenever you'd like it".into(),
            body: format!(
                "Hello {},\n\nA gentle reminder that your practice is waiting in Tend, whenever suits you:\n\n{}/practice\n\n\
                 Any practice counts, even a minute or two, and there is nothing to catch up on.\n\n\
                 You can turn these reminders off at any time on the Practice page.\n\nTend\n",
                user.name,
                state.config.base_url()
            ),
            attachment: None,
        };
        crate::jobs::enqueue(
            state,
            &JobKind::SendEmail(email),
            Some(&format!(
                "practice-reminder-email:{user_id}:{}",
                &Timestamp::now().to_text()[..10]
            )),
        )
        .await?;
    }
    // Strictly after this slot, even if the job ran early or late.
    let due =
        OffsetDateTime::from_unix_timestamp(due_unix).unwrap_or_else(|_| OffsetDateTime::now_utc());
    schedule(
        state,
        user_id,
        due.max(OffsetDateTime::now_utc()) + Duration::minutes(1),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn prefs(hour: u8, quiet: (u8, u8), offset: i32) -> ReminderPrefs {
        ReminderPrefs {
            enabled: true,
            hour,
            quiet_start: quiet.0,
            quiet_end: quiet.1,
            utc_offset_minutes: offset,
        }
    }

    #[test]
    fn reminders_come_at_the_chosen_local_hour() {
        let now = datetime!(2026-11-26 10:00 UTC);
        assert_eq!(
            next_reminder(now, &prefs(18, (21, 8), 0)),
            datetime!(2026-11-26 18:00 UTC)
        );
        assert_eq!(
            next_reminder(now, &prefs(9, (21, 8), 0)),
            datetime!(2026-11-27 09:00 UTC),
            "already past today"
        );
        assert_eq!(
            next_reminder(now, &prefs(18, (21, 8), 60)),
            datetime!(2026-11-26 17:00 UTC),
            "18:00 in UTC+1"
        );
    }

    #[test]
    fn quiet_hours_are_respected_even_across_midnight() {
        let now = datetime!(2026-11-26 10:00 UTC);
        assert_eq!(
            next_reminder(now, &prefs(23, (21, 8), 0)),
            datetime!(2026-11-27 08:00 UTC)
        );
        assert_eq!(
            next_reminder(now, &prefs(13, (12, 14), 0)),
            datetime!(2026-11-26 14:00 UTC)
        );
        assert!(prefs(0, (21, 8), 0).is_quiet(2) && !prefs(0, (21, 8), 0).is_quiet(8));
        assert!(
            !prefs(0, (5, 5), 0).is_quiet(5),
            "equal start and end means no quiet hours"
        );
    }
}
