//! The admin's view of the directory: verify licences, hide or restore profiles, and see how
//! many people are reaching each therapist.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::queries::DirectoryAdminRow;
use crate::audit::{Event, Outcome};
use crate::error::{AppError, AppResult};
use crate::web::AppState;
use crate::web::extract::{Form, Page, Signed};
use crate::web::layout::Layout;

/// The directory admin page.
#[derive(Template)]
#[template(path = "directory/admin.html")]
struct AdminPage {
    layout: Layout,
    rows: Vec<DirectoryAdminRow>,
    total_30d: i64,
    total_waiting: i64,
}

/// `GET /admin/directory`
pub async fn show(State(state): State<AppState>, page: Page) -> AppResult<Response> {
    let rows = state.db.directory_admin_rows().await?;
    let html = AdminPage {
        layout: page.layout("Directory"),
        total_30d: rows.iter().map(|r| r.requests_30d).sum(),
        total_waiting: rows.iter().map(|r| r.waiting).sum(),
        rows,
    }
    .render()?;
    Ok(Html(html).into_response())
}

/// An admin action on a profile.
#[derive(Deserialize)]
pub struct ActionForm {
    /// `verify`, `reject`, `hide` or `restore`.
    action: String,
}

/// `POST /admin/directory/{id}`
pub async fn act(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Path(id): Path<Uuid>,
    Form(form): Form<ActionForm>,
) -> AppResult<Response> {
    let (done, audit) = match form.action.as_str() {
        "verify" => (
            state.db.set_licence_status(id, "verified").await?,
            "directory.licence_verified",
        ),
        "reject" => (
            state.db.set_licence_status(id, "rejected").await?,
            "directory.licence_rejected",
        ),
        "hide" => (
            state.db.set_profile_hidden(id, true).await?,
            "directory.profile_hidden",
        ),
        "restore" => (
            state.db.set_profile_hidden(id, false).await?,
            "directory.profile_restored",
        ),
        _ => {
            return Err(AppError::invalid(
                "action",
                "Choose verify, reject, hide or restore.",
            ));
        }
    };
    if !done {
        return Err(AppError::NotFound);
    }
    state
        .audit
        .record(
            Event::new(Some(current.user.principal()), audit, Outcome::Success)
                .on("directory_profile", id)
                .from_ip(page.ip.as_deref()),
        )
        .await?;
    Ok(Redirect::to("/admin/directory").into_response())
}
