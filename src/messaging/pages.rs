//! Messaging pages: the conversation list, a conversation (works without JavaScript; with it,
//! new messages arrive over Server-Sent Events and sending never loses the text), and a
//! clinician's messaging settings.

use std::collections::VecDeque;
use std::convert::Infallible;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Redirect, Response};
use futures_util::stream::Stream;
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

use super::hub::Nudge;
use super::queries::{Conversation, ConversationSummary, MessagingSettings};
use super::{DEFAULT_REPLY_NOTE, MESSAGE_MAX, MessageView, open_message, participant, send};
use crate::accounts::queries::User;
use crate::audit::{Event, Outcome};
use crate::authz::Role;
use crate::db::Timestamp;
use crate::error::{AppError, AppResult, FieldError};
use crate::web::AppState;
use crate::web::extract::{Form, Page, Signed, SourceIp, check_len};
use crate::web::layout::Errors;

/// Messages shown on a conversation page.
const SHOWN: i64 = 200;

/// The conversation list.
#[derive(Template)]
#[template(path = "messaging/list.html")]
struct ListPage {
    layout: crate::web::layout::Layout,
    conversations: Vec<ConversationSummary>,
    staff: bool,
}

/// `GET /messages`
pub async fn list(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
) -> AppResult<Response> {
    state.db.ensure_conversations(current.user.id).await?;
    let conversations = state.db.conversations_for(current.user.id).await?;
    Ok(Html(
        ListPage {
            layout: page.layout("Messages"),
            conversations,
            staff: matches!(current.user.role, Role::Therapist | Role::Supervisor),
        }
        .render()?,
    )
    .into_response())
}

/// `GET /messages/with/{user_id}`: the conversation with this person (links from alerts and
/// the caseload).
pub async fn with_person(
    State(state): State<AppState>,
    Signed(current): Signed,
    Path(other): Path<Uuid>,
) -> AppResult<Response> {
    state.db.ensure_conversations(current.user.id).await?;
    let found = state
        .db
        .conversations_for(current.user.id)
        .await?
        .into_iter()
        .find(|c| c.other_id == other)
        .ok_or(AppError::NotFound)?;
    Ok(Redirect::to(&format!("/messages/{}", found.id)).into_response())
}

/// A conversation page.
#[derive(Template)]
#[template(path = "messaging/thread.html")]
struct ThreadPage {
    layout: crate::web::layout::Layout,
    conversation_id: Uuid,
    other_name: String,
    messages: Vec<MessageView>,
    /// Id of the newest message shown (the stream continues after it), or `start`.
    last_id: String,
    /// Shown to clients above the box: the therapist's office hours and note.
    expectation: Option<(String, String)>,
    can_send: bool,
    client_key: String,
    draft: String,
    errors: Errors,
    show_help: bool,
    max: usize,
    more: bool,
    /// The therapist may ask the listening coach about a draft (never automatic).
    can_check: bool,
}

/// Renders a conversation for `current`, marking it read.
async fn render_thread(
    state: &AppState,
    page: &Page,
    current: &User,
    conversation: &Conversation,
    draft: String,
    errors: Errors,
    show_help: bool,
) -> AppResult<String> {
    let rows = state.db.latest_messages(conversation.id, SHOWN + 1).await?;
    let more = rows.len() as i64 > SHOWN;
    let mut messages = Vec::with_capacity(rows.len());
    for row in rows.iter().skip(usize::from(more)) {
        messages.push(open_message(state, row, current.id).await?);
    }
    if let Some(last) = rows.last() {
        state
            .db
            .mark_read(conversation.id, current.id, last.created_at)
            .await?;
    }
    let other = state
        .db
        .user_by_id(conversation.other(current.id))
        .await?
        .ok_or(AppError::NotFound)?;
    let expectation = if current.id == conversation.member_id && conversation.kind == "care" {
        let settings = state.db.messaging_settings(conversation.staff_id).await?;
        Some(match settings {
            Some(s) => (s.office_hours, s.reply_note),
            None => (String::new(), DEFAULT_REPLY_NOTE.to_string()),
        })
    } else {
        None
    };
    Ok(ThreadPage {
        layout: page.layout(&format!("Messages with {}", other.name)),
        conversation_id: conversation.id,
        other_name: other.name,
        // `start` tells the stream the page showed nothing, so everything is new to it.
        last_id: messages
            .last()
            .map_or_else(|| "start".to_string(), |m| m.id.to_string()),
        messages,
        expectation,
        can_send: state.db.conversation_active(conversation).await?,
        client_key: Uuid::new_v4().to_string(),
        draft,
        errors,
        show_help,
        max: MESSAGE_MAX,
        more,
        can_check: conversation.kind == "care" && conversation.staff_id == current.id,
    }
    .render()?)
}

/// `GET /messages/{id}`
pub async fn thread(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let conversation = participant(&state, &current.user, id, page.ip.as_deref()).await?;
    state
        .audit
        .record(
            Event::new(
                Some(current.user.principal()),
                "conversation.read",
                Outcome::Success,
            )
            .on("conversation", id)
            .from_ip(page.ip.as_deref()),
        )
        .await?;
    let html = render_thread(
        &state,
        &page,
        &current.user,
        &conversation,
        String::new(),
        Errors::default(),
        false,
    )
    .await?;
    Ok(Html(html).into_response())
}

/// The message form.
#[derive(Deserialize)]
pub struct MessageForm {
    /// The message.
    #[serde(default)]
    body: String,
    /// A key unique to this compose box, so a resend is not stored twice.
    #[serde(default)]
    client_key: String,
}

/// `POST /messages/{id}`: sends; when a client's words raise concern, answers with the
/// conversation and crisis resources in this same response. A refused message comes back in
/// the box with the reason, so nothing typed is lost.
pub async fn post(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Path(id): Path<Uuid>,
    Form(form): Form<MessageForm>,
) -> AppResult<Response> {
    let conversation = participant(&state, &current.user, id, page.ip.as_deref()).await?;
    let result = send(
        &state,
        &current.user,
        &conversation,
        &form.body,
        &form.client_key,
        page.ip.as_deref(),
    )
    .await;
    let (status, problems) = match result {
        Ok(sent) => {
            if super::needs_help(sent.risk.as_ref()) {
                let html = render_thread(
                    &state,
                    &page,
                    &current.user,
                    &conversation,
                    String::new(),
                    Errors::default(),
                    true,
                )
                .await?;
                return Ok(Html(html).into_response());
            }
            return Ok(Redirect::to(&format!("/messages/{id}#latest")).into_response());
        }
        Err(AppError::Invalid(problems)) => (StatusCode::UNPROCESSABLE_ENTITY, problems),
        Err(AppError::RateLimited { .. }) => (
            StatusCode::TOO_MANY_REQUESTS,
            vec![FieldError::new(
                "body",
                "You've sent several messages in a short time, so we've paused sending for a minute. Your message is still here; please send it again shortly. If you are in crisis, please use the \"Need help now?\" link.",
            )],
        ),
        Err(AppError::Conflict(message)) => {
            (StatusCode::CONFLICT, vec![FieldError::new("body", message)])
        }
        Err(other) => return Err(other),
    };
    let html = render_thread(
        &state,
        &page,
        &current.user,
        &conversation,
        form.body,
        Errors(problems),
        false,
    )
    .await?;
    Ok((status, Html(html)).into_response())
}

/// Where the stream starts.
#[derive(Deserialize)]
pub struct EventsQuery {
    /// The newest message the page already shows, or `start` when it showed none; absent
    /// means "from now on".
    after: Option<String>,
}

/// Messages read per query while catching up.
const BATCH: i64 = 100;

/// The stream's position.
struct Cursor {
    state: AppState,
    conversation: Uuid,
    viewer: Uuid,
    after: Option<Timestamp>,
    nudges: tokio::sync::broadcast::Receiver<Nudge>,
    closing: tokio::sync::watch::Receiver<bool>,
    ready: VecDeque<SseEvent>,
}

impl Cursor {
    /// Reads everything this page has not seen yet into `ready`.
    async fn catch_up(&mut self) {
        while self.read_batch().await == BATCH as usize {}
    }

    /// Reads up to [`BATCH`] unseen messages into `ready`; returns how many it read.
    async fn read_batch(&mut self) -> usize {
        let rows = match self
            .state
            .db
            .messages_after(self.conversation, self.after, BATCH)
            .await
        {
            Ok(rows) => rows,
            Err(err) => {
                // The page keeps its stream; the next nudge or reconnect tries again.
                tracing::warn!(error = %err, "could not read new messages for a stream");
                return 0;
            }
        };
        let read = rows.len();
        for row in rows {
            self.after = Some(row.created_at);
            match open_message(&self.state, &row, self.viewer).await {
                Ok(view) => {
                    let data = serde_json::to_string(&view).unwrap_or_default();
                    self.ready.push_back(
                        SseEvent::default()
                            .event("message")
                            .id(view.id.to_string())
                            .data(data),
                    );
                }
                Err(err) => {
                    tracing::error!(error = %err, message = %row.id, "could not open a message")
                }
            }
        }
        read
    }
}

/// `GET /messages/{id}/events`: Server-Sent Events with each new message as JSON. Resumes
/// after `Last-Event-ID` (the browser sends it on reconnect) or `?after=`.
pub async fn events(
    State(state): State<AppState>,
    SourceIp(ip): SourceIp,
    Signed(current): Signed,
    Path(id): Path<Uuid>,
    Query(query): Query<EventsQuery>,
    headers: HeaderMap,
) -> AppResult<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>> {
    let conversation = participant(&state, &current.user, id, ip.as_deref()).await?;
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or(query.after);
    let after = match resume.as_deref() {
        // The page showed no messages: everything in the conversation is new to it.
        Some("start") => None,
        Some(raw) => match raw.parse::<Uuid>() {
            Ok(message_id) => state
                .db
                .message(message_id)
                .await?
                .filter(|m| m.conversation_id == conversation.id)
                .map(|m| m.created_at),
            Err(_) => None,
        }
        .or_else(|| Some(Timestamp::now())),
        None => Some(Timestamp::now()),
    };
    let mut cursor = Cursor {
        nudges: state.hub.subscribe(),
        closing: state.hub.closing(),
        state,
        conversation: conversation.id,
        viewer: current.user.id,
        after,
        ready: VecDeque::new(),
    };
    // Anything sent between the page load and this connection.
    cursor.catch_up().await;
    let stream = futures_util::stream::unfold(cursor, |mut cursor| async move {
        loop {
            if let Some(event) = cursor.ready.pop_front() {
                return Some((Ok(event), cursor));
            }
            if *cursor.closing.borrow() {
                return None;
            }
            tokio::select! {
                nudge = cursor.nudges.recv() => match nudge {
                    Ok(Nudge::Conversation(c)) if c == cursor.conversation => cursor.catch_up().await,
                    Ok(Nudge::Conversation(_)) => {}
                    Ok(Nudge::Resync) | Err(RecvError::Lagged(_)) => cursor.catch_up().await,
                    Err(RecvError::Closed) => return None,
                },
                _ = cursor.closing.changed() => return None,
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// The settings page.
#[derive(Template)]
#[template(path = "messaging/settings.html")]
struct SettingsPage {
    layout: crate::web::layout::Layout,
    office_hours: String,
    reply_note: String,
    backup: Option<Uuid>,
    colleagues: Vec<User>,
    errors: Errors,
    saved: bool,
}

/// Shows the settings form.
async fn render_settings(
    state: &AppState,
    page: &Page,
    current: &User,
    settings: MessagingSettings,
    errors: Errors,
    saved: bool,
) -> AppResult<String> {
    let mut colleagues = state.db.list_users(Some(Role::Therapist)).await?;
    colleagues.extend(state.db.list_users(Some(Role::Supervisor)).await?);
    colleagues.retain(|u| u.id != current.id && !u.disabled);
    Ok(SettingsPage {
        layout: page.layout("Messaging settings"),
        office_hours: settings.office_hours,
        reply_note: settings.reply_note,
        backup: settings.backup_clinician_id,
        colleagues,
        errors,
        saved,
    }
    .render()?)
}

/// `GET /messages/settings`
pub async fn show_settings(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
) -> AppResult<Response> {
    let settings = state
        .db
        .messaging_settings(current.user.id)
        .await?
        .unwrap_or(MessagingSettings {
            office_hours: String::new(),
            reply_note: DEFAULT_REPLY_NOTE.to_string(),
            backup_clinician_id: None,
        });
    let html = render_settings(
        &state,
        &page,
        &current.user,
        settings,
        Errors::default(),
        false,
    )
    .await?;
    Ok(Html(html).into_response())
}

/// The settings form.
#[derive(Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    office_hours: String,
    #[serde(default)]
    reply_note: String,
    #[serde(default)]
    backup_clinician_id: String,
}

/// `POST /messages/settings`
pub async fn save_settings(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Form(form): Form<SettingsForm>,
) -> AppResult<Response> {
    let mut problems = Vec::new();
    problems.extend(check_len("office_hours", form.office_hours.trim(), 300).err());
    problems.extend(check_len("reply_note", form.reply_note.trim(), 1000).err());
    if form.reply_note.trim().is_empty() {
        problems.push(FieldError::new(
            "reply_note",
            "Please say when clients can expect a reply; it helps them feel safe waiting.",
        ));
    }
    let backup = match form.backup_clinician_id.trim() {
        "" => None,
        raw => {
            let parsed = raw.parse::<Uuid>().ok();
            let valid = match parsed {
                Some(id) if id != current.user.id => {
                    state.db.user_by_id(id).await?.is_some_and(|u| {
                        matches!(u.role, Role::Therapist | Role::Supervisor) && !u.disabled
                    })
                }
                _ => false,
            };
            if !valid {
                problems.push(FieldError::new(
                    "backup_clinician_id",
                    "Please choose a colleague from the list.",
                ));
            }
            parsed
        }
    };
    let settings = MessagingSettings {
        office_hours: form.office_hours.trim().to_string(),
        reply_note: form.reply_note.trim().to_string(),
        backup_clinician_id: backup,
    };
    if !problems.is_empty() {
        let html = render_settings(
            &state,
            &page,
            &current.user,
            settings,
            Errors(problems),
            false,
        )
        .await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response());
    }
    state
        .db
        .save_messaging_settings(current.user.id, &settings)
        .await?;
    state
        .audit
        .record(
            Event::new(
                Some(current.user.principal()),
                "messaging.settings_updated",
                Outcome::Success,
            )
            .on("user", current.user.id)
            .from_ip(page.ip.as_deref()),
        )
        .await?;
    let html = render_settings(
        &state,
        &page,
        &current.user,
        settings,
        Errors::default(),
        true,
    )
    .await?;
    Ok(Html(html).into_response())
}
