//! The practice outcomes report and its CSV.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use super::queries::Engagement;
use super::{GROUPS, Line, MIN_CLIENTS, tally};
use crate::audit::{Event, Outcome};
use crate::error::AppResult;
use crate::measures::library::Library;
use crate::web::AppState;
use crate::web::extract::{Page, Signed};
use crate::web::layout::Layout;

/// Days without contact after which a client in care counts as out of touch, by default.
pub const DEFAULT_OUT_OF_TOUCH_DAYS: i64 = 60;

/// Query of the report.
#[derive(Deserialize)]
pub struct ReportQuery {
    /// Days without contact that count as out of touch (14 to 365).
    days: Option<i64>,
}

impl ReportQuery {
    /// The period, within its bounds.
    fn days(&self) -> i64 {
        self.days
            .unwrap_or(DEFAULT_OUT_OF_TOUCH_DAYS)
            .clamp(14, 365)
    }
}

/// The report page.
#[derive(Template)]
#[template(path = "outcomes/report.html")]
struct ReportPage {
    layout: Layout,
    /// Whole-practice lines, then each therapist's.
    practice: Vec<Line>,
    therapists: Vec<Line>,
    engagement: Vec<Engagement>,
    retention: Vec<super::Retention>,
    /// The retention curve's SVG points.
    retention_points: String,
    days: i64,
    groups: [&'static str; 4],
    min_clients: i64,
}

impl ReportPage {
    /// "PHQ-9" for `phq9`.
    fn name(&self, id: &str) -> String {
        instrument_name(id)
    }

    /// The sentence a screen reader hears for the retention chart.
    fn describe_retention(&self) -> String {
        self.retention
            .iter()
            .filter_map(|r| Some(format!("week {}: {}%", r.weeks, r.percent()?)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The sentence a screen reader hears for a line's bar.
    fn describe(&self, line: &Line) -> String {
        match line.counts.percents() {
            Some(p) => GROUPS
                .iter()
                .zip(p)
                .map(|(g, v)| format!("{g} {v}%"))
                .collect::<Vec<_>>()
                .join(", "),
            None => format!("Fewer than {MIN_CLIENTS} clients: percentages withheld"),
        }
    }
}

/// The short name of a questionnaire ("PHQ-9"), or its id when unknown.
fn instrument_name(id: &str) -> String {
    Library::get()
        .ok()
        .and_then(|l| l.instrument(id))
        .map_or_else(
            || id.to_string(),
            |i| crate::care::overview::short_title(&i.reference.title).to_string(),
        )
}

/// Everything the report shows.
struct Figures {
    /// Whole-practice lines.
    practice: Vec<Line>,
    /// Each therapist's lines.
    therapists: Vec<Line>,
    /// Per therapist: in care, out of touch since `since`, sessions.
    engagement: Vec<Engagement>,
    /// Clients still in contact at each point after care began.
    retention: Vec<super::Retention>,
}

/// Reads every count (together: they are independent) and records the access.
async fn gather(
    state: &AppState,
    page: &Page,
    current: &crate::web::middleware::CurrentUser,
    action: &'static str,
    since: crate::db::Timestamp,
) -> AppResult<Figures> {
    let (practice, therapists, engagement, retention) = tokio::try_join!(
        state.db.outcome_counts(),
        state.db.outcome_counts_by_therapist(),
        state.db.engagement(since),
        state.db.retention(crate::db::Timestamp::now()),
    )?;
    let practice: Vec<(String, String, String, i64)> = practice
        .into_iter()
        .map(|(instrument, status, n)| ("Whole practice".to_string(), instrument, status, n))
        .collect();
    state
        .audit
        .record(
            Event::new(Some(current.user.principal()), action, Outcome::Success)
                .from_ip(page.ip.as_deref()),
        )
        .await?;
    Ok(Figures {
        practice: tally(&practice),
        therapists: tally(&therapists),
        engagement,
        retention,
    })
}

/// `GET /outcomes`
pub async fn show_report(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Query(q): Query<ReportQuery>,
) -> AppResult<Response> {
    let days = q.days();
    let since = crate::db::Timestamp::now() - time::Duration::days(days);
    let figures = gather(&state, &page, &current, "outcomes.view", since).await?;
    let html = ReportPage {
        layout: page.layout("Practice outcomes"),
        practice: figures.practice,
        therapists: figures.therapists,
        engagement: figures.engagement,
        retention_points: super::retention_points(&figures.retention),
        retention: figures.retention,
        days,
        groups: GROUPS,
        min_clients: MIN_CLIENTS,
    }
    .render()?;
    Ok(Html(html).into_response())
}

/// `GET /outcomes.csv`
pub async fn download_csv(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
) -> AppResult<Response> {
    let since = crate::db::Timestamp::now() - time::Duration::days(DEFAULT_OUT_OF_TOUCH_DAYS);
    let figures = gather(&state, &page, &current, "outcomes.export", since).await?;
    let mut lines = figures.practice;
    lines.extend(figures.therapists);
    let body = super::csv(&lines, instrument_name);
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"tend-practice-outcomes.csv\""),
    );
    // Not for shared caches, even though it holds only counts.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
