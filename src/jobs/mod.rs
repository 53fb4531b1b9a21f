//! The database-backed job queue.
//!
//! Entry points: [`enqueue`] to add a job, [`run_one`] to run the next due job (tests call
//! it directly to drain the queue step by step), [`spawn_worker`] for the loop inside
//! `tend serve`. Jobs are claimed with a lease (`locked_until`); on PostgreSQL the claim uses
//! `FOR UPDATE SKIP LOCKED`, so several instances each take different jobs and every job runs
//! once. A job whose worker died is picked up again when its lease runs out, so job handlers
//! must be idempotent. Failures retry with exponential backoff, then stop as `failed`.
//! Payloads are sealed: an invitation email carries a sign-in link.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use serde::{Deserialize, Serialize};
use time::Duration;
use tokio::sync::Notify;
use uuid::Uuid;

use crate::db::{Db, DbResult, Timestamp, new_id};
use crate::email::Email;
use crate::web::AppState;
use crate::with_pool;

/// How long a claimed job is reserved for its worker.
const LEASE: Duration = Duration::minutes(5);
/// Attempts before a job is marked failed.
pub const MAX_ATTEMPTS: i64 = 8;

/// What a job does.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobKind {
    /// Send one email.
    SendEmail(Email),
    /// Escalate an urgent alert if it is still open.
    EscalateAlert {
        /// The alert.
        alert_id: Uuid,
    },
    /// Raise an alert whose first attempt failed (retried with backoff until it lands).
    RaiseAlert(crate::alerts::NewAlert),
    /// Send a client's opt-in practice reminder and queue the next one.
    PracticeReminder {
        /// The client.
        user_id: Uuid,
        /// When it was due (Unix seconds); the next one is scheduled strictly after this.
        due_unix: i64,
    },
    /// Screen a client's text whose first screening failed (the text rides sealed).
    ScreenText {
        /// The client who wrote it.
        client_id: Uuid,
        /// `message`, `journal`, `reflection` or `letter`.
        source_kind: String,
        /// The stored record.
        source_id: Uuid,
        /// The text.
        text: String,
    },
    /// Screen a letter draft's newest text by meaning (the rules ran in each save).
    ScreenDraft {
        /// The client who wrote it.
        client_id: Uuid,
        /// The draft.
        draft_id: Uuid,
    },
    /// Tell the operator's paging webhook about an urgent alert (ids only).
    AlertWebhook {
        /// The alert.
        alert_id: Uuid,
    },
    /// Remind a client of a session (only if it is still booked for the same time).
    AppointmentReminder {
        /// The appointment.
        appointment_id: Uuid,
        /// Its start when the reminder was queued (Unix seconds).
        starts_unix: i64,
        /// 24 or 1.
        hours_before: i64,
    },
    /// Email a participant that a message is waiting, if they still have not read it.
    MessageWaiting {
        /// The message.
        message_id: Uuid,
        /// Who should read it.
        recipient_id: Uuid,
    },
    /// Erase a client whose deletion request's retention period has ended (if it has).
    PurgeClient {
        /// The client.
        client_id: Uuid,
    },
}

impl JobKind {
    /// The client (or other person) the job is about, when it names one: erasing a client
    /// erases these jobs. Emails carry only an address, and a purge must not delete itself.
    pub fn subject(&self) -> Option<Uuid> {
        match self {
            JobKind::PracticeReminder { user_id, .. } => Some(*user_id),
            JobKind::ScreenText { client_id, .. } | JobKind::ScreenDraft { client_id, .. } => {
                Some(*client_id)
            }
            JobKind::RaiseAlert(alert) => Some(alert.client_id),
            JobKind::MessageWaiting { recipient_id, .. } => Some(*recipient_id),
            JobKind::SendEmail(_)
            | JobKind::EscalateAlert { .. }
            | JobKind::AlertWebhook { .. }
            | JobKind::AppointmentReminder { .. }
            | JobKind::PurgeClient { .. } => None,
        }
    }

    /// Stored kind name (also shown in logs; never the payload).
    pub fn name(&self) -> &'static str {
        match self {
            JobKind::SendEmail(_) => "send_email",
            JobKind::EscalateAlert { .. } => "escalate_alert",
            JobKind::RaiseAlert(_) => "raise_alert",
            JobKind::PracticeReminder { .. } => "practice_reminder",
            JobKind::ScreenText { .. } => "screen_text",
            JobKind::ScreenDraft { .. } => "screen_draft",
            JobKind::AlertWebhook { .. } => "alert_webhook",
            JobKind::MessageWaiting { .. } => "message_waiting",
            JobKind::AppointmentReminder { .. } => "appointment_reminder",
            JobKind::PurgeClient { .. } => "purge_client",
        }
    }
}

/// A job shown on the admin's background-work page (never its payload).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AttentionJob {
    /// Job id.
    pub id: Uuid,
    /// Kind name.
    pub kind: String,
    /// `pending`, `running` or `failed`.
    pub state: String,
    /// Attempts so far.
    pub attempts: i64,
    /// The last error, if any.
    pub last_error: Option<String>,
    /// Next run.
    pub run_at: Timestamp,
    /// Queued at.
    pub created_at: Timestamp,
}

impl AttentionJob {
    /// Whether it is part of the safety path (screening, alerts, escalation, paging).
    pub fn is_safety(&self) -> bool {
        matches!(
            self.kind.as_str(),
            "screen_text" | "raise_alert" | "escalate_alert" | "alert_webhook"
        )
    }
}

/// A claimed job.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct JobRow {
    /// Job id.
    pub id: Uuid,
    /// Kind name.
    pub kind: String,
    /// Sealed payload (base64 of the envelope).
    pub payload: String,
    /// Attempts so far, including this one.
    pub attempts: i64,
    /// Attempts allowed.
    pub max_attempts: i64,
}

/// State of a job, for tests and the admin page.
#[derive(Clone, Debug, sqlx::FromRow, PartialEq, Eq)]
pub struct JobStatus {
    /// `pending`, `running`, `done` or `failed`.
    pub state: String,
    /// Attempts so far.
    pub attempts: i64,
    /// The last error, if any (never payload text).
    pub last_error: Option<String>,
}

/// Wakes the worker when a job is enqueued, so emails go out at once rather than at the next
/// poll.
#[derive(Clone, Default)]
pub struct Wakeup(Arc<Notify>);

impl Wakeup {
    /// Wakes the worker.
    pub fn notify(&self) {
        self.0.notify_one();
    }
}

impl Db {
    /// Adds a job with an already-sealed payload, naming the person it is about when it has
    /// one; a repeated `idempotency_key` is a no-op. Returns the job id, or `None` when the
    /// key was already used.
    pub async fn enqueue_sealed(
        &self,
        id: Uuid,
        kind: &str,
        sealed_payload: &str,
        idempotency_key: Option<&str>,
        run_at: Timestamp,
        subject: Option<Uuid>,
    ) -> DbResult<Option<Uuid>> {
        let now = Timestamp::now();
        let inserted = with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO jobs (id, kind, payload, idempotency_key, state, attempts, max_attempts, run_at, created_at, updated_at, subject_id) \
                 VALUES ($1, $2, $3, $4, 'pending', 0, $5, $6, $7, $7, $8) ON CONFLICT (idempotency_key) DO NOTHING",
            )
            .bind(id)
            .bind(kind)
            .bind(sealed_payload)
            .bind(idempotency_key)
            .bind(MAX_ATTEMPTS)
            .bind(run_at)
            .bind(now)
            .bind(subject)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok((inserted == 1).then_some(id))
    }

    /// Claims the next due job for this worker, or `None`.
    pub async fn claim_job(&self, now: Timestamp) -> DbResult<Option<JobRow>> {
        // One statement picks and claims, so two workers can never take the same job. On
        // PostgreSQL the subquery skips rows another instance is claiming at this moment.
        const CLAIM: &str = "UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_until = $2, updated_at = $1 \
             WHERE id = (SELECT id FROM jobs WHERE (state = 'pending' AND run_at <= $1) \
             OR (state = 'running' AND locked_until <= $1) ORDER BY run_at LIMIT 1 {lock}) \
             RETURNING id, kind, payload, attempts, max_attempts";
        let lease_end = now + LEASE;
        let sql = match self {
            Db::Sqlite(_) => CLAIM.replace("{lock}", ""),
            Db::Postgres(_) => CLAIM.replace("{lock}", "FOR UPDATE SKIP LOCKED"),
        };
        Ok(with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(now)
            .bind(lease_end)
            .fetch_optional(pool)
            .await?))
    }

    /// Jobs of `kind` waiting or running (for benchmarks: has the background work caught up).
    pub async fn unfinished_jobs(&self, kind: &str) -> DbResult<i64> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM jobs WHERE kind = $1 AND state IN ('pending', 'running')",
            )
            .bind(kind)
            .fetch_one(pool)
            .await?
        }))
    }

    /// Marks a job done.
    pub async fn complete_job(&self, id: Uuid) -> DbResult<()> {
        with_pool!(self, |pool| {
            // A finished job keeps no payload: what was sent or screened is not kept twice.
            sqlx::query("UPDATE jobs SET state = 'done', payload = '', locked_until = NULL, last_error = NULL, updated_at = $1 WHERE id = $2")
                .bind(Timestamp::now())
                .bind(id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Jobs an admin should know about: failed ones, ones being retried, and safety work
    /// (screening and alert retries) still waiting. Newest first, at most 200.
    pub async fn jobs_needing_attention(&self) -> DbResult<Vec<AttentionJob>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT id, kind, state, attempts, last_error, run_at, created_at FROM jobs \
                 WHERE state = 'failed' OR (state IN ('pending', 'running') AND (attempts > 0 OR kind IN ('screen_text', 'raise_alert'))) \
                 ORDER BY created_at DESC LIMIT 200",
            )
            .fetch_all(pool)
            .await?
        }))
    }

    /// Records a failure: back to `pending` at `retry_at`, or `failed` when `retry_at` is None.
    pub async fn fail_job(
        &self,
        id: Uuid,
        error: &str,
        retry_at: Option<Timestamp>,
    ) -> DbResult<()> {
        let now = Timestamp::now();
        with_pool!(self, |pool| {
            sqlx::query(
                "UPDATE jobs SET state = $1, run_at = COALESCE($2, run_at), locked_until = NULL, last_error = $3, updated_at = $4 WHERE id = $5",
            )
            .bind(if retry_at.is_some() { "pending" } else { "failed" })
            .bind(retry_at)
            .bind(error)
            .bind(now)
            .bind(id)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// A job's state.
    pub async fn job_status(&self, id: Uuid) -> DbResult<Option<JobStatus>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as("SELECT state, attempts, last_error FROM jobs WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?
        }))
    }
}

/// Seals and enqueues a job to run now; wakes the worker.
pub async fn enqueue(
    state: &AppState,
    job: &JobKind,
    idempotency_key: Option<&str>,
) -> Result<Option<Uuid>, crate::error::AppError> {
    enqueue_at(state, job, idempotency_key, Timestamp::now()).await
}

/// Seals and enqueues a job to run at `run_at`; wakes the worker.
pub async fn enqueue_at(
    state: &AppState,
    job: &JobKind,
    idempotency_key: Option<&str>,
    run_at: Timestamp,
) -> Result<Option<Uuid>, crate::error::AppError> {
    use base64::Engine;
    let id = new_id();
    let json =
        serde_json::to_string(job).map_err(|e| crate::error::AppError::Internal(e.to_string()))?;
    let sealed = state.sealer.seal(&payload_context(id), &json).await?;
    let encoded = base64::engine::general_purpose::STANDARD.encode(sealed);
    let queued = state
        .db
        .enqueue_sealed(
            id,
            job.name(),
            &encoded,
            idempotency_key,
            run_at,
            job.subject(),
        )
        .await?;
    state.wakeup.notify();
    Ok(queued)
}

/// Associated data binding a payload to its job.
fn payload_context(id: Uuid) -> String {
    format!("jobs.payload:{id}")
}

/// Delay before retry `attempt` (1-based): 10 s, 20 s, 40 s … capped at one hour.
pub fn backoff(attempt: i64) -> Duration {
    let exp = u32::try_from(attempt.clamp(1, 20) - 1).unwrap_or(0);
    Duration::seconds((10i64 << exp.min(9)).min(3600))
}

/// Runs the next due job, if any; returns whether one ran. Tests call this to drain the queue.
pub async fn run_one(state: &AppState) -> DbResult<bool> {
    let Some(job) = state.db.claim_job(Timestamp::now()).await? else {
        return Ok(false);
    };
    match execute(state, &job).await {
        Ok(()) => {
            state.db.complete_job(job.id).await?;
            tracing::info!(job = %job.id, kind = %job.kind, "job done");
        }
        Err(error) => {
            let retry_at =
                (job.attempts < job.max_attempts).then(|| Timestamp::now() + backoff(job.attempts));
            tracing::warn!(job = %job.id, kind = %job.kind, attempts = job.attempts, gave_up = retry_at.is_none(), %error, "job failed");
            state.db.fail_job(job.id, &error, retry_at).await?;
        }
    }
    Ok(true)
}

/// Opens the payload and does the work.
async fn execute(state: &AppState, job: &JobRow) -> Result<(), String> {
    use base64::Engine;
    let sealed = base64::engine::general_purpose::STANDARD
        .decode(&job.payload)
        .map_err(|e| e.to_string())?;
    let json = state
        .sealer
        .open(&payload_context(job.id), &sealed)
        .await
        .map_err(|e| e.to_string())?;
    let kind: JobKind = serde_json::from_str(&json).map_err(|e| format!("payload: {e}"))?;
    match kind {
        JobKind::SendEmail(email) => state.mailer.send(&email).await.map_err(|e| e.to_string()),
        JobKind::EscalateAlert { alert_id } => crate::alerts::escalate_if_open(state, alert_id)
            .await
            .map_err(|e| e.to_string()),
        JobKind::PurgeClient { client_id } => crate::rights::purge_if_due(state, client_id)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string()),
        JobKind::RaiseAlert(alert) => crate::alerts::raise(state, &alert)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string()),
        JobKind::PracticeReminder { user_id, due_unix } => {
            crate::practice::reminders::send_and_reschedule(state, user_id, due_unix)
                .await
                .map_err(|e| e.to_string())
        }
        JobKind::ScreenText {
            client_id,
            source_kind,
            source_id,
            text,
        } => {
            crate::safety::risk::retry_screening(state, client_id, &source_kind, source_id, &text)
                .await
        }
        JobKind::ScreenDraft {
            client_id,
            draft_id,
        } => crate::safety::risk::screen_draft_now(state, client_id, draft_id).await,
        JobKind::AlertWebhook { alert_id } => crate::alerts::call_webhook(state, alert_id).await,
        JobKind::MessageWaiting {
            message_id,
            recipient_id,
        } => crate::messaging::notify_if_unread(state, message_id, recipient_id)
            .await
            .map_err(|e| e.to_string()),
        JobKind::AppointmentReminder {
            appointment_id,
            starts_unix,
            hours_before,
        } => crate::directory::booking::send_reminder(
            state,
            appointment_id,
            starts_unix,
            hours_before,
        )
        .await
        .map_err(|e| e.to_string()),
    }
}

/// Runs jobs until `shutdown` fires: drains due jobs, then sleeps until woken or for a second.
pub fn spawn_worker(state: AppState, shutdown: shutdown::Signal) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match run_one(&state).await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(err) => tracing::warn!(error = %err, "job queue unavailable; will retry"),
            }
            tokio::select! {
                _ = state.wakeup.0.notified() => {}
                _ = tokio::time::sleep(StdDuration::from_secs(1)) => {}
                _ = shutdown.wait() => break,
            }
        }
    })
}

/// A tiny shutdown signal shared by the server and the worker.
pub mod shutdown {
    use tokio::sync::watch;

    /// Fires once; every clone sees it.
    #[derive(Clone)]
    pub struct Signal(watch::Receiver<bool>);

    /// Triggers the [`Signal`].
    pub struct Trigger(watch::Sender<bool>);

    /// A new pair.
    pub fn pair() -> (Trigger, Signal) {
        let (tx, rx) = watch::channel(false);
        (Trigger(tx), Signal(rx))
    }

    impl Trigger {
        /// Fires the signal.
        pub fn fire(&self) {
            let _ = self.0.send(true);
        }
    }

    impl Signal {
        /// Waits until fired.
        pub async fn wait(&self) {
            let mut rx = self.0.clone();
            let _ = rx.wait_for(|fired| *fired).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(1), Duration::seconds(10));
        assert_eq!(backoff(2), Duration::seconds(20));
        assert_eq!(backoff(4), Duration::seconds(80));
        assert_eq!(backoff(50), Duration::seconds(3600));
    }
}
