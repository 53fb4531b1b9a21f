//! Storage for practice outcomes: counts only, both backends.

use super::{RETENTION_WEEKS, Retention};
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
    /// Of those out of touch, the ones whose treatment plan's planned end has not come yet:
    /// they stopped before the end they agreed (dropout).
    pub dropped_out: i64,
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
                // care_relationships is unique per (therapist, client), so COUNT(*) counts
                // each client once per therapist.
                "SELECT u.name, t.instrument, t.status, t.n FROM ( \
                   SELECT c.therapist_id, s.instrument, s.status, COUNT(*) AS n \
                   FROM measure_summaries s \
                   JOIN care_relationships c ON c.client_id = s.client_id \
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
    /// contact since `since` (and began before it), how many of those before their plan's
    /// planned end (after `today`, `YYYY-MM-DD`), and sessions attended and missed.
    pub async fn engagement(&self, since: Timestamp, today: &str) -> DbResult<Vec<Engagement>> {
        // Counted per therapist id first, names joined after; attendance counted once per
        // therapist from its own index. Correlated subqueries per therapist read every
        // appointment of the practice again for each one: 19 s at 1,000,000 clients on
        // PostgreSQL, 0.5 s this way (bench/outcomes-pg).
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT u.name AS therapist, c.in_care, c.out_of_touch, c.dropped_out, \
                   COALESCE(a.attended, 0) AS attended, COALESCE(a.no_shows, 0) AS no_shows \
                 FROM (SELECT c.therapist_id, \
                     SUM(CASE WHEN c.ended_at IS NULL THEN 1 ELSE 0 END) AS in_care, \
                     SUM(CASE WHEN c.ended_at IS NULL AND c.started_at < $1 \
                       AND (c.last_contact_at IS NULL OR c.last_contact_at < $1) THEN 1 ELSE 0 END) AS out_of_touch, \
                     SUM(CASE WHEN c.ended_at IS NULL AND c.started_at < $1 \
                       AND (c.last_contact_at IS NULL OR c.last_contact_at < $1) AND p.client_id IS NOT NULL \
                       THEN 1 ELSE 0 END) AS dropped_out \
                   FROM care_relationships c \
                   LEFT JOIN (SELECT client_id FROM treatment_plans WHERE planned_end > $2) p ON p.client_id = c.client_id \
                   GROUP BY c.therapist_id) c \
                 JOIN users u ON u.id = c.therapist_id \
                 LEFT JOIN (SELECT therapist_id, \
                     SUM(CASE WHEN status = 'attended' THEN 1 ELSE 0 END) AS attended, \
                     SUM(CASE WHEN status = 'no_show' THEN 1 ELSE 0 END) AS no_shows \
                   FROM appointments WHERE status IN ('attended', 'no_show') GROUP BY therapist_id) a \
                   ON a.therapist_id = c.therapist_id \
                 ORDER BY u.name, c.therapist_id",
            )
            .bind(since)
            .bind(today)
            .fetch_all(pool)
            .await?
        }))
    }

    /// The retention curve, counted in the database: for each of [`RETENTION_WEEKS`], the
    /// relationships that began at least that long before `now` and, of those, the ones with
    /// a contact at least that long after they began. Returning every relationship for Rust
    /// to count took 35–46 ms at 10,000 (sqlx hands SQLite rows over one by one); one row of
    /// sums does not.
    pub async fn retention(&self, now: Timestamp) -> DbResult<Vec<Retention>> {
        // Weeks from start to latest contact: the one expression the backends spell apart.
        let weeks = match self.backend() {
            crate::db::Backend::Sqlite => {
                "(julianday(last_contact_at) - julianday(started_at)) / 7.0"
            }
            crate::db::Backend::Postgres => {
                // date_part gives a double; EXTRACT gives numeric, which took 450 ms instead
                // of 280 ms over 1,000,000 relationships.
                "date_part('epoch', last_contact_at - started_at) / 604800.0"
            }
        };
        let mut sums = Vec::new();
        for (i, k) in RETENTION_WEEKS.iter().enumerate() {
            let cut = i + 1;
            sums.push(format!(
                "COALESCE(SUM(CASE WHEN started_at <= ${cut} THEN 1 ELSE 0 END), 0)"
            ));
            sums.push(format!(
                "COALESCE(SUM(CASE WHEN started_at <= ${cut} AND last_contact_at IS NOT NULL \
                 AND {weeks} >= {k} THEN 1 ELSE 0 END), 0)"
            ));
        }
        let sql = format!("SELECT {} FROM care_relationships", sums.join(", "));
        let cuts: Vec<Timestamp> = RETENTION_WEEKS
            .iter()
            .map(|k| now - time::Duration::weeks(*k))
            .collect();
        let row: Vec<i64> = with_pool!(self, |pool| {
            let mut q = sqlx::query(&sql);
            for cut in &cuts {
                q = q.bind(*cut);
            }
            let row = q.fetch_one(pool).await?;
            (0..RETENTION_WEEKS.len() * 2)
                .map(|i| sqlx::Row::try_get::<i64, _>(&row, i))
                .collect::<Result<Vec<i64>, _>>()?
        });
        Ok(RETENTION_WEEKS
            .iter()
            .enumerate()
            .map(|(i, weeks)| Retention {
                weeks: *weeks,
                eligible: row[2 * i],
                retained: row[2 * i + 1],
            })
            .collect())
    }
}
