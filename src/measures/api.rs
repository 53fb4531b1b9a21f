//! JSON API: the enabled instruments, and a stateless scorer for integrations.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::library::Library;
use super::scoring::{Score, ScoreError, score};
use crate::audit::{Event, Outcome};
use crate::authz::Grant;
use crate::care::record::{Access, authorize};
use crate::error::{AppError, AppResult, FieldError};
use crate::web::AppState;
use crate::web::extract::{Json, Signed, SourceIp};

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

/// A client's questionnaires as a FHIR R4 Bundle: an export, so only the client or a clinician
/// treating them (not an admin under break-glass, and 403 for anyone else), with a token from
/// a sign-in in the last 10 minutes (step-up, as for the record exports); audited.
#[utoipa::path(get, path = "/api/v1/clients/{id}/fhir", tag = "measures", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Client id")),
    responses((status = 200, description = "A FHIR R4 collection Bundle: Patient, Questionnaire, QuestionnaireResponse and Observation resources", content_type = "application/fhir+json"),
              (status = 401, description = "No valid token", content_type = "application/problem+json"),
              (status = 403, description = "Not the client or their therapist, or the token is older than 10 minutes: sign in again for a fresh one", content_type = "application/problem+json")))]
pub async fn export_fhir(
    State(state): State<AppState>,
    SourceIp(ip): SourceIp,
    Signed(current): Signed,
    Path(id): Path<uuid::Uuid>,
) -> AppResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let (grant, event) =
        match authorize(&state, &current.user, id, Access::Read, ip.as_deref()).await {
            Ok(ok) => ok,
            // Refused (and audited) for any id alike, so 403 reveals nothing.
            Err(AppError::NotFound) => return Err(AppError::Forbidden),
            Err(e) => return Err(e),
        };
    let at = crate::db::Timestamp::now();
    let signed_in = Some(current.session.created_at).max(current.session.reauthenticated_at);
    let allowed =
        matches!(grant, Grant::Own | Grant::Treating) && crate::rights::is_fresh(signed_in, at);
    state
        .audit
        .record(Event {
            action: "measures.export_fhir",
            outcome: if allowed {
                Outcome::Success
            } else {
                Outcome::Denied
            },
            ..event
        })
        .await?;
    if !allowed {
        return Err(AppError::Forbidden);
    }
    let client = state.db.user_by_id(id).await?.ok_or(AppError::NotFound)?;
    let library = Library::get().map_err(AppError::Internal)?;
    let responses = state.db.submitted_responses(id).await?;
    let bundle = super::fhir::export_bundle(id, &client.name, &responses, library);
    let mut response = Json(bundle).into_response();
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/fhir+json"),
    );
    Ok(response)
}

/// The result of an import.
#[derive(Serialize, ToSchema)]
pub struct ImportResult {
    /// The stored response's id.
    pub id: uuid::Uuid,
    /// Its score.
    pub score: Score,
}

/// Imports a completed FHIR QuestionnaireResponse for an enabled instrument into a client's
/// history (treating clinicians only). Risk answers raise alerts as a form would.
#[utoipa::path(post, path = "/api/v1/clients/{id}/fhir", tag = "measures", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Client id")),
    request_body(content = Object, description = "A FHIR R4 QuestionnaireResponse", content_type = "application/json"),
    responses((status = 201, description = "Imported and scored", body = ImportResult),
              (status = 401, description = "No valid token", content_type = "application/problem+json"),
              (status = 404, description = "No such client, or not in the caller's care", content_type = "application/problem+json"),
              (status = 422, description = "Not a usable QuestionnaireResponse; the field at fault is named", content_type = "application/problem+json")))]
pub async fn import_fhir(
    State(state): State<AppState>,
    SourceIp(ip): SourceIp,
    Signed(current): Signed,
    Path(id): Path<uuid::Uuid>,
    Json(resource): Json<serde_json::Value>,
) -> AppResult<(StatusCode, Json<ImportResult>)> {
    let (_, event) = authorize(&state, &current.user, id, Access::Write, ip.as_deref()).await?;
    let library = Library::get().map_err(AppError::Internal)?;
    let imported = super::fhir::import_response(&resource, library)
        .map_err(|e| AppError::Invalid(vec![FieldError::new(&e.field, e.message)]))?;
    if !state.db.instrument_enabled(imported.instrument).await? {
        return Err(AppError::invalid(
            "questionnaire",
            "This questionnaire is turned off for your practice.",
        ));
    }
    let scored = score(imported.instrument, &imported.answers)
        .map_err(|e| AppError::invalid("item", e.to_string()))?;
    let flags = super::respond::flags_json(&scored)?;
    let answers =
        serde_json::to_string(&imported.answers).map_err(|e| AppError::Internal(e.to_string()))?;
    let at = imported.authored.unwrap_or_else(crate::db::Timestamp::now);
    let response_id = state
        .db
        .insert_submitted(
            id,
            imported.instrument.id(),
            &answers,
            &super::respond::stored(&scored, &flags),
            at,
            "fhir",
        )
        .await?;
    state
        .audit
        .record(Event {
            action: "measures.import_fhir",
            ..event
        })
        .await?;
    super::respond::after_submission(&state, id, imported.instrument, response_id, &scored).await;
    Ok((
        StatusCode::CREATED,
        Json(ImportResult {
            id: response_id,
            score: scored,
        }),
    ))
}
