//! Storage for session notes and their addenda (sealed bodies; callers seal and open).

use uuid::Uuid;

use crate::db::{Db, DbResult, Timestamp};
use crate::with_pool;

/// A stored note.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct NoteRow {
    /// Id.
    pub id: Uuid,
    /// Whose note it is.
    pub client_id: Uuid,
    /// Who wrote it.
    pub author_id: Uuid,
    /// Their name.
    pub author_name: String,
    /// Linked appointment.
    pub appointment_id: Option<Uuid>,
    /// Template slug.
    pub template: String,
    /// `YYYY-MM-DD`.
    pub session_date: String,
    /// Sealed JSON of the sections.
    pub body_sealed: Vec<u8>,
    /// Whether the client may read it once signed.
    pub shared: bool,
    /// When it was signed (locked); `None` while a draft.
    pub signed_at: Option<Timestamp>,
    /// Created.
    pub created_at: Timestamp,
    /// Last saved.
    pub updated_at: Timestamp,
}

/// A stored addendum.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AddendumRow {
    /// Id.
    pub id: Uuid,
    /// Who wrote it.
    pub author_name: String,
    /// Sealed text.
    pub body_sealed: Vec<u8>,
    /// When.
    pub created_at: Timestamp,
}

/// What a new or changed note stores (the body already sealed).
pub struct NoteWrite<'a> {
    /// Template slug.
    pub template: &'a str,
    /// `YYYY-MM-DD`.
    pub session_date: &'a str,
    /// Sealed JSON of the sections.
    pub body_sealed: &'a [u8],
    /// Linked appointment (checked to be this client's).
    pub appointment_id: Option<Uuid>,
    /// Client may read it once signed.
    pub shared: bool,
    /// Sign it now.
    pub sign: bool,
}

/// How a change to an existing note went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// Saved.
    Done,
    /// The note is not in the state the change needs: signed for an edit, a draft for an
    /// addendum.
    WrongState,
    /// No such note for this client and author.
    Missing,
}

/// The columns of [`NoteRow`].
const NOTE_COLUMNS: &str = "n.id, n.client_id, n.author_id, u.name AS author_name, n.appointment_id, \
    n.template, n.session_date, n.body_sealed, n.shared, n.signed_at, n.created_at, n.updated_at";

impl Db {
    /// Whether `appointment_id` is one of `client_id`'s appointments with `therapist_id`.
    pub async fn appointment_belongs(
        &self,
        appointment_id: Uuid,
        client_id: Uuid,
        therapist_id: Uuid,
    ) -> DbResult<bool> {
        let n: i64 = with_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM appointments WHERE id = $1 AND client_id = $2 AND therapist_id = $3",
            )
            .bind(appointment_id)
            .bind(client_id)
            .bind(therapist_id)
            .fetch_one(pool)
            .await?
        });
        Ok(n > 0)
    }

    /// Stores a new note by `author_id` about `client_id`; `id` is chosen by the caller (it is
    /// part of the sealed body's associated data).
    pub async fn create_note(
        &self,
        id: Uuid,
        client_id: Uuid,
        author_id: Uuid,
        w: &NoteWrite<'_>,
    ) -> DbResult<()> {
        let now = Timestamp::now();
        let signed_at = w.sign.then_some(now);
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO session_notes (id, client_id, author_id, appointment_id, template, session_date, \
                 body_sealed, shared, signed_at, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
            )
            .bind(id)
            .bind(client_id)
            .bind(author_id)
            .bind(w.appointment_id)
            .bind(w.template)
            .bind(w.session_date)
            .bind(w.body_sealed)
            .bind(w.shared)
            .bind(signed_at)
            .bind(now)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Changes a draft (and signs it when asked). A signed note is never touched:
    /// [`Change::WrongState`] when it is signed (by this or an earlier request), and
    /// [`Change::Missing`] when it is not this client's or not this author's.
    pub async fn update_draft_note(
        &self,
        id: Uuid,
        client_id: Uuid,
        author_id: Uuid,
        w: &NoteWrite<'_>,
    ) -> DbResult<Change> {
        let now = Timestamp::now();
        let signed_at = w.sign.then_some(now);
        let changed = with_pool!(self, |pool| {
            sqlx::query(
                "UPDATE session_notes SET appointment_id = $4, template = $5, session_date = $6, body_sealed = $7, \
                 shared = $8, signed_at = $9, updated_at = $10 \
                 WHERE id = $1 AND client_id = $2 AND author_id = $3 AND signed_at IS NULL",
            )
            .bind(id)
            .bind(client_id)
            .bind(author_id)
            .bind(w.appointment_id)
            .bind(w.template)
            .bind(w.session_date)
            .bind(w.body_sealed)
            .bind(w.shared)
            .bind(signed_at)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
        });
        if changed == 1 {
            return Ok(Change::Done);
        }
        Ok(match self.note(id, client_id).await? {
            Some(n) if n.author_id == author_id && n.signed_at.is_some() => Change::WrongState,
            _ => Change::Missing,
        })
    }

    /// Sets whether the client may read a note (allowed after signing: it changes who reads,
    /// not what was written). Only the author; false when there is no such note of theirs.
    pub async fn set_note_shared(
        &self,
        id: Uuid,
        client_id: Uuid,
        author_id: Uuid,
        shared: bool,
    ) -> DbResult<bool> {
        let changed = with_pool!(self, |pool| {
            sqlx::query(
                "UPDATE session_notes SET shared = $4 WHERE id = $1 AND client_id = $2 AND author_id = $3",
            )
            .bind(id)
            .bind(client_id)
            .bind(author_id)
            .bind(shared)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(changed == 1)
    }

    /// One of a client's notes.
    pub async fn note(&self, id: Uuid, client_id: Uuid) -> DbResult<Option<NoteRow>> {
        let sql = format!(
            "SELECT {NOTE_COLUMNS} FROM session_notes n JOIN users u ON u.id = n.author_id \
             WHERE n.id = $1 AND n.client_id = $2"
        );
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(&sql)
                .bind(id)
                .bind(client_id)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// A client's notes, newest session first; only signed, shared ones when `shared_only`.
    pub async fn notes_for(&self, client_id: Uuid, shared_only: bool) -> DbResult<Vec<NoteRow>> {
        let filter = if shared_only {
            " AND n.shared = TRUE AND n.signed_at IS NOT NULL"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {NOTE_COLUMNS} FROM session_notes n JOIN users u ON u.id = n.author_id \
             WHERE n.client_id = $1{filter} ORDER BY n.session_date DESC, n.created_at DESC"
        );
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(&sql).bind(client_id).fetch_all(pool).await?
        }))
    }

    /// Adds a dated addendum to a signed note. [`Change::WrongState`] when the note is still a
    /// draft (edit it instead); [`Change::Missing`] when it is not this client's.
    pub async fn add_addendum(
        &self,
        id: Uuid,
        note_id: Uuid,
        client_id: Uuid,
        author_id: Uuid,
        body_sealed: &[u8],
    ) -> DbResult<Change> {
        let added = with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO session_note_addenda (id, note_id, author_id, body_sealed, created_at) \
                 SELECT $1, n.id, $3, $4, $5 FROM session_notes n \
                 WHERE n.id = $2 AND n.client_id = $6 AND n.signed_at IS NOT NULL",
            )
            .bind(id)
            .bind(note_id)
            .bind(author_id)
            .bind(body_sealed)
            .bind(Timestamp::now())
            .bind(client_id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        if added == 1 {
            return Ok(Change::Done);
        }
        Ok(match self.note(note_id, client_id).await? {
            Some(_) => Change::WrongState,
            None => Change::Missing,
        })
    }

    /// A note's addenda, oldest first.
    pub async fn addenda_for(&self, note_id: Uuid) -> DbResult<Vec<AddendumRow>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT a.id, u.name AS author_name, a.body_sealed, a.created_at FROM session_note_addenda a \
                 JOIN users u ON u.id = a.author_id WHERE a.note_id = $1 ORDER BY a.created_at, a.id",
            )
            .bind(note_id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// The latest session date of a note by `author_id`, per client: `(client, YYYY-MM-DD)`.
    pub async fn last_notes_by(&self, author_id: Uuid) -> DbResult<Vec<(Uuid, String)>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT client_id, MAX(session_date) FROM session_notes WHERE author_id = $1 GROUP BY client_id",
            )
            .bind(author_id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// A client's appointments with `therapist_id`, newest first, for linking a note:
    /// `(id, starts_at)`.
    pub async fn appointments_to_note(
        &self,
        client_id: Uuid,
        therapist_id: Uuid,
    ) -> DbResult<Vec<(Uuid, Timestamp)>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT id, starts_at FROM appointments WHERE client_id = $1 AND therapist_id = $2 \
                 AND starts_at <= $3 ORDER BY starts_at DESC LIMIT 50",
            )
            .bind(client_id)
            .bind(therapist_id)
            .bind(Timestamp::now())
            .fetch_all(pool)
            .await?
        }))
    }
}
