//! Storage for practice completions, journal entries and homework.

use uuid::Uuid;

use crate::db::{Db, DbResult, Timestamp, new_id};
use crate::with_pool;

/// A stored completion.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Completion {
    /// Id.
    pub id: Uuid,
    /// Practice id.
    pub practice_id: String,
    /// Minutes practised.
    pub minutes: i64,
    /// Mood before (0–10).
    pub mood_before: Option<i64>,
    /// Mood after (0–10).
    pub mood_after: Option<i64>,
    /// Sealed reflection.
    pub reflection_sealed: Option<Vec<u8>>,
    /// Shared with the therapist.
    pub shared: bool,
    /// When.
    pub completed_at: Timestamp,
}

/// A new completion.
pub struct NewCompletion<'a> {
    /// Practice id.
    pub practice_id: &'a str,
    /// Minutes.
    pub minutes: i64,
    /// Mood before.
    pub mood_before: Option<i64>,
    /// Mood after.
    pub mood_after: Option<i64>,
    /// Sealed reflection.
    pub reflection_sealed: Option<&'a [u8]>,
    /// Shared.
    pub shared: bool,
}

/// A stored journal entry.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Entry {
    /// Id.
    pub id: Uuid,
    /// Mood (0–10).
    pub mood: Option<i64>,
    /// Emotion tags (JSON array).
    pub emotions: String,
    /// Sealed text.
    pub text_sealed: Vec<u8>,
    /// Shared with the therapist.
    pub shared: bool,
    /// When.
    pub created_at: Timestamp,
}

/// Homework.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Homework {
    /// Id.
    pub id: Uuid,
    /// Practice id.
    pub practice_id: String,
    /// Sealed note from the therapist.
    pub note_sealed: Option<Vec<u8>>,
    /// Repeat interval in days.
    pub every_days: Option<i64>,
    /// When it was set.
    pub created_at: Timestamp,
}

impl Db {
    /// Records a completion under a caller-chosen id (its reflection is sealed against it).
    pub async fn add_completion(
        &self,
        id: Uuid,
        client_id: Uuid,
        c: &NewCompletion<'_>,
    ) -> DbResult<()> {
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO practice_completions (id, client_id, practice_id, minutes, mood_before, mood_after, reflection_sealed, shared, completed_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(id)
            .bind(client_id)
            .bind(c.practice_id)
            .bind(c.minutes)
            .bind(c.mood_before)
            .bind(c.mood_after)
            .bind(c.reflection_sealed)
            .bind(c.shared)
            .bind(Timestamp::now())
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// A client's newest `limit` completions, newest first; only shared ones when
    /// `shared_only`.
    pub async fn completions(
        &self,
        client_id: Uuid,
        shared_only: bool,
        limit: i64,
    ) -> DbResult<Vec<Completion>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT id, practice_id, minutes, mood_before, mood_after, reflection_sealed, shared, completed_at FROM practice_completions \
                 WHERE client_id = $1 AND (shared = TRUE OR NOT $2) ORDER BY completed_at DESC LIMIT $3",
            )
            .bind(client_id)
            .bind(shared_only)
            .bind(limit)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Adds a journal entry; returns its id.
    pub async fn add_entry(
        &self,
        id: Uuid,
        client_id: Uuid,
        mood: Option<i64>,
        emotions: &str,
        text_sealed: &[u8],
        shared: bool,
    ) -> DbResult<()> {
        with_pool!(self, |pool| {
            sqlx::query("INSERT INTO journal_entries (id, client_id, mood, emotions, text_sealed, shared, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(id)
                .bind(client_id)
                .bind(mood)
                .bind(emotions)
                .bind(text_sealed)
                .bind(shared)
                .bind(Timestamp::now())
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// A client's newest `limit` entries, newest first; only shared ones when `shared_only`.
    pub async fn entries(
        &self,
        client_id: Uuid,
        shared_only: bool,
        limit: i64,
    ) -> DbResult<Vec<Entry>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT id, mood, emotions, text_sealed, shared, created_at FROM journal_entries \
                 WHERE client_id = $1 AND (shared = TRUE OR NOT $2) ORDER BY created_at DESC LIMIT $3",
            )
            .bind(client_id)
            .bind(shared_only)
            .bind(limit)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Shares or un-shares one of a client's own entries; true if it was theirs.
    pub async fn set_entry_shared(
        &self,
        id: Uuid,
        client_id: Uuid,
        shared: bool,
    ) -> DbResult<bool> {
        Ok(with_pool!(self, |pool| {
            sqlx::query("UPDATE journal_entries SET shared = $1 WHERE id = $2 AND client_id = $3")
                .bind(shared)
                .bind(id)
                .bind(client_id)
                .execute(pool)
                .await?
                .rows_affected()
        }) == 1)
    }

    /// Sets homework.
    pub async fn add_homework(
        &self,
        client_id: Uuid,
        therapist_id: Uuid,
        practice_id: &str,
        note_sealed: Option<&[u8]>,
        every_days: Option<i64>,
    ) -> DbResult<Uuid> {
        let id = new_id();
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO homework (id, client_id, therapist_id, practice_id, note_sealed, every_days, active, created_at) VALUES ($1, $2, $3, $4, $5, $6, TRUE, $7)",
            )
            .bind(id)
            .bind(client_id)
            .bind(therapist_id)
            .bind(practice_id)
            .bind(note_sealed)
            .bind(every_days)
            .bind(Timestamp::now())
            .execute(pool)
            .await?;
        });
        Ok(id)
    }

    /// A client's active homework, newest first.
    pub async fn homework_of(&self, client_id: Uuid) -> DbResult<Vec<Homework>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as("SELECT id, practice_id, note_sealed, every_days, created_at FROM homework WHERE client_id = $1 AND active = TRUE ORDER BY created_at DESC")
                .bind(client_id)
                .fetch_all(pool)
                .await?
        }))
    }
}
