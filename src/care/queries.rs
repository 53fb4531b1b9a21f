//! Storage for client records and break-glass grants.

use uuid::Uuid;

use crate::db::{Db, DbResult, Timestamp};
use crate::with_pool;

/// A client's record row (the intake summary is sealed).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ClientRecordRow {
    /// Sealed intake summary.
    pub intake_sealed: Option<Vec<u8>>,
    /// Who last changed it.
    pub updated_by: Option<Uuid>,
    /// When.
    pub updated_at: Timestamp,
}

/// A break-glass grant as shown to the treating therapist.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct BreakGlassRow {
    /// Grant id.
    pub id: Uuid,
    /// The admin's name.
    pub admin_name: String,
    /// Sealed reason.
    pub reason_sealed: Vec<u8>,
    /// When access began.
    pub created_at: Timestamp,
    /// When it ends.
    pub expires_at: Timestamp,
}

impl Db {
    /// Clients of `therapist_id` whose latest care messages have no reply yet: `(client, the
    /// oldest unanswered message's time)`.
    pub async fn waiting_messages(&self, therapist_id: Uuid) -> DbResult<Vec<(Uuid, Timestamp)>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT c.member_id, MIN(m.created_at) FROM conversations c \
                 JOIN messages m ON m.conversation_id = c.id AND m.sender_id = c.member_id \
                 WHERE c.staff_id = $1 AND c.kind = 'care' AND NOT EXISTS ( \
                     SELECT 1 FROM messages r WHERE r.conversation_id = c.id \
                     AND r.sender_id = c.staff_id AND r.created_at >= m.created_at) \
                 GROUP BY c.member_id",
            )
            .bind(therapist_id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Questionnaires `therapist_id` assigned that fell due before `before` and are still
    /// open, per client.
    pub async fn overdue_measures(
        &self,
        therapist_id: Uuid,
        before: Timestamp,
    ) -> DbResult<Vec<(Uuid, i64)>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT client_id, COUNT(*) FROM measure_assignments \
                 WHERE therapist_id = $1 AND active = TRUE AND next_due_at < $2 GROUP BY client_id",
            )
            .bind(therapist_id)
            .bind(before)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Active suggested practices for the clients in `therapist_id`'s care.
    pub async fn caseload_homework(
        &self,
        therapist_id: Uuid,
    ) -> DbResult<Vec<super::overview::HomeworkFact>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT h.client_id, h.practice_id, h.every_days, h.created_at FROM homework h \
                 JOIN care_relationships c ON c.client_id = h.client_id \
                 WHERE c.therapist_id = $1 AND c.ended_at IS NULL AND h.active = TRUE",
            )
            .bind(therapist_id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Practices done since `since` by the clients in `therapist_id`'s care.
    pub async fn caseload_completions(
        &self,
        therapist_id: Uuid,
        since: Timestamp,
    ) -> DbResult<Vec<super::overview::CompletionFact>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT p.client_id, p.practice_id, p.completed_at FROM practice_completions p \
                 JOIN care_relationships c ON c.client_id = p.client_id \
                 WHERE c.therapist_id = $1 AND c.ended_at IS NULL AND p.completed_at >= $2",
            )
            .bind(therapist_id)
            .bind(since)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Per client in `therapist_id`'s care: the latest contact (a message either way or an
    /// attended session), kept on the relationship by the writes that make it.
    pub async fn last_contacts(&self, therapist_id: Uuid) -> DbResult<Vec<(Uuid, Timestamp)>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT client_id, last_contact_at FROM care_relationships \
                 WHERE therapist_id = $1 AND ended_at IS NULL AND last_contact_at IS NOT NULL",
            )
            .bind(therapist_id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// The client's record, if one was written.
    pub async fn client_record(&self, client_id: Uuid) -> DbResult<Option<ClientRecordRow>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as("SELECT intake_sealed, updated_by, updated_at FROM client_records WHERE client_id = $1")
                .bind(client_id)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// Writes the sealed intake summary.
    pub async fn save_intake(&self, client_id: Uuid, sealed: &[u8], by: Uuid) -> DbResult<()> {
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO client_records (client_id, intake_sealed, updated_by, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (client_id) DO UPDATE SET intake_sealed = $2, updated_by = $3, updated_at = $4",
            )
            .bind(client_id)
            .bind(sealed)
            .bind(by)
            .bind(Timestamp::now())
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Stores a break-glass grant with its sealed reason.
    pub async fn create_break_glass(
        &self,
        id: Uuid,
        admin_id: Uuid,
        client_id: Uuid,
        reason_sealed: &[u8],
        expires_at: Timestamp,
    ) -> DbResult<()> {
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO break_glass_grants (id, admin_id, client_id, reason_sealed, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(id)
            .bind(admin_id)
            .bind(client_id)
            .bind(reason_sealed)
            .bind(Timestamp::now())
            .bind(expires_at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Every break-glass grant for a client, newest first.
    pub async fn break_glass_for(&self, client_id: Uuid) -> DbResult<Vec<BreakGlassRow>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT g.id, u.name AS admin_name, g.reason_sealed, g.created_at, g.expires_at FROM break_glass_grants g \
                 JOIN users u ON u.id = g.admin_id WHERE g.client_id = $1 ORDER BY g.created_at DESC",
            )
            .bind(client_id)
            .fetch_all(pool)
            .await?
        }))
    }
}
