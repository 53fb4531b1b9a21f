//! Secure messaging: one conversation per care relationship (therapist ↔ client) and per
//! supervision (supervisor ↔ trainee).
//!
//! Messages are sealed at rest and immutable once sent (a database trigger refuses edits).
//! Sending is idempotent per `client_key`, so a resend after a lost connection never doubles
//! a message, and a message is either stored and acknowledged or the sender is told it was
//! not sent. Everything a client sends passes through risk screening
//! ([`crate::safety::risk::screen_and_alert`]) in the same request, so the response that
//! acknowledges the message also carries crisis resources when needed. Open pages receive new
//! messages in real time over Server-Sent Events ([`hub`]), and fall back to plain page loads
//! without JavaScript. An unread message is announced by email after a delay, never quoted.
//!
//! Entry points: [`routes`], [`send`], [`notify_if_unread`].

pub mod api;
pub mod hub;
pub mod pages;
pub mod queries;

use std::time::Duration as StdDuration;

use time::Duration;
use uuid::Uuid;

use crate::accounts::queries::User;
use crate::audit::{Event, Outcome};
use crate::authz::{ANY_ROLE, CLINICIAN, Role};
use crate::db::{Timestamp, new_id};
use crate::email::Email;
use crate::error::{AppError, AppResult};
use crate::jobs::{JobKind, enqueue_at};
use crate::safety::risk::{RiskOutcome, Source, alert_on};
use crate::web::AppState;
use crate::web::extract::{check_len, check_required, collect};
use crate::web::routes::Route;
use queries::{Conversation, MessageRow, message_context};

/// Longest message, in characters.
pub const MESSAGE_MAX: usize = 5000;
/// Messages one person may send per minute before a gentle pause.
pub const PER_MINUTE: u32 = 20;
/// Longest `client_key`.
const KEY_MAX: usize = 100;

/// What clients see above the message box until their therapist writes their own note.
pub const DEFAULT_REPLY_NOTE: &str = "I usually reply within one working day. Messages are for things that can wait: if you are in crisis or not safe right now, please don't wait for a reply — use the crisis lines on the \"Need help now?\" page or call your local emergency number.";

/// Routes of this feature.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/messages", ANY_ROLE, pages::list),
        Route::get("/messages/settings", CLINICIAN, pages::show_settings),
        Route::post("/messages/settings", CLINICIAN, pages::save_settings),
        Route::get("/messages/with/{user_id}", ANY_ROLE, pages::with_person),
        Route::get("/messages/{id}", ANY_ROLE, pages::thread),
        Route::post("/messages/{id}", ANY_ROLE, pages::post),
        Route::get("/messages/{id}/events", ANY_ROLE, pages::events),
        Route::get("/api/v1/conversations", ANY_ROLE, api::list),
        Route::get(
            "/api/v1/conversations/{id}/messages",
            ANY_ROLE,
            api::messages,
        ),
        Route::post(
            "/api/v1/conversations/{id}/messages",
            ANY_ROLE,
            api::send_message,
        ),
        Route::post("/api/v1/conversations/{id}/read", ANY_ROLE, api::read),
    ]
}

/// A message as a participant sees it (opened).
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct MessageView {
    /// Message id.
    pub id: Uuid,
    /// Sender id.
    pub sender_id: Uuid,
    /// Sender name.
    pub sender_name: String,
    /// Whether the viewer sent it.
    pub mine: bool,
    /// The text (shown as text, never as markup).
    pub body: String,
    /// When it was stored (RFC 3339, UTC).
    pub created_at: String,
    /// When it was stored, for people.
    pub created_display: String,
    /// Cursor for "newer than this" (the stored time, fixed-width).
    #[serde(skip)]
    pub cursor: Timestamp,
}

/// Opens a stored message for `viewer`.
pub async fn open_message(
    state: &AppState,
    row: &MessageRow,
    viewer: Uuid,
) -> AppResult<MessageView> {
    let body = state
        .sealer
        .open(&message_context(row.id), &row.body_sealed)
        .await?;
    Ok(MessageView {
        id: row.id,
        sender_id: row.sender_id,
        sender_name: row.sender_name.clone(),
        mine: row.sender_id == viewer,
        body,
        created_at: row.created_at.to_rfc3339(),
        created_display: row.created_at.display(),
        cursor: row.created_at,
    })
}

/// Loads a conversation `user` takes part in. Anyone else is refused with 403, audited.
pub async fn participant(
    state: &AppState,
    user: &User,
    id: Uuid,
    ip: Option<&str>,
) -> AppResult<Conversation> {
    let conversation = state.db.conversation(id).await?;
    match conversation {
        Some(c) if c.includes(user.id) => Ok(c),
        _ => {
            state
                .audit
                .record(
                    Event::new(
                        Some(user.principal()),
                        "conversation.access",
                        Outcome::Denied,
                    )
                    .on("conversation", id)
                    .from_ip(ip),
                )
                .await?;
            Err(AppError::Forbidden)
        }
    }
}

/// What sending produced.
pub struct Sent {
    /// The stored message.
    pub message: MessageView,
    /// Whether this request stored it (false: a resend of one already stored).
    pub new: bool,
    /// Risk screening of a client's message (none for staff).
    pub risk: Option<RiskOutcome>,
}

/// Sends a message in a conversation `sender` takes part in: checks, seals, stores (once per
/// `client_key`), screens a client's words, audits, nudges open pages and schedules the
/// unread-email. The message is stored before anything else can fail.
pub async fn send(
    state: &AppState,
    sender: &User,
    conversation: &Conversation,
    body: &str,
    client_key: &str,
    ip: Option<&str>,
) -> AppResult<Sent> {
    let body = body.trim();
    collect([
        check_required("body", body),
        check_len("body", body, MESSAGE_MAX),
    ])?;
    let client_key = client_key.trim();
    if client_key.is_empty() || client_key.len() > KEY_MAX {
        return Err(AppError::invalid(
            "client_key",
            "This page is out of date; please reload it and send again.",
        ));
    }
    if !state.db.conversation_active(conversation).await? {
        return Err(AppError::Conflict(
            "This conversation has ended, so new messages can't be sent. Earlier messages stay here to read.".into(),
        ));
    }
    state.limiter.hit(
        &format!("message:{}", sender.id),
        PER_MINUTE,
        StdDuration::from_secs(60),
    )?;
    let id = new_id();
    let sealed = state.sealer.seal(&message_context(id), body).await?;
    // Staff messages are not screened. A client's are screened before the row is written,
    // because the stored level is never edited afterwards (messages are immutable); the alert
    // is raised after, against the stored id.
    let is_client = sender.role == Role::Client;
    let screening = if is_client {
        Some(crate::safety::risk::try_screen(state, body).await)
    } else {
        None
    };
    let stored_level = match &screening {
        None => "none",
        Some(Ok(s)) => s.level.as_str(),
        Some(Err(_)) => "unscreened",
    };
    let (row, new) = state
        .db
        .insert_message(
            conversation.id,
            sender.id,
            id,
            &sealed,
            client_key,
            stored_level,
        )
        .await?;
    let message = open_message(state, &row, sender.id).await?;
    let risk = match screening {
        // The alert ledger is idempotent per message, so a resend raises nothing new.
        Some(result) => Some(
            alert_on(
                state,
                sender.id,
                body,
                Source {
                    kind: "message",
                    id: row.id,
                },
                result,
            )
            .await,
        ),
        None => None,
    };
    if new {
        state
            .audit
            .record(
                Event::new(Some(sender.principal()), "message.sent", Outcome::Success)
                    .on("message", row.id)
                    .from_ip(ip),
            )
            .await?;
        if let Err(err) = state.hub.publish(&state.db, conversation.id).await {
            // Delivery falls back to the next page load or stream reconnect.
            tracing::warn!(error = %err, conversation = %conversation.id, "could not notify other instances of a new message");
        }
        let recipient = conversation.other(sender.id);
        enqueue_at(
            state,
            &JobKind::MessageWaiting {
                message_id: row.id,
                recipient_id: recipient,
            },
            Some(&format!("message-waiting:{}", row.id)),
            Timestamp::now() + Duration::minutes(state.config.message_notify_minutes.max(0)),
        )
        .await?;
    }
    state
        .db
        .mark_read(conversation.id, sender.id, row.created_at)
        .await?;
    Ok(Sent { message, new, risk })
}

/// The job behind the unread-email: if the recipient still has not read the message (and no
/// newer message of the same conversation will send its own email), tells them something is
/// waiting — never what it says.
pub async fn notify_if_unread(
    state: &AppState,
    message_id: Uuid,
    recipient_id: Uuid,
) -> AppResult<()> {
    let Some(message) = state.db.message(message_id).await? else {
        return Ok(());
    };
    if state
        .db
        .has_read(message.conversation_id, recipient_id, message.created_at)
        .await?
    {
        return Ok(());
    }
    let newer = state
        .db
        .messages_after(message.conversation_id, Some(message.created_at), 1)
        .await?;
    if newer.iter().any(|m| m.sender_id == message.sender_id) {
        // The newer message's own job will email once; one email per burst.
        return Ok(());
    }
    let Some(recipient) = state.db.user_by_id(recipient_id).await? else {
        return Ok(());
    };
    let email = Email {
        to: recipient.email.clone(),
        subject: "Tend: you have a new message".into(),
        body: format!(
            "Hello {},\n\n{} sent you a message in Tend. Please sign in to read it:\n\n{}/messages/{}\n\nFor privacy, this email never contains the message itself.\n\nTend\n",
            recipient.name,
            message.sender_name,
            state.config.base_url(),
            message.conversation_id
        ),
        attachment: None,
    };
    state
        .mailer
        .send(&email)
        .await
        .map_err(|e| AppError::Internal(format!("email failed: {e}")))
}

/// Whether a client's message calls for crisis help on screen.
pub fn needs_help(risk: Option<&RiskOutcome>) -> bool {
    risk.is_some_and(|r| r.show_help)
}
