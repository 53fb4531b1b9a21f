//! `GET /healthz` (the process is up) and `GET /readyz` (the database answers).

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;

use super::AppState;
use super::routes::Route;
use crate::authz::Access;
use crate::error::AppError;

/// Routes for health checks.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/healthz", Access::Public, healthz),
        Route::get("/readyz", Access::Public, readyz),
    ]
}

/// Always 200 while the process serves requests.
async fn healthz() -> &'static str {
    "ok"
}

/// 200 when the database answers within two seconds, else 503.
async fn readyz(State(state): State<AppState>) -> Result<(StatusCode, &'static str), AppError> {
    match tokio::time::timeout(Duration::from_secs(2), state.db.ping()).await {
        Ok(Ok(())) => Ok((StatusCode::OK, "ready")),
        _ => Err(AppError::Unavailable),
    }
}
