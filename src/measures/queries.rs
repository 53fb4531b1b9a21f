//! Storage for assignments, responses (drafts and submissions) and per-client summaries.

use uuid::Uuid;

use crate::db::{Db, DbError, DbResult, Timestamp, new_id};
use crate::with_pool;

/// An instrument assigned to a client.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Assignment {
    /// Id.
    pub id: Uuid,
    /// The client.
    pub client_id: Uuid,
    /// The assigning therapist.
    pub therapist_id: Uuid,
    /// Instrument id.
    pub instrument: String,
    /// Repeat interval in days, or `None` for once.
    pub every_days: Option<i64>,
    /// When it is next due.
    pub next_due_at: Timestamp,
    /// Whether it still applies.
    pub active: bool,
}

/// One administration, draft or submitted.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Response {
    /// Id.
    pub id: Uuid,
    /// The assignment it answers, if any (imports have none).
    pub assignment_id: Option<Uuid>,
    /// The client.
    pub client_id: Uuid,
    /// Instrument id.
    pub instrument: String,
    /// JSON array of answers in item order.
    pub answers: String,
    /// `draft` or `submitted`.
    pub status: String,
    /// Optimistic-concurrency version of the draft.
    pub version: i64,
    /// Total at submission.
    pub total: Option<f64>,
    /// Band at submission.
    pub band: Option<String>,
    /// Whether every scored item was answered.
    pub complete: bool,
    /// Risk level at submission.
    pub risk: Option<String>,
    /// JSON array of flags.
    pub flags: String,
    /// When it was submitted.
    pub submitted_at: Option<Timestamp>,
}

impl Response {
    /// The answers as numbers.
    pub fn answer_values(&self) -> Vec<Option<i64>> {
        serde_json::from_str(&self.answers).unwrap_or_default()
    }

    /// The flags as strings.
    pub fn flag_list(&self) -> Vec<String> {
        serde_json::from_str(&self.flags).unwrap_or_default()
    }
}

/// A client's standing on one instrument.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Summary {
    /// The client.
    pub client_id: Uuid,
    /// Instrument id.
    pub instrument: String,
    /// First total.
    pub baseline_total: f64,
    /// When.
    pub baseline_at: Timestamp,
    /// Latest total.
    pub latest_total: f64,
    /// When.
    pub latest_at: Timestamp,
    /// Number of scored administrations.
    pub administrations: i64,
    /// Change status name.
    pub status: String,
    /// Not-on-track flag.
    pub not_on_track: bool,
}

/// What a submission stores besides the answers.
pub struct Scored<'a> {
    /// Total, if scored.
    pub total: Option<f64>,
    /// Band.
    pub band: Option<&'a str>,
    /// Completeness.
    pub complete: bool,
    /// Risk level.
    pub risk: Option<&'a str>,
    /// Flags (JSON array).
    pub flags: &'a str,
}

/// Columns selected for [`Response`].
const RESPONSE_COLUMNS: &str = "id, assignment_id, client_id, instrument, answers, status, version, total, band, complete, risk, flags, submitted_at";

impl Db {
    /// Assigns an instrument, due now.
    pub async fn assign_measure(
        &self,
        client_id: Uuid,
        therapist_id: Uuid,
        instrument: &str,
        every_days: Option<i64>,
    ) -> DbResult<Uuid> {
        let id = new_id();
        let now = Timestamp::now();
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO measure_assignments (id, client_id, therapist_id, instrument, every_days, next_due_at, active, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, TRUE, $6)",
            )
            .bind(id)
            .bind(client_id)
            .bind(therapist_id)
            .bind(instrument)
            .bind(every_days)
            .bind(now)
            .execute(pool)
            .await?;
        });
        Ok(id)
    }

    /// One assignment.
    pub async fn assignment(&self, id: Uuid) -> DbResult<Option<Assignment>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as("SELECT id, client_id, therapist_id, instrument, every_days, next_due_at, active FROM measure_assignments WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// A client's active assignments, soonest due first.
    pub async fn assignments_of(&self, client_id: Uuid) -> DbResult<Vec<Assignment>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT id, client_id, therapist_id, instrument, every_days, next_due_at, active FROM measure_assignments \
                 WHERE client_id = $1 AND active = TRUE ORDER BY next_due_at",
            )
            .bind(client_id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// The open draft for an assignment, created (with no answers) if there is none.
    pub async fn draft_for(
        &self,
        assignment: &Assignment,
        item_count: usize,
    ) -> DbResult<Response> {
        let sql = format!(
            "SELECT {RESPONSE_COLUMNS} FROM measure_responses WHERE assignment_id = $1 AND status = 'draft'"
        );
        let existing: Option<Response> = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(assignment.id)
            .fetch_optional(pool)
            .await?);
        if let Some(draft) = existing {
            return Ok(draft);
        }
        let id = new_id();
        let empty =
            serde_json::to_string(&vec![None::<i64>; item_count]).unwrap_or_else(|_| "[]".into());
        self.insert_response(
            id,
            Some(assignment.id),
            assignment.client_id,
            &assignment.instrument,
            &empty,
            "form",
        )
        .await?;
        self.response(id)
            .await?
            .ok_or(DbError::Corrupt("draft vanished".into()))
    }

    /// Inserts a draft response.
    pub async fn insert_response(
        &self,
        id: Uuid,
        assignment_id: Option<Uuid>,
        client_id: Uuid,
        instrument: &str,
        answers: &str,
        source: &str,
    ) -> DbResult<()> {
        let now = Timestamp::now();
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO measure_responses (id, assignment_id, client_id, instrument, answers, status, version, source, started_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, 'draft', 1, $6, $7, $7)",
            )
            .bind(id)
            .bind(assignment_id)
            .bind(client_id)
            .bind(instrument)
            .bind(answers)
            .bind(source)
            .bind(now)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Inserts an already-submitted response at a given time (imports and the demo's
    /// histories); returns its id.
    pub async fn insert_submitted(
        &self,
        client_id: Uuid,
        instrument: &str,
        answers: &str,
        scored: &Scored<'_>,
        submitted_at: Timestamp,
        source: &str,
    ) -> DbResult<Uuid> {
        let id = new_id();
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO measure_responses (id, assignment_id, client_id, instrument, answers, status, version, total, band, complete, risk, flags, source, started_at, updated_at, submitted_at) \
                 VALUES ($1, NULL, $2, $3, $4, 'submitted', 1, $5, $6, $7, $8, $9, $10, $11, $11, $11)",
            )
            .bind(id)
            .bind(client_id)
            .bind(instrument)
            .bind(answers)
            .bind(scored.total)
            .bind(scored.band)
            .bind(scored.complete)
            .bind(scored.risk)
            .bind(scored.flags)
            .bind(source)
            .bind(submitted_at)
            .execute(pool)
            .await?;
        });
        Ok(id)
    }

    /// One response.
    pub async fn response(&self, id: Uuid) -> DbResult<Option<Response>> {
        let sql = format!("SELECT {RESPONSE_COLUMNS} FROM measure_responses WHERE id = $1");
        Ok(with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await?))
    }

    /// Saves draft answers if the draft is still at `version`; returns the new version, or
    /// [`DbError::Conflict`] when another tab saved first or it was already submitted.
    pub async fn save_draft(&self, id: Uuid, answers: &str, version: i64) -> DbResult<i64> {
        let done = with_pool!(self, |pool| {
            sqlx::query("UPDATE measure_responses SET answers = $1, version = version + 1, updated_at = $2 WHERE id = $3 AND status = 'draft' AND version = $4")
                .bind(answers)
                .bind(Timestamp::now())
                .bind(id)
                .bind(version)
                .execute(pool)
                .await?
                .rows_affected()
        });
        if done == 1 {
            Ok(version + 1)
        } else {
            Err(DbError::Conflict)
        }
    }

    /// Submits a draft with its score and moves its assignment on (due again at `next_due`,
    /// or finished when that is `None`), in one transaction. Returns false when it was already
    /// submitted: a second submit changes nothing.
    pub async fn submit_response(
        &self,
        id: Uuid,
        answers: &str,
        scored: &Scored<'_>,
        next_due: Option<Timestamp>,
    ) -> DbResult<bool> {
        let now = Timestamp::now();
        with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            let done = sqlx::query(
                "UPDATE measure_responses SET answers = $1, status = 'submitted', version = version + 1, total = $2, band = $3, complete = $4, \
                 risk = $5, flags = $6, updated_at = $7, submitted_at = $7 WHERE id = $8 AND status = 'draft'",
            )
            .bind(answers)
            .bind(scored.total)
            .bind(scored.band)
            .bind(scored.complete)
            .bind(scored.risk)
            .bind(scored.flags)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if done != 1 {
                return Ok(false);
            }
            // A repeating assignment becomes due again after its interval; a one-off ends.
            sqlx::query(
                "UPDATE measure_assignments SET active = $1, next_due_at = COALESCE($2, next_due_at) \
                 WHERE id = (SELECT assignment_id FROM measure_responses WHERE id = $3)",
            )
            .bind(next_due.is_some())
            .bind(next_due)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    /// A client's submissions of one instrument, oldest first.
    pub async fn history(&self, client_id: Uuid, instrument: &str) -> DbResult<Vec<Response>> {
        self.submissions(client_id, Some(instrument)).await
    }

    /// Every submitted response of a client, oldest first (for export).
    pub async fn submitted_responses(&self, client_id: Uuid) -> DbResult<Vec<Response>> {
        self.submissions(client_id, None).await
    }

    /// Submissions of one instrument, or of all when `instrument` is `None`, oldest first.
    async fn submissions(
        &self,
        client_id: Uuid,
        instrument: Option<&str>,
    ) -> DbResult<Vec<Response>> {
        let sql = format!(
            "SELECT {RESPONSE_COLUMNS} FROM measure_responses WHERE client_id = $1 AND ($2 IS NULL OR instrument = $2) \
             AND status = 'submitted' ORDER BY submitted_at"
        );
        Ok(with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(client_id)
            .bind(instrument)
            .fetch_all(pool)
            .await?))
    }

    /// Writes a client's summary for one instrument.
    pub async fn upsert_summary(&self, s: &Summary) -> DbResult<()> {
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO measure_summaries (client_id, instrument, baseline_total, baseline_at, latest_total, latest_at, administrations, status, not_on_track) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (client_id, instrument) DO UPDATE SET \
                 baseline_total = $3, baseline_at = $4, latest_total = $5, latest_at = $6, administrations = $7, status = $8, not_on_track = $9",
            )
            .bind(s.client_id)
            .bind(&s.instrument)
            .bind(s.baseline_total)
            .bind(s.baseline_at)
            .bind(s.latest_total)
            .bind(s.latest_at)
            .bind(s.administrations)
            .bind(&s.status)
            .bind(s.not_on_track)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// A therapist's clients who are not on track on any instrument, by name, at most `limit`.
    pub async fn off_track_clients(
        &self,
        therapist_id: Uuid,
        limit: i64,
    ) -> DbResult<Vec<(Uuid, String)>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT DISTINCT u.id, u.name FROM measure_summaries s JOIN care_relationships c ON c.client_id = s.client_id \
                 JOIN users u ON u.id = s.client_id WHERE s.not_on_track = TRUE AND c.therapist_id = $1 AND c.ended_at IS NULL \
                 ORDER BY u.name, u.id LIMIT $2",
            )
            .bind(therapist_id)
            .bind(limit)
            .fetch_all(pool)
            .await?
        }))
    }

    /// A page of a therapist's caseload by name.
    pub async fn caseload_names(
        &self,
        therapist_id: Uuid,
        offset: i64,
        limit: i64,
    ) -> DbResult<Vec<(Uuid, String)>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT u.id, u.name FROM care_relationships c JOIN users u ON u.id = c.client_id \
                 WHERE c.therapist_id = $1 AND c.ended_at IS NULL ORDER BY u.name, u.id LIMIT $2 OFFSET $3",
            )
            .bind(therapist_id)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Summaries of several clients at once (one query for a page of the overview).
    pub async fn summaries_for(&self, client_ids: &[Uuid]) -> DbResult<Vec<Summary>> {
        if client_ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(with_pool!(self, |pool| {
            let mut query = sqlx::QueryBuilder::new(
                "SELECT client_id, instrument, baseline_total, baseline_at, latest_total, latest_at, administrations, status, not_on_track \
                 FROM measure_summaries WHERE client_id IN (",
            );
            let mut list = query.separated(", ");
            for id in client_ids {
                list.push_bind(*id);
            }
            list.push_unseparated(") ORDER BY client_id, administrations DESC, instrument");
            query.build_query_as::<Summary>().fetch_all(pool).await?
        }))
    }

    /// A client's `n` most recent totals on one instrument, oldest first: (when, total).
    pub async fn recent_totals(
        &self,
        client_id: Uuid,
        instrument: &str,
        n: i64,
    ) -> DbResult<Vec<(Timestamp, f64)>> {
        let mut rows: Vec<(Timestamp, f64)> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT submitted_at, total FROM measure_responses WHERE client_id = $1 AND instrument = $2 AND status = 'submitted' \
                 AND total IS NOT NULL ORDER BY submitted_at DESC LIMIT $3",
            )
            .bind(client_id)
            .bind(instrument)
            .bind(n)
            .fetch_all(pool)
            .await?
        });
        rows.reverse();
        Ok(rows)
    }

    /// Summaries for every client in a therapist's caseload.
    pub async fn caseload_summaries(&self, therapist_id: Uuid) -> DbResult<Vec<Summary>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT s.client_id, s.instrument, s.baseline_total, s.baseline_at, s.latest_total, s.latest_at, s.administrations, s.status, s.not_on_track \
                 FROM measure_summaries s JOIN care_relationships c ON c.client_id = s.client_id \
                 WHERE c.therapist_id = $1 AND c.ended_at IS NULL ORDER BY s.client_id, s.instrument",
            )
            .bind(therapist_id)
            .fetch_all(pool)
            .await?
        }))
    }
}
