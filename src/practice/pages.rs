//! Pages: the practice library and player, the journal, and the therapist's view of what a
//! client shares, with homework.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::EMOTIONS;
use super::library::{self, Practice};
use super::queries::NewCompletion;
use crate::audit::{Event, Outcome};
use crate::care::record::{Access, authorize};
use crate::db::{Timestamp, new_id};
use crate::error::{AppError, AppResult, FieldError};
use crate::safety::risk::{Source, screen_and_alert};
use crate::web::AppState;
use crate::web::extract::{Form, Page, Signed};
use crate::web::layout::{Errors, Layout};

/// Longest journal entry or reflection, in characters.
pub const TEXT_MAX: usize = 50_000;

/// Associated data for a sealed journal entry.
pub fn entry_context(id: Uuid) -> String {
    format!("journal_entries.text:{id}")
}

/// Associated data for a sealed reflection.
pub fn reflection_context(id: Uuid) -> String {
    format!("practice_completions.reflection:{id}")
}

/// Associated data for a sealed homework note.
pub fn note_context(client_id: Uuid, practice: &str) -> String {
    format!("homework.note:{client_id}:{practice}")
}

/// Reads an optional 0–10 mood field.
pub fn parse_mood(field: &str, value: Option<&str>) -> Result<Option<i64>, FieldError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => match v.parse::<i64>() {
            Ok(n) if (0..=10).contains(&n) => Ok(Some(n)),
            _ => Err(FieldError::new(
                field,
                "Please choose a number from 0 to 10.",
            )),
        },
    }
}

/// Checks emotion tags against the fixed list.
pub fn check_emotions(tags: &[String]) -> Result<(), FieldError> {
    match tags.iter().find(|t| !EMOTIONS.contains(&t.as_str())) {
        Some(bad) => Err(FieldError::new(
            "emotions",
            format!("\"{bad}\" isn't one of the feelings on the list."),
        )),
        None => Ok(()),
    }
}

/// Checks free text is within the limit.
pub fn check_text(field: &str, text: &str) -> Result<(), FieldError> {
    if text.chars().count() > TEXT_MAX {
        return Err(FieldError::new(
            field,
            format!(
                "This is longer than {TEXT_MAX} characters, so it wasn't saved yet. Your words are still here: you could split them into two entries."
            ),
        ));
    }
    Ok(())
}

/// The library page.
#[derive(Template)]
#[template(path = "practice/library.html")]
struct LibraryPage {
    layout: Layout,
    me: Uuid,
    reminders: super::reminders::ReminderPrefs,
    homework: Vec<(&'static Practice, Option<String>, Timestamp)>,
    practices: &'static [Practice],
}

/// Opens a sealed optional note.
async fn open_note(
    state: &AppState,
    ctx: &str,
    sealed: &Option<Vec<u8>>,
) -> AppResult<Option<String>> {
    Ok(match sealed {
        Some(s) => Some(state.sealer.open(ctx, s).await?),
        None => None,
    })
}

/// The client's homework: each practice, its opened note, and when it was suggested.
pub async fn homework_with_notes(
    state: &AppState,
    client_id: Uuid,
) -> AppResult<Vec<(&'static Practice, Option<String>, Timestamp)>> {
    let mut out = Vec::new();
    for h in state.db.homework_of(client_id).await? {
        if let Some(p) = library::find(&h.practice_id) {
            out.push((
                p,
                open_note(
                    state,
                    &note_context(client_id, &h.practice_id),
                    &h.note_sealed,
                )
                .await?,
                h.created_at,
            ));
        }
    }
    Ok(out)
}

/// `GET /practice`
pub async fn show_library(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
) -> AppResult<Response> {
    let practices = library::all().map_err(AppError::Internal)?;
    let homework = homework_with_notes(&state, current.user.id).await?;
    Ok(Html(
        LibraryPage {
            layout: page.layout("Practices"),
            me: current.user.id,
            reminders: state.db.reminder_prefs(current.user.id).await?,
            homework,
            practices,
        }
        .render()?,
    )
    .into_response())
}

/// The player page.
#[derive(Template)]
#[template(path = "practice/player.html")]
struct PlayerPage {
    layout: Layout,
    practice: &'static Practice,
    errors: Errors,
    reflection: String,
}

/// `GET /practice/{practice}`
pub async fn show_player(page: Page, Path(id): Path<String>) -> AppResult<Response> {
    let practice = library::find(&id).ok_or(AppError::NotFound)?;
    Ok(Html(
        PlayerPage {
            layout: page.layout(&practice.title),
            practice,
            errors: Errors::default(),
            reflection: String::new(),
        }
        .render()?,
    )
    .into_response())
}

/// `POST /practice/{practice}/complete`: any practice counts, however long.
pub async fn complete_practice(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Path(id): Path<String>,
    Form(fields): Form<BTreeMap<String, String>>,
) -> AppResult<Response> {
    let practice = library::find(&id).ok_or(AppError::NotFound)?;
    let reflection = fields
        .get("reflection")
        .map(|t| t.trim().to_string())
        .unwrap_or_default();
    let minutes = fields
        .get("minutes")
        .and_then(|m| m.parse::<i64>().ok())
        .filter(|m| (0..=600).contains(m))
        .unwrap_or(i64::from(practice.minutes));
    let checks = [
        parse_mood("mood_before", fields.get("mood_before").map(String::as_str)).map(|_| ()),
        parse_mood("mood_after", fields.get("mood_after").map(String::as_str)).map(|_| ()),
        check_text("reflection", &reflection),
    ];
    let problems: Vec<FieldError> = checks.into_iter().filter_map(Result::err).collect();
    if !problems.is_empty() {
        let html = PlayerPage {
            layout: page.layout(&practice.title),
            practice,
            errors: Errors(problems),
            reflection,
        }
        .render()?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response());
    }
    let mood_before =
        parse_mood("mood_before", fields.get("mood_before").map(String::as_str)).unwrap_or(None);
    let mood_after =
        parse_mood("mood_after", fields.get("mood_after").map(String::as_str)).unwrap_or(None);
    let (_, risky) = record_completion(
        &state,
        &current.user,
        practice,
        minutes,
        (mood_before, mood_after),
        &reflection,
        fields.contains_key("shared"),
        page.ip.as_deref(),
    )
    .await?;
    Ok(Redirect::to(if risky {
        "/journal?care=1"
    } else {
        "/journal?practised=1"
    })
    .into_response())
}

/// Stores a completed practice (the reflection sealed, screened for risk, the care team
/// alerted if needed); returns its id and whether crisis resources should be shown. Shared by
/// the player page and the API; callers validate first.
#[allow(clippy::too_many_arguments)]
pub async fn record_completion(
    state: &AppState,
    client: &crate::accounts::queries::User,
    practice: &Practice,
    minutes: i64,
    moods: (Option<i64>, Option<i64>),
    reflection: &str,
    shared: bool,
    ip: Option<&str>,
) -> AppResult<(Uuid, bool)> {
    let id = new_id();
    let sealed = if reflection.is_empty() {
        None
    } else {
        Some(
            state
                .sealer
                .seal(&reflection_context(id), reflection)
                .await?,
        )
    };
    let new = NewCompletion {
        practice_id: &practice.id,

        minutes,
        mood_before: moods.0,
        mood_after: moods.1,
        reflection_sealed: sealed.as_deref(),
        shared,
    };
    state.db.add_completion(id, client.id, &new).await?;
    state
        .audit
        .record(
            Event::new(
                Some(client.principal()),
                "practice.completed",
                Outcome::Success,
            )
            .on("practice_completion", id)
            .from_ip(ip),
        )
        .await?;
    let risky = screen_and_alert(
        state,
        client.id,
        reflection,
        Source {
            kind: "reflection",
            id,
        },
    )
    .await
    .show_help;
    Ok((id, risky))
}

/// A journal entry as shown.
pub struct EntryView {
    /// Id.
    pub id: Uuid,
    /// When, as stored (for charts and the calendar).
    pub at: Timestamp,
    /// When.
    pub created_at: String,
    /// Mood.
    pub mood: Option<i64>,
    /// Tags.
    pub emotions: Vec<String>,
    /// Text.
    pub text: String,
    /// Shared.
    pub shared: bool,
}

/// Opens a client's entries (all of them, or only shared ones).
pub async fn entry_views(
    state: &AppState,
    client_id: Uuid,
    shared_only: bool,
) -> AppResult<Vec<EntryView>> {
    let mut out = Vec::new();
    for e in state.db.entries(client_id, shared_only, 500).await? {
        out.push(EntryView {
            id: e.id,
            at: e.created_at,
            created_at: e.created_at.display(),
            mood: e.mood,
            emotions: serde_json::from_str(&e.emotions).unwrap_or_default(),
            text: state
                .sealer
                .open(&entry_context(e.id), &e.text_sealed)
                .await?,
            shared: e.shared,
        });
    }
    Ok(out)
}

/// The journal page.
#[derive(Template)]
#[template(path = "practice/journal.html")]
struct JournalPage {
    layout: Layout,
    calendar: Calendar,
    day: String,
    entries: Vec<EntryView>,
    emotions: &'static [&'static str],
    query: String,
    care: bool,
    practised: bool,
    errors: Errors,
    draft: String,
}

/// One day in the calendar: (day of month, ISO date, entries that day).
pub type CalendarDay = Option<(u8, String, usize)>;

/// A month of the journal calendar, Monday first.
pub struct Calendar {
    /// "November 2026".
    pub title: String,
    /// Weeks of seven days (`None` outside the month).
    pub weeks: Vec<[CalendarDay; 7]>,
    /// Previous and next month as `YYYY-MM`.
    pub prev: String,
    /// Next month.
    pub next: String,
}

/// Builds the calendar for `month` (`YYYY-MM`, default this month) from entry dates.
fn calendar(month: Option<&str>, entry_dates: &[String]) -> Calendar {
    let today = time::OffsetDateTime::now_utc().date();
    let parsed = month.and_then(|m| {
        let (y, mo) = m.split_once('-')?;
        time::Date::from_calendar_date(
            y.parse().ok()?,
            time::Month::try_from(mo.parse::<u8>().ok()?).ok()?,
            1,
        )
        .ok()
    });
    let first = parsed.unwrap_or_else(|| today.replace_day(1).unwrap_or(today));
    let days = first.month().length(first.year());
    let offset = first.weekday().number_days_from_monday() as usize;
    let mut weeks = Vec::new();
    let mut week: [CalendarDay; 7] = Default::default();
    for d in 1..=days {
        let slot = (offset + usize::from(d) - 1) % 7;
        let date = format!("{}-{:02}-{:02}", first.year(), u8::from(first.month()), d);
        let count = entry_dates.iter().filter(|e| e.starts_with(&date)).count();
        week[slot] = Some((d, date, count));
        if slot == 6 || d == days {
            weeks.push(std::mem::take(&mut week));
        }
    }
    let prev = first
        .previous_day()
        .map(|p| format!("{}-{:02}", p.year(), u8::from(p.month())))
        .unwrap_or_default();
    let next_first = first
        .checked_add(time::Duration::days(i64::from(days)))
        .unwrap_or(first);
    Calendar {
        title: format!("{} {}", first.month(), first.year()),
        weeks,
        prev,
        next: format!("{}-{:02}", next_first.year(), u8::from(next_first.month())),
    }
}

/// Query of the journal page.
#[derive(Deserialize)]
pub struct JournalQuery {
    q: Option<String>,
    month: Option<String>,
    day: Option<String>,
    care: Option<String>,
    practised: Option<String>,
}

/// `GET /journal`: write, read back, and search your own entries (decrypted here, never
/// searchable in the database).
pub async fn show_journal(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Query(q): Query<JournalQuery>,
) -> AppResult<Response> {
    journal_page(
        &state,
        &page,
        current.user.id,
        q,
        Errors::default(),
        String::new(),
        StatusCode::OK,
    )
    .await
}

/// Renders the journal page.
async fn journal_page(
    state: &AppState,
    page: &Page,
    client_id: Uuid,
    q: JournalQuery,
    errors: Errors,
    draft: String,
    status: StatusCode,
) -> AppResult<Response> {
    let query = q.q.unwrap_or_default();
    let needle = query.trim().to_lowercase();
    let all = entry_views(state, client_id, false).await?;
    let dates: Vec<String> = all.iter().map(|e| e.created_at.clone()).collect();
    let calendar = calendar(q.month.as_deref(), &dates);
    let day = q.day.clone().unwrap_or_default();
    let entries = all
        .into_iter()
        .filter(|e| {
            needle.is_empty()
                || e.text.to_lowercase().contains(&needle)
                || e.emotions.iter().any(|t| t == &needle)
        })
        .filter(|e| day.is_empty() || e.created_at.starts_with(&day))
        .collect();
    let html = JournalPage {
        layout: page.layout("Journal"),
        calendar,
        day,
        entries,
        emotions: &EMOTIONS,
        query,
        care: q.care.is_some(),
        practised: q.practised.is_some(),
        errors,
        draft,
    }
    .render()?;
    Ok((status, Html(html)).into_response())
}

/// Saves a journal entry for `client_id`; returns its id and whether risk language was found
/// (in which case the care team has been alerted). Shared by the page and the API.
pub async fn save_entry(
    state: &AppState,
    client: &crate::accounts::queries::User,
    mood: Option<i64>,
    emotions: &[String],
    text: &str,
    shared: bool,
    ip: Option<&str>,
) -> AppResult<(Uuid, bool)> {
    let id = new_id();
    let sealed = state.sealer.seal(&entry_context(id), text).await?;
    let tags = serde_json::to_string(emotions).map_err(|e| AppError::Internal(e.to_string()))?;
    state
        .db
        .add_entry(id, client.id, mood, &tags, &sealed, shared)
        .await?;
    state
        .audit
        .record(
            Event::new(
                Some(client.principal()),
                "journal.created",
                Outcome::Success,
            )
            .on("journal_entry", id)
            .from_ip(ip),
        )
        .await?;
    let risky = screen_and_alert(
        state,
        client.id,
        text,
        Source {
            kind: "journal",
            id,
        },
    )
    .await
    .show_help;
    Ok((id, risky))
}

/// `POST /journal`
pub async fn add_entry(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Form(fields): Form<BTreeMap<String, String>>,
) -> AppResult<Response> {
    let text = fields
        .get("text")
        .map(|t| t.trim().to_string())
        .unwrap_or_default();
    let emotions: Vec<String> = fields
        .keys()
        .filter_map(|k| k.strip_prefix("emotion_").map(str::to_string))
        .collect();
    let mood = parse_mood("mood", fields.get("mood").map(String::as_str));
    let mut problems: Vec<FieldError> = [
        mood.clone().map(|_| ()),
        check_emotions(&emotions),
        check_text("text", &text),
    ]
    .into_iter()
    .filter_map(Result::err)
    .collect();
    if text.is_empty() {
        problems.push(FieldError::new(
            "text",
            "Please write something, even a few words.",
        ));
    }
    if !problems.is_empty() {
        let q = JournalQuery {
            q: None,
            month: None,
            day: None,
            care: None,
            practised: None,
        };
        return journal_page(
            &state,
            &page,
            current.user.id,
            q,
            Errors(problems),
            text,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let (_, risky) = save_entry(
        &state,
        &current.user,
        mood.unwrap_or(None),
        &emotions,
        &text,
        fields.contains_key("shared"),
        page.ip.as_deref(),
    )
    .await?;
    Ok(Redirect::to(if risky { "/journal?care=1" } else { "/journal" }).into_response())
}

/// A completion as the therapist sees it.
pub struct CompletionView {
    /// Practice title.
    pub title: String,
    /// When.
    pub when: String,
    /// Minutes.
    pub minutes: i64,
    /// Mood before → after.
    pub mood: Option<(i64, i64)>,
    /// Reflection, if shared.
    pub reflection: Option<String>,
}

/// The therapist's (or client's) practice overview page.
#[derive(Template)]
#[template(path = "practice/client.html")]
struct ClientPracticePage {
    layout: Layout,
    client_id: Uuid,
    name: String,
    entries: Vec<EntryView>,
    completions: Vec<CompletionView>,
    minutes_30_days: i64,
    practices: &'static [Practice],
    /// Suggested practices with their notes and the times each was done since it was
    /// suggested (counting what the viewer may see).
    adherence: Vec<(&'static Practice, Option<String>, usize)>,
    can_assign: bool,
    mood: Option<crate::measures::progress::Panel>,
    weeks: Vec<WeekBar>,
    width: f64,
    height: f64,
}

/// One bar of the minutes-per-week chart.
pub struct WeekBar {
    /// "3 weeks ago" style label.
    pub label: String,
    /// Minutes that week.
    pub minutes: i64,
    /// Bar geometry.
    pub x: f64,
    /// Top.
    pub y: f64,
    /// Width.
    pub w: f64,
    /// Height.
    pub h: f64,
}

/// Weeks shown in the minutes chart.
const WEEKS: i64 = 8;

/// Minutes per week for the last [`WEEKS`] weeks, oldest first, laid out as bars.
fn week_bars(completions: &[(Timestamp, i64)]) -> Vec<WeekBar> {
    use crate::measures::chart::{HEIGHT, WIDTH};
    let now = Timestamp::now();
    let mut minutes = [0i64; WEEKS as usize];
    for (at, m) in completions {
        let weeks_ago = (now - *at).whole_weeks();
        if (0..WEEKS).contains(&weeks_ago) {
            minutes[(WEEKS - 1 - weeks_ago) as usize] += m;
        }
    }
    let max = minutes.iter().copied().max().unwrap_or(0).max(10) as f64;
    let (left, bottom, top) = (44.0, HEIGHT - 28.0, 10.0);
    let slot = (WIDTH - left - 12.0) / WEEKS as f64;
    minutes
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let h = (bottom - top) * (*m as f64) / max;
            let ago = WEEKS - 1 - i as i64;
            WeekBar {
                label: match ago {
                    0 => "this week".into(),
                    1 => "last week".into(),
                    n => format!("{n} weeks ago"),
                },
                minutes: *m,
                x: left + slot * i as f64 + slot * 0.15,
                y: bottom - h,
                w: slot * 0.7,
                h,
            }
        })
        .collect()
}

/// `GET /clients/{id}/practice`: what the client has shared (everything, for the client).
pub async fn show_client_practice(
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
            action: "practice.read",
            ..event
        })
        .await?;
    let own = current.user.id == id;
    let client = state.db.user_by_id(id).await?.ok_or(AppError::NotFound)?;
    let month_ago = Timestamp::now() - time::Duration::days(30);
    // What the viewer may see, read once: everything for the client, shared items otherwise.
    let visible = state.db.completions(id, !own, 200).await?;
    let mut completions = Vec::new();
    let mut minutes_30_days = 0;
    for c in &visible {
        if c.completed_at > month_ago {
            minutes_30_days += c.minutes;
        }
        completions.push(CompletionView {
            title: library::find(&c.practice_id)
                .map(|p| p.title.clone())
                .unwrap_or(c.practice_id.clone()),
            when: c.completed_at.display(),
            minutes: c.minutes,
            mood: c.mood_before.zip(c.mood_after),
            reflection: open_note(&state, &reflection_context(c.id), &c.reflection_sealed).await?,
        });
    }
    let entries = entry_views(&state, id, !own).await?;
    let mood_points: Vec<(Timestamp, f64)> = entries
        .iter()
        .rev()
        .filter_map(|e| Some((e.at, e.mood? as f64)))
        .collect();
    let mood = (!mood_points.is_empty()).then(|| {
        let first = mood_points.first().map_or(0.0, |p| p.1);
        let last = mood_points.last().map_or(0.0, |p| p.1);
        crate::measures::progress::Panel {
            id: "mood".into(),
            title: "Mood in journal entries".into(),
            baseline: crate::measures::progress::fmt_total(first),
            latest: crate::measures::progress::fmt_total(last),
            band: None,
            status: "mood from 0 to 10",
            rc_note: None,
            chart: crate::measures::chart::layout_plain(0.0, 10.0, &mood_points),
            rows: mood_points
                .iter()
                .map(|(at, m)| {
                    (
                        at.display(),
                        crate::measures::progress::fmt_total(*m),
                        String::new(),
                    )
                })
                .collect(),
        }
    });
    let adherence = homework_with_notes(&state, id)
        .await?
        .into_iter()
        .map(|(p, note, since)| {
            let done = visible
                .iter()
                .filter(|c| c.practice_id == p.id && c.completed_at >= since)
                .count();
            (p, note, done)
        })
        .collect();
    let weeks = week_bars(
        &visible
            .iter()
            .map(|c| (c.completed_at, c.minutes))
            .collect::<Vec<_>>(),
    );
    let html = ClientPracticePage {
        layout: page.layout(if own {
            "Your practice"
        } else {
            "Practice and journal"
        }),
        client_id: id,
        name: client.name,
        entries,
        completions,
        mood,
        weeks,
        adherence,
        width: crate::measures::chart::WIDTH,
        height: crate::measures::chart::HEIGHT,
        minutes_30_days,
        practices: library::all().map_err(AppError::Internal)?,
        can_assign: grant.allows_write(),
    }
    .render()?;
    Ok(Html(html).into_response())
}

/// `POST /clients/{id}/homework`: a treating clinician suggests a practice with a note.
pub async fn assign_homework(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Path(id): Path<Uuid>,
    Form(fields): Form<BTreeMap<String, String>>,
) -> AppResult<Response> {
    let (_, event) =
        authorize(&state, &current.user, id, Access::Write, page.ip.as_deref()).await?;
    let practice_id = fields
        .get("practice")
        .map(String::as_str)
        .unwrap_or_default();
    let practice = library::find(practice_id)
        .ok_or_else(|| AppError::invalid("practice", "Please choose a practice from the list."))?;
    let every_days = match fields.get("schedule").map(String::as_str) {
        Some("once") | None => None,
        Some("daily") => Some(1),
        Some("weekly") => Some(7),
        Some(_) => {
            return Err(AppError::invalid(
                "schedule",
                "Please choose once, daily or weekly.",
            ));
        }
    };
    let note = fields.get("note").map(|n| n.trim()).unwrap_or_default();
    if let Err(e) = check_text("note", note) {
        return Err(AppError::Invalid(vec![e]));
    }
    let sealed = if note.is_empty() {
        None
    } else {
        Some(
            state
                .sealer
                .seal(&note_context(id, &practice.id), note)
                .await?,
        )
    };
    state
        .db
        .add_homework(
            id,
            current.user.id,
            &practice.id,
            sealed.as_deref(),
            every_days,
        )
        .await?;
    state
        .audit
        .record(Event {
            action: "homework.assigned",
            ..event
        })
        .await?;
    Ok(Redirect::to(&format!("/clients/{id}/practice")).into_response())
}

/// `POST /practice/reminders`: opt in or out, with the hour, quiet hours and time offset.
pub async fn set_reminders(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Form(fields): Form<BTreeMap<String, String>>,
) -> AppResult<Response> {
    let hour = |field: &str| -> Result<u8, FieldError> {
        fields
            .get(field)
            .and_then(|v| v.parse::<u8>().ok())
            .filter(|h| *h < 24)
            .ok_or_else(|| FieldError::new(field, "Please choose an hour from the list."))
    };
    let offset = fields
        .get("utc_offset_minutes")
        .and_then(|v| v.parse::<i32>().ok())
        .filter(|m| (-12 * 60..=14 * 60).contains(m));
    let (h, qs, qe) = (hour("hour"), hour("quiet_start"), hour("quiet_end"));
    let problems: Vec<FieldError> = [
        h.clone().err(),
        qs.clone().err(),
        qe.clone().err(),
        offset
            .is_none()
            .then(|| FieldError::new("utc_offset_minutes", "Please choose your time zone.")),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let prefs = super::reminders::ReminderPrefs {
        enabled: fields.get("enabled").is_some_and(|v| v == "on"),
        hour: h.unwrap_or(18),
        quiet_start: qs.unwrap_or(21),
        quiet_end: qe.unwrap_or(8),
        utc_offset_minutes: offset.unwrap_or(0),
    };
    state.db.set_reminder_prefs(current.user.id, &prefs).await?;
    state
        .audit
        .record(
            Event::new(
                Some(current.user.principal()),
                "settings.reminders",
                Outcome::Success,
            )
            .from_ip(page.ip.as_deref()),
        )
        .await?;
    super::reminders::schedule(&state, current.user.id, time::OffsetDateTime::now_utc()).await?;
    Ok(Redirect::to("/practice").into_response())
}

/// `POST /journal/{id}/share`: the writer shares an entry with their therapist, or stops
/// sharing it, at any time.
pub async fn share_entry(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Path(id): Path<Uuid>,
    Form(fields): Form<BTreeMap<String, String>>,
) -> AppResult<Response> {
    let shared = match fields.get("shared").map(String::as_str) {
        Some("yes") => true,
        Some("no") => false,
        _ => {
            return Err(AppError::invalid(
                "shared",
                "Please choose share or stop sharing.",
            ));
        }
    };
    if !state
        .db
        .set_entry_shared(id, current.user.id, shared)
        .await?
    {
        return Err(AppError::NotFound);
    }
    let action = if shared {
        "journal.shared"
    } else {
        "journal.unshared"
    };
    state
        .audit
        .record(
            Event::new(Some(current.user.principal()), action, Outcome::Success)
                .on("journal_entry", id)
                .from_ip(page.ip.as_deref()),
        )
        .await?;
    Ok(Redirect::to("/journal").into_response())
}
