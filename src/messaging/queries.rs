//! Storage for conversations, messages, read state and messaging settings.

use uuid::Uuid;

use crate::db::{Db, DbError, DbResult, Timestamp, new_id};
use crate::with_pool;

/// A conversation as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Conversation {
    /// Conversation id.
    pub id: Uuid,
    /// `care` (therapist ↔ client) or `supervision` (supervisor ↔ trainee).
    pub kind: String,
    /// The therapist or supervisor.
    pub staff_id: Uuid,
    /// The client or trainee.
    pub member_id: Uuid,
}

impl Conversation {
    /// Whether `user` takes part.
    pub fn includes(&self, user: Uuid) -> bool {
        self.staff_id == user || self.member_id == user
    }

    /// The other participant, seen from `user`.
    pub fn other(&self, user: Uuid) -> Uuid {
        if self.staff_id == user {
            self.member_id
        } else {
            self.staff_id
        }
    }
}

/// One line of someone's conversation list.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ConversationSummary {
    /// Conversation id.
    pub id: Uuid,
    /// `care` or `supervision`.
    pub kind: String,
    /// The other person's id.
    pub other_id: Uuid,
    /// The other person's name.
    pub other_name: String,
    /// Messages from the other person not yet read.
    pub unread: i64,
    /// When the newest message was sent.
    pub last_at: Option<Timestamp>,
}

/// A stored message (still sealed).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct MessageRow {
    /// Message id.
    pub id: Uuid,
    /// Conversation id.
    pub conversation_id: Uuid,
    /// Who sent it.
    pub sender_id: Uuid,
    /// The sender's name.
    pub sender_name: String,
    /// Sealed body.
    pub body_sealed: Vec<u8>,
    /// Screening result at send time.
    pub risk_level: String,
    /// When it was stored.
    pub created_at: Timestamp,
}

/// A clinician's messaging settings.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct MessagingSettings {
    /// When they usually read messages, in their words.
    pub office_hours: String,
    /// What clients see above the message box.
    pub reply_note: String,
    /// Who covers their unacknowledged urgent alerts.
    pub backup_clinician_id: Option<Uuid>,
}

/// Associated data for a sealed message body.
pub fn message_context(id: Uuid) -> String {
    format!("messages.body:{id}")
}

/// The columns a [`MessageRow`] reads.
const MESSAGE_COLUMNS: &str = "m.id, m.conversation_id, m.sender_id, u.name AS sender_name, m.body_sealed, m.risk_level, m.created_at";

impl Db {
    /// Makes sure a conversation exists for every active care relationship and supervision
    /// `user` is part of (conversations start lazily, the first time someone looks). One read
    /// finds the missing ones, so once they exist this writes nothing.
    pub async fn ensure_conversations(&self, user: Uuid) -> DbResult<()> {
        let now = Timestamp::now();
        with_pool!(self, |pool| {
            let missing: Vec<(String, Uuid, Uuid)> = sqlx::query_as(
                "SELECT CAST('care' AS TEXT), r.therapist_id, r.client_id FROM care_relationships r \
                   LEFT JOIN conversations c ON c.staff_id = r.therapist_id AND c.member_id = r.client_id \
                   WHERE (r.therapist_id = $1 OR r.client_id = $1) AND r.ended_at IS NULL AND c.id IS NULL \
                 UNION ALL \
                 SELECT CAST('supervision' AS TEXT), s.supervisor_id, s.trainee_id FROM supervisions s \
                   LEFT JOIN conversations c ON c.staff_id = s.supervisor_id AND c.member_id = s.trainee_id \
                   WHERE (s.supervisor_id = $1 OR s.trainee_id = $1) AND c.id IS NULL",
            )
            .bind(user)
            .fetch_all(pool)
            .await?;
            for (kind, staff, member) in missing {
                // Another request may create it at the same moment; that one wins quietly.
                sqlx::query(
                    "INSERT INTO conversations (id, kind, staff_id, member_id, created_at) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (staff_id, member_id) DO NOTHING",
                )
                .bind(new_id())
                .bind(kind)
                .bind(staff)
                .bind(member)
                .bind(now)
                .execute(pool)
                .await?;
            }
        });
        Ok(())
    }

    /// A conversation by id.
    pub async fn conversation(&self, id: Uuid) -> DbResult<Option<Conversation>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as("SELECT id, kind, staff_id, member_id FROM conversations WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// Whether the relationship behind a conversation is still active (care not ended, or the
    /// supervision still recorded). Ended relationships keep their history readable but
    /// closed to new messages.
    pub async fn conversation_active(&self, c: &Conversation) -> DbResult<bool> {
        let sql = if c.kind == "care" {
            "SELECT COUNT(*) FROM care_relationships WHERE therapist_id = $1 AND client_id = $2 AND ended_at IS NULL"
        } else {
            "SELECT COUNT(*) FROM supervisions WHERE supervisor_id = $1 AND trainee_id = $2"
        };
        let n: i64 = with_pool!(self, |pool| {
            sqlx::query_scalar(sql)
                .bind(c.staff_id)
                .bind(c.member_id)
                .fetch_one(pool)
                .await?
        });
        Ok(n > 0)
    }

    /// Someone's conversations with unread counts, most recent first.
    pub async fn conversations_for(&self, user: Uuid) -> DbResult<Vec<ConversationSummary>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT c.id, c.kind, o.id AS other_id, o.name AS other_name, \
                   (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id AND m.sender_id <> $1 \
                      AND m.created_at > COALESCE((SELECT r.read_up_to FROM conversation_reads r WHERE r.conversation_id = c.id AND r.user_id = $1), c.created_at)) AS unread, \
                   (SELECT MAX(m.created_at) FROM messages m WHERE m.conversation_id = c.id) AS last_at \
                 FROM conversations c JOIN users o ON o.id = CASE WHEN c.staff_id = $1 THEN c.member_id ELSE c.staff_id END \
                 WHERE c.staff_id = $1 OR c.member_id = $1 \
                 ORDER BY last_at DESC, o.name",
            )
            .bind(user)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Unread messages for `user` across all conversations.
    pub async fn unread_total(&self, user: Uuid) -> DbResult<i64> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id \
                 WHERE (c.staff_id = $1 OR c.member_id = $1) AND m.sender_id <> $1 \
                   AND m.created_at > COALESCE((SELECT r.read_up_to FROM conversation_reads r WHERE r.conversation_id = c.id AND r.user_id = $1), c.created_at)",
            )
            .bind(user)
            .fetch_one(pool)
            .await?
        }))
    }

    /// Stores a message, or returns the one already stored under the same `client_key`
    /// (a resend after a lost connection). Returns the row and whether it is new.
    pub async fn insert_message(
        &self,
        conversation_id: Uuid,
        sender_id: Uuid,
        id: Uuid,
        sealed: &[u8],
        client_key: &str,
        risk_level: &str,
    ) -> DbResult<(MessageRow, bool)> {
        let now = Timestamp::now();
        let inserted = with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            let inserted = sqlx::query(
                "INSERT INTO messages (id, conversation_id, sender_id, body_sealed, client_key, risk_level, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (conversation_id, sender_id, client_key) DO NOTHING",
            )
            .bind(id)
            .bind(conversation_id)
            .bind(sender_id)
            .bind(sealed)
            .bind(client_key)
            .bind(risk_level)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if inserted {
                // The care relationship's latest contact, in the same transaction, so the
                // caseload and practice reports read one column instead of every message.
                sqlx::query(
                    "UPDATE care_relationships SET last_contact_at = $2 \
                     WHERE therapist_id = (SELECT staff_id FROM conversations WHERE id = $1 AND kind = 'care') \
                     AND client_id = (SELECT member_id FROM conversations WHERE id = $1 AND kind = 'care')",
                )
                .bind(conversation_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            inserted
        });
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages m JOIN users u ON u.id = m.sender_id \
             WHERE m.conversation_id = $1 AND m.sender_id = $2 AND m.client_key = $3"
        );
        let row: Option<MessageRow> = with_pool!(self, |pool| {
            sqlx::query_as(&sql)
                .bind(conversation_id)
                .bind(sender_id)
                .bind(client_key)
                .fetch_optional(pool)
                .await?
        });
        row.map(|r| (r, inserted)).ok_or(DbError::Conflict)
    }

    /// Messages of a conversation after `after` (oldest first), at most `limit`.
    pub async fn messages_after(
        &self,
        conversation_id: Uuid,
        after: Option<Timestamp>,
        limit: i64,
    ) -> DbResult<Vec<MessageRow>> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages m JOIN users u ON u.id = m.sender_id \
             WHERE m.conversation_id = $1 AND ($2 IS NULL OR m.created_at > $2) ORDER BY m.created_at, m.id LIMIT $3"
        );
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(&sql)
                .bind(conversation_id)
                .bind(after)
                .bind(limit)
                .fetch_all(pool)
                .await?
        }))
    }

    /// The newest `limit` messages of a conversation, oldest first.
    pub async fn latest_messages(
        &self,
        conversation_id: Uuid,
        limit: i64,
    ) -> DbResult<Vec<MessageRow>> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages m JOIN users u ON u.id = m.sender_id \
             WHERE m.conversation_id = $1 ORDER BY m.created_at DESC, m.id DESC LIMIT $2"
        );
        let mut rows: Vec<MessageRow> = with_pool!(self, |pool| {
            sqlx::query_as(&sql)
                .bind(conversation_id)
                .bind(limit)
                .fetch_all(pool)
                .await?
        });
        rows.reverse();
        Ok(rows)
    }

    /// One message by id.
    pub async fn message(&self, id: Uuid) -> DbResult<Option<MessageRow>> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages m JOIN users u ON u.id = m.sender_id WHERE m.id = $1"
        );
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?
        }))
    }

    /// Marks a conversation read up to `up_to` for `user` (never moves backwards).
    pub async fn mark_read(
        &self,
        conversation_id: Uuid,
        user: Uuid,
        up_to: Timestamp,
    ) -> DbResult<()> {
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO conversation_reads (conversation_id, user_id, read_up_to) VALUES ($1, $2, $3) \
                 ON CONFLICT (conversation_id, user_id) DO UPDATE SET read_up_to = $3 \
                 WHERE conversation_reads.read_up_to < $3",
            )
            .bind(conversation_id)
            .bind(user)
            .bind(up_to)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Whether `user` has read the conversation up to `at`.
    pub async fn has_read(
        &self,
        conversation_id: Uuid,
        user: Uuid,
        at: Timestamp,
    ) -> DbResult<bool> {
        let n: i64 = with_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM conversation_reads WHERE conversation_id = $1 AND user_id = $2 AND read_up_to >= $3",
            )
            .bind(conversation_id)
            .bind(user)
            .bind(at)
            .fetch_one(pool)
            .await?
        });
        Ok(n > 0)
    }

    /// A clinician's messaging settings, if they saved any.
    pub async fn messaging_settings(&self, user: Uuid) -> DbResult<Option<MessagingSettings>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT office_hours, reply_note, backup_clinician_id FROM messaging_settings WHERE user_id = $1",
            )
            .bind(user)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// Saves a clinician's messaging settings.
    pub async fn save_messaging_settings(
        &self,
        user: Uuid,
        settings: &MessagingSettings,
    ) -> DbResult<()> {
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO messaging_settings (user_id, office_hours, reply_note, backup_clinician_id, updated_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (user_id) DO UPDATE SET office_hours = $2, reply_note = $3, backup_clinician_id = $4, updated_at = $5",
            )
            .bind(user)
            .bind(&settings.office_hours)
            .bind(&settings.reply_note)
            .bind(settings.backup_clinician_id)
            .bind(Timestamp::now())
            .execute(pool)
            .await?;
        });
        Ok(())
    }
}
