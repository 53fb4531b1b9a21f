//! Client rights pages: confirming one's password, the record, the exports and deletion.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use uuid::Uuid;

use super::export::{ClientExport, Reader, collect, fhir_bundle};
use super::{is_fresh, safe_next};
use crate::accounts::signin::{account_event, check_password, check_second_factor};
use crate::audit::{Event, Outcome};
use crate::authz::Grant;
use crate::care::record::{Access, authorize};
use crate::db::Timestamp;
use crate::error::{AppError, AppResult, FieldError};
use crate::web::AppState;
use crate::web::extract::{Form, Page, Signed};
use crate::web::layout::{Errors, Layout};
use crate::web::middleware::CurrentUser;

/// The password confirmation page.
#[derive(Template)]
#[template(path = "rights/confirm.html")]
struct ConfirmPage {
    layout: Layout,
    next: String,
    totp: bool,
    errors: Errors,
}

/// The record page.
#[derive(Template)]
#[template(path = "rights/record.html")]
struct RecordPage {
    layout: Layout,
    x: ClientExport,
    own: bool,
    can_export: bool,
    fresh: bool,
    purge_after: Option<String>,
    errors: Errors,
}

/// The readable export: the same body, standalone and printable.
#[derive(Template)]
#[template(path = "rights/document.html")]
struct Document {
    x: ClientExport,
}

/// The page shown after the account closed.
#[derive(Template)]
#[template(path = "rights/closed.html")]
struct ClosedPage {
    layout: Layout,
    purge_after: String,
}

/// Query of the confirmation page.
#[derive(serde::Deserialize)]
pub struct NextQuery {
    /// Where to go afterwards.
    next: Option<String>,
}

/// `GET /account/confirm?next=…`: asks for the password (and a code, with two-step sign-in).
pub async fn confirm_form(
    page: Page,
    Signed(current): Signed,
    Query(q): Query<NextQuery>,
) -> AppResult<Response> {
    let next = q
        .next
        .as_deref()
        .and_then(safe_next)
        .unwrap_or("/")
        .to_string();
    let html = ConfirmPage {
        layout: page.layout("Confirm it's you"),
        next,
        totp: current.user.totp_enabled,
        errors: Errors(Vec::new()),
    }
    .render()?;
    Ok(Html(html).into_response())
}

/// `POST /account/confirm`: checks the password (and code) under the sign-in rate limits,
/// marks this session as recently confirmed, and goes on to `next`.
pub async fn confirm(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Form(fields): Form<BTreeMap<String, String>>,
) -> AppResult<Response> {
    let get = |k: &str| fields.get(k).map(String::as_str).unwrap_or("");
    let next = safe_next(get("next")).unwrap_or("/").to_string();
    if current.via_bearer {
        return Err(AppError::Forbidden);
    }
    let ip = page.ip.as_deref();
    let password_ok = check_password(&state, &current.user.email, get("password"), ip)
        .await?
        .is_some_and(|u| u.id == current.user.id);
    // The same second-factor check as sign-in: its own rate limit, recovery codes, audit.
    let code_ok = !current.user.totp_enabled
        || (password_ok && check_second_factor(&state, &current.user, get("code"), ip).await?);
    if !(password_ok && code_ok) {
        state
            .audit
            .record(account_event(
                &current.user,
                "auth.reauthenticate",
                Outcome::Failure,
                ip,
            ))
            .await?;
        let field = if password_ok { "code" } else { "password" };
        let message = if password_ok {
            "That code didn't work. Please try the newest code from your app."
        } else {
            "That password didn't match. Please try again."
        };
        let html = ConfirmPage {
            layout: page.layout("Confirm it's you"),
            next,
            totp: current.user.totp_enabled,
            errors: Errors(vec![FieldError::new(field, message)]),
        }
        .render()?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response());
    }
    state.db.mark_reauthenticated(current.session.id).await?;
    state
        .audit
        .record(account_event(
            &current.user,
            "auth.reauthenticate",
            Outcome::Success,
            ip,
        ))
        .await?;
    Ok(Redirect::to(&next).into_response())
}

/// `GET /my/record`: the signed-in client's own record.
pub async fn own_record(Signed(current): Signed) -> Response {
    Redirect::to(&format!("/clients/{}/record", current.user.id)).into_response()
}

/// Whose view of the record this reader gets.
fn reader_of(grant: Grant, current: &CurrentUser) -> Reader {
    if grant == Grant::Own {
        Reader::Client
    } else {
        Reader::Clinician(current.user.id)
    }
}

/// Sends the person to confirm their password, then on to `next` (a local path).
fn confirm_first(next: &str) -> Response {
    let to = format!(
        "/account/confirm?next={}",
        url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
    );
    Redirect::to(&to).into_response()
}

/// Whether this session confirmed its password recently.
fn fresh(current: &CurrentUser) -> bool {
    !current.via_bearer && is_fresh(current.session.reauthenticated_at, Timestamp::now())
}

/// Authorises and audits a read of the whole record, then renders the record page with
/// `errors` (from the deletion form).
async fn show_record(
    state: &AppState,
    page: &Page,
    current: &CurrentUser,
    id: Uuid,
    errors: Vec<FieldError>,
) -> AppResult<String> {
    let (grant, event) =
        authorize(state, &current.user, id, Access::Read, page.ip.as_deref()).await?;
    // A break-glass read is named as one, like every other record read.
    let action = if grant == Grant::BreakGlass {
        "client_record.read_all_break_glass"
    } else {
        "client_record.read_all"
    };
    state.audit.record(Event { action, ..event }).await?;
    let own = grant == Grant::Own;
    let x = collect(state, id, reader_of(grant, current)).await?;
    let purge_after = state
        .db
        .deletion_request(id)
        .await?
        .map(|d| d.purge_after.display());
    Ok(RecordPage {
        layout: page.layout(if own { "Your record" } else { "Full record" }),
        own,
        can_export: matches!(grant, Grant::Own | Grant::Treating),
        fresh: fresh(current),
        purge_after,
        x,
        errors: Errors(errors),
    }
    .render()?)
}

/// `GET /clients/{id}/record`: the whole record as one readable page.
pub async fn record(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let html = show_record(&state, &page, &current, id, Vec::new()).await?;
    Ok(Html(html).into_response())
}

/// The export formats.
#[derive(Clone, Copy)]
enum Format {
    /// Tend's JSON.
    Json,
    /// FHIR R4 Bundle.
    Fhir,
    /// Readable HTML.
    Html,
}

impl Format {
    /// Path suffix, audit action, file name suffix and media type.
    fn parts(self) -> (&'static str, &'static str, &'static str, &'static str) {
        match self {
            Format::Json => (
                "export.json",
                "client_record.export_json",
                "json",
                "application/json",
            ),
            Format::Fhir => (
                "export.fhir.json",
                "client_record.export_fhir",
                "fhir.json",
                "application/fhir+json",
            ),
            Format::Html => (
                "export.html",
                "client_record.export_html",
                "html",
                "text/html; charset=utf-8",
            ),
        }
    }
}

/// Checks who may export and that they confirmed their password; audits the export (or the
/// refusal) and writes it.
async fn export(
    state: &AppState,
    page: &Page,
    current: &CurrentUser,
    id: Uuid,
    format: Format,
) -> AppResult<Response> {
    let (suffix, action, file_suffix, media) = format.parts();
    let ip = page.ip.as_deref();
    // Only the client and their treating therapist take a copy: not a break-glass admin, and
    // for anyone else 403 whether or not the id exists (authorize has audited that refusal).
    let (grant, event) = match authorize(state, &current.user, id, Access::Read, ip).await {
        Ok(ok) => ok,
        Err(AppError::NotFound) => return Err(AppError::Forbidden),
        Err(e) => return Err(e),
    };
    if !matches!(grant, Grant::Own | Grant::Treating) {
        state
            .audit
            .record(Event {
                action,
                outcome: Outcome::Denied,
                ..event
            })
            .await?;
        return Err(AppError::Forbidden);
    }
    if !fresh(current) {
        if current.via_bearer {
            return Err(AppError::Forbidden);
        }
        return Ok(confirm_first(&format!("/clients/{id}/{suffix}")));
    }
    state.audit.record(Event { action, ..event }).await?;
    let body = match format {
        Format::Json => {
            serde_json::to_string_pretty(&collect(state, id, reader_of(grant, current)).await?)
                .map_err(|e| AppError::Internal(e.to_string()))?
        }
        Format::Fhir => serde_json::to_string_pretty(&fhir_bundle(state, id).await?)
            .map_err(|e| AppError::Internal(e.to_string()))?,
        Format::Html => Document {
            x: collect(state, id, reader_of(grant, current)).await?,
        }
        .render()?,
    };
    let date = Timestamp::now().inner().date();
    let disposition = format!("attachment; filename=\"tend-record-{date}.{file_suffix}\"");
    Ok((
        [
            (header::CONTENT_TYPE, media.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response())
}

/// `GET /clients/{id}/export.json`
pub async fn export_json(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    export(&state, &page, &current, id, Format::Json).await
}

/// `GET /clients/{id}/export.fhir.json`
pub async fn export_fhir(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    export(&state, &page, &current, id, Format::Fhir).await
}

/// `GET /clients/{id}/export.html`
pub async fn export_html(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    export(&state, &page, &current, id, Format::Html).await
}

/// `POST /my/deletion`: closes the client's account now and schedules the purge of their
/// record for the end of the retention period. Needs a recent password confirmation and a
/// ticked box saying they understand.
pub async fn request_deletion(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Form(fields): Form<BTreeMap<String, String>>,
) -> AppResult<Response> {
    let id = current.user.id;
    if !fresh(&current) {
        return Ok(confirm_first(&format!("/clients/{id}/record#delete")));
    }
    if !crate::web::extract::is_checked(fields.get("understand").map_or("", String::as_str)) {
        let errors = vec![FieldError::new(
            "understand",
            "Please tick the box to say you understand what deleting means.",
        )];
        let html = show_record(&state, &page, &current, id, errors).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response());
    }
    let days = state.config.record_retention_days.max(0);
    let now = Timestamp::now();
    let purge_after = now + time::Duration::days(days);
    // The purge job goes first: if queueing fails nothing has changed and the client can try
    // again; its key makes a second request harmless, and a job whose request is gone does
    // nothing.
    super::queue_purge(&state, id, purge_after).await?;
    if state.db.request_deletion(id, now, purge_after).await? {
        state
            .audit
            .record(
                Event::new(
                    Some(current.user.principal()),
                    "client_record.deletion_requested",
                    Outcome::Success,
                )
                .on("client", id)
                .from_ip(page.ip.as_deref()),
            )
            .await?;
    }
    let when = state
        .db
        .deletion_request(id)
        .await?
        .map_or_else(|| purge_after.display(), |d| d.purge_after.display());
    let html = ClosedPage {
        layout: page.layout("Your account is closed"),
        purge_after: when,
    }
    .render()?;
    Ok(Html(html).into_response())
}
