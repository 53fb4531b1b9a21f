//! HTML pages for administrators.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use time::Duration;
use uuid::Uuid;

use super::break_glass_context;
use crate::accounts::invite::send_invitation;
use crate::accounts::queries::User;
use crate::audit::{AuditFilter, Entry, Event, Outcome};
use crate::authz::Role;
use crate::db::{Timestamp, new_id};
use crate::error::{AppError, AppResult, FieldError};
use crate::web::AppState;
use crate::web::extract::{Form, Page, Signed, check_len, check_required};
use crate::web::layout::{Errors, Layout};

/// The people page.
#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    layout: Layout,
    users: Vec<User>,
    notice: Option<&'static str>,
    name: String,
    email: String,
    role: String,
    errors: Errors,
}

/// Query of the people page.
#[derive(Deserialize)]
pub struct UsersQuery {
    invited: Option<String>,
}

/// `GET /admin/users`
pub async fn show_users(
    State(state): State<AppState>,
    page: Page,
    Query(q): Query<UsersQuery>,
) -> AppResult<Response> {
    let notice = q.invited.map(|_| "Invitation sent.");
    users_page(
        &state,
        &page,
        notice,
        String::new(),
        String::new(),
        "therapist".into(),
        Errors::default(),
        StatusCode::OK,
    )
    .await
}

/// Renders the people page.
#[allow(clippy::too_many_arguments)]
async fn users_page(
    state: &AppState,
    page: &Page,
    notice: Option<&'static str>,
    name: String,
    email: String,
    role: String,
    errors: Errors,
    status: StatusCode,
) -> AppResult<Response> {
    let users = state.db.list_users(None).await?;
    let html = UsersPage {
        layout: page.layout("People"),
        users,
        notice,
        name,
        email,
        role,
        errors,
    }
    .render()?;
    Ok((status, Html(html)).into_response())
}

/// The invite-staff form.
#[derive(Deserialize)]
pub struct InviteStaffForm {
    name: String,
    email: String,
    role: String,
}

/// `POST /admin/invitations`
pub async fn invite_staff(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Form(form): Form<InviteStaffForm>,
) -> AppResult<Response> {
    let role = match form.role.parse::<Role>() {
        Ok(role) if role != Role::Client => Ok(role),
        _ => Err(AppError::Invalid(vec![FieldError::new(
            "role",
            "Please choose therapist, supervisor or admin. Therapists invite their own clients.",
        )])),
    };
    let result = match role {
        Ok(role) => send_invitation(
            &state,
            &current.user,
            &form.email,
            &form.name,
            role,
            page.ip.as_deref(),
        )
        .await
        .map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(Redirect::to("/admin/users?invited=1").into_response()),
        Err(AppError::Invalid(fields)) => {
            users_page(
                &state,
                &page,
                None,
                form.name,
                form.email,
                form.role,
                Errors(fields),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(other) => Err(other),
    }
}

/// The audit page.
#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    layout: Layout,
    entries: Vec<Entry>,
    filter: AuditFilter,
    older: Option<i64>,
}

/// Entries per audit page.
const AUDIT_PAGE: i64 = 100;

/// `GET /admin/audit`: newest first, filtered.
pub async fn show_audit(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Query(filter): Query<AuditFilter>,
) -> AppResult<Response> {
    let entries = state.db.audit_page(&filter, AUDIT_PAGE).await?;
    // Reading the audit trail is itself a security-relevant access.
    state
        .audit
        .record(
            Event::new(
                Some(current.user.principal()),
                "audit.read",
                Outcome::Success,
            )
            .from_ip(page.ip.as_deref()),
        )
        .await?;
    let older = (entries.len() as i64 == AUDIT_PAGE)
        .then(|| entries.last().map(|e| e.seq))
        .flatten();
    Ok(Html(
        AuditPage {
            layout: page.layout("Audit trail"),
            entries,
            filter,
            older,
        }
        .render()?,
    )
    .into_response())
}

/// The break-glass page.
#[derive(Template)]
#[template(path = "admin/break_glass.html")]
struct BreakGlassPage {
    layout: Layout,
    client: User,
    errors: Errors,
}

/// Finds a client account by id or answers 404.
async fn client_or_404(state: &AppState, id: Uuid) -> AppResult<User> {
    match state.db.user_by_id(id).await? {
        Some(user) if user.role == Role::Client => Ok(user),
        _ => Err(AppError::NotFound),
    }
}

/// `GET /admin/break-glass/{client_id}`
pub async fn show_break_glass(
    State(state): State<AppState>,
    page: Page,
    Path(client_id): Path<Uuid>,
) -> AppResult<Response> {
    let client = client_or_404(&state, client_id).await?;
    Ok(Html(
        BreakGlassPage {
            layout: page.layout("Emergency access"),
            client,
            errors: Errors::default(),
        }
        .render()?,
    )
    .into_response())
}

/// The break-glass form.
#[derive(Deserialize)]
pub struct BreakGlassForm {
    reason: String,
}

/// How long a break-glass grant lasts.
const GRANT_MINUTES: i64 = 60;

/// `POST /admin/break-glass/{client_id}`: grants one hour of read access for a typed reason.
pub async fn break_glass(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Path(client_id): Path<Uuid>,
    Form(form): Form<BreakGlassForm>,
) -> AppResult<Response> {
    let client = client_or_404(&state, client_id).await?;
    let reason = form.reason.trim();
    let mut problems: Vec<FieldError> = [
        check_required("reason", reason),
        check_len("reason", reason, 1000),
    ]
    .into_iter()
    .filter_map(Result::err)
    .collect();
    if problems.is_empty() && reason.chars().count() < 15 {
        problems.push(FieldError::new(
            "reason",
            "Please describe the emergency in a sentence; the client's therapist will read it.",
        ));
    }
    if !problems.is_empty() {
        let html = BreakGlassPage {
            layout: page.layout("Emergency access"),
            client,
            errors: Errors(problems),
        }
        .render()?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response());
    }
    let id = new_id();
    let sealed = state.sealer.seal(&break_glass_context(id), reason).await?;
    state
        .db
        .create_break_glass(
            id,
            current.user.id,
            client_id,
            &sealed,
            Timestamp::now() + Duration::minutes(GRANT_MINUTES),
        )
        .await?;
    state
        .audit
        .record(
            Event::new(
                Some(current.user.principal()),
                "break_glass.granted",
                Outcome::Success,
            )
            .on("client", client_id)
            .from_ip(page.ip.as_deref()),
        )
        .await?;
    Ok(Redirect::to(&format!("/clients/{client_id}")).into_response())
}

/// The background-work page.
#[derive(Template)]
#[template(path = "admin/jobs.html")]
struct JobsPage {
    layout: crate::web::layout::Layout,
    jobs: Vec<crate::jobs::AttentionJob>,
}

/// `GET /admin/jobs`: failed and retrying background work, safety work first, so a failure
/// in screening, alerting or paging is visible rather than silent.
pub async fn show_jobs(State(state): State<AppState>, page: Page) -> AppResult<Response> {
    let mut jobs = state.db.jobs_needing_attention().await?;
    jobs.sort_by_key(|j| !j.is_safety());
    Ok(Html(
        JobsPage {
            layout: page.layout("Background work"),
            jobs,
        }
        .render()?,
    )
    .into_response())
}

/// The crisis-lines page.
#[derive(Template)]
#[template(path = "admin/crisis_lines.html")]
struct CrisisLinesPage {
    layout: crate::web::layout::Layout,
    text: String,
    region: String,
    errors: crate::web::layout::Errors,
    saved: bool,
}

/// The practice's lines as the form shows them: one per line, `name | how | contact | link`.
fn lines_as_text(lines: &[crate::safety::crisis::Line]) -> String {
    lines
        .iter()
        .map(|l| format!("{} | {} | {} | {}", l.name, l.how, l.contact, l.href))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Renders the crisis-lines page.
fn render_crisis_lines(
    state: &AppState,
    page: &Page,
    text: String,
    errors: crate::web::layout::Errors,
    saved: bool,
) -> AppResult<Html<String>> {
    Ok(Html(
        CrisisLinesPage {
            layout: page.layout("Crisis lines"),
            text,
            region: state.config.crisis_region.clone(),
            errors,
            saved,
        }
        .render()?,
    ))
}

/// `GET /admin/crisis-lines`
pub async fn show_crisis_lines(State(state): State<AppState>, page: Page) -> AppResult<Response> {
    let lines = state.db.practice_crisis_lines().await?;
    let text = lines_as_text(&lines);
    Ok(render_crisis_lines(&state, &page, text, Default::default(), false)?.into_response())
}

/// The crisis-lines form.
#[derive(serde::Deserialize)]
pub struct CrisisLinesForm {
    #[serde(default)]
    lines: String,
}

/// `POST /admin/crisis-lines`: the practice's own lines, shown first everywhere crisis
/// resources appear.
pub async fn save_crisis_lines(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    crate::web::extract::Form(form): crate::web::extract::Form<CrisisLinesForm>,
) -> AppResult<Response> {
    let mut lines = Vec::new();
    let mut problems = Vec::new();
    for (n, raw) in form
        .lines
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let parts: Vec<&str> = raw.split('|').map(str::trim).collect();
        let line = crate::safety::crisis::Line {
            name: parts.first().copied().unwrap_or_default().to_string(),
            how: parts.get(1).copied().unwrap_or_default().to_string(),
            contact: parts.get(2).copied().unwrap_or_default().to_string(),
            href: parts.get(3).copied().unwrap_or_default().to_string(),
        };
        match crate::safety::crisis::check_line(&line) {
            Ok(()) => lines.push(line),
            Err(message) => problems.push(crate::error::FieldError::new(
                "lines",
                format!("Line {}: {message}", n + 1),
            )),
        }
    }
    if lines.len() > 20 {
        problems.push(crate::error::FieldError::new(
            "lines",
            "Please list at most 20 lines.",
        ));
    }
    if !problems.is_empty() {
        let errors = crate::web::layout::Errors(problems);
        let html = render_crisis_lines(&state, &page, form.lines, errors, false)?;
        return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, html).into_response());
    }
    state.db.set_practice_crisis_lines(&lines).await?;
    state.crisis.forget();
    state
        .audit
        .record(
            crate::audit::Event::new(
                Some(current.user.principal()),
                "settings.crisis_lines_updated",
                crate::audit::Outcome::Success,
            )
            .from_ip(page.ip.as_deref()),
        )
        .await?;
    let text = lines_as_text(&lines);
    Ok(render_crisis_lines(&state, &page, text, Default::default(), true)?.into_response())
}
