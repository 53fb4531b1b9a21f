//! A client's progress: per instrument, baseline, latest, change status, an SVG chart with a
//! data table, and (for the treating therapist) assigning questionnaires.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::change::classify;
use super::chart::{Chart, HEIGHT, WIDTH, layout};
use super::library::{Instrument, Library};
use super::queries::{Assignment, Summary};
use crate::audit::Event;
use crate::care::record::{Access, authorize};
use crate::error::{AppError, AppResult};
use crate::web::AppState;
use crate::web::extract::{Form, Page, Signed};
use crate::web::layout::Layout;

/// One instrument's history, ready to draw.
pub struct Panel {
    /// Instrument id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Baseline total.
    pub baseline: String,
    /// Latest total.
    pub latest: String,
    /// Latest band.
    pub band: Option<String>,
    /// Change status in words.
    pub status: &'static str,
    /// Where the reliable-change value comes from, if there is one.
    pub rc_note: Option<String>,
    /// The chart.
    pub chart: Chart,
    /// (date, total, band) rows for the table.
    pub rows: Vec<(String, String, String)>,
}

/// The progress page.
#[derive(Template)]
#[template(path = "measures/progress.html")]
struct ProgressPage {
    layout: Layout,
    client_id: Uuid,
    client_name: String,
    panels: Vec<Panel>,
    can_assign: bool,
    assignments: Vec<(Assignment, String)>,
    instruments: Vec<(String, String)>,
    width: f64,
    height: f64,
}

/// Builds one instrument's panel from a client's submissions, or `None` when none was scored.
/// `key` makes element ids unique when several panels share a page.
pub fn panel_for(
    inst: &Instrument,
    history: &[super::queries::Response],
    key: String,
) -> Option<Panel> {
    let data: Vec<_> = history
        .iter()
        .filter_map(|r| {
            Some((
                r.submitted_at?,
                r.total?,
                r.band.clone().unwrap_or_default(),
            ))
        })
        .collect();
    let (first, last) = (data.first()?, data.last()?);
    let points: Vec<_> = data.iter().map(|(at, total, _)| (*at, *total)).collect();
    Some(Panel {
        id: key,
        title: inst.reference.title.clone(),
        baseline: fmt_total(first.1),
        latest: fmt_total(last.1),
        band: (!last.2.is_empty()).then(|| last.2.clone()),
        status: classify(&inst.rules, first.1, last.1).describe(),
        rc_note: inst.rules.reliable_change.as_ref().map(|rc| {
            format!(
                "Reliable change: {} points ({})",
                fmt_total(rc.points),
                rc.source
            )
        }),
        chart: layout(inst, &points),
        rows: data
            .iter()
            .map(|(at, total, band)| (at.display(), fmt_total(*total), band.clone()))
            .collect(),
    })
}

/// One client in the overview: a sparkline of their most-used questionnaire.
pub struct Tile {
    /// Client id (also keys the chart's element ids).
    pub client_id: Uuid,
    /// Name.
    pub name: String,
    /// Whether any instrument is not on track.
    pub not_on_track: bool,
    /// Instrument title.
    pub title: String,
    /// Baseline → latest and status in words.
    pub summary: String,
    /// The chart, when there are scores.
    pub chart: Option<Chart>,
    /// Number of points charted.
    pub points: usize,
}

/// Points per sparkline.
const SPARK_POINTS: i64 = 12;
/// Clients per page of the overview.
const OVERVIEW_PAGE: i64 = 24;
/// At most this many tiles under "not on track" (the caseload page flags every one).
const ATTENTION_MAX: i64 = 12;

/// The small-multiples overview.
#[derive(Template)]
#[template(path = "measures/overview.html")]
struct OverviewPage {
    layout: Layout,
    attention: Vec<Tile>,
    tiles: Vec<Tile>,
    page: i64,
    has_next: bool,
    width: f64,
    height: f64,
}

/// Query of the overview.
#[derive(Deserialize)]
pub struct OverviewQuery {
    page: Option<i64>,
}

/// Builds one client's tile from their summaries (most-administered first) and recent scores.
async fn tile(
    state: &AppState,
    library: &Library,
    client_id: Uuid,
    name: String,
    summaries: &[Summary],
) -> AppResult<Tile> {
    let not_on_track = summaries.iter().any(|s| s.not_on_track);
    let primary = summaries
        .iter()
        .find_map(|s| library.instrument(&s.instrument).map(|i| (s, i)));
    let Some((summary, inst)) = primary else {
        return Ok(Tile {
            client_id,
            name,
            not_on_track,
            title: String::new(),
            summary: "No scores yet.".into(),
            chart: None,
            points: 0,
        });
    };
    let recent = state
        .db
        .recent_totals(client_id, inst.id(), SPARK_POINTS)
        .await?;
    let status = classify(&inst.rules, summary.baseline_total, summary.latest_total).describe();
    Ok(Tile {
        client_id,
        name,
        not_on_track,
        title: inst.reference.title.clone(),
        summary: format!(
            "{} → {} · {status}",
            fmt_total(summary.baseline_total),
            fmt_total(summary.latest_total)
        ),
        points: recent.len(),
        chart: Some(layout(inst, &recent)),
    })
}

/// Tiles for a list of clients, reading all their summaries in one query.
async fn tiles(
    state: &AppState,
    library: &Library,
    clients: Vec<(Uuid, String)>,
) -> AppResult<Vec<Tile>> {
    let ids: Vec<Uuid> = clients.iter().map(|(id, _)| *id).collect();
    let summaries = state.db.summaries_for(&ids).await?;
    let mut out = Vec::with_capacity(clients.len());
    for (id, name) in clients {
        let mine: Vec<Summary> = summaries
            .iter()
            .filter(|s| s.client_id == id)
            .cloned()
            .collect();
        out.push(tile(state, library, id, name, &mine).await?);
    }
    Ok(out)
}

/// `GET /progress`: every client's progress at a glance — those not on track first, then
/// everyone by name, a page at a time. Reads one summary row set and a dozen recent scores per
/// client, so it stays fast with very large caseloads.
pub async fn show_overview(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    axum::extract::Query(q): axum::extract::Query<OverviewQuery>,
) -> AppResult<Response> {
    let number = q.page.unwrap_or(1).max(1);
    let library = Library::get().map_err(AppError::Internal)?;
    let attention = if number == 1 {
        tiles(
            &state,
            library,
            state
                .db
                .off_track_clients(current.user.id, ATTENTION_MAX)
                .await?,
        )
        .await?
    } else {
        Vec::new()
    };
    let mut clients = state
        .db
        .caseload_names(
            current.user.id,
            (number - 1) * OVERVIEW_PAGE,
            OVERVIEW_PAGE + 1,
        )
        .await?;
    let has_next = clients.len() as i64 > OVERVIEW_PAGE;
    clients.truncate(OVERVIEW_PAGE as usize);
    let tiles = tiles(&state, library, clients).await?;
    state
        .audit
        .record(
            Event::new(
                Some(current.user.principal()),
                "measures.overview",
                crate::audit::Outcome::Success,
            )
            .from_ip(page.ip.as_deref()),
        )
        .await?;
    let html = OverviewPage {
        layout: page.layout("Progress overview"),
        attention,
        tiles,
        page: number,
        has_next,
        width: WIDTH,
        height: HEIGHT,
    }
    .render()?;
    Ok(Html(html).into_response())
}

/// Formats a total for people.
pub fn fmt_total(t: f64) -> String {
    if t.fract() == 0.0 {
        format!("{t:.0}")
    } else {
        format!("{t:.2}")
    }
}

/// `GET /clients/{id}/progress`: the client themselves or a treating clinician (audited).
pub async fn show_progress(
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
            action: "measures.read",
            ..event
        })
        .await?;
    let client = state.db.user_by_id(id).await?.ok_or(AppError::NotFound)?;
    let library = Library::get().map_err(AppError::Internal)?;
    let mut panels = Vec::new();
    for inst in library.all() {
        let history = state.db.history(id, inst.id()).await?;
        if let Some(panel) = panel_for(inst, &history, inst.id().to_string()) {
            panels.push(panel);
        }
    }
    let can_assign = grant.allows_write();
    let mut instruments = Vec::new();
    if can_assign {
        for inst in library.all() {
            if state.db.instrument_enabled(inst).await? {
                instruments.push((inst.id().to_string(), inst.reference.title.clone()));
            }
        }
    }
    let assignments = state
        .db
        .assignments_of(id)
        .await?
        .into_iter()
        .map(|a| {
            let title = library
                .instrument(&a.instrument)
                .map(|i| i.reference.title.clone())
                .unwrap_or_default();
            (a, title)
        })
        .collect();
    let title = if current.user.id == id {
        "Your progress".to_string()
    } else {
        format!("{}: progress", client.name)
    };
    let html = ProgressPage {
        layout: page.layout(&title),
        client_id: id,
        client_name: client.name,
        panels,
        can_assign,
        assignments,
        instruments,
        width: WIDTH,
        height: HEIGHT,
    }
    .render()?;
    Ok(Html(html).into_response())
}

/// The assign form.
#[derive(Deserialize)]
pub struct AssignForm {
    instrument: String,
    /// `once`, `weekly` or a number of days.
    schedule: String,
}

/// `POST /clients/{id}/measures`: the treating therapist assigns a questionnaire; the client
/// gets an email that something is waiting (never which one) and sees it on their home page.
pub async fn assign(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Path(id): Path<Uuid>,
    Form(form): Form<AssignForm>,
) -> AppResult<Response> {
    let (_, event) =
        authorize(&state, &current.user, id, Access::Write, page.ip.as_deref()).await?;
    let library = Library::get().map_err(AppError::Internal)?;
    let inst = library.instrument(&form.instrument).ok_or_else(|| {
        AppError::invalid("instrument", "Please choose a questionnaire from the list.")
    })?;
    if !state.db.instrument_enabled(inst).await? {
        return Err(AppError::invalid(
            "instrument",
            "This questionnaire is turned off for your practice.",
        ));
    }
    let every_days = match form.schedule.as_str() {
        "once" => None,
        "weekly" => Some(7),
        days => match days.parse::<i64>() {
            Ok(n) if (1..=365).contains(&n) => Some(n),
            _ => {
                return Err(AppError::invalid(
                    "schedule",
                    "Please choose once, weekly, or every 1 to 365 days.",
                ));
            }
        },
    };
    let assignment_id = state
        .db
        .assign_measure(id, current.user.id, inst.id(), every_days)
        .await?;
    state
        .audit
        .record(Event {
            action: "measure.assigned",
            ..event
        })
        .await?;
    if let Some(client) = state.db.user_by_id(id).await? {
        super::respond::schedule_reminder(
            &state,
            &client,
            assignment_id,
            crate::db::Timestamp::now(),
        )
        .await?;
    }
    Ok(Redirect::to(&format!("/clients/{id}/progress")).into_response())
}
