//! HTML pages for the caseload, client records and supervision.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::record::{Access, ClientView, authorize, intake_context, open_record};
use crate::accounts::invite::send_invitation;
use crate::accounts::queries::{CaseloadEntry, User};
use crate::authz::Role;
use crate::error::{AppError, AppResult};
use crate::web::AppState;
use crate::web::extract::{Form, Page, Signed, check_len, collect};
use crate::web::layout::{Errors, Layout};

/// The caseload page.
#[derive(Template)]
#[template(path = "care/caseload.html")]
struct CaseloadPage {
    layout: Layout,
    clients: Vec<CaseloadEntry>,
    /// Per client: (not on track on any instrument, open alerts).
    flags: std::collections::HashMap<Uuid, (bool, i64)>,
    /// Who needs attention today, most urgent first.
    attention: Vec<super::attention::Attention>,
    /// Clients in the caseload (before narrowing).
    total: usize,
    /// The table's order (query value).
    sort: &'static str,
    /// Only those who need attention are listed.
    only_attention: bool,
    /// Per client: the next booked session with this therapist.
    next_sessions: std::collections::HashMap<Uuid, String>,
    /// Per client: the session date of this therapist's latest note.
    last_notes: std::collections::HashMap<Uuid, String>,
    /// Per client: each questionnaire's line ("PHQ-9 17 → 9, reliably improved") and
    /// whether to draw it as a warning.
    scores: std::collections::HashMap<Uuid, Vec<(String, bool)>>,
    /// Per client: suggested practices done of those due over the last four weeks.
    adherence: std::collections::HashMap<Uuid, super::overview::Adherence>,
    /// Per client: the latest message either way or attended session.
    last_contacts: std::collections::HashMap<Uuid, String>,
    can_invite: bool,
    notice: Option<&'static str>,
    name: String,
    email: String,
    errors: Errors,
}

/// Query of the caseload page.
#[derive(Deserialize)]
pub struct CaseloadQuery {
    invited: Option<String>,
    /// `name` (default), `next` (soonest session first), `note` (longest since a note first),
    /// `contact` (longest since any contact first), `homework` (least homework done first)
    /// or `since` (longest in care first); anything else is the default.
    sort: Option<String>,
    /// `attention` to list only those who need it.
    show: Option<String>,
}

/// How the caseload table is ordered and narrowed.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
struct View {
    sort: Sort,
    only_attention: bool,
}

/// Orders of the caseload table.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
enum Sort {
    #[default]
    Name,
    NextSession,
    LastNote,
    LastContact,
    Homework,
    InCareSince,
}

impl Sort {
    /// From the query value.
    fn parse(value: Option<&str>) -> Sort {
        match value {
            Some("next") => Sort::NextSession,
            Some("note") => Sort::LastNote,
            Some("contact") => Sort::LastContact,
            Some("homework") => Sort::Homework,
            Some("since") => Sort::InCareSince,
            _ => Sort::Name,
        }
    }

    /// The query value.
    fn as_str(self) -> &'static str {
        match self {
            Sort::Name => "name",
            Sort::NextSession => "next",
            Sort::LastNote => "note",
            Sort::LastContact => "contact",
            Sort::Homework => "homework",
            Sort::InCareSince => "since",
        }
    }
}

/// `GET /clients`
pub async fn show_caseload(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Query(q): Query<CaseloadQuery>,
) -> AppResult<Response> {
    state
        .audit
        .viewed(
            current.user.principal(),
            "caseload.view",
            page.ip.as_deref(),
        )
        .await?;
    let notice = q.invited.map(
        |_| "Invitation sent. Your client will get an email with a link to set up their account.",
    );
    let view = View {
        sort: Sort::parse(q.sort.as_deref()),
        only_attention: q.show.as_deref() == Some("attention"),
    };
    caseload_page(
        &state,
        &page,
        &current.user,
        notice,
        String::new(),
        String::new(),
        Errors::default(),
        StatusCode::OK,
        view,
    )
    .await
}

/// Renders the caseload page.
#[allow(clippy::too_many_arguments)]
async fn caseload_page(
    state: &AppState,
    page: &Page,
    user: &User,
    notice: Option<&'static str>,
    name: String,
    email: String,
    errors: Errors,
    status: StatusCode,
    view: View,
) -> AppResult<Response> {
    let db = &state.db;
    let now = crate::db::Timestamp::now();
    let overdue_before = now - time::Duration::days(super::attention::OVERDUE_AFTER_DAYS);
    let window_start = now - time::Duration::days(super::overview::ADHERENCE_DAYS);
    let today = crate::plans::format_date(now.inner().date());
    // Independent reads, run together: SQLite's pool has several reader connections (WAL),
    // and one after another they took twice as long (bench/caseload).
    let (
        mut clients,
        summaries,
        alert_counts,
        next_sessions,
        last_notes,
        waiting,
        overdue,
        homework,
        completions,
        contacts,
        review_due,
    ) = tokio::try_join!(
        db.caseload(user.id),
        db.caseload_summaries(user.id),
        db.open_alert_counts(user.id),
        db.next_sessions(user.id),
        db.last_notes_by(user.id),
        db.waiting_messages(user.id),
        db.overdue_measures(user.id, overdue_before),
        db.caseload_homework(user.id),
        db.caseload_completions(user.id, window_start),
        db.last_contacts(user.id),
        db.plan_reviews_due(user.id, &today),
    )?;
    let library = crate::measures::library::Library::get().map_err(AppError::Internal)?;
    let mut flags: std::collections::HashMap<Uuid, (bool, i64)> = std::collections::HashMap::new();
    let mut scores: std::collections::HashMap<Uuid, Vec<(String, bool)>> =
        std::collections::HashMap::new();
    for s in summaries {
        flags.entry(s.client_id).or_default().0 |= s.not_on_track;
        let line = super::overview::ScoreLine {
            instrument: library.short_name(&s.instrument),
            baseline: crate::measures::progress::fmt_total(s.baseline_total),
            latest: crate::measures::progress::fmt_total(s.latest_total),
            status: super::overview::status_words(&s.status),
            warn: s.not_on_track
                || crate::measures::change::ChangeStatus::from_stored(&s.status)
                    == Some(crate::measures::change::ChangeStatus::ReliablyDeteriorated),
        };
        scores
            .entry(s.client_id)
            .or_default()
            .push((line.text(s.administrations), line.warn));
    }
    for (client, n) in alert_counts {
        flags.entry(client).or_default().1 = n;
    }
    let next_sessions: std::collections::HashMap<Uuid, crate::db::Timestamp> =
        next_sessions.into_iter().collect();
    let last_notes: std::collections::HashMap<Uuid, String> = last_notes.into_iter().collect();
    let adherence = super::overview::adherence(&homework, &completions, now);
    let last_contacts: std::collections::HashMap<Uuid, crate::db::Timestamp> =
        contacts.into_iter().collect();
    let facts = super::attention::Facts {
        waiting: waiting.into_iter().collect(),
        overdue: overdue.into_iter().collect(),
        review_due: review_due.into_iter().collect(),
        flags,
    };
    let attention = super::attention::who_needs_attention(&clients, &facts);
    let flags = facts.flags;
    let total = clients.len();
    if view.only_attention {
        clients.retain(|c| attention.iter().any(|a| a.client_id == c.id));
    }
    // Stable sorts over the name order the database returns; clients with no value go last
    // (no session booked) or first (never a note: those most need one).
    match view.sort {
        Sort::Name => {}
        Sort::NextSession => clients.sort_by_key(|c| {
            (
                !next_sessions.contains_key(&c.id),
                next_sessions.get(&c.id).copied(),
            )
        }),
        Sort::LastNote => clients.sort_by_key(|c| last_notes.get(&c.id).cloned()),
        // Never in contact first, then the longest ago.
        Sort::LastContact => clients.sort_by_key(|c| last_contacts.get(&c.id).copied()),
        // Least done first; those with nothing due go last.
        Sort::Homework => clients.sort_by_key(|c| {
            adherence
                .get(&c.id)
                .map_or((true, 0), |a| (false, a.percent()))
        }),
        Sort::InCareSince => clients.sort_by_key(|c| c.started_at),
    }
    let next_sessions = next_sessions
        .into_iter()
        .map(|(client, at)| (client, at.display()))
        .collect();
    let last_contacts = last_contacts
        .into_iter()
        .map(|(client, at)| (client, at.display()))
        .collect();
    let html = CaseloadPage {
        layout: page.layout("Your clients"),
        total,
        sort: view.sort.as_str(),
        only_attention: view.only_attention,
        clients,
        flags,
        attention,
        next_sessions,
        last_notes,
        scores,
        adherence,
        last_contacts,
        can_invite: user.role == Role::Therapist,
        notice,
        name,
        email,
        errors,
    }
    .render()?;
    Ok((status, Html(html)).into_response())
}

/// The invite-a-client form.
#[derive(Deserialize)]
pub struct InviteClientForm {
    name: String,
    email: String,
}

/// `POST /clients/invite`
pub async fn invite_client(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Form(form): Form<InviteClientForm>,
) -> AppResult<Response> {
    match send_invitation(
        &state,
        &current.user,
        &form.email,
        &form.name,
        Role::Client,
        page.ip.as_deref(),
    )
    .await
    {
        Ok(_) => Ok(Redirect::to("/clients?invited=1").into_response()),
        Err(AppError::Invalid(fields)) => {
            caseload_page(
                &state,
                &page,
                &current.user,
                None,
                form.name,
                form.email,
                Errors(fields),
                StatusCode::UNPROCESSABLE_ENTITY,
                View::default(),
            )
            .await
        }
        Err(other) => Err(other),
    }
}

/// The client record page.
#[derive(Template)]
#[template(path = "care/client.html")]
struct ClientPage {
    layout: Layout,
    view: ClientView,
    is_break_glass: bool,
    saved: bool,
}

/// Query of the client page.
#[derive(Deserialize)]
pub struct ClientQuery {
    saved: Option<String>,
}

/// `GET /clients/{id}`
pub async fn show_client(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Path(id): Path<Uuid>,
    Query(q): Query<ClientQuery>,
) -> AppResult<Response> {
    let view = open_record(&state, &current.user, id, page.ip.as_deref()).await?;
    let title = if view.grant == crate::authz::Grant::Own {
        "Your record".to_string()
    } else {
        view.client.name.clone()
    };
    let is_break_glass = view.grant == crate::authz::Grant::BreakGlass;
    let html = ClientPage {
        layout: page.layout(&title),
        view,
        is_break_glass,
        saved: q.saved.is_some(),
    }
    .render()?;
    Ok(Html(html).into_response())
}

/// The intake form.
#[derive(Deserialize)]
pub struct IntakeForm {
    intake: String,
}

/// Longest intake summary, in characters.
const INTAKE_MAX: usize = 20_000;

/// `POST /clients/{id}/intake`: the treating clinician updates the intake summary.
pub async fn update_intake(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Path(id): Path<Uuid>,
    Form(form): Form<IntakeForm>,
) -> AppResult<Response> {
    let (_, event) =
        authorize(&state, &current.user, id, Access::Write, page.ip.as_deref()).await?;
    collect([check_len("intake", &form.intake, INTAKE_MAX)])?;
    let sealed = state
        .sealer
        .seal(&intake_context(id), form.intake.trim())
        .await?;
    state.db.save_intake(id, &sealed, current.user.id).await?;
    state.audit.record(event).await?;
    Ok(Redirect::to(&format!("/clients/{id}?saved=1")).into_response())
}

/// The trainees page.
#[derive(Template)]
#[template(path = "care/trainees.html")]
struct TraineesPage {
    layout: Layout,
    trainees: Vec<User>,
}

/// `GET /trainees`: the supervisor's trainees (training work arrives with the coach).
pub async fn show_trainees(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
) -> AppResult<Response> {
    let trainees = state.db.trainees_of(current.user.id).await?;
    Ok(Html(
        TraineesPage {
            layout: page.layout("Your trainees"),
            trainees,
        }
        .render()?,
    )
    .into_response())
}
