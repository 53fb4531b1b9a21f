//! Storage for client rights: recent re-authentication, the care team, deletion requests and
//! the purge.

use uuid::Uuid;

use crate::db::{Db, DbResult, Timestamp};
use crate::with_pool;

/// One therapist in a client's care, past or present.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CareLink {
    /// The therapist's name.
    pub therapist_name: String,
    /// When care began.
    pub started_at: Timestamp,
    /// When it ended, if it has.
    pub ended_at: Option<Timestamp>,
}

/// A pending deletion.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DeletionRequest {
    /// The client.
    pub client_id: Uuid,
    /// When they asked.
    pub requested_at: Timestamp,
    /// When the record may be purged.
    pub purge_after: Timestamp,
}

impl Db {
    /// Notes that the person behind `session_id` confirmed their password just now.
    pub async fn mark_reauthenticated(&self, session_id: Uuid) -> DbResult<()> {
        with_pool!(self, |pool| {
            sqlx::query("UPDATE sessions SET reauthenticated_at = $1 WHERE id = $2")
                .bind(Timestamp::now())
                .bind(session_id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Every care relationship of a client, oldest first.
    pub async fn care_team(&self, client_id: Uuid) -> DbResult<Vec<CareLink>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT u.name AS therapist_name, c.started_at, c.ended_at FROM care_relationships c \
                 JOIN users u ON u.id = c.therapist_id WHERE c.client_id = $1 ORDER BY c.started_at",
            )
            .bind(client_id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Records a deletion request made `now` and closes the account, in one transaction: the
    /// account is disabled, its sessions and API tokens end, its care relationships end, its
    /// future sessions are cancelled (so no reminder goes out) and its calendar feed stops.
    /// `false` when a request already exists (nothing changes).
    pub async fn request_deletion(
        &self,
        client_id: Uuid,
        now: Timestamp,
        purge_after: Timestamp,
    ) -> DbResult<bool> {
        Ok(with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            let n = sqlx::query(
                "INSERT INTO deletion_requests (client_id, requested_at, purge_after) VALUES ($1, $2, $3) \
                 ON CONFLICT (client_id) DO NOTHING",
            )
            .bind(client_id)
            .bind(now)
            .bind(purge_after)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 1 {
                sqlx::query("UPDATE users SET disabled = TRUE, updated_at = $1 WHERE id = $2")
                    .bind(now)
                    .bind(client_id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                    .bind(client_id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "UPDATE care_relationships SET ended_at = $1 WHERE client_id = $2 AND ended_at IS NULL",
                )
                .bind(now)
                .bind(client_id)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "UPDATE appointments SET status = 'cancelled', sequence = sequence + 1, updated_at = $1, \
                     changed_by = $2 WHERE client_id = $2 AND status = 'booked' AND starts_at > $1",
                )
                .bind(now)
                .bind(client_id)
                .execute(&mut *tx)
                .await?;
                sqlx::query("DELETE FROM calendar_feeds WHERE user_id = $1")
                    .bind(client_id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            n == 1
        }))
    }

    /// The client's deletion request, if any.
    pub async fn deletion_request(&self, client_id: Uuid) -> DbResult<Option<DeletionRequest>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT client_id, requested_at, purge_after FROM deletion_requests WHERE client_id = $1",
            )
            .bind(client_id)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// Erases a client whose retention period has ended: every row about them, in one
    /// transaction. Rows that name them without cascading (care relationships, break-glass
    /// grants, their invitation, their requests to therapists in the directory, queued jobs about
    /// them) go first; the account's own row then takes everything that cascades
    /// from it (record, measures, plans, notes, messages, practice, appointments, alerts,
    /// sessions, the request itself). The audit trail is not touched: it holds ids, never
    /// content, and its hash chain must stay whole. `false` if the request was withdrawn or
    /// its time has not come.
    pub async fn purge_client(&self, client_id: Uuid, now: Timestamp) -> DbResult<bool> {
        Ok(with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            // Deleting the request first takes the write lock and re-checks the date inside
            // the transaction, so two instances never purge the same client twice.
            let n = sqlx::query(
                "DELETE FROM deletion_requests WHERE client_id = $1 AND purge_after <= $2",
            )
            .bind(client_id)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 1 {
                for sql in [
                    "DELETE FROM care_relationships WHERE client_id = $1",
                    "DELETE FROM break_glass_grants WHERE client_id = $1",
                    "DELETE FROM directory_requests WHERE requester_id = $1 \
                     OR email = (SELECT email FROM users WHERE id = $1)",
                    "DELETE FROM jobs WHERE subject_id = $1",
                    // PostgreSQL checks messages.sender_id and appointments.changed_by before
                    // the cascades below would reach those rows, so they go explicitly.
                    "DELETE FROM messages WHERE sender_id = $1 OR conversation_id IN \
                     (SELECT id FROM conversations WHERE member_id = $1)",
                    "DELETE FROM appointments WHERE client_id = $1",
                    "DELETE FROM invitations WHERE role = 'client' AND email = (SELECT email FROM users WHERE id = $1)",
                    "DELETE FROM users WHERE id = $1",
                ] {
                    sqlx::query(sql).bind(client_id).execute(&mut *tx).await?;
                }
            }
            tx.commit().await?;
            n == 1
        }))
    }
}
