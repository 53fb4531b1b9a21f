//! Drafts that are never lost: the compassionate letter, written over time.
//!
//! The browser keeps every change in local storage until the server acknowledges it
//! (`static/tend.js`), saves every few seconds and when the field loses focus, and restores
//! unsent text after a crash or a lost connection. The server accepts a save only against the
//! version it started from; a stale save gets 409 with the stored text and version, so the
//! writer sees both and nothing is overwritten.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::pages::check_text;
use crate::audit::{Event, Outcome};
use crate::db::{Db, DbError, DbResult, Timestamp, new_id};
use crate::error::{AppError, AppResult};
use crate::web::AppState;
use crate::web::extract::{Form, Json, Page, Signed, SourceIp};
use crate::web::layout::Layout;
use crate::with_pool;

/// A stored draft.
#[derive(sqlx::FromRow)]
pub struct DraftRow {
    /// Id.
    pub id: Uuid,
    /// Owner.
    pub client_id: Uuid,
    /// Sealed text.
    pub content_sealed: Vec<u8>,
    /// Version.
    pub version: i64,
    /// Last saved.
    pub updated_at: Timestamp,
}

/// Associated data for a sealed draft.
pub fn draft_context(id: Uuid) -> String {
    format!("drafts.content:{id}")
}

impl Db {
    /// Creates an empty letter draft.
    pub async fn create_draft(&self, id: Uuid, client_id: Uuid, sealed: &[u8]) -> DbResult<()> {
        let now = Timestamp::now();
        with_pool!(self, |pool| {
            sqlx::query("INSERT INTO drafts (id, client_id, kind, content_sealed, version, created_at, updated_at) VALUES ($1, $2, 'letter', $3, 1, $4, $4)")
                .bind(id)
                .bind(client_id)
                .bind(sealed)
                .bind(now)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// One draft.
    pub async fn draft(&self, id: Uuid) -> DbResult<Option<DraftRow>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as("SELECT id, client_id, content_sealed, version, updated_at FROM drafts WHERE id = $1").bind(id).fetch_optional(pool).await?
        }))
    }

    /// A client's drafts, most recently saved first.
    pub async fn drafts_of(&self, client_id: Uuid) -> DbResult<Vec<DraftRow>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as("SELECT id, client_id, content_sealed, version, updated_at FROM drafts WHERE client_id = $1 ORDER BY updated_at DESC")
                .bind(client_id)
                .fetch_all(pool)
                .await?
        }))
    }

    /// Saves if the draft is still at `version`; returns the new version or `Conflict`.
    pub async fn save_draft_text(&self, id: Uuid, sealed: &[u8], version: i64) -> DbResult<i64> {
        let done = with_pool!(self, |pool| {
            sqlx::query("UPDATE drafts SET content_sealed = $1, version = version + 1, updated_at = $2 WHERE id = $3 AND version = $4")
                .bind(sealed)
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
}

/// A draft as the API returns it.
#[derive(Serialize, ToSchema)]
pub struct DraftJson {
    /// Id.
    pub id: Uuid,
    /// The text.
    pub text: String,
    /// Version to send with the next save.
    pub version: i64,
    /// When it was last saved (UTC).
    pub updated_at: String,
}

/// Loads a draft the caller owns, or 404.
async fn own_draft(state: &AppState, owner: Uuid, id: Uuid) -> AppResult<(DraftRow, String)> {
    match state.db.draft(id).await? {
        Some(row) if row.client_id == owner => {
            let text = state
                .sealer
                .open(&draft_context(id), &row.content_sealed)
                .await?;
            Ok((row, text))
        }
        _ => Err(AppError::NotFound),
    }
}

/// Outcome of a save.
pub enum Saved {
    /// Stored under this version; `true` when the text raised a risk flag.
    Stored(i64, bool),
    /// Someone saved first: the stored draft as it is now.
    Conflict(DraftJson),
}

/// Seals and saves text against `version`, screening it for risk. Shared by the page and API.
pub async fn save(
    state: &AppState,
    client: &crate::accounts::queries::User,
    id: Uuid,
    text: &str,
    version: i64,
    ip: Option<&str>,
) -> AppResult<Saved> {
    let (row, current) = own_draft(state, client.id, id).await?;
    check_text("text", text).map_err(|e| AppError::Invalid(vec![e]))?;
    let sealed = state.sealer.seal(&draft_context(id), text).await?;
    match state.db.save_draft_text(id, &sealed, version).await {
        Ok(new_version) => {
            // One alert per draft (the ledger is idempotent per source), however often it is saved.
            let risky = crate::safety::risk::screen_draft_and_alert(
                state,
                client.id,
                text,
                crate::safety::risk::Source { kind: "letter", id },
            )
            .await
            .show_help;
            if risky {
                state
                    .audit
                    .record(
                        Event::new(
                            Some(client.principal()),
                            "draft.risk_flagged",
                            Outcome::Success,
                        )
                        .on("draft", id)
                        .from_ip(ip),
                    )
                    .await?;
            }
            Ok(Saved::Stored(new_version, risky))
        }
        Err(DbError::Conflict) => {
            // Re-read: the version may have moved on since we loaded it.
            let (row, current) = match own_draft(state, client.id, id).await {
                Ok(x) => x,
                Err(_) => (row, current),
            };
            Ok(Saved::Conflict(DraftJson {
                id,
                text: current,
                version: row.version,
                updated_at: row.updated_at.to_text(),
            }))
        }
        Err(other) => Err(other.into()),
    }
}

/// The letters page.
#[derive(Template)]
#[template(path = "practice/letters.html")]
struct LettersPage {
    layout: Layout,
    letters: Vec<(Uuid, String, String)>,
}

/// `GET /letters`
pub async fn show_letters(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
) -> AppResult<Response> {
    let mut letters = Vec::new();
    for d in state.db.drafts_of(current.user.id).await? {
        let text = state
            .sealer
            .open(&draft_context(d.id), &d.content_sealed)
            .await?;
        let preview: String = text.chars().take(80).collect();
        letters.push((
            d.id,
            if preview.is_empty() {
                "(not started)".into()
            } else {
                preview
            },
            d.updated_at.display(),
        ));
    }
    Ok(Html(
        LettersPage {
            layout: page.layout("Letters to yourself"),
            letters,
        }
        .render()?,
    )
    .into_response())
}

/// `POST /letters`: starts a new letter.
pub async fn new_letter(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Form(_): Form<crate::accounts::pages::Empty>,
) -> AppResult<Response> {
    let id = new_id();
    let sealed = state.sealer.seal(&draft_context(id), "").await?;
    state.db.create_draft(id, current.user.id, &sealed).await?;
    state
        .audit
        .record(
            Event::new(
                Some(current.user.principal()),
                "draft.created",
                Outcome::Success,
            )
            .on("draft", id)
            .from_ip(page.ip.as_deref()),
        )
        .await?;
    Ok(Redirect::to(&format!("/letters/{id}")).into_response())
}

/// The letter editor.
#[derive(Template)]
#[template(path = "practice/letter.html")]
struct LetterPage {
    layout: Layout,
    id: Uuid,
    text: String,
    version: i64,
    conflict: Option<DraftJson>,
    saved: bool,
}

/// `GET /letters/{id}`
pub async fn show_letter(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let (row, text) = own_draft(&state, current.user.id, id).await?;
    Ok(Html(
        LetterPage {
            layout: page.layout("A compassionate letter"),
            id,
            text,
            version: row.version,
            conflict: None,
            saved: false,
        }
        .render()?,
    )
    .into_response())
}

/// The letter form (works without JavaScript).
#[derive(Deserialize)]
pub struct LetterForm {
    text: String,
    version: i64,
}

/// `POST /letters/{id}`: a plain save; on conflict the page shows both versions.
pub async fn save_letter(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Path(id): Path<Uuid>,
    Form(form): Form<LetterForm>,
) -> AppResult<Response> {
    match save(
        &state,
        &current.user,
        id,
        &form.text,
        form.version,
        page.ip.as_deref(),
    )
    .await?
    {
        Saved::Stored(_, true) => Ok(Redirect::to("/journal?care=1").into_response()),
        Saved::Stored(..) => {
            let (row, text) = own_draft(&state, current.user.id, id).await?;
            Ok(Html(
                LetterPage {
                    layout: page.layout("A compassionate letter"),
                    id,
                    text,
                    version: row.version,
                    conflict: None,
                    saved: true,
                }
                .render()?,
            )
            .into_response())
        }
        Saved::Conflict(stored) => {
            let html = LetterPage {
                layout: page.layout("A compassionate letter"),
                id,
                text: form.text,
                version: stored.version,
                conflict: Some(stored),
                saved: false,
            }
            .render()?;
            Ok((StatusCode::CONFLICT, Html(html)).into_response())
        }
    }
}

/// A save from the API.
#[derive(Deserialize, ToSchema)]
pub struct SaveDraft {
    /// The full text.
    pub text: String,
    /// The version this text was based on.
    pub version: i64,
}

/// The result of a save.
#[derive(Serialize, ToSchema)]
pub struct SavedJson {
    /// The new version.
    pub version: i64,
    /// True when the text raised a risk flag: show crisis resources and the safety plan now.
    pub show_crisis_resources: bool,
}

/// Reads a draft.
#[utoipa::path(get, path = "/api/v1/drafts/{id}", tag = "practice", security(("bearer" = [])), params(("id" = Uuid, Path, description = "Draft id")),
    responses((status = 200, description = "The draft", body = DraftJson), (status = 404, description = "No such draft of yours", content_type = "application/problem+json")))]
pub async fn get_draft(
    State(state): State<AppState>,
    Signed(current): Signed,
    Path(id): Path<Uuid>,
) -> AppResult<Json<DraftJson>> {
    let (row, text) = own_draft(&state, current.user.id, id).await?;
    Ok(Json(DraftJson {
        id,
        text,
        version: row.version,
        updated_at: row.updated_at.to_text(),
    }))
}

/// Saves a draft against the version it was based on.
#[utoipa::path(post, path = "/api/v1/drafts/{id}", tag = "practice", security(("bearer" = [])), params(("id" = Uuid, Path, description = "Draft id")), request_body = SaveDraft,
    responses((status = 200, description = "Saved", body = SavedJson),
              (status = 409, description = "Saved elsewhere first; the body holds the stored text and version", body = DraftJson),
              (status = 404, description = "No such draft of yours", content_type = "application/problem+json"),
              (status = 422, description = "Too long", content_type = "application/problem+json")))]
pub async fn save_draft(
    State(state): State<AppState>,
    SourceIp(ip): SourceIp,
    Signed(current): Signed,
    Path(id): Path<Uuid>,
    Json(body): Json<SaveDraft>,
) -> AppResult<Response> {
    match save(
        &state,
        &current.user,
        id,
        &body.text,
        body.version,
        ip.as_deref(),
    )
    .await?
    {
        Saved::Stored(version, risky) => Ok(Json(SavedJson {
            version,
            show_crisis_resources: risky,
        })
        .into_response()),
        Saved::Conflict(stored) => Ok((StatusCode::CONFLICT, Json(stored)).into_response()),
    }
}
