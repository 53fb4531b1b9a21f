//! The home page: a welcome for visitors, a starting point for each role.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};

use crate::accounts::queries::{CaseloadEntry, Stage};
use crate::authz::{Access, Role};
use crate::error::AppResult;
use crate::web::AppState;
use crate::web::extract::Page;
use crate::web::layout::Layout;
use crate::web::routes::Route;

/// Routes of this feature.
pub fn routes() -> Vec<Route> {
    vec![Route::get("/", Access::Public, show_home)]
}

/// The home page.
#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
    role: Option<Role>,
    name: String,
    user_id: String,
    caseload: Vec<CaseloadEntry>,
    needs_setup: bool,
    waiting: Vec<(String, String)>,
    open_alerts: usize,
    today: Vec<(String, String)>,
}

/// `GET /`
pub async fn show_home(State(state): State<AppState>, page: Page) -> AppResult<Response> {
    let full = page
        .user
        .as_ref()
        .filter(|u| u.session.stage == Stage::Full);
    let caseload = match full {
        Some(u) if matches!(u.user.role, Role::Therapist | Role::Supervisor) => {
            state.db.caseload(u.user.id).await?
        }
        _ => Vec::new(),
    };
    let needs_setup = full.is_none() && !state.db.has_admin().await?;
    // Questionnaires due now, for clients: (link, title).
    let mut waiting = Vec::new();
    let mut open_alerts = 0;
    // Practices the therapist suggested, shown first: (link, title).
    let mut today = Vec::new();
    if let Some(u) = full {
        if u.user.role == Role::Client {
            for h in state.db.homework_of(u.user.id).await? {
                if let Some(p) = crate::practice::library::find(&h.practice_id) {
                    today.push((format!("/practice/{}", p.id), p.title.clone()));
                }
            }
            let library = crate::measures::library::Library::get()
                .map_err(crate::error::AppError::Internal)?;
            let now = crate::db::Timestamp::now();
            for a in state
                .db
                .assignments_of(u.user.id)
                .await?
                .into_iter()
                .filter(|a| a.next_due_at <= now)
            {
                if let Some(inst) = library.instrument(&a.instrument)
                    && state.db.instrument_enabled(inst).await?
                {
                    waiting.push((
                        format!("/measures/assignments/{}", a.id),
                        inst.reference.title.clone(),
                    ));
                }
            }
        } else if matches!(u.user.role, Role::Therapist | Role::Supervisor) {
            open_alerts = state
                .db
                .open_alert_counts(u.user.id)
                .await?
                .iter()
                .map(|(_, n)| *n as usize)
                .sum();
        }
    }
    let title = if full.is_some() {
        "Home"
    } else {
        "Welcome to Tend"
    };
    let html = HomePage {
        layout: page.layout(title),
        role: full.map(|u| u.user.role),
        name: full.map(|u| u.user.name.clone()).unwrap_or_default(),
        user_id: full.map(|u| u.user.id.to_string()).unwrap_or_default(),
        caseload,
        needs_setup,
        waiting,
        open_alerts,
        today,
    }
    .render()?;
    Ok(Html(html).into_response())
}
