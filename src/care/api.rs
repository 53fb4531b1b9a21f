//! JSON API for the caseload and client records.

use axum::extract::{Path, State};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::record::open_record;
use crate::error::AppResult;
use crate::web::AppState;
use crate::web::extract::{Json, Signed, SourceIp};

/// A client in the caller's caseload.
#[derive(Serialize, ToSchema)]
pub struct ClientSummary {
    /// Client id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Email.
    pub email: String,
    /// When care began (UTC).
    pub started_at: String,
}

/// A client record.
#[derive(Serialize, ToSchema)]
pub struct ClientRecord {
    /// Client id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Intake summary, if written.
    pub intake: Option<String>,
    /// Whether the caller may edit it.
    pub can_edit: bool,
}

/// The caller's caseload.
#[utoipa::path(get, path = "/api/v1/clients", tag = "care", security(("bearer" = [])),
    responses((status = 200, description = "Clients in the caller's care", body = [ClientSummary]),
              (status = 401, description = "No valid token", content_type = "application/problem+json"),
              (status = 403, description = "Not a clinician", content_type = "application/problem+json")))]
pub async fn list_clients(
    State(state): State<AppState>,
    SourceIp(ip): SourceIp,
    Signed(current): Signed,
) -> AppResult<Json<Vec<ClientSummary>>> {
    state
        .audit
        .viewed(current.user.principal(), "caseload.list", ip.as_deref())
        .await?;
    let clients = state.db.caseload(current.user.id).await?;
    Ok(Json(
        clients
            .into_iter()
            .map(|c| ClientSummary {
                id: c.id,
                name: c.name,
                email: c.email,
                started_at: c.started_at.to_text(),
            })
            .collect(),
    ))
}

/// One client record, if the caller may read it (audited).
#[utoipa::path(get, path = "/api/v1/clients/{id}", tag = "care", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Client id")),
    responses((status = 200, description = "The record", body = ClientRecord),
              (status = 401, description = "No valid token", content_type = "application/problem+json"),
              (status = 404, description = "No such client, or not the caller's to see", content_type = "application/problem+json")))]
pub async fn get_client(
    State(state): State<AppState>,
    SourceIp(ip): SourceIp,
    Signed(current): Signed,
    Path(id): Path<Uuid>,
) -> AppResult<Json<ClientRecord>> {
    let view = open_record(&state, &current.user, id, ip.as_deref()).await?;
    Ok(Json(ClientRecord {
        id: view.client.id,
        name: view.client.name,
        intake: view.intake,
        can_edit: view.can_edit,
    }))
}
