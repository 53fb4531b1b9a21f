//! `POST /api/v1/safety/screen`: the risk screen for therapists and integrations.

use axum::extract::State;
use serde::Deserialize;
use utoipa::ToSchema;

use super::screen::Screening;
use crate::audit::{Event, Outcome};
use crate::error::{AppError, AppResult};
use crate::web::AppState;
use crate::web::extract::{Json, Signed, SourceIp, check_len, check_required, collect};

/// Longest text screened in one call, in characters.
pub const SCREEN_MAX: usize = 50_000;

/// Text to screen.
#[derive(Deserialize, ToSchema)]
pub struct ScreenRequest {
    /// The text (1 to 50,000 characters). It is not stored.
    pub text: String,
}

/// Screens a text for suicidal thoughts, self-harm, intent to harm others and abuse. Nothing is
/// stored and nobody is alerted: this is for a clinician's or an integration's own use.
#[utoipa::path(post, path = "/api/v1/safety/screen", tag = "safety", security(("bearer" = [])), request_body = ScreenRequest,
    responses((status = 200, description = "The level and every signal with what matched and why", body = Screening),
              (status = 401, description = "No valid token", content_type = "application/problem+json"),
              (status = 403, description = "Clinicians only", content_type = "application/problem+json"),
              (status = 422, description = "Empty or longer than 50,000 characters", content_type = "application/problem+json")))]
pub async fn screen_text(
    State(state): State<AppState>,
    SourceIp(ip): SourceIp,
    Signed(current): Signed,
    Json(request): Json<ScreenRequest>,
) -> AppResult<Json<Screening>> {
    collect([
        check_required("text", &request.text),
        check_len("text", &request.text, SCREEN_MAX),
    ])?;
    let screening = super::risk::try_screen(&state, &request.text)
        .await
        .map_err(AppError::Internal)?;
    state
        .audit
        .record(
            Event::new(
                Some(current.user.principal()),
                "safety.screen",
                Outcome::Success,
            )
            .from_ip(ip.as_deref()),
        )
        .await?;
    Ok(Json(screening))
}
