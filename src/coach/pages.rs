//! The coach's pages: scenarios, attempts with feedback and comments, progress (own and a
//! trainee's), "check my draft" and the transcript summary. Every page works without JavaScript.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::feedback::Feedback;
use super::queries::{Attempt, comment_context, feedback_context, reply_context};
use super::scenarios::{self, Scenario, TOPICS};
use super::summary::{Standing, Summary};
use super::{CoachError, Status};
use crate::accounts::queries::User;
use crate::audit::{Event, Outcome};
use crate::db::Timestamp;
use crate::error::{AppError, AppResult};
use crate::web::AppState;
use crate::web::extract::{Form, Page, Signed, check_len, check_required, collect};
use crate::web::layout::{Errors, Layout};

/// Longest supervision comment, in characters.
const COMMENT_MAX: usize = 5_000;

/// A dimension as words, not a grade: (name, meter value, phrase).
pub struct DimensionView {
    /// Which dimension.
    pub name: &'static str,
    /// What it means.
    pub about: &'static str,
    /// 0..100.
    pub percent: u32,
    /// A gentle phrase for the value.
    pub phrase: &'static str,
}

/// A sentence on the page.
pub struct SentenceView {
    /// Its number (1-based).
    pub number: usize,
    /// The text.
    pub text: String,
    /// CSS-safe label id.
    pub label: &'static str,
    /// Label as words.
    pub label_name: &'static str,
    /// Confidence in percent.
    pub confidence: u32,
}

/// A suggestion with the sentences it is about quoted.
pub struct SuggestionView {
    /// What to try.
    pub text: String,
    /// The sentences it rests on.
    pub quotes: Vec<String>,
}

/// Feedback as the templates show it.
pub struct FeedbackView {
    /// Sentences with labels.
    pub sentences: Vec<SentenceView>,
    /// The three dimensions.
    pub dimensions: Vec<DimensionView>,
    /// What went well.
    pub strengths: Vec<String>,
    /// What to try.
    pub suggestions: Vec<SuggestionView>,
    /// Roadblocks: (name, matched words, why, what instead).
    pub roadblocks: Vec<(String, String, String, String)>,
}

fn phrase(value: f32) -> &'static str {
    if value >= 0.7 {
        "clearly there"
    } else if value >= 0.4 {
        "partly there"
    } else {
        "not there yet"
    }
}

fn percent(value: f32) -> u32 {
    (value.clamp(0.0, 1.0) * 100.0).round() as u32
}

/// Turns feedback into what the templates show.
pub fn view(f: &Feedback) -> FeedbackView {
    let quote = |i: &usize| f.sentences.get(*i).map(|s| s.text.clone());
    FeedbackView {
        sentences: f
            .sentences
            .iter()
            .enumerate()
            .map(|(i, s)| SentenceView {
                number: i + 1,
                text: s.text.clone(),
                label: s.label.as_str(),
                label_name: s.label.display(),
                confidence: percent(s.confidence),
            })
            .collect(),
        dimensions: vec![
            DimensionView {
                name: "Understanding",
                about: "saying back what you heard, and what it may mean",
                percent: percent(f.dimensions.reflection),
                phrase: phrase(f.dimensions.reflection),
            },
            DimensionView {
                name: "Exploration",
                about: "inviting them to say more, in their own words",
                percent: percent(f.dimensions.exploration),
                phrase: phrase(f.dimensions.exploration),
            },
            DimensionView {
                name: "Warmth and validation",
                about: "accepting the feeling without fixing or judging it",
                percent: percent(f.dimensions.warmth),
                phrase: phrase(f.dimensions.warmth),
            },
        ],
        strengths: f.strengths.clone(),
        suggestions: f
            .suggestions
            .iter()
            .map(|s| SuggestionView {
                text: s.text.clone(),
                quotes: s.evidence.iter().filter_map(quote).collect(),
            })
            .collect(),
        roadblocks: f
            .roadblocks
            .iter()
            .map(|r| {
                (
                    r.name.clone(),
                    r.matched.clone(),
                    r.why.clone(),
                    r.instead.clone(),
                )
            })
            .collect(),
    }
}

/// A scenario card in the list.
struct ScenarioCard {
    scenario: &'static Scenario,
    attempts: usize,
}

/// `/coach`.
#[derive(Template)]
#[template(path = "coach/index.html")]
struct IndexPage {
    layout: Layout,
    unavailable: Option<String>,
    topics: Vec<(&'static str, Vec<ScenarioCard>)>,
    is_supervisor: bool,
}

fn unavailable(state: &AppState) -> Option<String> {
    match state.coach.status() {
        Status::Ready => None,
        Status::Unavailable(why) => Some(why),
    }
}

/// `GET /coach`: scenarios by topic, with how often you tried each.
pub async fn index(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
) -> AppResult<Response> {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for a in state.db.attempts_of(current.user.id).await? {
        *counts.entry(a.scenario).or_default() += 1;
    }
    let all = scenarios::all();
    let topics = TOPICS
        .iter()
        .map(|(id, heading)| {
            let cards = all
                .iter()
                .filter(|s| s.topic == *id)
                .map(|s| ScenarioCard {
                    scenario: s,
                    attempts: counts.get(&s.slug).copied().unwrap_or(0),
                })
                .collect();
            (*heading, cards)
        })
        .collect();
    Ok(Html(
        IndexPage {
            layout: page.layout("Listening coach"),
            unavailable: unavailable(&state),
            topics,
            is_supervisor: !state.db.trainees_of(current.user.id).await?.is_empty(),
        }
        .render()?,
    )
    .into_response())
}

/// One scenario with the reply box.
#[derive(Template)]
#[template(path = "coach/scenario.html")]
struct ScenarioPage {
    layout: Layout,
    scenario: &'static Scenario,
    unavailable: Option<String>,
    draft: String,
    errors: Errors,
    earlier: Vec<(Uuid, String)>,
    max: usize,
}

async fn scenario_page(
    state: &AppState,
    page: &Page,
    user: &User,
    scenario: &'static Scenario,
    draft: String,
    errors: Errors,
    status: StatusCode,
) -> AppResult<Response> {
    let earlier = state
        .db
        .attempts_of(user.id)
        .await?
        .into_iter()
        .rev()
        .filter(|a| a.scenario == scenario.slug)
        .map(|a| (a.id, a.created_at.display()))
        .collect();
    let html = ScenarioPage {
        layout: page.layout(&scenario.title),
        scenario,
        unavailable: unavailable(state),
        draft,
        errors,
        earlier,
        max: super::REPLY_MAX,
    }
    .render()?;
    Ok((status, Html(html)).into_response())
}

fn find_scenario(slug: &str) -> AppResult<&'static Scenario> {
    scenarios::find(slug).ok_or(AppError::NotFound)
}

/// `GET /coach/scenarios/{slug}`
pub async fn scenario(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Path(slug): Path<String>,
) -> AppResult<Response> {
    let scenario = find_scenario(&slug)?;
    scenario_page(
        &state,
        &page,
        &current.user,
        scenario,
        String::new(),
        Errors::default(),
        StatusCode::OK,
    )
    .await
}

/// A reply to a scenario.
#[derive(Deserialize)]
pub struct AttemptForm {
    #[serde(default)]
    reply: String,
}

/// `POST /coach/scenarios/{slug}`: gets feedback, keeps the attempt and shows it. A reply the
/// coach cannot read comes back in the box with the reason.
pub async fn attempt(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Path(slug): Path<String>,
    Form(form): Form<AttemptForm>,
) -> AppResult<Response> {
    let scenario = find_scenario(&slug)?;
    let feedback = match state
        .coach
        .feedback(scenario.client_message.clone(), form.reply.clone())
        .await
    {
        Ok(f) => f,
        Err(CoachError::Invalid(fields)) => {
            return scenario_page(
                &state,
                &page,
                &current.user,
                scenario,
                form.reply,
                Errors(fields),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
        Err(other) => return Err(other.into()),
    };
    let id = super::save_attempt(
        &state,
        current.user.id,
        &scenario.slug,
        &form.reply,
        &feedback,
        Timestamp::now(),
    )
    .await?;
    audited(
        &state,
        &page,
        &current.user,
        "coach.attempt",
        Outcome::Success,
        Some(("coach_attempt", id)),
    )
    .await?;
    Ok(Redirect::to(&format!("/coach/attempts/{id}")).into_response())
}

/// Loads an attempt the caller may see: their own, or a trainee's they supervise. Anything else
/// is refused and audited.
async fn visible_attempt(
    state: &AppState,
    page: &Page,
    user: &User,
    id: Uuid,
) -> AppResult<(Attempt, bool)> {
    let attempt = state.db.attempt(id).await?.ok_or(AppError::NotFound)?;
    let own = attempt.user_id == user.id;
    if own || state.db.supervises(user.id, attempt.user_id).await? {
        return Ok((attempt, own));
    }
    audited(
        state,
        page,
        user,
        "coach.attempt.read",
        Outcome::Denied,
        Some(("coach_attempt", id)),
    )
    .await?;
    Err(AppError::Forbidden)
}

/// An attempt with its feedback and comments.
#[derive(Template)]
#[template(path = "coach/attempt.html")]
struct AttemptPage {
    layout: Layout,
    id: Uuid,
    scenario: Option<&'static Scenario>,
    reply: String,
    feedback: FeedbackView,
    own: bool,
    author: String,
    when: String,
    comments: Vec<(String, String, String)>,
    errors: Errors,
    draft: String,
}

async fn attempt_page(
    state: &AppState,
    page: &Page,
    user: &User,
    id: Uuid,
    draft: String,
    errors: Errors,
    status: StatusCode,
) -> AppResult<Response> {
    let (attempt, own) = visible_attempt(state, page, user, id).await?;
    let reply = state
        .sealer
        .open(&reply_context(id), &attempt.reply_sealed)
        .await?;
    let json = state
        .sealer
        .open(&feedback_context(id), &attempt.feedback_sealed)
        .await?;
    let feedback: Feedback =
        serde_json::from_str(&json).map_err(|e| AppError::Internal(e.to_string()))?;
    let mut comments = Vec::new();
    for c in state.db.comments_on(id).await? {
        let body = state
            .sealer
            .open(&comment_context(c.id), &c.body_sealed)
            .await?;
        comments.push((c.author_name, c.created_at.display(), body));
    }
    let author = if own {
        "You".to_owned()
    } else {
        state
            .db
            .user_by_id(attempt.user_id)
            .await?
            .map(|u| u.name)
            .unwrap_or_default()
    };
    audited(
        state,
        page,
        user,
        "coach.attempt.read",
        Outcome::Success,
        Some(("coach_attempt", id)),
    )
    .await?;
    let html = AttemptPage {
        layout: page.layout("Feedback on a practice reply"),
        id,
        scenario: scenarios::find(&attempt.scenario),
        reply,
        feedback: view(&feedback),
        own,
        author,
        when: attempt.created_at.display(),
        comments,
        errors,
        draft,
    }
    .render()?;
    Ok((status, Html(html)).into_response())
}

/// `GET /coach/attempts/{id}`
pub async fn show_attempt(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    attempt_page(
        &state,
        &page,
        &current.user,
        id,
        String::new(),
        Errors::default(),
        StatusCode::OK,
    )
    .await
}

/// A comment.
#[derive(Deserialize)]
pub struct CommentForm {
    #[serde(default)]
    body: String,
}

/// `POST /coach/attempts/{id}/comments`: a supervisor's comment, or the trainee's answer.
pub async fn comment(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Path(id): Path<Uuid>,
    Form(form): Form<CommentForm>,
) -> AppResult<Response> {
    visible_attempt(&state, &page, &current.user, id).await?;
    if let Err(AppError::Invalid(fields)) = collect([
        check_required("body", &form.body),
        check_len("body", &form.body, COMMENT_MAX),
    ]) {
        return attempt_page(
            &state,
            &page,
            &current.user,
            id,
            form.body,
            Errors(fields),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    super::save_comment(&state, id, current.user.id, &form.body).await?;
    audited(
        &state,
        &page,
        &current.user,
        "coach.comment",
        Outcome::Success,
        Some(("coach_attempt", id)),
    )
    .await?;
    Ok(Redirect::to(&format!("/coach/attempts/{id}#comments")).into_response())
}

/// Records what the caller did, on which record if any.
async fn audited(
    state: &AppState,
    page: &Page,
    user: &User,
    action: &'static str,
    outcome: Outcome,
    on: Option<(&'static str, Uuid)>,
) -> AppResult<()> {
    let mut event = Event::new(Some(user.principal()), action, outcome).from_ip(page.ip.as_deref());
    if let Some((kind, id)) = on {
        event = event.on(kind, id);
    }
    state.audit.record(event).await?;
    Ok(())
}

/// A row of the progress table.
struct ProgressRow {
    id: Uuid,
    when: String,
    title: String,
    reflection: u32,
    exploration: u32,
    warmth: u32,
}

/// The progress chart: one polyline per dimension over attempts.
struct Chart {
    width: u32,
    height: u32,
    lines: Vec<(&'static str, &'static str, String)>,
}

/// Plots the three dimensions (0..100) over attempts, oldest on the left.
fn chart(rows: &[ProgressRow]) -> Chart {
    let (width, height, pad) = (640u32, 200u32, 20u32);
    let n = rows.len().max(2) - 1;
    let x = |i: usize| pad + (i as u32) * (width - 2 * pad) / n as u32;
    let y = |v: u32| height - pad - v * (height - 2 * pad) / 100;
    let line = |pick: fn(&ProgressRow) -> u32| {
        rows.iter()
            .enumerate()
            .map(|(i, r)| format!("{},{}", x(i), y(pick(r))))
            .collect::<Vec<_>>()
            .join(" ")
    };
    Chart {
        width,
        height,
        lines: vec![
            ("Understanding", "reflection", line(|r| r.reflection)),
            ("Exploration", "exploration", line(|r| r.exploration)),
            ("Warmth", "warmth", line(|r| r.warmth)),
        ],
    }
}

/// Progress over time.
#[derive(Template)]
#[template(path = "coach/progress.html")]
struct ProgressPage {
    layout: Layout,
    whose: String,
    rows: Vec<ProgressRow>,
    chart: Chart,
}

async fn progress(state: &AppState, page: &Page, person: &User, own: bool) -> AppResult<Response> {
    let rows: Vec<ProgressRow> = state
        .db
        .attempts_of(person.id)
        .await?
        .into_iter()
        .map(|a| ProgressRow {
            id: a.id,
            when: a.created_at.display(),
            title: scenarios::find(&a.scenario)
                .map_or_else(|| a.scenario.clone(), |s| s.title.clone()),
            reflection: percent(a.reflection as f32),
            exploration: percent(a.exploration as f32),
            warmth: percent(a.warmth as f32),
        })
        .collect();
    let title = if own {
        "Your practice over time".to_owned()
    } else {
        format!("{}'s practice over time", person.name)
    };
    Ok(Html(
        ProgressPage {
            layout: page.layout(&title),
            whose: if own {
                "your".to_owned()
            } else {
                format!("{}'s", person.name)
            },
            chart: chart(&rows),
            rows,
        }
        .render()?,
    )
    .into_response())
}

/// `GET /coach/progress`
pub async fn own_progress(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
) -> AppResult<Response> {
    progress(&state, &page, &current.user, true).await
}

/// `GET /coach/trainees/{id}`: a supervisor's view of one trainee's practice.
pub async fn trainee_progress(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    if !state.db.supervises(current.user.id, id).await? {
        audited(
            &state,
            &page,
            &current.user,
            "coach.progress.read",
            Outcome::Denied,
            Some(("user", id)),
        )
        .await?;
        return Err(AppError::Forbidden);
    }
    let trainee = state.db.user_by_id(id).await?.ok_or(AppError::NotFound)?;
    progress(&state, &page, &trainee, false).await
}

/// "Check my draft".
#[derive(Template)]
#[template(path = "coach/check.html")]
struct CheckPage {
    layout: Layout,
    unavailable: Option<String>,
    client_message: String,
    draft: String,
    conversation: Option<Uuid>,
    client_key: String,
    feedback: Option<FeedbackView>,
    errors: Errors,
    max: usize,
}

/// Query of the check page.
#[derive(Deserialize)]
pub struct CheckQuery {
    conversation: Option<Uuid>,
}

/// The client's latest message in a conversation the caller staffs (the draft answers it).
async fn latest_from_other(
    state: &AppState,
    page: &Page,
    user: &User,
    id: Uuid,
) -> AppResult<String> {
    let conversation = crate::messaging::participant(state, user, id, page.ip.as_deref()).await?;
    if conversation.staff_id != user.id {
        return Err(AppError::Forbidden);
    }
    let rows = state.db.latest_messages(id, 20).await?;
    match rows.iter().rev().find(|r| r.sender_id != user.id) {
        Some(row) => Ok(crate::messaging::open_message(state, row, user.id)
            .await?
            .body),
        None => Ok(String::new()),
    }
}

/// `GET /coach/check`: paste a client's message and a draft; from a conversation the client's
/// latest message is filled in.
pub async fn check_form(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Query(q): Query<CheckQuery>,
) -> AppResult<Response> {
    let client_message = match q.conversation {
        Some(id) => latest_from_other(&state, &page, &current.user, id).await?,
        None => String::new(),
    };
    render_check(
        &state,
        &page,
        client_message,
        String::new(),
        q.conversation,
        None,
        Errors::default(),
        StatusCode::OK,
    )
}

#[allow(clippy::too_many_arguments)]
fn render_check(
    state: &AppState,
    page: &Page,
    client_message: String,
    draft: String,
    conversation: Option<Uuid>,
    feedback: Option<FeedbackView>,
    errors: Errors,
    status: StatusCode,
) -> AppResult<Response> {
    let html = CheckPage {
        layout: page.layout("Check my draft"),
        unavailable: unavailable(state),
        client_message,
        draft,
        conversation,
        client_key: Uuid::new_v4().to_string(),
        feedback,
        errors,
        max: super::REPLY_MAX,
    }
    .render()?;
    Ok((status, Html(html)).into_response())
}

/// The check form; `body` is the draft (the messaging composer's field name), `conversation`
/// is set when it came from a conversation.
#[derive(Deserialize)]
pub struct CheckForm {
    #[serde(default)]
    body: String,
    #[serde(default)]
    client_message: Option<String>,
    #[serde(default)]
    conversation: Option<String>,
}

/// `POST /coach/check`: feedback on a draft, shown beside it; nothing is stored or sent. Only
/// ever on request ("check my draft"), never automatically.
pub async fn check(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Form(form): Form<CheckForm>,
) -> AppResult<Response> {
    let conversation = match form.conversation.as_deref().filter(|s| !s.is_empty()) {
        Some(raw) => Some(raw.parse::<Uuid>().map_err(|_| AppError::NotFound)?),
        None => None,
    };
    let client_message = match (form.client_message, conversation) {
        (Some(m), _) => m,
        (None, Some(id)) => latest_from_other(&state, &page, &current.user, id).await?,
        (None, None) => String::new(),
    };
    match state
        .coach
        .feedback(client_message.clone(), form.body.clone())
        .await
    {
        Ok(f) => {
            audited(
                &state,
                &page,
                &current.user,
                "coach.feedback",
                Outcome::Success,
                None,
            )
            .await?;
            render_check(
                &state,
                &page,
                client_message,
                form.body,
                conversation,
                Some(view(&f)),
                Errors::default(),
                StatusCode::OK,
            )
        }
        Err(CoachError::Invalid(fields)) => render_check(
            &state,
            &page,
            client_message,
            form.body,
            conversation,
            None,
            Errors(fields),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(other) => Err(other.into()),
    }
}

/// The transcript summary page.
#[derive(Template)]
#[template(path = "coach/summary.html")]
struct SummaryPage {
    layout: Layout,
    unavailable: Option<String>,
    transcript: String,
    summary: Option<Summary>,
    errors: Errors,
}

impl SummaryPage {
    /// A standing in words.
    fn standing(&self, s: &Standing) -> &'static str {
        match s {
            Standing::Good => "at or above the good threshold",
            Standing::Fair => "at or above fair, below good",
            Standing::BelowFair => "below the fair threshold",
            Standing::NotAvailable => "nothing to compute yet",
        }
    }
}

/// `GET /coach/summary`
pub async fn summary_form(State(state): State<AppState>, page: Page) -> AppResult<Response> {
    render_summary(
        &state,
        &page,
        String::new(),
        None,
        Errors::default(),
        StatusCode::OK,
    )
}

fn render_summary(
    state: &AppState,
    page: &Page,
    transcript: String,
    summary: Option<Summary>,
    errors: Errors,
    status: StatusCode,
) -> AppResult<Response> {
    let html = SummaryPage {
        layout: page.layout("Session summary"),
        unavailable: unavailable(state),
        transcript,
        summary,
        errors,
    }
    .render()?;
    Ok((status, Html(html)).into_response())
}

/// A transcript.
#[derive(Deserialize)]
pub struct SummaryForm {
    #[serde(default)]
    transcript: String,
}

/// `POST /coach/summary`
pub async fn summary(
    State(state): State<AppState>,
    page: Page,
    Form(form): Form<SummaryForm>,
) -> AppResult<Response> {
    let checked = collect([
        check_required("transcript", &form.transcript),
        check_len("transcript", &form.transcript, super::TRANSCRIPT_MAX),
    ]);
    let result = match checked {
        Ok(()) => state.coach.summary(form.transcript.clone()).await,
        Err(AppError::Invalid(fields)) => Err(CoachError::Invalid(fields)),
        Err(other) => return Err(other),
    };
    match result {
        Ok(s) => render_summary(
            &state,
            &page,
            form.transcript,
            Some(s),
            Errors::default(),
            StatusCode::OK,
        ),
        Err(CoachError::Invalid(fields)) => render_summary(
            &state,
            &page,
            form.transcript,
            None,
            Errors(fields),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(other) => Err(other.into()),
    }
}
