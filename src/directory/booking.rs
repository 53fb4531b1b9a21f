//! Appointments: booking free slots in the client's own time zone, moving and cancelling
//! within the practice's policy, attendance, reminders with calendar files, private calendar
//! feeds and video room links.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use jiff::tz::TimeZone;
use serde::Deserialize;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::ics::{self, CalEvent, EventStatus, Method};
use super::pages::weekly_windows;
use super::profile::money;
use super::queries::{Appointment, BookError, NewAppointment, SessionType};
use super::schedule::{self, Busy, Exception, ExceptionKind, Slot, describe, parse_time_zone};
use super::vocab::Facet;
use crate::accounts::queries::User;
use crate::audit::{Event, Outcome};
use crate::authz::Role;
use crate::crypto::token::new_token;
use crate::db::{Timestamp, new_id};
use crate::email::{Attachment, Email};
use crate::error::{AppError, AppResult, FieldError};
use crate::jobs::{JobKind, enqueue, enqueue_at};
use crate::web::AppState;
use crate::web::extract::{Form, Page, Signed};
use crate::web::layout::{Errors, Layout};

/// How far ahead people may book.
const HORIZON_DAYS: i64 = 60;
/// Days of slots shown per page.
const DAYS_PER_PAGE: i64 = 7;
/// The soonest a slot can be booked, so a therapist is never surprised.
const MIN_NOTICE_HOURS: i64 = 2;
/// Reminders go out this many hours before a session.
pub const REMINDER_HOURS: [i64; 2] = [24, 1];

/// A slot taken between showing it and booking it is the person's to choose again, so it is
/// a field error on `start`, not a failure.
impl From<BookError> for AppError {
    fn from(err: BookError) -> Self {
        match err {
            BookError::Taken => AppError::invalid(
                "start",
                "Someone booked that time a moment ago. Please choose another.",
            ),
            BookError::Db(e) => e.into(),
        }
    }
}

/// The time zone a person sees times in: their own choice, else UTC.
async fn viewer_zone(state: &AppState, user_id: Uuid) -> AppResult<(String, TimeZone)> {
    let name = state
        .db
        .user_time_zone(user_id)
        .await?
        .unwrap_or_else(|| "UTC".into());
    let tz = parse_time_zone("time_zone", &name).unwrap_or(TimeZone::UTC);
    Ok((name, tz))
}

/// An appointment as a list shows it.
pub struct AppointmentView {
    /// The row.
    pub a: Appointment,
    /// When, in the viewer's zone.
    pub when: String,
    /// The other person's name.
    pub with: String,
    /// The video link, when there is one.
    pub video: Option<String>,
    /// Whether the viewer may still cancel or move it.
    pub can_change: bool,
    /// Whether the viewer is the therapist and the session has started (attendance).
    pub can_mark: bool,
    /// Modality label.
    pub modality: String,
}

/// The video room link for an appointment, when the practice has a Jitsi server.
pub fn video_link(state: &AppState, a: &Appointment) -> Option<String> {
    if a.modality != "video" {
        return None;
    }
    state
        .config
        .jitsi_url
        .as_ref()
        .map(|base| format!("{}/{}", base.trim_end_matches('/'), a.room))
}

/// Whether `who` may cancel or move `a` now: the therapist any time before it starts; the
/// client until the policy window before it.
fn can_change(state: &AppState, who: &User, a: &Appointment, now: OffsetDateTime) -> bool {
    if a.status != "booked" || a.starts_at.inner() <= now {
        return false;
    }
    if who.id == a.therapist_id {
        return true;
    }
    who.id == a.client_id
        && a.starts_at.inner() - now >= Duration::hours(state.config.cancel_window_hours)
}

/// The appointments page.
#[derive(Template)]
#[template(path = "directory/appointments.html")]
struct AppointmentsPage {
    layout: Layout,
    upcoming: Vec<AppointmentView>,
    time_zone: String,
    zones: Vec<&'static str>,
    therapists: Vec<(Uuid, String)>,
    is_therapist: bool,
    has_feed: bool,
    feed_url: Option<String>,
    window_hours: i64,
    no_video_server: bool,
    notice: Option<&'static str>,
}

/// Query of the appointments page.
#[derive(Deserialize)]
pub struct ListQuery {
    /// What just happened.
    done: Option<String>,
}

/// `GET /appointments`
pub async fn list(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Query(query): Query<ListQuery>,
) -> AppResult<Response> {
    render_list(&state, &page, &current.user, None, query.done.as_deref()).await
}

/// Renders the appointments page (with a new feed URL shown once).
async fn render_list(
    state: &AppState,
    page: &Page,
    user: &User,
    feed_url: Option<String>,
    done: Option<&str>,
) -> AppResult<Response> {
    let (time_zone, tz) = viewer_zone(state, user.id).await?;
    let now = OffsetDateTime::now_utc();
    let rows = state
        .db
        .appointments_for(user.id, Timestamp::from(now - Duration::days(14)), 500)
        .await?;
    let upcoming = rows
        .into_iter()
        .map(|a| AppointmentView {
            when: describe(a.starts_at.inner(), &tz),
            with: if a.client_id == user.id {
                a.therapist_name.clone()
            } else {
                a.client_name.clone()
            },
            video: video_link(state, &a),
            can_change: can_change(state, user, &a, now),
            can_mark: a.therapist_id == user.id
                && a.status == "booked"
                && a.starts_at.inner() <= now,
            modality: Facet::Modality.label(&a.modality).to_string(),
            a,
        })
        .collect();
    let therapists = if user.role == Role::Client {
        let facts = state.db.client_facts(user.id).await?;
        let mut out = Vec::new();
        for id in facts.therapist_ids {
            if let Some(t) = state.db.user_by_id(id).await? {
                out.push((t.id, t.name));
            }
        }
        out
    } else {
        Vec::new()
    };
    let html = AppointmentsPage {
        layout: page.layout("Appointments"),
        upcoming,
        time_zone,
        zones: super::manage::COMMON_ZONES.to_vec(),
        therapists,
        is_therapist: user.role != Role::Client,
        has_feed: state.db.has_feed(user.id).await?,
        feed_url,
        window_hours: state.config.cancel_window_hours,
        no_video_server: state.config.jitsi_url.is_none(),
        notice: match done {
            Some("booked") => Some("Booked. A confirmation with a calendar file is on its way."),
            Some("cancelled") => Some("Cancelled. We've let the other person know."),
            Some("moved") => Some("Moved. An updated calendar file is on its way."),
            Some("zone") => Some("Times are now shown in your time zone."),
            Some("marked") => Some("Attendance noted."),
            _ => None,
        },
    }
    .render()?;
    Ok(Html(html).into_response())
}

/// The time-zone form.
#[derive(Deserialize)]
pub struct ZoneForm {
    /// IANA name.
    time_zone: String,
}

/// `POST /appointments/time-zone`
pub async fn set_zone(
    State(state): State<AppState>,
    Signed(current): Signed,
    Form(form): Form<ZoneForm>,
) -> AppResult<Response> {
    let tz = parse_time_zone("time_zone", form.time_zone.trim())
        .map_err(|e| AppError::Invalid(vec![e]))?;
    let name = tz.iana_name().unwrap_or("UTC").to_string();
    state.db.set_user_time_zone(current.user.id, &name).await?;
    Ok(Redirect::to("/appointments?done=zone").into_response())
}

/// `POST /appointments/feed`: creates (or replaces) the private calendar feed and shows its
/// address once.
pub async fn new_feed(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Form(_): Form<crate::accounts::pages::Empty>,
) -> AppResult<Response> {
    let (token, hash) = new_token();
    state.db.set_feed_token(current.user.id, &hash).await?;
    state
        .audit
        .record(
            Event::new(
                Some(current.user.principal()),
                "calendar.feed_created",
                Outcome::Success,
            )
            .on("user", current.user.id)
            .from_ip(page.ip.as_deref()),
        )
        .await?;
    let url = format!("{}/calendar/{token}.ics", state.config.base_url());
    render_list(&state, &page, &current.user, Some(url), None).await
}

/// A day of slots.
pub struct SlotDay {
    /// "Tuesday 3 December".
    pub label: String,
    /// (value to post, "10:00").
    pub slots: Vec<(i64, String)>,
}

/// The booking page.
#[derive(Template)]
#[template(path = "directory/book.html")]
struct BookPage {
    layout: Layout,
    therapist: String,
    action: String,
    types: Vec<(SessionType, String)>,
    chosen: Option<SessionType>,
    days: Vec<SlotDay>,
    time_zone: String,
    week: i64,
    more: bool,
    base: String,
    errors: Errors,
}

/// Query of the booking page.
#[derive(Deserialize)]
pub struct BookQuery {
    /// Session type id.
    #[serde(rename = "type")]
    kind: Option<Uuid>,
    /// Week offset from now.
    #[serde(default)]
    week: i64,
}

/// Everything needed to find free slots for one therapist.
struct Calendar {
    /// The therapist's zone.
    tz: TimeZone,
    /// Weekly windows.
    windows: Vec<schedule::WeeklyWindow>,
    /// Exceptions.
    exceptions: Vec<Exception>,
}

/// Loads a therapist's calendar; 404 when they have no profile.
async fn calendar_of(state: &AppState, therapist_id: Uuid) -> AppResult<Calendar> {
    let profile = state
        .db
        .profile_for_user(therapist_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let tz = parse_time_zone("time_zone", &profile.row.time_zone).unwrap_or(TimeZone::UTC);
    let today = jiff::Timestamp::now().to_zoned_datetime(tz.clone()).date();
    let exceptions = state
        .db
        .exceptions(
            therapist_id,
            &today.saturating_sub(jiff::Span::new().days(1)).to_string(),
        )
        .await?
        .into_iter()
        .filter_map(|e| {
            Some(Exception {
                date: e.day.parse().ok()?,
                kind: if e.kind == "off" {
                    ExceptionKind::Off
                } else {
                    ExceptionKind::Extra
                },
                start_minute: e.start_minute.and_then(|m| u16::try_from(m).ok()),
                end_minute: e.end_minute.and_then(|m| u16::try_from(m).ok()),
            })
        })
        .collect();
    Ok(Calendar {
        tz,
        windows: weekly_windows(state, therapist_id).await?,
        exceptions,
    })
}

/// Free slots of `minutes` in `[from, until)`, ignoring the appointment `except` (when moving).
async fn free_slots(
    state: &AppState,
    therapist_id: Uuid,
    cal: &Calendar,
    minutes: u16,
    from: OffsetDateTime,
    until: OffsetDateTime,
    except: Option<Uuid>,
) -> AppResult<Vec<Slot>> {
    let busy: Vec<Busy> = state
        .db
        .busy_between(therapist_id, Timestamp::from(from), Timestamp::from(until))
        .await?
        .into_iter()
        .filter(|(id, _, _)| Some(*id) != except)
        .map(|(_, start, end)| Busy {
            start: start.inner(),
            end: end.inner(),
        })
        .collect();
    let earliest = OffsetDateTime::now_utc() + Duration::hours(MIN_NOTICE_HOURS);
    Ok(schedule::free_slots(
        &cal.tz,
        &cal.windows,
        &cal.exceptions,
        minutes,
        &busy,
        from,
        until,
        earliest,
    ))
}

/// The caller's therapist (a client books only with their own); 404 otherwise.
async fn own_therapist(state: &AppState, client: &User, therapist_id: Uuid) -> AppResult<User> {
    let facts = state.db.client_facts(client.id).await?;
    if !facts.therapist_ids.contains(&therapist_id) {
        return Err(AppError::NotFound);
    }
    state
        .db
        .user_by_id(therapist_id)
        .await?
        .ok_or(AppError::NotFound)
}

/// `GET /appointments/book/{therapist}`
pub async fn book_form(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Path(therapist_id): Path<Uuid>,
    Query(query): Query<BookQuery>,
) -> AppResult<Response> {
    let therapist = own_therapist(&state, &current.user, therapist_id).await?;
    render_book(
        &state,
        &page,
        &current.user,
        &therapist,
        query.kind,
        query.week,
        None,
        Vec::new(),
        StatusCode::OK,
    )
    .await
}

/// Renders the booking (or moving) page.
#[allow(clippy::too_many_arguments)]
async fn render_book(
    state: &AppState,
    page: &Page,
    viewer: &User,
    therapist: &User,
    kind: Option<Uuid>,
    week: i64,
    moving: Option<&Appointment>,
    errors: Vec<FieldError>,
    status: StatusCode,
) -> AppResult<Response> {
    let week = week.clamp(0, HORIZON_DAYS / DAYS_PER_PAGE);
    let (time_zone, tz) = viewer_zone(state, viewer.id).await?;
    let currency = &state.config.currency_symbol;
    let types: Vec<(SessionType, String)> = state
        .db
        .session_types(therapist.id, true)
        .await?
        .into_iter()
        .map(|s| {
            let label = format!(
                "{} minutes · {} · {}",
                s.minutes,
                Facet::Modality.label(&s.modality).to_lowercase(),
                if s.fee_cents == 0 {
                    "free".to_string()
                } else {
                    money(s.fee_cents, currency)
                }
            );
            (s, label)
        })
        .collect();
    let chosen_id = moving.map(|a| a.session_type_id).or(kind);
    let chosen = match chosen_id {
        Some(id) => state
            .db
            .session_type(id)
            .await?
            .filter(|s| s.therapist_id == therapist.id),
        None if types.len() == 1 => types.first().map(|(s, _)| s.clone()),
        None => None,
    };
    let mut days: Vec<SlotDay> = Vec::new();
    let mut more = false;
    if let Some(s) = &chosen {
        let cal = calendar_of(state, therapist.id).await?;
        let from = OffsetDateTime::now_utc() + Duration::days(week * DAYS_PER_PAGE);
        let until = from + Duration::days(DAYS_PER_PAGE);
        let minutes = u16::try_from(s.minutes).unwrap_or(50);
        let slots = free_slots(
            state,
            therapist.id,
            &cal,
            minutes,
            from,
            until,
            moving.map(|a| a.id),
        )
        .await?;
        for slot in slots {
            let local = jiff::Timestamp::from_second(slot.start.unix_timestamp())
                .map_err(|e| AppError::Internal(e.to_string()))?
                .to_zoned_datetime(tz.clone());
            let label = local.strftime("%A %-d %B").to_string();
            let time = local.strftime("%H:%M").to_string();
            match days.last_mut() {
                Some(d) if d.label == label => d.slots.push((slot.start.unix_timestamp(), time)),
                _ => days.push(SlotDay {
                    label,
                    slots: vec![(slot.start.unix_timestamp(), time)],
                }),
            }
        }
        more = (week + 1) * DAYS_PER_PAGE < HORIZON_DAYS;
    }
    let (action, base) = match moving {
        Some(a) => (
            format!("/appointments/{}/reschedule", a.id),
            format!("/appointments/{}/reschedule?", a.id),
        ),
        None => (
            format!("/appointments/book/{}", therapist.id),
            format!(
                "/appointments/book/{}?{}",
                therapist.id,
                chosen
                    .as_ref()
                    .map(|s| format!("type={}&", s.id))
                    .unwrap_or_default()
            ),
        ),
    };
    let html = BookPage {
        layout: page.layout(if moving.is_some() {
            "Move a session"
        } else {
            "Book a session"
        }),
        therapist: therapist.name.clone(),
        action,
        types,
        chosen,
        days,
        time_zone,
        week,
        more,
        base,
        errors: Errors(errors),
    }
    .render()?;
    Ok((status, Html(html)).into_response())
}

/// A booking.
#[derive(Deserialize)]
pub struct BookForm {
    /// Session type id.
    session_type: String,
    /// Start, Unix seconds.
    start: String,
}

/// Checks a requested start against the therapist's free slots; errors name the field.
async fn check_slot(
    state: &AppState,
    therapist_id: Uuid,
    session: &SessionType,
    start_text: &str,
    except: Option<Uuid>,
) -> AppResult<Slot> {
    let start = start_text
        .trim()
        .parse::<i64>()
        .ok()
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .ok_or_else(|| AppError::invalid("start", "Choose one of the times shown."))?;
    let now = OffsetDateTime::now_utc();
    if start <= now {
        return Err(AppError::invalid(
            "start",
            "That time has already passed. Please choose another.",
        ));
    }
    if start > now + Duration::days(HORIZON_DAYS) {
        return Err(AppError::invalid(
            "start",
            format!("Bookings open {HORIZON_DAYS} days ahead. Please choose an earlier time."),
        ));
    }
    let cal = calendar_of(state, therapist_id).await?;
    let minutes = u16::try_from(session.minutes).unwrap_or(50);
    let slots = free_slots(
        state,
        therapist_id,
        &cal,
        minutes,
        start - Duration::minutes(1),
        start + Duration::minutes(1),
        except,
    )
    .await?;
    slots
        .into_iter()
        .find(|s| s.start == start)
        .ok_or_else(|| {
            AppError::invalid(
                "start",
                "That time isn't free in your therapist's hours (it may have just been taken). Please choose another.",
            )
        })
}

/// `POST /appointments/book/{therapist}`
pub async fn book(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Path(therapist_id): Path<Uuid>,
    Form(form): Form<BookForm>,
) -> AppResult<Response> {
    let therapist = own_therapist(&state, &current.user, therapist_id).await?;
    let session = match form.session_type.parse::<Uuid>().ok() {
        Some(id) => state.db.session_type(id).await?,
        None => None,
    }
    .filter(|s| s.therapist_id == therapist_id && s.active)
    .ok_or_else(|| AppError::invalid("session_type", "Choose one of the session types."))?;
    let result = async {
        let slot = check_slot(&state, therapist_id, &session, &form.start, None).await?;
        let appointment = NewAppointment {
            id: new_id(),
            therapist_id,
            client_id: current.user.id,
            session_type_id: session.id,
            starts_at: Timestamp::from(slot.start),
            ends_at: Timestamp::from(slot.end),
            modality: session.modality.clone(),
            fee_cents: session.fee_cents,
            room: format!(
                "tend-{}",
                new_token()
                    .0
                    .chars()
                    .filter(char::is_ascii_alphanumeric)
                    .take(24)
                    .collect::<String>()
            ),
            by: current.user.id,
        };
        state.db.book(&appointment).await?;
        Ok(appointment.id)
    }
    .await;
    match result {
        Ok(id) => {
            after_change(&state, id, "booked").await?;
            audit(&state, &page, &current.user, "appointment.booked", id).await?;
            Ok(Redirect::to("/appointments?done=booked").into_response())
        }
        Err(AppError::Invalid(errors)) => {
            render_book(
                &state,
                &page,
                &current.user,
                &therapist,
                Some(session.id),
                0,
                None,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(other) => Err(other),
    }
}

/// Records an appointment event in the audit trail.
async fn audit(
    state: &AppState,
    page: &Page,
    who: &User,
    action: &'static str,
    id: Uuid,
) -> AppResult<()> {
    state
        .audit
        .record(
            Event::new(Some(who.principal()), action, Outcome::Success)
                .on("appointment", id)
                .from_ip(page.ip.as_deref()),
        )
        .await?;
    Ok(())
}

/// An appointment the caller takes part in; 404 otherwise.
async fn own_appointment(state: &AppState, who: &User, id: Uuid) -> AppResult<Appointment> {
    state
        .db
        .appointment(id)
        .await?
        .filter(|a| a.client_id == who.id || a.therapist_id == who.id)
        .ok_or(AppError::NotFound)
}

/// An appointment the caller takes part in and may still change; 404 or 409 otherwise.
async fn changeable_appointment(state: &AppState, who: &User, id: Uuid) -> AppResult<Appointment> {
    let a = own_appointment(state, who, id).await?;
    if !can_change(state, who, &a, OffsetDateTime::now_utc()) {
        return Err(policy_error(state, &a));
    }
    Ok(a)
}

/// `POST /appointments/{id}/cancel`
pub async fn cancel(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Path(id): Path<Uuid>,
    Form(_): Form<crate::accounts::pages::Empty>,
) -> AppResult<Response> {
    changeable_appointment(&state, &current.user, id).await?;
    if state
        .db
        .set_appointment_status(id, "cancelled", current.user.id)
        .await?
    {
        after_change(&state, id, "cancelled").await?;
        audit(&state, &page, &current.user, "appointment.cancelled", id).await?;
    }
    Ok(Redirect::to("/appointments?done=cancelled").into_response())
}

/// Why a change was refused.
fn policy_error(state: &AppState, a: &Appointment) -> AppError {
    if a.status != "booked" {
        AppError::Conflict("This session was already cancelled or has taken place.".into())
    } else {
        AppError::Conflict(format!(
            "Sessions can be changed here up to {} hours before they start. Please message your therapist instead.",
            state.config.cancel_window_hours
        ))
    }
}

/// `GET /appointments/{id}/reschedule`
pub async fn reschedule_form(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Path(id): Path<Uuid>,
    Query(query): Query<BookQuery>,
) -> AppResult<Response> {
    let a = changeable_appointment(&state, &current.user, id).await?;
    let therapist = state
        .db
        .user_by_id(a.therapist_id)
        .await?
        .ok_or(AppError::NotFound)?;
    render_book(
        &state,
        &page,
        &current.user,
        &therapist,
        None,
        query.week,
        Some(&a),
        Vec::new(),
        StatusCode::OK,
    )
    .await
}

/// A new time.
#[derive(Deserialize)]
pub struct MoveForm {
    /// Start, Unix seconds.
    start: String,
}

/// `POST /appointments/{id}/reschedule`
pub async fn reschedule(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Path(id): Path<Uuid>,
    Form(form): Form<MoveForm>,
) -> AppResult<Response> {
    let a = changeable_appointment(&state, &current.user, id).await?;
    let session = state
        .db
        .session_type(a.session_type_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let result = async {
        let slot = check_slot(&state, a.therapist_id, &session, &form.start, Some(a.id)).await?;
        state
            .db
            .reschedule(
                a.id,
                a.therapist_id,
                Timestamp::from(slot.start),
                Timestamp::from(slot.end),
                current.user.id,
            )
            .await?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => {
            after_change(&state, id, "moved").await?;
            audit(&state, &page, &current.user, "appointment.moved", id).await?;
            Ok(Redirect::to("/appointments?done=moved").into_response())
        }
        Err(AppError::Invalid(errors)) => {
            let therapist = state
                .db
                .user_by_id(a.therapist_id)
                .await?
                .ok_or(AppError::NotFound)?;
            render_book(
                &state,
                &page,
                &current.user,
                &therapist,
                None,
                0,
                Some(&a),
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(other) => Err(other),
    }
}

/// Attendance.
#[derive(Deserialize)]
pub struct AttendanceForm {
    /// `attended` or `no_show`.
    status: String,
}

/// `POST /appointments/{id}/attendance` (the therapist, once the session has started).
pub async fn attendance(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Path(id): Path<Uuid>,
    Form(form): Form<AttendanceForm>,
) -> AppResult<Response> {
    let a = own_appointment(&state, &current.user, id).await?;
    if a.therapist_id != current.user.id {
        return Err(AppError::Forbidden);
    }
    if !matches!(form.status.as_str(), "attended" | "no_show") {
        return Err(AppError::invalid(
            "status",
            "Choose attended or did not attend.",
        ));
    }
    if a.starts_at.inner() > OffsetDateTime::now_utc() {
        return Err(AppError::invalid(
            "status",
            "You can note attendance once the session has started.",
        ));
    }
    if !state
        .db
        .set_appointment_status(id, &form.status, current.user.id)
        .await?
    {
        return Err(AppError::Conflict(
            "This session already has an outcome.".into(),
        ));
    }
    let action = if form.status == "attended" {
        "appointment.attended"
    } else {
        "appointment.no_show"
    };
    audit(&state, &page, &current.user, action, id).await?;
    Ok(Redirect::to("/appointments?done=marked").into_response())
}

/// The calendar event for an appointment as `viewer` sees it. Therapists' feeds name the
/// client by initials only: calendars get synced to other companies' servers.
pub fn event_for(state: &AppState, a: &Appointment, viewer_is_therapist: bool) -> CalEvent {
    let summary = if viewer_is_therapist {
        let initials: String = a
            .client_name
            .split_whitespace()
            .filter_map(|w| w.chars().next())
            .map(|c| format!("{c}."))
            .collect();
        format!("Session with {initials}")
    } else {
        format!("Session with {}", a.therapist_name)
    };
    let video = video_link(state, a);
    let mut description = format!(
        "{} ({} minutes).",
        a.session_name,
        (a.ends_at - a.starts_at).whole_minutes()
    );
    if let Some(v) = &video {
        description.push_str(&format!(" Join the video room: {v}"));
    }
    description.push_str(&format!(
        " Manage it in Tend: {}/appointments",
        state.config.base_url()
    ));
    CalEvent {
        uid: format!("{}@tend", a.id),
        start: a.starts_at.inner(),
        end: a.ends_at.inner(),
        stamp: OffsetDateTime::now_utc(),
        sequence: u32::try_from(a.sequence).unwrap_or(0),
        status: if a.status == "cancelled" {
            EventStatus::Cancelled
        } else {
            EventStatus::Confirmed
        },
        summary,
        description,
        location: video.clone(),
        url: video,
    }
}

/// An email to one participant about `a`, with a calendar file.
fn email_with_ics(
    state: &AppState,
    a: &Appointment,
    to: &User,
    subject: &str,
    intro: &str,
) -> Email {
    let is_therapist = to.id == a.therapist_id;
    let event = event_for(state, a, is_therapist);
    Email {
        to: to.email.clone(),
        subject: subject.to_string(),
        body: format!(
            "Hello {},\n\n{intro}\n\nSee or change it in Tend: {}/appointments\n",
            to.name,
            state.config.base_url()
        ),
        attachment: Some(Attachment {
            filename: "session.ics".into(),
            content_type: "text/calendar; charset=utf-8; method=PUBLISH".into(),
            content: ics::calendar("Tend", Some(Method::Publish), &[event]),
        }),
    }
}

/// After a booking, move or cancellation: tell both people (with a calendar file) and, when
/// it is booked, queue the reminders for its new time.
pub async fn after_change(state: &AppState, id: Uuid, what: &str) -> AppResult<()> {
    let a = state.db.appointment(id).await?.ok_or(AppError::NotFound)?;
    for person in [a.client_id, a.therapist_id] {
        let Some(user) = state.db.user_by_id(person).await? else {
            continue;
        };
        let (_, tz) = viewer_zone(state, user.id).await?;
        let when = describe(a.starts_at.inner(), &tz);
        let (subject, intro) = match what {
            "booked" => (
                "Your session is booked",
                format!("Your session is booked for {when}."),
            ),
            "moved" => (
                "Your session has moved",
                format!("Your session is now on {when}."),
            ),
            _ => (
                "A session was cancelled",
                format!("The session on {when} is cancelled."),
            ),
        };
        let email = email_with_ics(state, &a, &user, subject, &intro);
        enqueue(state, &JobKind::SendEmail(email), None).await?;
    }
    if a.status == "booked" {
        let now = OffsetDateTime::now_utc();
        for hours in REMINDER_HOURS {
            let due = a.starts_at.inner() - Duration::hours(hours);
            if due > now {
                let key = format!(
                    "appointment-reminder:{}:{}:{hours}",
                    a.id,
                    a.starts_at.inner().unix_timestamp()
                );
                enqueue_at(
                    state,
                    &JobKind::AppointmentReminder {
                        appointment_id: a.id,
                        starts_unix: a.starts_at.inner().unix_timestamp(),
                        hours_before: hours,
                    },
                    Some(&key),
                    Timestamp::from(due),
                )
                .await?;
            }
        }
    }
    Ok(())
}

/// The reminder job: sends only if the appointment is still booked at the time it was queued
/// for (a moved session has its own reminders; a cancelled one none).
pub async fn send_reminder(
    state: &AppState,
    id: Uuid,
    starts_unix: i64,
    hours_before: i64,
) -> AppResult<()> {
    let Some(a) = state.db.appointment(id).await? else {
        return Ok(());
    };
    if a.status != "booked" || a.starts_at.inner().unix_timestamp() != starts_unix {
        return Ok(());
    }
    let Some(client) = state.db.user_by_id(a.client_id).await? else {
        return Ok(());
    };
    let (_, tz) = viewer_zone(state, client.id).await?;
    let when = describe(a.starts_at.inner(), &tz);
    let soon = if hours_before <= 1 {
        "in about an hour"
    } else {
        "tomorrow"
    };
    let mut intro = format!(
        "A gentle reminder: your session with {} is {soon}, {when}.",
        a.therapist_name
    );
    if let Some(v) = video_link(state, &a) {
        intro.push_str(&format!("\n\nVideo room: {v}"));
    }
    let email = email_with_ics(state, &a, &client, "Reminder: your session", &intro);
    state
        .mailer
        .send(&email)
        .await
        .map_err(|e| AppError::Internal(format!("reminder email: {e}")))?;
    Ok(())
}

/// `GET /calendar/{token}`: a person's private feed (RFC 5545), from 30 days ago on.
pub async fn feed(State(state): State<AppState>, Path(token): Path<String>) -> AppResult<Response> {
    let token = token.strip_suffix(".ics").unwrap_or(&token);
    let hash = crate::crypto::token::hash_token(token);
    let owner = state
        .db
        .feed_owner(&hash)
        .await?
        .ok_or(AppError::NotFound)?;
    let user = state
        .db
        .user_by_id(owner)
        .await?
        .ok_or(AppError::NotFound)?;
    let rows = state
        .db
        .appointments_for(owner, Timestamp::now() - Duration::days(30), 500)
        .await?;
    let events: Vec<CalEvent> = rows
        .iter()
        .filter(|a| a.status == "booked" || a.status == "cancelled" || a.status == "attended")
        .map(|a| event_for(&state, a, a.therapist_id == owner))
        .collect();
    let body = ics::calendar(
        &format!("Tend · {}", user.name),
        Some(Method::Publish),
        &events,
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        body,
    )
        .into_response())
}
