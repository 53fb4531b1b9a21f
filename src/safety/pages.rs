//! Viewing and editing a safety plan: the client, and clinicians treating them.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use uuid::Uuid;

use super::{SECTIONS, plan_context};
use crate::care::record::{Access, authorize};
use crate::db::DbError;
use crate::db::versioned::Versioned;
use crate::error::{AppError, AppResult};
use crate::web::AppState;
use crate::web::extract::{Form, Page, Signed, check_len};

/// Longest section, in characters.
const SECTION_MAX: usize = 4000;

/// One section as shown.
pub struct SectionView {
    /// Field name.
    pub field: &'static str,
    /// Heading.
    pub heading: &'static str,
    /// Hint.
    pub hint: &'static str,
    /// Current text.
    pub text: String,
}

/// The plan page.
#[derive(Template)]
#[template(path = "safety/plan.html")]
struct PlanPage {
    layout: crate::web::layout::Layout,
    client_id: Uuid,
    own: bool,
    can_edit: bool,
    sections: Vec<SectionView>,
    version: i64,
    updated: Option<String>,
    empty: bool,
    /// Earlier versions: (number, who, when).
    versions: Vec<(i64, String, String)>,
    /// Showing an earlier version (read-only).
    viewing_version: Option<i64>,
}

/// Opens a sealed plan into its sections.
pub async fn open_sections(
    state: &AppState,
    client_id: Uuid,
    sealed: Option<&[u8]>,
) -> AppResult<Vec<SectionView>> {
    let content: BTreeMap<String, String> = match sealed {
        Some(bytes) => {
            serde_json::from_str(&state.sealer.open(&plan_context(client_id), bytes).await?)
                .map_err(|e| AppError::Internal(e.to_string()))?
        }
        None => BTreeMap::new(),
    };
    Ok(SECTIONS
        .iter()
        .map(|(field, heading, hint)| SectionView {
            field,
            heading,
            hint,
            text: content.get(*field).cloned().unwrap_or_default(),
        })
        .collect())
}

/// `GET /safety-plan`: the signed-in client's own plan.
pub async fn show_own_plan(Signed(current): Signed) -> Response {
    Redirect::to(&format!("/clients/{}/safety-plan", current.user.id)).into_response()
}

/// `GET /clients/{id}/safety-plan`
pub async fn show_plan(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let (grant, event) =
        authorize(&state, &current.user, id, Access::Read, page.ip.as_deref()).await?;
    state
        .audit
        .record(crate::audit::Event {
            action: "safety_plan.read",
            ..event
        })
        .await?;
    let row = state.db.safety_plan(id).await?;
    let sections = open_sections(
        &state,
        id,
        row.as_ref().map(|r| r.content_sealed.as_slice()),
    )
    .await?;
    let versions = state
        .db
        .versions(Versioned::SafetyPlan, id)
        .await?
        .into_iter()
        .map(|v| (v.version, v.updated_by_name, v.created_at.display()))
        .collect();
    let own = current.user.id == id;
    let html = PlanPage {
        layout: page.layout(if own {
            "Your safety plan"
        } else {
            "Safety plan"
        }),
        client_id: id,
        own,
        // The client and their treating clinicians write it together; break-glass only reads.
        can_edit: own || grant.allows_write(),
        empty: sections.iter().all(|s| s.text.is_empty()),
        sections,
        version: row.as_ref().map_or(0, |r| r.version),
        updated: row.map(|r| r.updated_at.display()),
        versions,
        viewing_version: None,
    }
    .render()?;
    Ok(Html(html).into_response())
}

/// `GET /clients/{id}/safety-plan/versions/{version}`: an earlier version, read-only and
/// printable.
pub async fn show_version(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Path((id, version)): Path<(Uuid, i64)>,
) -> AppResult<Response> {
    let (_, event) = authorize(&state, &current.user, id, Access::Read, page.ip.as_deref()).await?;
    let versions = state.db.versions(Versioned::SafetyPlan, id).await?;
    let chosen = versions
        .iter()
        .find(|v| v.version == version)
        .ok_or(AppError::NotFound)?;
    state
        .audit
        .record(crate::audit::Event {
            action: "safety_plan.read_version",
            ..event
        })
        .await?;
    let sections = open_sections(&state, id, Some(&chosen.content_sealed)).await?;
    let html = PlanPage {
        layout: page.layout(&format!("Safety plan, version {version}")),
        client_id: id,
        own: current.user.id == id,
        can_edit: false,
        empty: sections.iter().all(|s| s.text.is_empty()),
        sections,
        version,
        updated: Some(chosen.created_at.display()),
        versions: Vec::new(),
        viewing_version: Some(version),
    }
    .render()?;
    Ok(Html(html).into_response())
}

/// The help page.
#[derive(Template)]
#[template(path = "safety/help.html")]
struct HelpPage {
    layout: crate::web::layout::Layout,
    is_client: bool,
}

/// `GET /help`: crisis lines for anyone, and for a signed-in client their safety plan and a
/// way to their therapist. Works without JavaScript and without signing in.
pub async fn help(page: Page) -> AppResult<Response> {
    let is_client = page.attention.is_client;
    Ok(Html(
        HelpPage {
            layout: page.layout("Need help now?"),
            is_client,
        }
        .render()?,
    )
    .into_response())
}

/// `POST /clients/{id}/safety-plan`
pub async fn save_plan(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Path(id): Path<Uuid>,
    Form(fields): Form<BTreeMap<String, String>>,
) -> AppResult<Response> {
    let own = current.user.id == id;
    let access = if own { Access::Read } else { Access::Write };
    let (_, event) = authorize(&state, &current.user, id, access, page.ip.as_deref()).await?;
    let mut content = BTreeMap::new();
    let mut problems = Vec::new();
    for (field, ..) in SECTIONS {
        let text = fields
            .get(field)
            .map(|t| t.trim().to_string())
            .unwrap_or_default();
        if let Err(e) = check_len(field, &text, SECTION_MAX) {
            problems.push(e);
        }
        content.insert(field.to_string(), text);
    }
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let version: i64 = fields
        .get("version")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| {
            AppError::invalid("version", "This page is out of date; please reload it.")
        })?;
    let json = serde_json::to_string(&content).map_err(|e| AppError::Internal(e.to_string()))?;
    let sealed = state.sealer.seal(&plan_context(id), &json).await?;
    state.db.save_versioned(Versioned::SafetyPlan, id, &sealed, version, current.user.id, None).await.map_err(|e| match e {
        DbError::Conflict => AppError::Conflict("Someone else saved this plan a moment ago. Please reload to see their changes, then add yours.".into()),
        other => other.into(),
    })?;
    state
        .audit
        .record(crate::audit::Event {
            action: "safety_plan.update",
            ..event
        })
        .await?;
    Ok(Redirect::to(&format!("/clients/{id}/safety-plan")).into_response())
}
