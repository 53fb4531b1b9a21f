//! The practice outcomes report and its CSV.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use super::queries::Engagement;
use super::{GROUPS, Line, MIN_CLIENTS, tally};
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
    Library::get().map_or_else(|_| id.to_string(), |l| l.short_name(id))
}

/// The outcome lines, whole practice first then each therapist's.
async fn outcome_lines(state: &AppState) -> AppResult<(Vec<Line>, Vec<Line>)> {
    let (practice, therapists) = tokio::try_join!(
        state.db.outcome_counts(),
        state.db.outcome_counts_by_therapist(),
    )?;
    let practice: Vec<(String, String, String, i64)> = practice
        .into_iter()
        .map(|(instrument, status, n)| ("Whole practice".to_string(), instrument, status, n))
        .collect();
    Ok((tally(&practice), tally(&therapists)))
}

/// `GET /outcomes`
pub async fn show_report(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Query(q): Query<ReportQuery>,
) -> AppResult<Response> {
    let days = q.days();
    let now = crate::db::Timestamp::now();
    // Independent reads, run together.
    let ((practice, therapists), engagement, retention) = tokio::try_join!(
        outcome_lines(&state),
        async {
            Ok(state
                .db
                .engagement(
                    now - time::Duration::days(days),
                    &crate::plans::format_date(now.inner().date()),
                )
                .await?)
        },
        async { Ok(state.db.retention(now).await?) },
    )?;
    state
        .audit
        .viewed(
            current.user.principal(),
            "outcomes.view",
            page.ip.as_deref(),
        )
        .await?;
    let html = ReportPage {
        layout: page.layout("Practice outcomes"),
        practice,
        therapists,
        engagement,
        retention_points: super::retention_points(&retention),
        retention,
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
    // Only the outcome counts go in the file, so only they are read.
    let (mut lines, therapists) = outcome_lines(&state).await?;
    state
        .audit
        .viewed(
            current.user.principal(),
            "outcomes.export",
            page.ip.as_deref(),
        )
        .await?;
    lines.extend(therapists);
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
