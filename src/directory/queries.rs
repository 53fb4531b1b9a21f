//! Storage for the directory, requests and booking: one contract, both backends.

use uuid::Uuid;

use super::index::{Index, LISTING_COLUMNS, Listing};
use super::profile::{PROFILE_COLUMNS, Profile, ProfileRow, ValidProfile, slug_for};
use super::search::{Found, SearchQuery};
use crate::db::{Db, DbError, DbResult, Timestamp, new_id};
use crate::with_pool;

/// `$1, $2, … $n`, for an `IN (…)` list of `n` bound values.
fn placeholders(n: usize) -> String {
    (1..=n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One search result.
#[derive(Clone, Debug)]
pub struct Hit {
    /// The profile.
    pub profile: Profile,
    /// Text relevance: points for words in the name and approach statement (0 without text).
    pub score: f64,
    /// Squared distance in degrees (0 without a location).
    pub dist2: f64,
}

/// Rows read per query while bringing the index up to date.
const REFRESH_BATCH: i64 = 5_000;

/// The directory's search index, shared by a process's requests (see [`super::index`]).
#[derive(Clone, Debug, Default)]
pub struct DirectoryIndex {
    /// The index; searches read it at once, a refresh writes it briefly.
    index: std::sync::Arc<std::sync::RwLock<Index>>,
    /// Held while reading changes, so concurrent searches after a burst of edits (or at start,
    /// when everything is new) read them from the database once, not once each.
    refreshing: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl DirectoryIndex {
    /// The applied version, tolerating a poisoned lock (a panicked writer leaves whole rows).
    fn version(&self) -> i64 {
        self.index
            .read()
            .map_or_else(|e| e.into_inner().version(), |i| i.version())
    }

    /// Applies every row changed since the index last looked: all of them the first time.
    /// Returns how many rows were read.
    pub async fn refresh(&self, db: &Db) -> DbResult<usize> {
        let seen = self.version();
        // The common case, no change, costs one indexed lookup and no lock.
        if db.newest_listing_version().await? <= seen {
            return Ok(0);
        }
        let _one_reader = self.refreshing.lock().await;
        let mut read = 0;
        // In batches, so building from 100,000 profiles never holds them all at once and
        // searches can read the index between batches.
        loop {
            let rows = db.listings_since(self.version(), REFRESH_BATCH).await?;
            {
                let mut index = self.index.write().unwrap_or_else(|e| e.into_inner());
                for row in &rows {
                    index.apply(row);
                }
            }
            read += rows.len();
            if rows.len() < REFRESH_BATCH as usize {
                return Ok(read);
            }
        }
    }

    /// Roughly how many bytes the index holds.
    pub fn heap_bytes(&self) -> usize {
        self.index
            .read()
            .map_or_else(|e| e.into_inner().heap_bytes(), |i| i.heap_bytes())
    }

    /// Forgets profiles whose rows are gone (deleted accounts do not bump a version).
    fn forget(&self, gone: &[Uuid]) {
        let mut index = self.index.write().unwrap_or_else(|e| e.into_inner());
        for id in gone {
            index.remove(*id);
        }
    }

    /// How many profiles the index lists.
    pub fn len(&self) -> usize {
        self.index
            .read()
            .map_or_else(|e| e.into_inner().len(), |i| i.len())
    }

    /// Nothing listed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// One page of directory results and the total count: the index, brought up to date,
    /// ranks and counts; the database serves the page's rows and tags.
    pub async fn search(&self, db: &Db, q: &SearchQuery) -> DbResult<(Found, Vec<Hit>)> {
        self.refresh(db).await?;
        let answer = {
            let index = self.index.read().unwrap_or_else(|e| e.into_inner());
            index.search(q)
        };
        let ids: Vec<Uuid> = answer.page.iter().map(|r| r.user_id).collect();
        let mut rows = db.listed_profiles(&ids).await?;
        let gone: Vec<Uuid> = ids
            .iter()
            .filter(|id| !rows.iter().any(|r| r.user_id == **id))
            .copied()
            .collect();
        if !gone.is_empty() {
            self.forget(&gone);
        }
        rows.sort_by_key(|r| ids.iter().position(|id| *id == r.user_id));
        let profiles = db.with_tags(rows).await?;
        let hits = profiles
            .into_iter()
            .filter_map(|profile| {
                let ranked = answer
                    .page
                    .iter()
                    .find(|r| r.user_id == profile.row.user_id)?;
                Some(Hit {
                    profile,
                    score: ranked.score,
                    dist2: ranked.dist2,
                })
            })
            .collect();
        let total = answer.total - i64::try_from(gone.len()).unwrap_or(0);
        Ok((Found { total }, hits))
    }
}

/// A session type a therapist offers.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SessionType {
    /// Id.
    pub id: Uuid,
    /// Therapist.
    pub therapist_id: Uuid,
    /// Name, e.g. "Individual session".
    pub name: String,
    /// Length in minutes.
    pub minutes: i64,
    /// A modality slug.
    pub modality: String,
    /// Fee in cents.
    pub fee_cents: i64,
    /// Offered for new bookings.
    pub active: bool,
}

/// A stored weekly window.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct WindowRow {
    /// Id.
    pub id: Uuid,
    /// 0 = Monday.
    pub weekday: i64,
    /// Minutes after local midnight.
    pub start_minute: i64,
    /// Minutes after local midnight.
    pub end_minute: i64,
}

impl WindowRow {
    /// The window as the scheduling code sees it (stored values were checked on the way in;
    /// anything out of range becomes an empty window rather than a panic).
    pub fn window(&self) -> super::schedule::WeeklyWindow {
        super::schedule::WeeklyWindow {
            weekday: u8::try_from(self.weekday).unwrap_or(7),
            start_minute: u16::try_from(self.start_minute).unwrap_or(0),
            end_minute: u16::try_from(self.end_minute).unwrap_or(0),
        }
    }
}

/// A weekly window with its therapist, for loading many therapists' hours at once.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct TherapistWindow {
    /// The therapist.
    pub therapist_id: Uuid,
    /// The window.
    #[sqlx(flatten)]
    pub row: WindowRow,
}

/// A stored exception.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ExceptionRow {
    /// Id.
    pub id: Uuid,
    /// Local date, `YYYY-MM-DD`.
    pub day: String,
    /// `off` or `extra`.
    pub kind: String,
    /// Start, minutes after local midnight.
    pub start_minute: Option<i64>,
    /// End.
    pub end_minute: Option<i64>,
}

/// An appointment with the names people see.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Appointment {
    /// Id.
    pub id: Uuid,
    /// Therapist.
    pub therapist_id: Uuid,
    /// Therapist's name.
    pub therapist_name: String,
    /// Client.
    pub client_id: Uuid,
    /// Client's name.
    pub client_name: String,
    /// Session type.
    pub session_type_id: Uuid,
    /// Session type name.
    pub session_name: String,
    /// Start (UTC).
    pub starts_at: Timestamp,
    /// End (UTC).
    pub ends_at: Timestamp,
    /// `booked`, `cancelled`, `attended` or `no_show`.
    pub status: String,
    /// Modality slug.
    pub modality: String,
    /// Fee in cents.
    pub fee_cents: i64,
    /// The video room name.
    pub room: String,
    /// iCalendar SEQUENCE: bumped by every change.
    pub sequence: i64,
}

/// Columns of [`Appointment`].
const APPOINTMENT_SELECT: &str = "SELECT a.id, a.therapist_id, t.name AS therapist_name, a.client_id, \
    c.name AS client_name, a.session_type_id, s.name AS session_name, a.starts_at, a.ends_at, a.status, \
    a.modality, a.fee_cents, a.room, a.sequence FROM appointments a \
    JOIN users t ON t.id = a.therapist_id JOIN users c ON c.id = a.client_id \
    JOIN session_types s ON s.id = a.session_type_id";

/// A new appointment.
#[derive(Clone, Debug)]
pub struct NewAppointment {
    /// Id.
    pub id: Uuid,
    /// Therapist.
    pub therapist_id: Uuid,
    /// Client.
    pub client_id: Uuid,
    /// Session type.
    pub session_type_id: Uuid,
    /// Start.
    pub starts_at: Timestamp,
    /// End.
    pub ends_at: Timestamp,
    /// Modality.
    pub modality: String,
    /// Fee in cents.
    pub fee_cents: i64,
    /// Video room name.
    pub room: String,
    /// Who booked.
    pub by: Uuid,
}

/// A request to work with a therapist.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct RequestRow {
    /// Id.
    pub id: Uuid,
    /// Therapist.
    pub therapist_id: Uuid,
    /// The requester's account, when they were signed in.
    pub requester_id: Option<Uuid>,
    /// Their name.
    pub name: String,
    /// Their email.
    pub email: String,
    /// What they wrote, sealed.
    pub message_sealed: Vec<u8>,
    /// Joined the waitlist rather than asking now.
    pub waitlist: bool,
    /// `new`, `accepted`, `declined`.
    pub status: String,
    /// `none`, `concern` or `urgent` (from screening what they wrote).
    pub risk: String,
    /// When.
    pub created_at: Timestamp,
}

/// Request volumes per therapist for the admin page.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DirectoryAdminRow {
    /// The profile.
    #[sqlx(flatten)]
    pub row: ProfileRow,
    /// Requests in the last 30 days.
    pub requests_30d: i64,
    /// Requests waiting for an answer.
    pub waiting: i64,
}

/// Why a booking was refused by the database.
#[derive(Debug, thiserror::Error)]
pub enum BookError {
    /// Someone else holds an overlapping appointment.
    #[error("that time was just taken")]
    Taken,
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

/// What [`Db::write_slot`] does once the slot is known to be free.
#[derive(Clone, Copy)]
enum SlotWrite<'a> {
    /// Insert a new appointment.
    Book(&'a NewAppointment),
    /// Move an existing one.
    Move {
        /// The appointment.
        id: Uuid,
        /// Who moved it.
        by: Uuid,
    },
}

impl From<sqlx::Error> for BookError {
    fn from(err: sqlx::Error) -> Self {
        match DbError::from(err) {
            DbError::Conflict => BookError::Taken,
            other => BookError::Db(other),
        }
    }
}

impl Db {
    /// Creates or updates a therapist's profile and its tags in one transaction; returns the
    /// slug (fixed at creation so links keep working).
    pub async fn save_profile(&self, user_id: Uuid, p: &ValidProfile) -> DbResult<String> {
        let now = Timestamp::now();
        let slug = slug_for(&p.input.display_name, user_id);
        let i = &p.input;
        Ok(with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            let slug: String = sqlx::query_scalar(
                "INSERT INTO directory_profiles (user_id, slug, display_name, pronouns, gender, credentials, \
                 licence_number, licence_region, bio, approach, region, city, address, latitude, longitude, \
                 fee_cents, sliding_scale_min_cents, insurance, accepting, time_zone, published, facets, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $23, $22, $22) \
                 ON CONFLICT (user_id) DO UPDATE SET display_name = $3, pronouns = $4, gender = $5, credentials = $6, \
                 licence_number = $7, licence_region = $8, bio = $9, approach = $10, region = $11, city = $12, \
                 address = $13, latitude = $14, longitude = $15, fee_cents = $16, sliding_scale_min_cents = $17, \
                 insurance = $18, accepting = $19, time_zone = $20, published = $21, updated_at = $22, facets = $23, \
                 licence_status = CASE WHEN directory_profiles.licence_number = $7 AND directory_profiles.licence_region = $8 \
                     THEN directory_profiles.licence_status ELSE 'unverified' END \
                 RETURNING slug",
            )
            .bind(user_id)
            .bind(&slug)
            .bind(&i.display_name)
            .bind(&i.pronouns)
            .bind(&i.gender)
            .bind(&i.credentials)
            .bind(&i.licence_number)
            .bind(&i.licence_region)
            .bind(&i.bio)
            .bind(&i.approach)
            .bind(&i.region)
            .bind(&i.city)
            .bind(&i.address)
            .bind(p.latitude)
            .bind(p.longitude)
            .bind(p.fee_cents)
            .bind(p.sliding_scale_min_cents)
            .bind(&i.insurance)
            .bind(i.accepting)
            .bind(&i.time_zone)
            .bind(i.published)
            .bind(now)
            .bind(super::vocab::facet_words(&p.tags))
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM directory_tags WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            for tag in &p.tags {
                sqlx::query("INSERT INTO directory_tags (tag, user_id) VALUES ($1, $2)")
                    .bind(tag)
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            slug
        }))
    }

    /// Loads the tags of these profiles and joins them to their rows.
    async fn with_tags(&self, rows: Vec<ProfileRow>) -> DbResult<Vec<Profile>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders = placeholders(rows.len());
        let sql = format!(
            "SELECT user_id, tag FROM directory_tags WHERE user_id IN ({}) ORDER BY tag",
            placeholders
        );
        let pairs: Vec<(Uuid, String)> = with_pool!(self, |pool| {
            let mut q = sqlx::query_as(&sql);
            for r in &rows {
                q = q.bind(r.user_id);
            }
            q.fetch_all(pool).await?
        });
        Ok(rows
            .into_iter()
            .map(|row| {
                let tags = pairs
                    .iter()
                    .filter(|(id, _)| *id == row.user_id)
                    .map(|(_, t)| t.clone())
                    .collect();
                Profile { row, tags }
            })
            .collect())
    }

    /// A profile by its owner (published or not).
    pub async fn profile_for_user(&self, user_id: Uuid) -> DbResult<Option<Profile>> {
        let sql =
            format!("SELECT {PROFILE_COLUMNS} FROM directory_profiles p WHERE p.user_id = $1");
        let row: Option<ProfileRow> = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(user_id)
            .fetch_optional(pool)
            .await?);
        Ok(self.with_tags(row.into_iter().collect()).await?.pop())
    }

    /// A profile by its URL name (published or not; callers decide who may see it).
    pub async fn profile_by_slug(&self, slug: &str) -> DbResult<Option<Profile>> {
        let sql = format!("SELECT {PROFILE_COLUMNS} FROM directory_profiles p WHERE p.slug = $1");
        let row: Option<ProfileRow> = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(slug)
            .fetch_optional(pool)
            .await?);
        Ok(self.with_tags(row.into_iter().collect()).await?.pop())
    }

    /// The newest row version (0 with no profiles). `MAX` over the version index is one
    /// probe whatever the plan; `WHERE version > $1 LIMIT 1` was not: PostgreSQL's generic
    /// plan for it scanned the whole table (100 ms at 100,000 profiles) when nothing matched.
    pub async fn newest_listing_version(&self) -> DbResult<i64> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(version) FROM directory_profiles")
                .fetch_one(pool)
                .await?
                .unwrap_or(0)
        }))
    }

    /// Up to `limit` profile rows newer than `version`, oldest change first, as the search
    /// index reads them.
    pub async fn listings_since(&self, version: i64, limit: i64) -> DbResult<Vec<Listing>> {
        let sql = format!(
            "SELECT {LISTING_COLUMNS} FROM directory_profiles WHERE version > $1 ORDER BY version LIMIT $2"
        );
        Ok(with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(version)
            .bind(limit)
            .fetch_all(pool)
            .await?))
    }

    /// The listed profiles among `ids` (any order).
    pub async fn listed_profiles(&self, ids: &[Uuid]) -> DbResult<Vec<ProfileRow>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {PROFILE_COLUMNS} FROM directory_profiles p \
             WHERE p.user_id IN ({}) AND p.published = TRUE AND p.hidden = FALSE",
            placeholders(ids.len())
        );
        Ok(with_pool!(self, |pool| {
            let mut q = sqlx::query_as(&sql);
            for id in ids {
                q = q.bind(id);
            }
            q.fetch_all(pool).await?
        }))
    }

    /// Listed profiles that could suit someone: speaking one of `languages` (any when empty)
    /// and accepting or keeping a waitlist. Capped; the matcher ranks them.
    pub async fn match_candidates(&self, language_tags: &[String]) -> DbResult<Vec<Profile>> {
        let mut sql = format!(
            "SELECT {PROFILE_COLUMNS} FROM directory_profiles p WHERE p.published = TRUE AND p.hidden = FALSE"
        );
        if !language_tags.is_empty() {
            let placeholders = placeholders(language_tags.len());
            sql.push_str(&format!(
                " AND p.user_id IN (SELECT user_id FROM directory_tags WHERE tag IN ({}))",
                placeholders
            ));
        }
        sql.push_str(" ORDER BY p.accepting DESC, p.display_name LIMIT 2000");
        let rows: Vec<ProfileRow> = with_pool!(self, |pool| {
            let mut q = sqlx::query_as(&sql);
            for t in language_tags {
                q = q.bind(t);
            }
            q.fetch_all(pool).await?
        });
        self.with_tags(rows).await
    }

    /// Each client's next booked session with `therapist_id`: `(client, starts_at)`.
    pub async fn next_sessions(&self, therapist_id: Uuid) -> DbResult<Vec<(Uuid, Timestamp)>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT client_id, MIN(starts_at) FROM appointments \
                 WHERE therapist_id = $1 AND status = 'booked' AND starts_at > $2 GROUP BY client_id",
            )
            .bind(therapist_id)
            .bind(Timestamp::now())
            .fetch_all(pool)
            .await?
        }))
    }

    /// Stores a profile photo (already re-encoded).
    pub async fn set_photo(&self, user_id: Uuid, jpeg: &[u8], etag: &str) -> DbResult<()> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO directory_photos (user_id, jpeg, etag, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (user_id) DO UPDATE SET jpeg = $2, etag = $3, updated_at = $4",
            )
            .bind(user_id)
            .bind(jpeg)
            .bind(etag)
            .bind(Timestamp::now())
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE directory_profiles SET has_photo = TRUE WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// A profile's photo and its ETag.
    pub async fn photo(&self, user_id: Uuid) -> DbResult<Option<(Vec<u8>, String)>> {
        Ok(with_pool!(self, |pool| sqlx::query_as(
            "SELECT jpeg, etag FROM directory_photos WHERE user_id = $1"
        )
        .bind(user_id)
        .fetch_optional(pool)
        .await?))
    }

    /// Every profile with request volumes, for the admin page.
    pub async fn directory_admin_rows(&self) -> DbResult<Vec<DirectoryAdminRow>> {
        let sql = format!(
            "SELECT {PROFILE_COLUMNS}, \
             (SELECT COUNT(*) FROM directory_requests r WHERE r.therapist_id = p.user_id AND r.created_at >= $1) AS requests_30d, \
             (SELECT COUNT(*) FROM directory_requests r WHERE r.therapist_id = p.user_id AND r.status = 'new') AS waiting \
             FROM directory_profiles p ORDER BY p.licence_status DESC, p.display_name"
        );
        Ok(with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(Timestamp::now() - time::Duration::days(30))
            .fetch_all(pool)
            .await?))
    }

    /// Sets a licence's verification status; false when no such profile.
    pub async fn set_licence_status(&self, user_id: Uuid, status: &str) -> DbResult<bool> {
        let done = with_pool!(self, |pool| sqlx::query(
            "UPDATE directory_profiles SET licence_status = $2 WHERE user_id = $1"
        )
        .bind(user_id)
        .bind(status)
        .execute(pool)
        .await?
        .rows_affected());
        Ok(done == 1)
    }

    /// Hides a profile from the directory or restores it; false when no such profile.
    pub async fn set_profile_hidden(&self, user_id: Uuid, hidden: bool) -> DbResult<bool> {
        let done = with_pool!(self, |pool| sqlx::query(
            "UPDATE directory_profiles SET hidden = $2 WHERE user_id = $1"
        )
        .bind(user_id)
        .bind(hidden)
        .execute(pool)
        .await?
        .rows_affected());
        Ok(done == 1)
    }

    /// A therapist's session types (only active ones when `active_only`).
    pub async fn session_types(
        &self,
        therapist_id: Uuid,
        active_only: bool,
    ) -> DbResult<Vec<SessionType>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
            "SELECT id, therapist_id, name, minutes, modality, fee_cents, active FROM session_types \
             WHERE therapist_id = $1 AND (active = TRUE OR $2 = FALSE) ORDER BY active DESC, minutes, name"
        )
        .bind(therapist_id)
        .bind(active_only)
        .fetch_all(pool)
        .await?
        }))
    }

    /// One session type.
    pub async fn session_type(&self, id: Uuid) -> DbResult<Option<SessionType>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
            "SELECT id, therapist_id, name, minutes, modality, fee_cents, active FROM session_types WHERE id = $1"
        )
        .bind(id)
        .fetch_optional(pool)
        .await?
        }))
    }

    /// Adds a session type.
    pub async fn add_session_type(
        &self,
        therapist_id: Uuid,
        name: &str,
        minutes: i64,
        modality: &str,
        fee_cents: i64,
    ) -> DbResult<Uuid> {
        let id = new_id();
        with_pool!(self, |pool| {
            sqlx::query(
            "INSERT INTO session_types (id, therapist_id, name, minutes, modality, fee_cents, active, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, TRUE, $7)"
        )
        .bind(id)
        .bind(therapist_id)
        .bind(name)
        .bind(minutes)
        .bind(modality)
        .bind(fee_cents)
        .bind(Timestamp::now())
        .execute(pool)
        .await
        .map(|_| ())?
        });
        Ok(id)
    }

    /// Stops offering a session type (kept for past appointments); false if not theirs.
    pub async fn retire_session_type(&self, therapist_id: Uuid, id: Uuid) -> DbResult<bool> {
        self.change_own(
            "UPDATE session_types SET active = FALSE WHERE id = $1 AND therapist_id = $2",
            therapist_id,
            id,
        )
        .await
    }

    /// Runs a statement on one row (`$1` its id) that must belong to the therapist (`$2`);
    /// false when nothing changed, which callers answer with 404.
    async fn change_own(&self, sql: &str, therapist_id: Uuid, id: Uuid) -> DbResult<bool> {
        let done = with_pool!(self, |pool| sqlx::query(sql)
            .bind(id)
            .bind(therapist_id)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(done == 1)
    }

    /// A therapist's weekly windows.
    pub async fn windows(&self, therapist_id: Uuid) -> DbResult<Vec<WindowRow>> {
        Ok(with_pool!(self, |pool| sqlx::query_as(
            "SELECT id, weekday, start_minute, end_minute FROM availability_windows \
             WHERE therapist_id = $1 ORDER BY weekday, start_minute"
        )
        .bind(therapist_id)
        .fetch_all(pool)
        .await?))
    }

    /// The weekly windows of these therapists, in one query (for matching).
    pub async fn windows_of(&self, therapist_ids: &[Uuid]) -> DbResult<Vec<TherapistWindow>> {
        if therapist_ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders = placeholders(therapist_ids.len());
        let sql = format!(
            "SELECT therapist_id, id, weekday, start_minute, end_minute FROM availability_windows \
             WHERE therapist_id IN ({}) ORDER BY weekday, start_minute",
            placeholders
        );
        Ok(with_pool!(self, |pool| {
            let mut q = sqlx::query_as(&sql);
            for id in therapist_ids {
                q = q.bind(id);
            }
            q.fetch_all(pool).await?
        }))
    }

    /// Removes one weekly window; false if not theirs.
    pub async fn delete_window(&self, therapist_id: Uuid, id: Uuid) -> DbResult<bool> {
        self.change_own(
            "DELETE FROM availability_windows WHERE id = $1 AND therapist_id = $2",
            therapist_id,
            id,
        )
        .await
    }

    /// Replaces a therapist's weekly windows in one transaction.
    pub async fn replace_windows(
        &self,
        therapist_id: Uuid,
        windows: &[super::schedule::WeeklyWindow],
    ) -> DbResult<()> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM availability_windows WHERE therapist_id = $1")
                .bind(therapist_id)
                .execute(&mut *tx)
                .await?;
            for w in windows {
                sqlx::query(
                    "INSERT INTO availability_windows (id, therapist_id, weekday, start_minute, end_minute) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(new_id())
                .bind(therapist_id)
                .bind(i64::from(w.weekday))
                .bind(i64::from(w.start_minute))
                .bind(i64::from(w.end_minute))
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// A therapist's exceptions from `from_day` (`YYYY-MM-DD`) on.
    pub async fn exceptions(
        &self,
        therapist_id: Uuid,
        from_day: &str,
    ) -> DbResult<Vec<ExceptionRow>> {
        Ok(with_pool!(self, |pool| sqlx::query_as(
            "SELECT id, day, kind, start_minute, end_minute FROM availability_exceptions \
             WHERE therapist_id = $1 AND day >= $2 ORDER BY day, start_minute"
        )
        .bind(therapist_id)
        .bind(from_day)
        .fetch_all(pool)
        .await?))
    }

    /// Adds an exception.
    pub async fn add_exception(
        &self,
        therapist_id: Uuid,
        day: &str,
        kind: &str,
        start_minute: Option<i64>,
        end_minute: Option<i64>,
    ) -> DbResult<()> {
        with_pool!(self, |pool| {
            sqlx::query(
            "INSERT INTO availability_exceptions (id, therapist_id, day, kind, start_minute, end_minute, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)"
        )
        .bind(new_id())
        .bind(therapist_id)
        .bind(day)
        .bind(kind)
        .bind(start_minute)
        .bind(end_minute)
        .bind(Timestamp::now())
        .execute(pool)
        .await
        .map(|_| ())?
        });
        Ok(())
    }

    /// Removes an exception; false if not theirs.
    pub async fn delete_exception(&self, therapist_id: Uuid, id: Uuid) -> DbResult<bool> {
        self.change_own(
            "DELETE FROM availability_exceptions WHERE id = $1 AND therapist_id = $2",
            therapist_id,
            id,
        )
        .await
    }

    /// Booked appointments of a therapist overlapping `[from, until)`: (id, start, end).
    pub async fn busy_between(
        &self,
        therapist_id: Uuid,
        from: Timestamp,
        until: Timestamp,
    ) -> DbResult<Vec<(Uuid, Timestamp, Timestamp)>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
            "SELECT id, starts_at, ends_at FROM appointments WHERE therapist_id = $1 AND status = 'booked' \
             AND starts_at < $3 AND ends_at > $2 ORDER BY starts_at"
        )
        .bind(therapist_id)
        .bind(from)
        .bind(until)
        .fetch_all(pool)
        .await?
        }))
    }

    /// Books an appointment unless an overlapping one exists.
    pub async fn book(&self, a: &NewAppointment) -> Result<(), BookError> {
        self.write_slot(a.therapist_id, a.starts_at, a.ends_at, SlotWrite::Book(a))
            .await
    }

    /// Moves a booked appointment, under the same per-therapist lock as [`Db::book`].
    pub async fn reschedule(
        &self,
        id: Uuid,
        therapist_id: Uuid,
        starts_at: Timestamp,
        ends_at: Timestamp,
        by: Uuid,
    ) -> Result<(), BookError> {
        self.write_slot(therapist_id, starts_at, ends_at, SlotWrite::Move { id, by })
            .await
    }

    /// Takes a slot for a new or moved appointment unless another booked one overlaps it.
    /// The first statement bumps the therapist's `booking_seq`, which takes SQLite's write lock
    /// and PostgreSQL's row lock, so two writes for one therapist run one after the other and
    /// the second sees the first.
    async fn write_slot(
        &self,
        therapist_id: Uuid,
        starts_at: Timestamp,
        ends_at: Timestamp,
        write: SlotWrite<'_>,
    ) -> Result<(), BookError> {
        // A moved appointment does not clash with itself; a new one has no id yet to skip.
        let skip = match write {
            SlotWrite::Book(_) => Uuid::nil(),
            SlotWrite::Move { id, .. } => id,
        };
        let now = Timestamp::now();
        with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "UPDATE directory_profiles SET booking_seq = booking_seq + 1 WHERE user_id = $1",
            )
            .bind(therapist_id)
            .execute(&mut *tx)
            .await?;
            let clash: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM appointments WHERE therapist_id = $1 AND status = 'booked' \
                 AND starts_at < $3 AND ends_at > $2 AND id <> $4",
            )
            .bind(therapist_id)
            .bind(starts_at)
            .bind(ends_at)
            .bind(skip)
            .fetch_one(&mut *tx)
            .await?;
            if clash > 0 {
                return Err(BookError::Taken);
            }
            match write {
                SlotWrite::Book(a) => {
                    sqlx::query(
                        "INSERT INTO appointments (id, therapist_id, client_id, session_type_id, starts_at, ends_at, status, \
                         modality, fee_cents, room, sequence, created_at, updated_at, changed_by) \
                         VALUES ($1, $2, $3, $4, $5, $6, 'booked', $7, $8, $9, 0, $10, $10, $11)",
                    )
                    .bind(a.id)
                    .bind(a.therapist_id)
                    .bind(a.client_id)
                    .bind(a.session_type_id)
                    .bind(a.starts_at)
                    .bind(a.ends_at)
                    .bind(&a.modality)
                    .bind(a.fee_cents)
                    .bind(&a.room)
                    .bind(now)
                    .bind(a.by)
                    .execute(&mut *tx)
                    .await?;
                }
                SlotWrite::Move { id, by } => {
                    sqlx::query(
                        "UPDATE appointments SET starts_at = $2, ends_at = $3, sequence = sequence + 1, updated_at = $4, \
                         changed_by = $5 WHERE id = $1 AND status = 'booked'",
                    )
                    .bind(id)
                    .bind(starts_at)
                    .bind(ends_at)
                    .bind(now)
                    .bind(by)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Changes a booked appointment's status (`cancelled`, `attended`, `no_show`); false when
    /// it was not booked.
    pub async fn set_appointment_status(&self, id: Uuid, status: &str, by: Uuid) -> DbResult<bool> {
        let done = with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            let done = sqlx::query(
                "UPDATE appointments SET status = $2, sequence = sequence + 1, updated_at = $3, changed_by = $4 \
                 WHERE id = $1 AND status = 'booked'",
            )
            .bind(id)
            .bind(status)
            .bind(Timestamp::now())
            .bind(by)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if done == 1 && status == "attended" {
                // An attended session is contact: keep the relationship's latest contact.
                sqlx::query(
                    "UPDATE care_relationships SET last_contact_at = a.starts_at FROM appointments a \
                     WHERE a.id = $1 AND care_relationships.therapist_id = a.therapist_id \
                     AND care_relationships.client_id = a.client_id \
                     AND (care_relationships.last_contact_at IS NULL OR care_relationships.last_contact_at < a.starts_at)",
                )
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            done
        });
        Ok(done == 1)
    }

    /// One appointment.
    pub async fn appointment(&self, id: Uuid) -> DbResult<Option<Appointment>> {
        let sql = format!("{APPOINTMENT_SELECT} WHERE a.id = $1");
        Ok(with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await?))
    }

    /// A person's first `limit` appointments (as client or therapist) ending after `from`,
    /// soonest first.
    pub async fn appointments_for(
        &self,
        user_id: Uuid,
        from: Timestamp,
        limit: i64,
    ) -> DbResult<Vec<Appointment>> {
        let sql = format!(
            "{APPOINTMENT_SELECT} WHERE (a.client_id = $1 OR a.therapist_id = $1) AND a.ends_at >= $2 \
             ORDER BY a.starts_at LIMIT $3"
        );
        Ok(with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(user_id)
            .bind(from)
            .bind(limit)
            .fetch_all(pool)
            .await?))
    }

    /// Stores a request.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_request(
        &self,
        id: Uuid,
        therapist_id: Uuid,
        requester_id: Option<Uuid>,
        name: &str,
        email: &str,
        message_sealed: &[u8],
        waitlist: bool,
        risk: &str,
    ) -> DbResult<()> {
        with_pool!(self, |pool| {
            sqlx::query(
            "INSERT INTO directory_requests (id, therapist_id, requester_id, name, email, message_sealed, waitlist, \
             status, risk, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'new', $8, $9)"
        )
        .bind(id)
        .bind(therapist_id)
        .bind(requester_id)
        .bind(name)
        .bind(email)
        .bind(message_sealed)
        .bind(waitlist)
        .bind(risk)
        .bind(Timestamp::now())
        .execute(pool)
        .await
        .map(|_| ())?
        });
        Ok(())
    }

    /// A therapist's requests: waiting ones first (urgent first), then the last 50 decided.
    pub async fn requests_for(&self, therapist_id: Uuid) -> DbResult<Vec<RequestRow>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
            "SELECT id, therapist_id, requester_id, name, email, message_sealed, waitlist, status, risk, created_at \
             FROM directory_requests WHERE therapist_id = $1 \
             ORDER BY CASE WHEN status = 'new' THEN 0 ELSE 1 END, CASE risk WHEN 'urgent' THEN 0 WHEN 'concern' THEN 1 ELSE 2 END, \
             waitlist, created_at LIMIT 200"
        )
        .bind(therapist_id)
        .fetch_all(pool)
        .await?
        }))
    }

    /// One request.
    pub async fn request(&self, id: Uuid) -> DbResult<Option<RequestRow>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
            "SELECT id, therapist_id, requester_id, name, email, message_sealed, waitlist, status, risk, created_at \
             FROM directory_requests WHERE id = $1"
        )
        .bind(id)
        .fetch_optional(pool)
        .await?
        }))
    }

    /// Records a decision on a waiting request; false when it was already decided (so a
    /// double click never sends two invitations).
    pub async fn decide_request(&self, id: Uuid, status: &str) -> DbResult<bool> {
        let done = with_pool!(self, |pool| {
            sqlx::query(
            "UPDATE directory_requests SET status = $2, decided_at = $3 WHERE id = $1 AND status = 'new'"
        )
        .bind(id)
        .bind(status)
        .bind(Timestamp::now())
        .execute(pool)
        .await?
        .rows_affected()
        });
        Ok(done == 1)
    }

    /// Sets (or replaces) a person's calendar feed token hash.
    pub async fn set_feed_token(&self, user_id: Uuid, token_hash: &str) -> DbResult<()> {
        with_pool!(self, |pool| sqlx::query(
            "INSERT INTO calendar_feeds (user_id, token_hash, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id) DO UPDATE SET token_hash = $2, created_at = $3"
        )
        .bind(user_id)
        .bind(token_hash)
        .bind(Timestamp::now())
        .execute(pool)
        .await
        .map(|_| ())?);
        Ok(())
    }

    /// Whose feed a token hash opens.
    pub async fn feed_owner(&self, token_hash: &str) -> DbResult<Option<Uuid>> {
        Ok(with_pool!(self, |pool| sqlx::query_scalar(
            "SELECT user_id FROM calendar_feeds WHERE token_hash = $1"
        )
        .bind(token_hash)
        .fetch_optional(pool)
        .await?))
    }

    /// Whether a person has a feed.
    pub async fn has_feed(&self, user_id: Uuid) -> DbResult<bool> {
        let n: i64 = with_pool!(self, |pool| sqlx::query_scalar(
            "SELECT COUNT(*) FROM calendar_feeds WHERE user_id = $1"
        )
        .bind(user_id)
        .fetch_one(pool)
        .await?);
        Ok(n > 0)
    }

    /// A person's chosen time zone.
    pub async fn user_time_zone(&self, user_id: Uuid) -> DbResult<Option<String>> {
        Ok(with_pool!(self, |pool| sqlx::query_scalar(
            "SELECT time_zone FROM users WHERE id = $1"
        )
        .bind(user_id)
        .fetch_optional(pool)
        .await?)
        .flatten())
    }

    /// Remembers a person's time zone.
    pub async fn set_user_time_zone(&self, user_id: Uuid, tz: &str) -> DbResult<()> {
        with_pool!(self, |pool| sqlx::query(
            "UPDATE users SET time_zone = $2 WHERE id = $1"
        )
        .bind(user_id)
        .bind(tz)
        .execute(pool)
        .await
        .map(|_| ())?);
        Ok(())
    }
}
