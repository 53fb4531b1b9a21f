//! JSON API for a future mobile app: journal entries and practice completions.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::library;
use super::pages::{check_emotions, check_text, entry_views, record_completion, save_entry};
use crate::error::{AppError, AppResult, FieldError};
use crate::web::AppState;
use crate::web::extract::{Json, Signed, SourceIp};

/// A new journal entry.
#[derive(Deserialize, ToSchema)]
pub struct NewEntry {
    /// Mood from 0 (lowest) to 10.
    pub mood: Option<i64>,
    /// Emotion tags from the fixed list (see the journal page).
    #[serde(default)]
    pub emotions: Vec<String>,
    /// The entry (at most 50,000 characters).
    pub text: String,
    /// Share with the treating therapist (private by default).
    #[serde(default)]
    pub shared: bool,
}

/// The stored entry's id, and whether crisis resources should be shown now.
#[derive(Serialize, ToSchema)]
pub struct Created {
    /// Id.
    pub id: uuid::Uuid,
    /// True when the text raised a risk flag: show crisis resources and the safety plan
    /// (`/safety-plan`) at once; the care team has been alerted.
    pub show_crisis_resources: bool,
}

/// A journal entry.
#[derive(Serialize, ToSchema)]
pub struct EntryJson {
    /// When (UTC).
    pub created_at: String,
    /// Mood.
    pub mood: Option<i64>,
    /// Tags.
    pub emotions: Vec<String>,
    /// Text.
    pub text: String,
    /// Shared with the therapist.
    pub shared: bool,
}

/// Checks mood, tags and text; one 422 naming every problem.
fn validate(mood: Option<i64>, emotions: &[String], text: &str) -> AppResult<()> {
    let mut problems = Vec::new();
    if mood.is_some_and(|m| !(0..=10).contains(&m)) {
        problems.push(FieldError::new(
            "mood",
            "Please give a number from 0 to 10.",
        ));
    }
    problems.extend(check_emotions(emotions).err());
    problems.extend(check_text("text", text).err());
    if problems.is_empty() {
        Ok(())
    } else {
        Err(AppError::Invalid(problems))
    }
}

/// Adds a journal entry (sealed at rest; screened for risk).
#[utoipa::path(post, path = "/api/v1/journal", tag = "practice", security(("bearer" = [])), request_body = NewEntry,
    responses((status = 201, description = "Saved", body = Created), (status = 401, description = "No valid token", content_type = "application/problem+json"),
              (status = 403, description = "Clients only", content_type = "application/problem+json"), (status = 422, description = "Mood, tag or length invalid", content_type = "application/problem+json")))]
pub async fn create_entry(
    State(state): State<AppState>,
    SourceIp(ip): SourceIp,
    Signed(current): Signed,
    Json(entry): Json<NewEntry>,
) -> AppResult<(StatusCode, Json<Created>)> {
    let text = entry.text.trim();
    validate(entry.mood, &entry.emotions, text)?;
    if text.is_empty() {
        return Err(AppError::invalid(
            "text",
            "Please write something, even a few words.",
        ));
    }
    let (id, risky) = save_entry(
        &state,
        &current.user,
        entry.mood,
        &entry.emotions,
        text,
        entry.shared,
        ip.as_deref(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(Created {
            id,
            show_crisis_resources: risky,
        }),
    ))
}

/// The caller's journal, newest first.
#[utoipa::path(get, path = "/api/v1/journal", tag = "practice", security(("bearer" = [])),
    responses((status = 200, description = "Entries", body = [EntryJson]), (status = 401, description = "No valid token", content_type = "application/problem+json")))]
pub async fn list_entries(
    State(state): State<AppState>,
    Signed(current): Signed,
) -> AppResult<Json<Vec<EntryJson>>> {
    let entries = entry_views(&state, current.user.id, false).await?;
    Ok(Json(
        entries
            .into_iter()
            .map(|e| EntryJson {
                created_at: e.created_at,
                mood: e.mood,
                emotions: e.emotions,
                text: e.text,
                shared: e.shared,
            })
            .collect(),
    ))
}

/// A practice done.
#[derive(Deserialize, ToSchema)]
pub struct NewCompletionJson {
    /// Practice id from the library.
    pub practice: String,
    /// Minutes practised (any amount counts).
    pub minutes: i64,
    /// Mood before, 0–10.
    pub mood_before: Option<i64>,
    /// Mood after, 0–10.
    pub mood_after: Option<i64>,
    /// A short reflection.
    pub reflection: Option<String>,
    /// Share with the treating therapist.
    #[serde(default)]
    pub shared: bool,
}

/// Records a completed practice.
#[utoipa::path(post, path = "/api/v1/practice/completions", tag = "practice", security(("bearer" = [])), request_body = NewCompletionJson,
    responses((status = 201, description = "Recorded", body = Created), (status = 401, description = "No valid token", content_type = "application/problem+json"),
              (status = 422, description = "Unknown practice, or a value out of range", content_type = "application/problem+json")))]
pub async fn create_completion(
    State(state): State<AppState>,
    SourceIp(ip): SourceIp,
    Signed(current): Signed,
    Json(c): Json<NewCompletionJson>,
) -> AppResult<(StatusCode, Json<Created>)> {
    let practice = library::find(&c.practice)
        .ok_or_else(|| AppError::invalid("practice", "This practice isn't in the library."))?;
    let reflection = c.reflection.as_deref().map(str::trim).unwrap_or_default();
    let mut problems = Vec::new();
    for (field, mood) in [("mood_before", c.mood_before), ("mood_after", c.mood_after)] {
        if mood.is_some_and(|m| !(0..=10).contains(&m)) {
            problems.push(FieldError::new(field, "Please give a number from 0 to 10."));
        }
    }
    if !(0..=600).contains(&c.minutes) {
        problems.push(FieldError::new(
            "minutes",
            "Please give minutes from 0 to 600.",
        ));
    }
    problems.extend(check_text("reflection", reflection).err());
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let (id, risky) = record_completion(
        &state,
        &current.user,
        practice,
        c.minutes,
        (c.mood_before, c.mood_after),
        reflection,
        c.shared,
        ip.as_deref(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(Created {
            id,
            show_crisis_resources: risky,
        }),
    ))
}
