//! A therapist's side of the directory: their profile and photo, weekly hours, days off,
//! session types, and the requests people send them.

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::pages::{Card, ranked_cards, weekly_windows};
use super::profile::{ProfileInput, money, parse_money};
use super::schedule::{
    Exception, ExceptionKind, WeeklyWindow, format_hhmm, parse_hhmm, validate_exception,
    validate_windows, weekday_name,
};
use super::vocab::{Facet, GENDERS, MODALITIES, Term};
use crate::accounts::invite::send_invitation;
use crate::accounts::pages::Empty;
use crate::audit::{Event, Outcome};
use crate::authz::Role;
use crate::email::Email;
use crate::error::{AppError, AppResult, FieldError};
use crate::jobs::{JobKind, enqueue};
use crate::web::AppState;
use crate::web::extract::{
    Form, FormPairs, Page, Signed, check_csrf, check_len, check_required, collect,
};
use crate::web::layout::{Errors, Layout};

/// A facet's checkboxes with what is ticked.
pub struct CheckGroup {
    /// Field name.
    pub key: &'static str,
    /// Legend.
    pub legend: &'static str,
    /// Options with whether each is ticked.
    pub options: Vec<(&'static Term, bool)>,
}

/// The profile editor.
#[derive(Template)]
#[template(path = "directory/edit.html")]
struct EditPage {
    layout: Layout,
    input: ProfileInput,
    groups: Vec<CheckGroup>,
    genders: &'static [Term],
    time_zones: Vec<&'static str>,
    slug: Option<String>,
    has_photo: bool,
    user_id: Uuid,
    licence_status: String,
    notice: Option<&'static str>,
    errors: Errors,
}

/// Common IANA zones offered first in pickers (any valid name is accepted).
pub const COMMON_ZONES: &[&str] = &[
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Toronto",
    "America/Vancouver",
    "America/Halifax",
    "America/Mexico_City",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Madrid",
    "Europe/Warsaw",
    "Europe/Athens",
    "Europe/Kyiv",
    "Africa/Lagos",
    "Africa/Nairobi",
    "Africa/Johannesburg",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
    "UTC",
];

/// Renders the editor.
fn render_edit(
    page: &Page,
    input: ProfileInput,
    stored: Option<&super::profile::Profile>,
    notice: Option<&'static str>,
    errors: Vec<FieldError>,
    status: StatusCode,
) -> AppResult<Response> {
    let groups = Facet::ALL
        .into_iter()
        .map(|f| CheckGroup {
            key: f.key(),
            legend: match f {
                Facet::Concern => "What you help with",
                Facet::Approach => "Approaches",
                Facet::Language => "Languages you offer sessions in",
                Facet::Modality => "Ways of meeting",
                Facet::AgeGroup => "Who you work with",
            },
            options: f
                .terms()
                .iter()
                .map(|t| (t, input.tags.contains(&f.tag(t.slug))))
                .collect(),
        })
        .collect();
    let html = EditPage {
        layout: page.layout("Your directory profile"),
        groups,
        genders: GENDERS,
        time_zones: COMMON_ZONES.to_vec(),
        slug: stored.map(|p| p.row.slug.clone()),
        has_photo: stored.is_some_and(|p| p.row.has_photo),
        user_id: page.user.as_ref().map(|u| u.user.id).unwrap_or_default(),
        licence_status: stored
            .map(|p| p.row.licence_status.clone())
            .unwrap_or_else(|| "unverified".into()),
        input,
        notice,
        errors: Errors(errors),
    }
    .render()?;
    Ok((status, Html(html)).into_response())
}

/// The stored profile as editor input.
fn input_from(profile: &super::profile::Profile) -> ProfileInput {
    let r = &profile.row;
    ProfileInput {
        display_name: r.display_name.clone(),
        pronouns: r.pronouns.clone(),
        gender: r.gender.clone(),
        credentials: r.credentials.clone(),
        licence_number: r.licence_number.clone(),
        licence_region: r.licence_region.clone(),
        bio: r.bio.clone(),
        approach: r.approach.clone(),
        region: r.region.clone(),
        city: r.city.clone(),
        address: r.address.clone(),
        latitude: r.latitude.map(|v| v.to_string()).unwrap_or_default(),
        longitude: r.longitude.map(|v| v.to_string()).unwrap_or_default(),
        fee: money(r.fee_cents, ""),
        sliding_scale_min: r
            .sliding_scale_min_cents
            .map(|c| money(c, ""))
            .unwrap_or_default(),
        insurance: r.insurance.clone(),
        accepting: r.accepting,
        time_zone: r.time_zone.clone(),
        published: r.published,
        tags: profile.tags.clone(),
    }
}

/// Query of the editor.
#[derive(Deserialize)]
pub struct EditQuery {
    /// Set after a save.
    saved: Option<String>,
}

/// `GET /directory/profile`
pub async fn edit_profile(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    axum::extract::Query(query): axum::extract::Query<EditQuery>,
) -> AppResult<Response> {
    let stored = state.db.profile_for_user(current.user.id).await?;
    let input = match &stored {
        Some(p) => input_from(p),
        None => ProfileInput {
            display_name: current.user.name.clone(),
            accepting: true,
            time_zone: "America/New_York".into(),
            tags: vec![Facet::Language.tag("en"), Facet::Modality.tag("video")],
            ..ProfileInput::default()
        },
    };
    let notice = match query.saved.as_deref() {
        Some("photo") => Some("Your photo is saved."),
        Some(_) => Some("Your profile is saved."),
        None => None,
    };
    render_edit(
        &page,
        input,
        stored.as_ref(),
        notice,
        Vec::new(),
        StatusCode::OK,
    )
}

/// `POST /directory/profile`
pub async fn save_profile(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    FormPairs(pairs): FormPairs,
) -> AppResult<Response> {
    let input = ProfileInput::from_pairs(&pairs);
    match input.clone().validate() {
        Ok(valid) => {
            state.db.save_profile(current.user.id, &valid).await?;
            state
                .audit
                .record(
                    Event::new(
                        Some(current.user.principal()),
                        "directory.profile_saved",
                        Outcome::Success,
                    )
                    .on("directory_profile", current.user.id)
                    .from_ip(page.ip.as_deref()),
                )
                .await?;
            Ok(Redirect::to("/directory/profile?saved=1").into_response())
        }
        Err(errors) => {
            let stored = state.db.profile_for_user(current.user.id).await?;
            render_edit(
                &page,
                input,
                stored.as_ref(),
                None,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
    }
}

/// `POST /directory/profile/photo` (multipart: `csrf`, `photo`).
pub async fn upload_photo(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    mut multipart: Multipart,
) -> AppResult<Response> {
    let mut csrf = None;
    let mut bytes = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(AppError::Invalid(vec![super::photo::too_large()]));
            }
            Err(_) => return Err(AppError::BadRequest("The upload could not be read.".into())),
        };
        let name = field.name().unwrap_or_default().to_string();
        let data = match field.bytes().await {
            Ok(d) => d,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(AppError::Invalid(vec![super::photo::too_large()]));
            }
            Err(_) => return Err(AppError::BadRequest("The upload could not be read.".into())),
        };
        match name.as_str() {
            "csrf" => csrf = Some(String::from_utf8_lossy(&data).into_owned()),
            "photo" => bytes = Some(data),
            _ => {}
        }
    }
    check_csrf(
        (!page.csrf.is_empty()).then_some(page.csrf.as_str()),
        csrf.as_deref(),
    )?;
    let Some(profile) = state.db.profile_for_user(current.user.id).await? else {
        return Err(AppError::invalid(
            "photo",
            "Save your profile first, then add a photo.",
        ));
    };
    let data = bytes.unwrap_or_default();
    // Decoding and resizing is CPU work: keep it off the async threads.
    let processed = tokio::task::spawn_blocking(move || super::photo::process(&data))
        .await
        .map_err(|e| AppError::Internal(format!("photo worker: {e}")))?
        .map_err(|e| AppError::Invalid(vec![e]))?;
    state
        .db
        .set_photo(profile.row.user_id, &processed.jpeg, &processed.etag)
        .await?;
    Ok(Redirect::to("/directory/profile?saved=photo").into_response())
}

/// A weekly window as the page lists it.
pub struct WindowLine {
    /// Id.
    pub id: Uuid,
    /// "Tuesday 09:00–12:00".
    pub text: String,
}

/// The hours page.
#[derive(Template)]
#[template(path = "directory/hours.html")]
struct HoursPage {
    layout: Layout,
    time_zone: String,
    has_profile: bool,
    windows: Vec<WindowLine>,
    exceptions: Vec<WindowLine>,
    offers: Vec<WindowLine>,
    modalities: &'static [Term],
    weekdays: Vec<(u8, &'static str)>,
    errors: Errors,
}

/// `GET /directory/hours`
pub async fn show_hours(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
) -> AppResult<Response> {
    hours_page(&state, &page, current.user.id, Vec::new(), StatusCode::OK).await
}

/// Renders the hours page.
async fn hours_page(
    state: &AppState,
    page: &Page,
    therapist_id: Uuid,
    errors: Vec<FieldError>,
    status: StatusCode,
) -> AppResult<Response> {
    let profile = state.db.profile_for_user(therapist_id).await?;
    let windows = state
        .db
        .windows(therapist_id)
        .await?
        .into_iter()
        .map(|row| {
            let w = row.window();
            WindowLine {
                id: row.id,
                text: format!(
                    "{} {}–{}",
                    weekday_name(w.weekday),
                    format_hhmm(w.start_minute),
                    format_hhmm(w.end_minute)
                ),
            }
        })
        .collect();
    let today = jiff::ZonedDateTime::now().date().to_string();
    let exceptions = state
        .db
        .exceptions(therapist_id, &today)
        .await?
        .into_iter()
        .map(|e| {
            let times = match (e.start_minute, e.end_minute) {
                (Some(s), Some(t)) => format!(
                    " {}–{}",
                    format_hhmm(u16::try_from(s).unwrap_or(0)),
                    format_hhmm(u16::try_from(t).unwrap_or(0))
                ),
                _ => " (all day)".to_string(),
            };
            WindowLine {
                id: e.id,
                text: format!(
                    "{}: {}{times}",
                    e.day,
                    if e.kind == "off" {
                        "away"
                    } else {
                        "extra hours"
                    }
                ),
            }
        })
        .collect();
    let currency = &state.config.currency_symbol;
    let offers = state
        .db
        .session_types(therapist_id, true)
        .await?
        .into_iter()
        .map(|s| WindowLine {
            id: s.id,
            text: format!(
                "{}: {} minutes, {}, {}",
                s.name,
                s.minutes,
                Facet::Modality.label(&s.modality).to_lowercase(),
                money(s.fee_cents, currency)
            ),
        })
        .collect();
    let html = HoursPage {
        layout: page.layout("Hours and sessions"),
        time_zone: profile
            .as_ref()
            .map(|p| p.row.time_zone.clone())
            .unwrap_or_else(|| "UTC".into()),
        has_profile: profile.is_some(),
        windows,
        exceptions,
        offers,
        modalities: MODALITIES,
        weekdays: (0..7).map(|d| (d, weekday_name(d))).collect(),
        errors: Errors(errors),
    }
    .render()?;
    Ok((status, Html(html)).into_response())
}

/// A new weekly window.
#[derive(Deserialize)]
pub struct WindowForm {
    /// 0 = Monday.
    weekday: String,
    /// `HH:MM`.
    start: String,
    /// `HH:MM`.
    end: String,
}

/// Runs `check`; on field errors re-renders the hours page with them (422).
async fn or_hours_page(
    state: &AppState,
    page: &Page,
    therapist_id: Uuid,
    result: AppResult<()>,
) -> AppResult<Response> {
    match result {
        Ok(()) => Ok(Redirect::to("/directory/hours").into_response()),
        Err(AppError::Invalid(errors)) => {
            hours_page(
                state,
                page,
                therapist_id,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(other) => Err(other),
    }
}

/// `POST /directory/hours/windows`
pub async fn add_window(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Form(form): Form<WindowForm>,
) -> AppResult<Response> {
    let id = current.user.id;
    let result = async {
        let weekday = form
            .weekday
            .parse::<u8>()
            .ok()
            .filter(|d| *d <= 6)
            .ok_or_else(|| AppError::invalid("weekday", "Choose a day of the week."))?;
        let start = parse_hhmm("start", &form.start).map_err(|e| AppError::Invalid(vec![e]))?;
        let end = parse_hhmm("end", &form.end).map_err(|e| AppError::Invalid(vec![e]))?;
        let mut windows = weekly_windows(&state, id).await?;
        windows.push(WeeklyWindow {
            weekday,
            start_minute: start,
            end_minute: end,
        });
        validate_windows(&windows).map_err(|e| AppError::Invalid(vec![e]))?;
        state.db.replace_windows(id, &windows).await?;
        Ok(())
    }
    .await;
    or_hours_page(&state, &page, id, result).await
}

/// `POST /directory/hours/windows/{id}/delete`
pub async fn delete_window(
    State(state): State<AppState>,
    Signed(current): Signed,
    Path(window_id): Path<Uuid>,
    Form(_): Form<Empty>,
) -> AppResult<Response> {
    if !state.db.delete_window(current.user.id, window_id).await? {
        return Err(AppError::NotFound);
    }
    Ok(Redirect::to("/directory/hours").into_response())
}

/// A new exception.
#[derive(Deserialize)]
pub struct ExceptionForm {
    /// `YYYY-MM-DD`.
    date: String,
    /// `off` or `extra`.
    kind: String,
    /// Optional `HH:MM`.
    #[serde(default)]
    start: String,
    /// Optional `HH:MM`.
    #[serde(default)]
    end: String,
}

/// `POST /directory/hours/exceptions`
pub async fn add_exception(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Form(form): Form<ExceptionForm>,
) -> AppResult<Response> {
    let id = current.user.id;
    let result = async {
        let date: jiff::civil::Date = form
            .date
            .trim()
            .parse()
            .map_err(|_| AppError::invalid("date", "Enter a date like 2026-12-24."))?;
        let kind = match form.kind.as_str() {
            "off" => ExceptionKind::Off,
            "extra" => ExceptionKind::Extra,
            _ => return Err(AppError::invalid("kind", "Choose away or extra hours.")),
        };
        let time = |field: &str, v: &str| -> AppResult<Option<u16>> {
            if v.trim().is_empty() {
                Ok(None)
            } else {
                parse_hhmm(field, v)
                    .map(Some)
                    .map_err(|e| AppError::Invalid(vec![e]))
            }
        };
        let exception = Exception {
            date,
            kind,
            start_minute: time("start", &form.start)?,
            end_minute: time("end", &form.end)?,
        };
        let tz_name = state
            .db
            .profile_for_user(id)
            .await?
            .map(|p| p.row.time_zone)
            .unwrap_or_else(|| "UTC".into());
        let tz = super::schedule::parse_time_zone("time_zone", &tz_name)
            .map_err(|e| AppError::Invalid(vec![e]))?;
        let today = jiff::Timestamp::now().to_zoned_datetime(tz).date();
        validate_exception(&exception, today).map_err(|e| AppError::Invalid(vec![e]))?;
        state
            .db
            .add_exception(
                id,
                &date.to_string(),
                &form.kind,
                exception.start_minute.map(i64::from),
                exception.end_minute.map(i64::from),
            )
            .await?;
        Ok(())
    }
    .await;
    or_hours_page(&state, &page, id, result).await
}

/// `POST /directory/hours/exceptions/{id}/delete`
pub async fn delete_exception(
    State(state): State<AppState>,
    Signed(current): Signed,
    Path(id): Path<Uuid>,
    Form(_): Form<Empty>,
) -> AppResult<Response> {
    if !state.db.delete_exception(current.user.id, id).await? {
        return Err(AppError::NotFound);
    }
    Ok(Redirect::to("/directory/hours").into_response())
}

/// A new session type.
#[derive(Deserialize)]
pub struct OfferForm {
    /// Name.
    name: String,
    /// Minutes.
    minutes: String,
    /// Modality slug.
    modality: String,
    /// Fee.
    fee: String,
}

/// `POST /directory/hours/session-types`
pub async fn add_session_type(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Form(form): Form<OfferForm>,
) -> AppResult<Response> {
    let id = current.user.id;
    let result = async {
        let name = form.name.trim();
        let minutes = form
            .minutes
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|m| (10..=240).contains(m));
        let fee = parse_money("fee", &form.fee);
        let mut checks = vec![check_required("name", name), check_len("name", name, 80)];
        if minutes.is_none() {
            checks.push(Err(FieldError::new(
                "minutes",
                "Choose a length from 10 to 240 minutes.",
            )));
        }
        if Facet::Modality.find(&form.modality).is_none() {
            checks.push(Err(FieldError::new("modality", "Choose a way of meeting.")));
        }
        let fee_cents = match fee {
            Ok(Some(c)) => c,
            Ok(None) => {
                checks.push(Err(FieldError::new("fee", "Enter a fee (0 for free).")));
                0
            }
            Err(e) => {
                checks.push(Err(e));
                0
            }
        };
        collect(checks)?;
        state
            .db
            .add_session_type(id, name, minutes.unwrap_or(50), &form.modality, fee_cents)
            .await?;
        Ok(())
    }
    .await;
    or_hours_page(&state, &page, id, result).await
}

/// `POST /directory/hours/session-types/{id}/retire`
pub async fn retire_session_type(
    State(state): State<AppState>,
    Signed(current): Signed,
    Path(id): Path<Uuid>,
    Form(_): Form<Empty>,
) -> AppResult<Response> {
    if !state.db.retire_session_type(current.user.id, id).await? {
        return Err(AppError::NotFound);
    }
    Ok(Redirect::to("/directory/hours").into_response())
}

/// A request as the therapist reads it.
pub struct RequestView {
    /// The stored row.
    pub row: super::queries::RequestRow,
    /// What they wrote.
    pub message: String,
}

/// The requests page.
#[derive(Template)]
#[template(path = "directory/requests.html")]
struct RequestsPage {
    layout: Layout,
    waiting: Vec<RequestView>,
    decided: Vec<RequestView>,
    decline_note: String,
    notice: Option<String>,
}

/// Query of the requests page.
#[derive(Deserialize)]
pub struct RequestsQuery {
    /// What just happened.
    done: Option<String>,
}

/// `GET /directory/requests`
pub async fn show_requests(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    axum::extract::Query(query): axum::extract::Query<RequestsQuery>,
) -> AppResult<Response> {
    let rows = state.db.requests_for(current.user.id).await?;
    let mut waiting = Vec::new();
    let mut decided = Vec::new();
    for row in rows {
        let message = state
            .sealer
            .open(
                &format!("directory_requests.message:{}", row.id),
                &row.message_sealed,
            )
            .await?;
        let view = RequestView { row, message };
        if view.row.status == "new" {
            waiting.push(view);
        } else {
            decided.push(view);
        }
    }
    state
        .audit
        .record(
            Event::new(
                Some(current.user.principal()),
                "directory.requests_read",
                Outcome::Success,
            )
            .on("user", current.user.id)
            .from_ip(page.ip.as_deref()),
        )
        .await?;
    let suggestions = suggestions_for(&state, current.user.id).await?;
    let html = RequestsPage {
        layout: page.layout("Requests"),
        waiting,
        decided,
        decline_note: decline_template(&current.user.name, &suggestions, &state.config.base_url()),
        notice: query.done.map(|d| match d.as_str() {
            "accepted" => {
                "Accepted. They've been sent an invitation to join you on Tend.".to_string()
            }
            "declined" => "Your kind reply is on its way.".to_string(),
            _ => String::new(),
        }),
    }
    .render()?;
    Ok(Html(html).into_response())
}

/// Up to three other accepting therapists who treat what this therapist treats.
async fn suggestions_for(state: &AppState, therapist_id: Uuid) -> AppResult<Vec<Card>> {
    let Some(own) = state.db.profile_for_user(therapist_id).await? else {
        return Ok(Vec::new());
    };
    let answers = super::matching::Answers {
        concerns: own
            .slugs(Facet::Concern)
            .into_iter()
            .take(3)
            .map(String::from)
            .collect(),
        ..Default::default()
    };
    Ok(ranked_cards(state, &answers, 12)
        .await?
        .into_iter()
        .filter(|c| c.profile.row.user_id != therapist_id && c.profile.row.accepting)
        .take(3)
        .collect())
}

/// The kind reply a therapist starts from when they cannot take someone on.
pub fn decline_template(therapist: &str, suggestions: &[Card], base_url: &str) -> String {
    let mut note = String::from(
        "Thank you so much for reaching out to me. I'm sorry that I can't offer you a place right now; \
         that is about my availability, not about you or what you're going through.\n\n",
    );
    if !suggestions.is_empty() {
        note.push_str("These colleagues may be a good fit and are taking new clients:\n");
        for c in suggestions {
            note.push_str(&format!(
                "- {}: {base_url}/directory/t/{}\n",
                c.profile.row.display_name, c.profile.row.slug
            ));
        }
        note.push('\n');
    }
    note.push_str(&format!(
        "You can also answer a few questions to find someone who suits you: {base_url}/directory/match\n\n\
         I hope you find the support you deserve.\n{therapist}"
    ));
    note
}

/// A decision on a request.
#[derive(Deserialize)]
pub struct DecisionForm {
    /// `accept` or `decline`.
    action: String,
    /// The reply sent with a decline.
    #[serde(default)]
    note: String,
}

/// `POST /directory/requests/{id}`
pub async fn decide_request(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Path(id): Path<Uuid>,
    Form(form): Form<DecisionForm>,
) -> AppResult<Response> {
    let request = state
        .db
        .request(id)
        .await?
        .filter(|r| r.therapist_id == current.user.id)
        .ok_or(AppError::NotFound)?;
    if request.status != "new" {
        return Err(AppError::Conflict(
            "This request already has an answer.".into(),
        ));
    }
    let done = match form.action.as_str() {
        "accept" => {
            accept(&state, &page, &current.user, &request).await?;
            "accepted"
        }
        "decline" => {
            let note = form.note.trim();
            collect([check_required("note", note), check_len("note", note, 4000)])?;
            if state.db.decide_request(id, "declined").await? {
                enqueue(
                    &state,
                    &JobKind::SendEmail(Email::text(
                        &request.email,
                        &format!("A reply from {}", current.user.name),
                        format!("Hello {},\n\n{note}\n", request.name),
                    )),
                    None,
                )
                .await?;
            }
            "declined"
        }
        _ => return Err(AppError::invalid("action", "Choose accept or decline.")),
    };
    state
        .audit
        .record(
            Event::new(
                Some(current.user.principal()),
                if done == "accepted" {
                    "directory.request_accepted"
                } else {
                    "directory.request_declined"
                },
                Outcome::Success,
            )
            .on("directory_request", id)
            .from_ip(page.ip.as_deref()),
        )
        .await?;
    Ok(Redirect::to(&format!("/directory/requests?done={done}")).into_response())
}

/// Accepting: a signed-in client (or an existing client account with that email) joins the
/// caseload at once; anyone else is invited, and accepting the invitation starts the care
/// relationship.
async fn accept(
    state: &AppState,
    page: &Page,
    therapist: &crate::accounts::queries::User,
    request: &super::queries::RequestRow,
) -> AppResult<()> {
    let existing = match request.requester_id {
        Some(client) => state.db.user_by_id(client).await?,
        None => state.db.user_by_email(&request.email).await?,
    };
    match existing {
        Some(user) if user.role == Role::Client => {
            state
                .db
                .add_care_relationship(therapist.id, user.id)
                .await?;
            if state.db.decide_request(request.id, "accepted").await? {
                enqueue(
                    state,
                    &JobKind::SendEmail(Email::text(
                        &user.email,
                        &format!("{} can work with you", therapist.name),
                        format!(
                            "Hello {},\n\n{} has accepted your request. Sign in to message them and book a time:\n\n{}/appointments\n",
                            user.name,
                            therapist.name,
                            state.config.base_url()
                        ),
                    )),
                    None,
                )
                .await?;
            }
        }
        Some(_) => {
            return Err(AppError::Conflict(
                "This email belongs to a staff account; please contact them directly.".into(),
            ));
        }
        None => {
            send_invitation(
                state,
                therapist,
                &request.email,
                &request.name,
                Role::Client,
                page.ip.as_deref(),
            )
            .await?;
            state.db.decide_request(request.id, "accepted").await?;
        }
    }
    Ok(())
}
