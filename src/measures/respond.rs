//! Completing a questionnaire: the client's form (autosaved, resumable), submission, and the
//! kind completion page. Risk answers show crisis resources on that page and raise an alert
//! for the treating therapist; if raising the alert fails, the answers are already saved, the
//! client still sees the resources, and the alert is queued for retry.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use time::Duration;
use uuid::Uuid;

use super::change::{ChangeStatus, classify, not_on_track};
use super::library::{Instrument, Library};
use super::queries::{Assignment, Response as MeasureResponse, Scored, Summary};
use super::scoring::{RiskLevel, Score, score};
use crate::accounts::queries::User;
use crate::audit::{Event, Outcome};
use crate::db::{DbError, Timestamp};
use crate::error::{AppError, AppResult, FieldError};
use crate::jobs::JobKind;
use crate::web::AppState;
use crate::web::extract::{Form, Page, Signed};
use crate::web::layout::Layout;

/// One item as the form shows it.
pub struct FormItem {
    /// Field name (`item_1`).
    pub field: String,
    /// Printed number.
    pub number: String,
    /// Wording.
    pub text: String,
    /// Help text, if any.
    pub help: Option<String>,
    /// (value, label, checked).
    pub options: Vec<(i64, String, bool)>,
}

/// The form page.
#[derive(Template)]
#[template(path = "measures/form.html")]
struct FormPage {
    layout: Layout,
    title: String,
    intro: Vec<String>,
    items: Vec<FormItem>,
    response_id: Uuid,
    version: i64,
    answered: usize,
    saved: bool,
}

/// Loads an instrument that is enabled, or 404.
async fn enabled_instrument(state: &AppState, id: &str) -> AppResult<&'static Instrument> {
    let library = Library::get().map_err(AppError::Internal)?;
    let inst = library.instrument(id).ok_or(AppError::NotFound)?;
    if !state.db.instrument_enabled(inst).await? {
        return Err(AppError::NotFound);
    }
    Ok(inst)
}

/// The caller's own active assignment, or 404 (nobody learns about others' assignments).
async fn own_assignment(state: &AppState, user: &User, id: Uuid) -> AppResult<Assignment> {
    match state.db.assignment(id).await? {
        Some(a) if a.client_id == user.id && a.active => Ok(a),
        _ => Err(AppError::NotFound),
    }
}

/// The caller's own response, or 404.
async fn own_response(state: &AppState, user: &User, id: Uuid) -> AppResult<MeasureResponse> {
    match state.db.response(id).await? {
        Some(r) if r.client_id == user.id => Ok(r),
        _ => Err(AppError::NotFound),
    }
}

/// Query of the form page.
#[derive(Deserialize)]
pub struct FormQuery {
    saved: Option<String>,
}

/// `GET /measures/assignments/{id}`: the form, resuming any saved answers.
pub async fn show_form(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Path(id): Path<Uuid>,
    Query(q): Query<FormQuery>,
) -> AppResult<Response> {
    let assignment = own_assignment(&state, &current.user, id).await?;
    let inst = enabled_instrument(&state, &assignment.instrument).await?;
    let draft = state
        .db
        .draft_for(&assignment, inst.reference.items.len())
        .await?;
    let answers = draft.answer_values();
    let items = form_items(inst, &answers);
    let intro = [
        &inst.reference.instructions.heading,
        &inst.reference.instructions.instruction,
        &inst.reference.instructions.stem,
    ]
    .into_iter()
    .flatten()
    .filter(|t| !t.contains("UNVERIFIED"))
    .cloned()
    .collect();
    let html = FormPage {
        layout: page.layout(&inst.reference.title),
        title: inst.reference.title.clone(),
        intro,
        answered: answers.iter().flatten().count(),
        items,
        response_id: draft.id,
        version: draft.version,
        saved: q.saved.is_some(),
    }
    .render()?;
    Ok(Html(html).into_response())
}

/// The items with their options and any saved answers.
fn form_items(inst: &Instrument, answers: &[Option<i64>]) -> Vec<FormItem> {
    inst.reference
        .items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let chosen = answers.get(i).copied().flatten();
            let options = inst
                .options_for(i)
                .iter()
                .enumerate()
                .map(|(pos, o)| {
                    let value = o.value.unwrap_or(pos as i64);
                    let label = o.label.clone().unwrap_or_else(|| value.to_string());
                    (value, label, chosen == Some(value))
                })
                .collect();
            FormItem {
                field: format!("item_{}", i + 1),
                number: item.n.clone(),
                text: item.text.clone(),
                help: item.help_text.clone(),
                options,
            }
        })
        .collect()
}

/// Reads `item_1…item_N` from the submitted form into answers in item order.
fn parse_answers(
    inst: &Instrument,
    fields: &HashMap<String, String>,
) -> AppResult<Vec<Option<i64>>> {
    let mut answers = Vec::with_capacity(inst.reference.items.len());
    for i in 1..=inst.reference.items.len() {
        let name = format!("item_{i}");
        match fields
            .get(&name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
        {
            None => answers.push(None),
            Some(v) => answers
                .push(Some(v.parse::<i64>().map_err(|_| {
                    AppError::invalid(&name, "Please choose one of the options.")
                })?)),
        }
    }
    Ok(answers)
}

/// `POST /measures/responses/{id}`: `action=save` keeps a draft (autosave sends this with
/// `X-Tend-Autosave: 1` and gets 204), `action=submit` scores and submits it.
pub async fn save_or_submit(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    Form(fields): Form<HashMap<String, String>>,
) -> AppResult<Response> {
    let response = own_response(&state, &current.user, id).await?;
    if response.status == "submitted" {
        // Submitting twice (a double tap, a retried request) changes nothing.
        return Ok(Redirect::to(&format!("/measures/responses/{id}")).into_response());
    }
    let inst = enabled_instrument(&state, &response.instrument).await?;
    let mut answers = parse_answers(inst, &fields)?;
    super::scoring::clear_not_applicable(inst, &mut answers);
    let scored = score(inst, &answers)
        .map_err(|e| AppError::Invalid(vec![FieldError::new("answers", e.to_string())]))?;
    let answers_json =
        serde_json::to_string(&answers).map_err(|e| AppError::Internal(e.to_string()))?;
    let version: i64 = fields
        .get("version")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| {
            AppError::invalid("version", "This form is out of date; please reload it.")
        })?;
    match fields.get("action").map(String::as_str) {
        Some("save") => {
            let new_version = state.db.save_draft(id, &answers_json, version).await.map_err(|e| match e {
                DbError::Conflict => AppError::Conflict("These answers were changed in another window. Please reload to see the latest.".into()),
                other => other.into(),
            })?;
            if headers.get("x-tend-autosave").is_some() {
                let mut r = StatusCode::NO_CONTENT.into_response();
                if let Ok(v) = HeaderValue::from_str(&new_version.to_string()) {
                    r.headers_mut().insert("x-tend-version", v);
                }
                return Ok(r);
            }
            let assignment = response
                .assignment_id
                .map(|a| a.to_string())
                .unwrap_or_default();
            Ok(
                Redirect::to(&format!("/measures/assignments/{assignment}?saved=1"))
                    .into_response(),
            )
        }
        Some("submit") => {
            submit(
                &state,
                &current.user,
                &response,
                inst,
                &answers_json,
                &scored,
                page.ip.as_deref(),
            )
            .await?;
            Ok(Redirect::to(&format!("/measures/responses/{id}")).into_response())
        }
        _ => Err(AppError::invalid("action", "Please choose save or submit.")),
    }
}

/// Stores a submission, then updates the summary and raises any alerts. The submission is
/// committed first: nothing after it can lose the client's answers.
pub async fn submit(
    state: &AppState,
    client: &User,
    response: &MeasureResponse,
    inst: &Instrument,
    answers_json: &str,
    scored: &Score,
    ip: Option<&str>,
) -> AppResult<()> {
    let assignment = match response.assignment_id {
        Some(id) => state.db.assignment(id).await?,
        None => None,
    };
    let next_due = assignment
        .as_ref()
        .and_then(|a| a.every_days)
        .map(|days| Timestamp::now() + Duration::days(days));
    let flags = flags_json(scored)?;
    if !state
        .db
        .submit_response(response.id, answers_json, &stored(scored, &flags), next_due)
        .await?
    {
        return Ok(());
    }
    state
        .audit
        .record(
            Event::new(
                Some(client.principal()),
                "measure.submitted",
                Outcome::Success,
            )
            .on("measure_response", response.id)
            .from_ip(ip),
        )
        .await?;
    if let (Some(a), Some(due)) = (&assignment, next_due) {
        schedule_reminder(state, client, a.id, due).await?;
    }
    after_submission(state, client.id, inst, response.id, scored).await;
    Ok(())
}

/// Emails the client, at `at`, that a questionnaire is waiting; it never says which one. One
/// reminder per assignment and due date, however often this is called.
pub async fn schedule_reminder(
    state: &AppState,
    client: &User,
    assignment_id: Uuid,
    at: Timestamp,
) -> AppResult<()> {
    let email = crate::email::Email {
        to: client.email.clone(),
        subject: "A short questionnaire is waiting for you in Tend".into(),
        body: format!(
            "Hello {},\n\nYour therapist has asked you to fill in a short questionnaire. It takes a few minutes, and you can stop and come back to it any time:\n\n{}/\n\nTake care,\nTend\n",
            client.name,
            state.config.base_url()
        ),
        attachment: None,
    };
    let key = format!("measure-reminder:{assignment_id}:{}", at.to_text());
    crate::jobs::enqueue_at(state, &JobKind::SendEmail(email), Some(&key), at).await?;
    Ok(())
}

/// The flags of a score as stored (a JSON array).
pub fn flags_json(scored: &Score) -> AppResult<String> {
    serde_json::to_string(&scored.flags).map_err(|e| AppError::Internal(e.to_string()))
}

/// What a submission stores from a score.
pub fn stored<'a>(scored: &'a Score, flags: &'a str) -> Scored<'a> {
    let risk = scored.risk.map(|r| {
        if r == RiskLevel::Urgent {
            "urgent"
        } else {
            "review"
        }
    });
    Scored {
        total: scored.total,
        band: scored.band.as_deref(),
        complete: scored.complete,
        risk,
        flags,
    }
}

/// Updates the summary and raises alerts. Failures here are loud (logged as errors) and the
/// alerts are queued for retry, but they never undo or hide the submission.
pub async fn after_submission(
    state: &AppState,
    client_id: Uuid,
    inst: &Instrument,
    response_id: Uuid,
    scored: &Score,
) {
    let mut alerts = Vec::new();
    if let Some(level) = scored.risk {
        alerts.push((
            "measure_risk",
            if level == RiskLevel::Urgent {
                "urgent"
            } else {
                "review"
            },
        ));
    }
    match refresh_summary(state, client_id, inst).await {
        Ok(Some(summary)) if summary.not_on_track => alerts.push(("not_on_track", "review")),
        Ok(_) => {}
        Err(err) => {
            tracing::error!(client = %client_id, response = %response_id, error = %err, "could not update the measure summary")
        }
    }
    if alerts.is_empty() {
        return;
    }
    for (kind, severity) in alerts {
        crate::alerts::notify_care_team(state, client_id, kind, severity, response_id).await;
    }
}

/// Recomputes a client's summary for one instrument from their scored history.
pub async fn refresh_summary(
    state: &AppState,
    client_id: Uuid,
    inst: &Instrument,
) -> AppResult<Option<Summary>> {
    let history: Vec<(Timestamp, f64)> = state
        .db
        .history(client_id, inst.id())
        .await?
        .into_iter()
        .filter_map(|r| Some((r.submitted_at?, r.total?)))
        .collect();
    let (Some(first), Some(last)) = (history.first(), history.last()) else {
        return Ok(None);
    };
    let status = classify(&inst.rules, first.1, last.1);
    let summary = Summary {
        client_id,
        instrument: inst.id().to_string(),
        baseline_total: first.1,
        baseline_at: first.0,
        latest_total: last.1,
        latest_at: last.0,
        administrations: history.len() as i64,
        status: serde_json::to_value(status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        not_on_track: status != ChangeStatus::NotAvailable
            && not_on_track(status, history.len(), state.config.not_on_track_after),
    };
    state.db.upsert_summary(&summary).await?;
    Ok(Some(summary))
}

/// The completion page.
#[derive(Template)]
#[template(path = "measures/done.html")]
struct DonePage {
    layout: Layout,
    title: String,
    total: Option<String>,
    band: Option<String>,
    show_score: bool,
    urgent: bool,
    review: bool,
}

/// `GET /measures/responses/{id}`: thanks, the score in plain words, and crisis resources
/// whenever an answer raised a risk flag.
pub async fn show_done(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let response = own_response(&state, &current.user, id).await?;
    if response.status != "submitted" {
        return Ok(Redirect::to(&format!(
            "/measures/assignments/{}",
            response.assignment_id.unwrap_or_default()
        ))
        .into_response());
    }
    let library = Library::get().map_err(AppError::Internal)?;
    let title = library
        .instrument(&response.instrument)
        .map(|i| i.reference.title.clone())
        .unwrap_or_default();
    let show_score = !state.db.scores_hidden_from_clients().await?;
    let html = DonePage {
        layout: page.layout("Thank you"),
        title,
        total: response.total.map(|t| {
            if t.fract() == 0.0 {
                format!("{t:.0}")
            } else {
                format!("{t:.2}")
            }
        }),
        band: response.band.clone(),
        show_score,
        urgent: response.risk.as_deref() == Some("urgent"),
        review: response.risk.as_deref() == Some("review"),
    }
    .render()?;
    Ok(Html(html).into_response())
}
