//! JSON API: the enabled instruments, and a stateless scorer for integrations.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::library::Library;
use super::scoring::{Score, ScoreError, score};
use crate::error::{AppError, AppResult, FieldError};
use crate::web::AppState;
use crate::web::extract::Json;

/// An enabled instrument as listed to API clients.
#[derive(Serialize, ToSchema)]
pub struct InstrumentSummary {
    /// Id used by the API (`phq9`).
    pub id: String,
    /// Full title.
    pub title: String,
    /// Number of items, in order.
    pub items: usize,
    /// Published score range, where one exists.
    pub range: Option<Vec<f64>>,
    /// LOINC code of the total score, where one exists.
    pub loinc_total: Option<String>,
    /// Whether a published reliable-change value exists.
    pub reliable_change_points: Option<f64>,
}

/// Enabled instruments.
#[utoipa::path(get, path = "/api/v1/instruments", tag = "measures", security(("bearer" = [])),
    responses((status = 200, description = "Instruments this practice has enabled", body = [InstrumentSummary]),
              (status = 401, description = "No valid token", content_type = "application/problem+json")))]
pub async fn list_instruments(
    State(state): State<AppState>,
) -> AppResult<Json<Vec<InstrumentSummary>>> {
    let library = Library::get().map_err(AppError::Internal)?;
    let mut out = Vec::new();
    for inst in library.all() {
        if state.db.instrument_enabled(inst).await? {
            out.push(InstrumentSummary {
                id: inst.id().to_string(),
                title: inst.reference.title.clone(),
                items: inst.reference.items.len(),
                range: inst.reference.scoring.range.clone(),
                loinc_total: inst.reference.loinc.total.clone(),
                reliable_change_points: inst.rules.reliable_change.as_ref().map(|r| r.points),
            });
        }
    }
    Ok(Json(out))
}

/// Answers to score.
#[derive(Deserialize, ToSchema)]
pub struct ScoreRequest {
    /// Instrument id, e.g. `phq9`.
    pub instrument: String,
    /// One answer per item in order; `null` for a missing answer.
    pub answers: Vec<Option<i64>>,
}

/// Scores answers exactly as the instrument's authors publish; stores nothing.
#[utoipa::path(post, path = "/api/v1/measures/score", tag = "measures", security(("bearer" = [])), request_body = ScoreRequest,
    responses((status = 200, description = "The score", body = Score),
              (status = 401, description = "No valid token", content_type = "application/problem+json"),
              (status = 422, description = "Unknown or disabled instrument, wrong item count, or an answer out of range", content_type = "application/problem+json")))]
pub async fn score_answers(
    State(state): State<AppState>,
    Json(req): Json<ScoreRequest>,
) -> AppResult<Json<Score>> {
    let library = Library::get().map_err(AppError::Internal)?;
    let unknown = || {
        AppError::invalid(
            "instrument",
            "This instrument isn't available. GET /api/v1/instruments lists the enabled ones.",
        )
    };
    let inst = library.instrument(&req.instrument).ok_or_else(unknown)?;
    if !state.db.instrument_enabled(inst).await? {
        return Err(unknown());
    }
    score(inst, &req.answers).map(Json).map_err(|e| {
        let field = match &e {
            ScoreError::WrongCount { .. } => "answers".to_string(),
            ScoreError::OutOfRange { item, .. } | ScoreError::NotApplicable { item, .. } => {
                format!("answers[item {item}]")
            }
        };
        AppError::Invalid(vec![FieldError::new(&field, e.to_string())])
    })
}
