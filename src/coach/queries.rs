//! Storage for practice attempts and supervisors' comments. Text is sealed by the caller.

use uuid::Uuid;

use crate::db::{Db, DbResult, Timestamp};
use crate::with_pool;

/// A stored attempt.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Attempt {
    /// Id.
    pub id: Uuid,
    /// Whose attempt.
    pub user_id: Uuid,
    /// Scenario slug.
    pub scenario: String,
    /// Sealed reply (context [`reply_context`]).
    pub reply_sealed: Vec<u8>,
    /// Sealed feedback JSON (context [`feedback_context`]).
    pub feedback_sealed: Vec<u8>,
    /// Understanding, 0..1.
    pub reflection: f64,
    /// Exploration, 0..1.
    pub exploration: f64,
    /// Warmth, 0..1.
    pub warmth: f64,
    /// When.
    pub created_at: Timestamp,
}

/// A stored comment with its author's name.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Comment {
    /// Id.
    pub id: Uuid,
    /// Who wrote it.
    pub author_id: Uuid,
    /// Their name.
    pub author_name: String,
    /// Sealed text (context [`comment_context`]).
    pub body_sealed: Vec<u8>,
    /// When.
    pub created_at: Timestamp,
}

/// Associated data for a sealed reply.
pub fn reply_context(id: Uuid) -> String {
    format!("coach_attempts.reply:{id}")
}

/// Associated data for sealed feedback.
pub fn feedback_context(id: Uuid) -> String {
    format!("coach_attempts.feedback:{id}")
}

/// Associated data for a sealed comment.
pub fn comment_context(id: Uuid) -> String {
    format!("coach_comments.body:{id}")
}

const ATTEMPT_COLUMNS: &str = "id, user_id, scenario, reply_sealed, feedback_sealed, reflection, exploration, warmth, created_at";

impl Db {
    /// Stores an attempt under a caller-chosen id (its text is sealed against it).
    pub async fn add_attempt(&self, attempt: &Attempt) -> DbResult<()> {
        with_pool!(self, |pool| {
            sqlx::query(&format!(
                "INSERT INTO coach_attempts ({ATTEMPT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            ))
            .bind(attempt.id)
            .bind(attempt.user_id)
            .bind(&attempt.scenario)
            .bind(&attempt.reply_sealed)
            .bind(&attempt.feedback_sealed)
            .bind(attempt.reflection)
            .bind(attempt.exploration)
            .bind(attempt.warmth)
            .bind(attempt.created_at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// One attempt.
    pub async fn attempt(&self, id: Uuid) -> DbResult<Option<Attempt>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "SELECT {ATTEMPT_COLUMNS} FROM coach_attempts WHERE id = $1"
            ))
            .bind(id)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// A person's attempts, oldest first (for progress over time).
    pub async fn attempts_of(&self, user_id: Uuid) -> DbResult<Vec<Attempt>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "SELECT {ATTEMPT_COLUMNS} FROM coach_attempts WHERE user_id = $1 ORDER BY created_at, id LIMIT 1000"
            ))
            .bind(user_id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Whether `supervisor_id` supervises `trainee_id`.
    pub async fn supervises(&self, supervisor_id: Uuid, trainee_id: Uuid) -> DbResult<bool> {
        let found: Option<(Uuid,)> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT id FROM supervisions WHERE supervisor_id = $1 AND trainee_id = $2",
            )
            .bind(supervisor_id)
            .bind(trainee_id)
            .fetch_optional(pool)
            .await?
        });
        Ok(found.is_some())
    }

    /// Adds a comment to an attempt.
    pub async fn add_comment(
        &self,
        id: Uuid,
        attempt_id: Uuid,
        author_id: Uuid,
        body_sealed: &[u8],
    ) -> DbResult<()> {
        with_pool!(self, |pool| {
            sqlx::query("INSERT INTO coach_comments (id, attempt_id, author_id, body_sealed, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(id)
                .bind(attempt_id)
                .bind(author_id)
                .bind(body_sealed)
                .bind(Timestamp::now())
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Comments on an attempt, oldest first.
    pub async fn comments_on(&self, attempt_id: Uuid) -> DbResult<Vec<Comment>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT c.id, c.author_id, u.name AS author_name, c.body_sealed, c.created_at \
                 FROM coach_comments c JOIN users u ON u.id = c.author_id \
                 WHERE c.attempt_id = $1 ORDER BY c.created_at, c.id",
            )
            .bind(attempt_id)
            .fetch_all(pool)
            .await?
        }))
    }
}
