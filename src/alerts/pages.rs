//! The clinician's alert page.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::AlertRow;
use crate::audit::{Event, Outcome};
use crate::error::{AppError, AppResult};
use crate::web::AppState;
use crate::web::extract::{Form, Page, Signed, check_len, check_required, collect};
use crate::web::layout::Layout;

/// The alerts page.
#[derive(Template)]
#[template(path = "alerts/alerts.html")]
struct AlertsPage {
    layout: Layout,
    alerts: Vec<AlertRow>,
}

/// `GET /alerts`
pub async fn show_alerts(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
) -> AppResult<Response> {
    state
        .audit
        .viewed(current.user.principal(), "alerts.view", page.ip.as_deref())
        .await?;
    let alerts = state.db.alerts_for(current.user.id, false).await?;
    Ok(Html(
        AlertsPage {
            layout: page.layout("Alerts"),
            alerts,
        }
        .render()?,
    )
    .into_response())
}

/// The acknowledge/resolve form.
#[derive(Deserialize)]
pub struct UpdateForm {
    /// `acknowledge` or `resolve`.
    action: String,
    /// What was done (required to resolve).
    #[serde(default)]
    note: String,
}

/// `POST /alerts/{id}`
pub async fn update_alert(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Path(id): Path<Uuid>,
    Form(form): Form<UpdateForm>,
) -> AppResult<Response> {
    let (status, action) = match form.action.as_str() {
        "acknowledge" => ("acknowledged", "alert.acknowledged"),
        "resolve" => ("resolved", "alert.resolved"),
        _ => {
            return Err(AppError::invalid(
                "action",
                "Please choose acknowledge or resolve.",
            ));
        }
    };
    let note = form.note.trim();
    if status == "resolved" {
        collect([check_required("note", note), check_len("note", note, 4000)])?;
    }
    if !state
        .db
        .set_alert_status(id, current.user.id, status)
        .await?
    {
        return Err(AppError::NotFound);
    }
    if status == "resolved" {
        let sealed = state
            .sealer
            .seal(&format!("alerts.resolution:{id}"), note)
            .await?;
        state
            .db
            .set_alert_resolution(id, &sealed, current.user.id)
            .await?;
    }
    state
        .audit
        .record(
            Event::new(Some(current.user.principal()), action, Outcome::Success)
                .on("alert", id)
                .from_ip(page.ip.as_deref()),
        )
        .await?;
    Ok(Redirect::to("/alerts").into_response())
}
