//! Treatment plan pages: reading the plan with its progress, writing it, and reviewing it.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use uuid::Uuid;

use super::queries::PlanRow;
use super::{
    GoalProgress, PlanContent, REVIEW_MAX, ROWS, ReviewBody, format_date, plan_context, progress,
    review_context,
};
use crate::audit::Event;
use crate::authz::Role;
use crate::care::record::{Access, authorize, client_name};
use crate::db::versioned::{PlanDates, Versioned};
use crate::db::{DbError, new_id};
use crate::error::{AppError, AppResult, FieldError};
use crate::measures::library::Library;
use crate::web::AppState;
use crate::web::extract::{Form, Page, Signed, check_len};
use crate::web::layout::{Errors, Layout};

/// A goal as the plan page shows it.
pub struct GoalView {
    /// Words.
    pub text: String,
    /// "PHQ-9 ≤ 9", if measured.
    pub measure: Option<String>,
    /// `YYYY-MM-DD`, if set.
    pub by: Option<String>,
}

/// An intervention as the plan page shows it.
pub struct InterventionView {
    /// Words.
    pub text: String,
    /// (id, title) of the assigned practice.
    pub practice: Option<(String, String)>,
}

/// A review as the plan page shows it.
pub struct ReviewView {
    /// Who.
    pub author: String,
    /// When.
    pub when: String,
    /// Plan version reviewed.
    pub version: i64,
    /// The note.
    pub note: String,
    /// Progress lines of that day.
    pub progress: Vec<String>,
}

/// The plan page.
#[derive(Template)]
#[template(path = "plans/show.html")]
struct ShowPage {
    layout: Layout,
    client_id: Uuid,
    client_name: String,
    own: bool,
    can_write: bool,
    version: i64,
    updated: Option<(String, String)>,
    problems: Vec<String>,
    goals: Vec<GoalView>,
    interventions: Vec<InterventionView>,
    progress: Vec<GoalProgress>,
    review_weeks: u32,
    planned_end: Option<String>,
    next_review: Option<String>,
    review_due: bool,
    reviews: Vec<ReviewView>,
    /// (version, who, when).
    versions: Vec<(i64, String, String)>,
    review_draft: String,
    errors: Errors,
}

/// One row of the plan form.
pub struct FormRow {
    /// 1-based.
    pub n: usize,
    /// `problem_n`.
    pub problem: String,
    /// `goal_n_text`.
    pub goal: String,
    /// `goal_n_measure`.
    pub measure: String,
    /// `goal_n_target`.
    pub target: String,
    /// `goal_n_by`.
    pub by: String,
    /// `intervention_n_text`.
    pub intervention: String,
    /// `intervention_n_practice`.
    pub practice: String,
}

/// The plan form.
#[derive(Template)]
#[template(path = "plans/edit.html")]
struct EditPage {
    layout: Layout,
    client_id: Uuid,
    client_name: String,
    rows: Vec<FormRow>,
    /// (id, name).
    measures: Vec<(String, String)>,
    /// (id, title).
    practices: Vec<(String, String)>,
    review_weeks: String,
    planned_end: String,
    version: i64,
    errors: Errors,
}

/// The instrument library, or an internal error.
fn library() -> AppResult<&'static Library> {
    Library::get().map_err(AppError::Internal)
}

/// Said when a review was written against a plan someone has since changed.
const PLAN_MOVED: &str = "The plan changed since you opened this page. Your review is still here: read the plan again, then save.";

/// Today in UTC.
fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

/// Opens a plan row's content.
pub async fn open_plan(state: &AppState, client_id: Uuid, sealed: &[u8]) -> AppResult<PlanContent> {
    let json = state.sealer.open(&plan_context(client_id), sealed).await?;
    serde_json::from_str(&json).map_err(|e| AppError::Internal(e.to_string()))
}

/// The client's plan and its content, if written.
pub async fn load_plan(
    state: &AppState,
    client_id: Uuid,
) -> AppResult<Option<(PlanRow, PlanContent)>> {
    match state.db.treatment_plan(client_id).await? {
        Some(row) => {
            let content = open_plan(state, client_id, &row.content_sealed).await?;
            Ok(Some((row, content)))
        }
        None => Ok(None),
    }
}

/// The plan's reviews, opened.
pub async fn load_reviews(state: &AppState, client_id: Uuid) -> AppResult<Vec<ReviewView>> {
    let mut out = Vec::new();
    for r in state.db.plan_reviews(client_id).await? {
        let json = state
            .sealer
            .open(&review_context(r.id), &r.body_sealed)
            .await?;
        let body: ReviewBody =
            serde_json::from_str(&json).map_err(|e| AppError::Internal(e.to_string()))?;
        out.push(ReviewView {
            author: r.author_name,
            when: r.created_at.display(),
            version: r.plan_version,
            note: body.note,
            progress: body.progress,
        });
    }
    Ok(out)
}

/// Progress on the plan's measured goals, from the client's questionnaire summaries.
pub async fn plan_progress(
    state: &AppState,
    client_id: Uuid,
    plan: &PlanContent,
) -> AppResult<Vec<GoalProgress>> {
    let summaries = state.db.summaries_for(&[client_id]).await?;
    Ok(progress(plan, &summaries, library()?))
}

/// Goals and interventions in words, for reading.
pub fn describe(plan: &PlanContent, library: &Library) -> (Vec<GoalView>, Vec<InterventionView>) {
    let goals = plan
        .goals
        .iter()
        .map(|g| GoalView {
            text: g.text.clone(),
            measure: match (&g.measure, g.target) {
                (Some(m), Some(t)) => {
                    let lower = library
                        .instrument(m)
                        .is_some_and(|i| i.rules.higher_is_worse);
                    Some(format!(
                        "{} {} {t}",
                        library.short_name(m),
                        if lower { "≤" } else { "≥" }
                    ))
                }
                _ => None,
            },
            by: g.by.clone(),
        })
        .collect();
    let interventions = plan
        .interventions
        .iter()
        .map(|iv| InterventionView {
            text: iv.text.clone(),
            practice: iv
                .practice
                .as_ref()
                .map(|p| (p.clone(), crate::practice::library::title_of(p))),
        })
        .collect();
    (goals, interventions)
}

/// Renders the plan page with the review box holding `review_draft`.
async fn render_show(
    state: &AppState,
    page: &Page,
    current_user: &crate::accounts::queries::User,
    client_id: Uuid,
    can_write: bool,
    review_draft: String,
    errors: Vec<FieldError>,
) -> AppResult<String> {
    let own = current_user.id == client_id;
    let loaded = load_plan(state, client_id).await?;
    let library = library()?;
    let (row, content) = match loaded {
        Some((row, content)) => (Some(row), content),
        None => (None, PlanContent::default()),
    };
    let (goals, interventions) = describe(&content, library);
    let progress = plan_progress(state, client_id, &content).await?;
    let today = format_date(today());
    let next_review = row.as_ref().and_then(|r| r.next_review.clone());
    let versions = state
        .db
        .versions(Versioned::TreatmentPlan, client_id)
        .await?
        .into_iter()
        .map(|v| (v.version, v.updated_by_name, v.created_at.display()))
        .collect();
    Ok(ShowPage {
        layout: page.layout(if own {
            "Your plan for therapy"
        } else {
            "Treatment plan"
        }),
        client_name: client_name(state, client_id).await?,
        client_id,
        own,
        can_write,
        version: row.as_ref().map_or(0, |r| r.version),
        updated: row
            .as_ref()
            .map(|r| (r.updated_by_name.clone(), r.updated_at.display())),
        problems: content.problems.clone(),
        goals,
        interventions,
        progress,
        review_weeks: content.review_weeks,
        planned_end: content.planned_end.clone(),
        review_due: next_review.as_deref().is_some_and(|d| d <= today.as_str()),
        next_review,
        reviews: load_reviews(state, client_id).await?,
        versions,
        review_draft,
        errors: Errors(errors),
    }
    .render()?)
}

/// Whether `who` writes plans for this grant: the treating therapist.
fn writes(grant: crate::authz::Grant, who: &crate::accounts::queries::User) -> bool {
    grant.allows_write() && who.role == Role::Therapist
}

/// `GET /clients/{id}/plan`: the plan with its progress and reviews; the client reads their
/// own, the treating therapist reads and writes it.
pub async fn show(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let (grant, event) =
        authorize(&state, &current.user, id, Access::Read, page.ip.as_deref()).await?;
    state
        .audit
        .record(Event {
            action: "treatment_plan.read",
            ..event
        })
        .await?;
    let can_write = writes(grant, &current.user);
    let html = render_show(
        &state,
        &page,
        &current.user,
        id,
        can_write,
        String::new(),
        Vec::new(),
    )
    .await?;
    Ok(Html(html).into_response())
}

/// Renders the plan form from `fields`.
async fn render_edit(
    state: &AppState,
    page: &Page,
    client_id: Uuid,
    fields: &BTreeMap<String, String>,
    version: i64,
    errors: Vec<FieldError>,
) -> AppResult<String> {
    let get = |k: String| fields.get(&k).cloned().unwrap_or_default();
    let rows = (1..=ROWS)
        .map(|n| FormRow {
            n,
            problem: get(format!("problem_{n}")),
            goal: get(format!("goal_{n}_text")),
            measure: get(format!("goal_{n}_measure")),
            target: get(format!("goal_{n}_target")),
            by: get(format!("goal_{n}_by")),
            intervention: get(format!("intervention_{n}_text")),
            practice: get(format!("intervention_{n}_practice")),
        })
        .collect();
    let library = library()?;
    let measures = library
        .all()
        .filter(|i| i.reference.scoring.range.is_some())
        .map(|i| (i.id().to_string(), library.short_name(i.id())))
        .collect();
    let practices = crate::practice::library::all()
        .map_err(AppError::Internal)?
        .iter()
        .map(|p| (p.id.clone(), p.title.clone()))
        .collect();
    Ok(EditPage {
        layout: page.layout("Treatment plan"),
        client_name: client_name(state, client_id).await?,
        client_id,
        rows,
        measures,
        practices,
        review_weeks: get("review_weeks".into()),
        planned_end: get("planned_end".into()),
        version,
        errors: Errors(errors),
    }
    .render()?)
}

/// `GET /clients/{id}/plan/edit`: the form, filled with the current plan.
pub async fn edit(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    authorize(&state, &current.user, id, Access::Write, page.ip.as_deref()).await?;
    let (version, fields) = match load_plan(&state, id).await? {
        Some((row, content)) => (row.version, content.to_fields()),
        None => (0, PlanContent::default().to_fields()),
    };
    let html = render_edit(&state, &page, id, &fields, version, Vec::new()).await?;
    Ok(Html(html).into_response())
}

/// The version a form was edited from.
fn form_version(fields: &BTreeMap<String, String>) -> AppResult<i64> {
    fields
        .get("version")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| AppError::invalid("version", "This page is out of date; please reload it."))
}

/// `POST /clients/{id}/plan`: saves the plan as a new version. Problems come back on the form
/// with everything typed kept; a save that crossed someone else's shows the form again with
/// this person's words and a note to compare.
pub async fn save(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Path(id): Path<Uuid>,
    Form(fields): Form<BTreeMap<String, String>>,
) -> AppResult<Response> {
    let (_, event) =
        authorize(&state, &current.user, id, Access::Write, page.ip.as_deref()).await?;
    let version = form_version(&fields)?;
    let content = match PlanContent::from_fields(&fields, library()?, |p| {
        crate::practice::library::find(p).is_some()
    }) {
        Ok(c) => c,
        Err(errors) => {
            let html = render_edit(&state, &page, id, &fields, version, errors).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response());
        }
    };
    // The next review counts from the last review, or from the plan's first version: saving
    // changes never pushes a review further away.
    let since = match state.db.plan_reviews(id).await?.first() {
        Some(r) => r.created_at.inner().date(),
        None => state
            .db
            .versions(Versioned::TreatmentPlan, id)
            .await?
            .last()
            .map_or_else(today, |v| v.created_at.inner().date()),
    };
    let dates = PlanDates {
        planned_end: content.planned_end.clone(),
        next_review: Some(content.next_review(since)),
    };
    let json = serde_json::to_string(&content).map_err(|e| AppError::Internal(e.to_string()))?;
    let sealed = state.sealer.seal(&plan_context(id), &json).await?;
    match state
        .db
        .save_versioned(
            Versioned::TreatmentPlan,
            id,
            &sealed,
            version,
            current.user.id,
            Some(&dates),
        )
        .await
    {
        Ok(_) => {}
        Err(DbError::Conflict) => {
            let current_version = state.db.treatment_plan(id).await?.map_or(0, |r| r.version);
            // Named after the save button, so the error summary's link lands where to act.
            let errors = vec![FieldError::new(
                "save",
                "Someone else saved this plan a moment ago. Your changes are still here: open the plan in another tab to compare, then save again.",
            )];
            let html = render_edit(&state, &page, id, &fields, current_version, errors).await?;
            return Ok((StatusCode::CONFLICT, Html(html)).into_response());
        }
        Err(e) => return Err(e.into()),
    }
    state
        .audit
        .record(Event {
            action: "treatment_plan.update",
            ..event.clone()
        })
        .await?;
    // A practice named in the plan becomes weekly homework, with its reminders and its place
    // in adherence, unless it is already set. After the plan is saved: if this fails the error
    // is loud and saving again adds what is missing.
    let active = state.db.homework_of(id).await?;
    for practice in content
        .interventions
        .iter()
        .filter_map(|i| i.practice.as_deref())
    {
        if active.iter().any(|h| h.practice_id == practice) {
            continue;
        }
        state
            .db
            .add_homework(id, current.user.id, practice, None, Some(7))
            .await?;
        state
            .audit
            .record(Event {
                action: "homework.assigned",
                ..event.clone()
            })
            .await?;
    }
    Ok(Redirect::to(&format!("/clients/{id}/plan")).into_response())
}

/// `POST /clients/{id}/plan/reviews`: records a review with today's progress and sets the
/// next review date.
pub async fn review(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Path(id): Path<Uuid>,
    Form(fields): Form<BTreeMap<String, String>>,
) -> AppResult<Response> {
    let (grant, event) =
        authorize(&state, &current.user, id, Access::Write, page.ip.as_deref()).await?;
    let note = fields
        .get("note")
        .map(|n| n.trim().to_string())
        .unwrap_or_default();
    let version = form_version(&fields)?;
    let mut errors = Vec::new();
    if let Err(e) = check_len("note", &note, REVIEW_MAX) {
        errors.push(e);
    }
    if note.is_empty() {
        errors.push(FieldError::new(
            "note",
            "Write a few words about how the plan is going.",
        ));
    }
    let plan = load_plan(&state, id).await?;
    let mut status = StatusCode::UNPROCESSABLE_ENTITY;
    match &plan {
        None => errors.push(FieldError::new(
            "note",
            "Write the plan before reviewing it.",
        )),
        Some((row, _)) if row.version != version => {
            status = StatusCode::CONFLICT;
            errors.push(FieldError::new("note", PLAN_MOVED));
        }
        Some(_) => {}
    }
    let can_write = writes(grant, &current.user);
    let (Some((_, content)), true) = (plan, errors.is_empty()) else {
        let html = render_show(&state, &page, &current.user, id, can_write, note, errors).await?;
        return Ok((status, Html(html)).into_response());
    };
    let body = ReviewBody {
        note,
        progress: plan_progress(&state, id, &content)
            .await?
            .iter()
            .map(GoalProgress::sentence)
            .collect(),
    };
    let review_id = new_id();
    let json = serde_json::to_string(&body).map_err(|e| AppError::Internal(e.to_string()))?;
    let sealed = state.sealer.seal(&review_context(review_id), &json).await?;
    let next = content.next_review(today());
    if !state
        .db
        .add_plan_review(review_id, id, current.user.id, version, &sealed, &next)
        .await?
    {
        let errors = vec![FieldError::new("note", PLAN_MOVED)];
        let html = render_show(
            &state,
            &page,
            &current.user,
            id,
            can_write,
            body.note,
            errors,
        )
        .await?;
        return Ok((StatusCode::CONFLICT, Html(html)).into_response());
    }
    state
        .audit
        .record(Event {
            action: "treatment_plan.review",
            ..event
        })
        .await?;
    Ok(Redirect::to(&format!("/clients/{id}/plan#reviews")).into_response())
}
