//! `POST /api/v1/coach/feedback` and `POST /api/v1/coach/summary`. Nothing is stored.

use axum::extract::State;
use serde::Deserialize;
use utoipa::ToSchema;

use super::feedback::Feedback;
use super::summary::Summary;
use crate::audit::{Event, Outcome};
use crate::error::AppResult;
use crate::web::AppState;
use crate::web::extract::{Json, Signed, SourceIp, check_len, check_required, collect};

/// A client's message and a draft reply to it.
#[derive(Deserialize, ToSchema)]
pub struct FeedbackRequest {
    /// What the client wrote (up to 5,000 characters; may be empty).
    #[serde(default)]
    pub client_message: String,
    /// The draft reply (1 to 5,000 characters, English).
    pub reply: String,
}

/// Feedback on a draft reply: each sentence labelled, a gentle profile, roadblocks and a few
/// suggestions with the sentences they rest on. The coach is English-only: a reply in another
/// language gets a 422 that says so, never a misleading profile.
#[utoipa::path(post, path = "/api/v1/coach/feedback", tag = "coach", security(("bearer" = [])), request_body = FeedbackRequest,
    responses((status = 200, description = "The feedback", body = Feedback),
              (status = 401, description = "No valid token", content_type = "application/problem+json"),
              (status = 403, description = "Clinicians only", content_type = "application/problem+json"),
              (status = 422, description = "Empty, longer than 5,000 characters or not English", content_type = "application/problem+json"),
              (status = 503, description = "The coach's model is not available on this server", content_type = "application/problem+json")))]
pub async fn feedback(
    State(state): State<AppState>,
    SourceIp(ip): SourceIp,
    Signed(current): Signed,
    Json(request): Json<FeedbackRequest>,
) -> AppResult<Json<Feedback>> {
    let feedback = state
        .coach
        .feedback(request.client_message, request.reply)
        .await?;
    state
        .audit
        .record(
            Event::new(
                Some(current.user.principal()),
                "coach.feedback",
                Outcome::Success,
            )
            .from_ip(ip.as_deref()),
        )
        .await?;
    Ok(Json(feedback))
}

/// A practice transcript.
#[derive(Deserialize, ToSchema)]
pub struct SummaryRequest {
    /// Turns as lines starting "Client:" or "Therapist:" (up to 50,000 characters).
    pub transcript: String,
}

/// The MITI-style summary of a practice transcript: reflection-to-question ratio, percent
/// complex reflections and percent open questions, against published thresholds.
#[utoipa::path(post, path = "/api/v1/coach/summary", tag = "coach", security(("bearer" = [])), request_body = SummaryRequest,
    responses((status = 200, description = "The summary", body = Summary),
              (status = 401, description = "No valid token", content_type = "application/problem+json"),
              (status = 403, description = "Clinicians only", content_type = "application/problem+json"),
              (status = 422, description = "Empty, too long, or no speaker labels", content_type = "application/problem+json"),
              (status = 503, description = "The coach's model is not available on this server", content_type = "application/problem+json")))]
pub async fn summary(
    State(state): State<AppState>,
    SourceIp(ip): SourceIp,
    Signed(current): Signed,
    Json(request): Json<SummaryRequest>,
) -> AppResult<Json<Summary>> {
    collect([
        check_required("transcript", &request.transcript),
        check_len("transcript", &request.transcript, super::TRANSCRIPT_MAX),
    ])?;
    let summary = state.coach.summary(request.transcript).await?;
    state
        .audit
        .record(
            Event::new(
                Some(current.user.principal()),
                "coach.summary",
                Outcome::Success,
            )
            .from_ip(ip.as_deref()),
        )
        .await?;
    Ok(Json(summary))
}
