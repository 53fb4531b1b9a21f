//! The admin page that shows each instrument's licence and turns instruments on or off.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::library::{Instrument, Library};
use crate::audit::{Event, Outcome};
use crate::error::{AppError, AppResult};
use crate::web::AppState;
use crate::web::extract::{Form, Page, Signed};
use crate::web::layout::Layout;

/// One row of the page.
struct Row {
    inst: &'static Instrument,
    enabled: bool,
}

/// The instruments page.
#[derive(Template)]
#[template(path = "measures/instruments.html")]
struct InstrumentsPage {
    layout: Layout,
    rows: Vec<Row>,
    scores_hidden: bool,
}

/// `GET /admin/instruments`
pub async fn show_instruments(State(state): State<AppState>, page: Page) -> AppResult<Response> {
    let library = Library::get().map_err(AppError::Internal)?;
    let mut rows = Vec::new();
    for inst in library.all() {
        rows.push(Row {
            inst,
            enabled: state.db.instrument_enabled(inst).await?,
        });
    }
    Ok(Html(
        InstrumentsPage {
            layout: page.layout("Questionnaires"),
            rows,
            scores_hidden: state.db.scores_hidden_from_clients().await?,
        }
        .render()?,
    )
    .into_response())
}

/// The enable/disable form.
#[derive(Deserialize)]
pub struct SetForm {
    /// `on` or `off`.
    enabled: String,
    /// Ticked to confirm the practice may use an instrument that needs permission.
    confirm_permission: Option<String>,
}

/// `POST /admin/instruments/{id}`: turning on an instrument that is off by default needs the
/// admin to confirm the practice has permission under its licence.
pub async fn set_instrument(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Path(id): Path<String>,
    Form(form): Form<SetForm>,
) -> AppResult<Response> {
    let library = Library::get().map_err(AppError::Internal)?;
    let inst = library.instrument(&id).ok_or(AppError::NotFound)?;
    let enabled = match form.enabled.as_str() {
        "on" => true,
        "off" => false,
        _ => return Err(AppError::invalid("enabled", "Please choose on or off.")),
    };
    if enabled && !inst.rules.enabled_by_default && form.confirm_permission.is_none() {
        return Err(AppError::invalid(
            "confirm_permission",
            "Please confirm your practice has permission to use this questionnaire under its licence.",
        ));
    }
    state.db.set_instrument_enabled(inst.id(), enabled).await?;
    let action = if enabled {
        "instrument.enabled"
    } else {
        "instrument.disabled"
    };
    state
        .audit
        .record(
            Event::new(Some(current.user.principal()), action, Outcome::Success)
                .from_ip(page.ip.as_deref()),
        )
        .await?;
    Ok(Redirect::to("/admin/instruments").into_response())
}

/// The score-visibility form.
#[derive(Deserialize)]
pub struct VisibilityForm {
    /// `show` or `hide`.
    scores: String,
}

/// `POST /admin/measures/settings`: whether clients see their scores after completing a form.
pub async fn set_score_visibility(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Form(form): Form<VisibilityForm>,
) -> AppResult<Response> {
    let hidden = match form.scores.as_str() {
        "hide" => true,
        "show" => false,
        _ => return Err(AppError::invalid("scores", "Please choose show or hide.")),
    };
    state.db.set_scores_hidden(hidden).await?;
    state
        .audit
        .record(
            Event::new(
                Some(current.user.principal()),
                "settings.changed",
                Outcome::Success,
            )
            .from_ip(page.ip.as_deref()),
        )
        .await?;
    Ok(Redirect::to("/admin/instruments").into_response())
}
