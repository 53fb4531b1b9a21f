//! JSON API for scripts and integrations: exchange credentials for a bearer token.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::queries::Stage;
use super::signin::{check_password, check_second_factor, end_session, start_session};
use crate::authz::Role;
use crate::error::{AppError, AppResult};
use crate::web::AppState;
use crate::web::extract::{Json, Signed, SourceIp};

/// Credentials for `POST /api/v1/auth/login`.
#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    /// Account email.
    pub email: String,
    /// Account password.
    pub password: String,
    /// Current TOTP code (or a recovery code) when two-step sign-in is on.
    pub totp: Option<String>,
}

/// A new bearer token.
#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    /// Send as `Authorization: Bearer <token>`. Shown once; stored only hashed.
    pub token: String,
    /// When it stops working (UTC, RFC 3339).
    pub expires_at: String,
}

/// The signed-in account.
#[derive(Serialize, ToSchema)]
pub struct MeResponse {
    /// Account id.
    pub id: uuid::Uuid,
    /// Email.
    pub email: String,
    /// Name.
    pub name: String,
    /// Role.
    pub role: Role,
}

/// Exchanges email, password and (when enabled) a TOTP code for a bearer token.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 401, description = "Wrong credentials or code missing", content_type = "application/problem+json"),
        (status = 403, description = "Two-step sign-in must be set up in the web app first", content_type = "application/problem+json"),
        (status = 422, description = "A field is missing or malformed", content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts; see Retry-After", content_type = "application/problem+json"),
    ))]
pub async fn login(
    State(state): State<AppState>,
    SourceIp(ip): SourceIp,
    Json(req): Json<LoginRequest>,
) -> AppResult<Json<TokenResponse>> {
    let Some(user) = check_password(&state, &req.email, &req.password, ip.as_deref()).await? else {
        return Err(AppError::Unauthorized);
    };
    if user.totp_enabled {
        let Some(code) = req.totp.as_deref() else {
            return Err(AppError::Unauthorized);
        };
        if !check_second_factor(&state, &user, code, ip.as_deref()).await? {
            return Err(AppError::Unauthorized);
        }
    } else if user.role.requires_mfa() {
        return Err(AppError::Forbidden);
    }
    let (token, expires_at) =
        start_session(&state, &user, "api", Stage::Full, ip.as_deref()).await?;
    Ok(Json(TokenResponse {
        token,
        expires_at: expires_at.to_text(),
    }))
}

/// Revokes the bearer token used for this request.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "Token revoked"), (status = 401, description = "No valid token", content_type = "application/problem+json")))]
pub async fn logout(
    State(state): State<AppState>,
    SourceIp(ip): SourceIp,
    Signed(current): Signed,
) -> AppResult<StatusCode> {
    end_session(&state, &current, ip.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who the token belongs to.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, description = "The signed-in account", body = MeResponse), (status = 401, description = "No valid token", content_type = "application/problem+json")))]
pub async fn me(Signed(current): Signed) -> Json<MeResponse> {
    let u = current.user;
    Json(MeResponse {
        id: u.id,
        email: u.email,
        name: u.name,
        role: u.role,
    })
}
