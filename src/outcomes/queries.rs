//! Storage for practice outcomes: counts only, both backends.

use crate::db::{Db, DbResult, Timestamp};
use crate::with_pool;

/// Attendance and contact for one therapist's caseload.
#[derive(Clone, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Engagement {
    /// The therapist's name.
    pub therapist: String,
    /// Clients in care now.
    pub in_care: i64,
    /// Of those, in care for longer than the period but with no message either way and no
    /// attended session within it.
    pub out_of_touch: i64,
    /// Sessions marked attended.
    pub attended: i64,
    /// Sessions marked as missed.
    pub no_shows: i64,
}

impl Db {
    /// `(instrument, status, clients)` over the whole practice: clients with at least two
    /// scored administrations (a change needs two).
    pub async fn outcome_counts(&self) -> DbResult<Vec<(String, String, i64)>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT instrument, status, COUNT(*) FROM measure_summaries \
                 WHERE administrations >= 2 GROUP BY instrument, status ORDER BY instrument, status",
            )
            .fetch_all(pool)
            .await?
        }))
    }

    /// `(therapist name, instrument, status, clients)`: each client counts for every
    /// therapist who has cared for them.
    pub async fn outcome_counts_by_therapist(
        &self,
    ) -> DbResult<Vec<(String, String, String, i64)>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
                // Counted per therapist id first, names joined after: grouping by names and
                // counting distinct clients sorted every row (29 ms at 10,000 clients).
                "SELECT u.name, t.instrument, t.status, t.n FROM ( \
                   SELECT c.therapist_id, s.instrument, s.status, COUNT(*) AS n \
                   FROM measure_summaries s \
                   JOIN (SELECT DISTINCT therapist_id, client_id FROM care_relationships) c \
                     ON c.client_id = s.client_id \
                   WHERE s.administrations >= 2 \
                   GROUP BY c.therapist_id, s.instrument, s.status \
                 ) t JOIN users u ON u.id = t.therapist_id \
                 ORDER BY u.name, t.therapist_id, t.instrument, t.status",
            )
            .fetch_all(pool)
            .await?
        }))
    }

    /// Per therapist with clients: how many are in care, how many of those have had no
    /// contact since `since` (and began before it), and sessions attended and missed.
    pub async fn engagement(&self, since: Timestamp) -> DbResult<Vec<Engagement>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT u.name AS therapist, \
                   SUM(CASE WHEN c.ended_at IS NULL THEN 1 ELSE 0 END) AS in_care, \
                   SUM(CASE WHEN c.ended_at IS NULL AND c.started_at < $1 \
                     AND NOT EXISTS (SELECT 1 FROM appointments a WHERE a.client_id = c.client_id \
                       AND a.therapist_id = c.therapist_id AND a.status = 'attended' AND a.starts_at >= $1) \
                     AND NOT EXISTS (SELECT 1 FROM conversations v JOIN messages m ON m.conversation_id = v.id \
                       WHERE v.staff_id = c.therapist_id AND v.member_id = c.client_id AND m.created_at >= $1) \
                     THEN 1 ELSE 0 END) AS out_of_touch, \
                   COALESCE((SELECT SUM(CASE WHEN a.status = 'attended' THEN 1 ELSE 0 END) FROM appointments a \
                     WHERE a.therapist_id = c.therapist_id), 0) AS attended, \
                   COALESCE((SELECT SUM(CASE WHEN a.status = 'no_show' THEN 1 ELSE 0 END) FROM appointments a \
                     WHERE a.therapist_id = c.therapist_id), 0) AS no_shows \
                 FROM care_relationships c JOIN users u ON u.id = c.therapist_id \
                 GROUP BY u.name, c.therapist_id ORDER BY u.name, c.therapist_id",
            )
            .bind(since)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Every care relationship's start and latest contact (a message either way or an
    /// attended session with that therapist), for the retention curve.
    pub async fn retention_facts(&self) -> DbResult<Vec<(Timestamp, Option<Timestamp>)>> {
        let rows: Vec<(Timestamp, Option<Timestamp>, Option<Timestamp>)> = with_pool!(
            self,
            |pool| {
                sqlx::query_as(
                    "SELECT c.started_at, \
                       (SELECT MAX(m.created_at) FROM conversations v JOIN messages m ON m.conversation_id = v.id \
                         WHERE v.staff_id = c.therapist_id AND v.member_id = c.client_id), \
                       (SELECT MAX(a.starts_at) FROM appointments a WHERE a.client_id = c.client_id \
                         AND a.therapist_id = c.therapist_id AND a.status = 'attended') \
                     FROM care_relationships c",
                )
                .fetch_all(pool)
                .await?
            }
        );
        Ok(rows
            .into_iter()
            .map(|(started, message, session)| (started, message.max(session)))
            .collect())
    }
}
