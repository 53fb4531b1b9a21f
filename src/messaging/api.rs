//! JSON API for messaging (the page's JavaScript uses it too).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{MessageView, open_message, participant, send};
use crate::error::{AppError, AppResult};
use crate::web::AppState;
use crate::web::extract::{Json, Signed, SourceIp};

/// One of the caller's conversations.
#[derive(Serialize, ToSchema)]
pub struct ConversationJson {
    /// Conversation id.
    pub id: Uuid,
    /// `care` or `supervision`.
    pub kind: String,
    /// The other participant.
    pub other_id: Uuid,
    /// Their name.
    pub other_name: String,
    /// Messages from them not yet read.
    pub unread: i64,
    /// Newest message time (RFC 3339), if any.
    pub last_at: Option<String>,
}

/// The caller's conversations, most recent first.
#[utoipa::path(get, path = "/api/v1/conversations", tag = "messaging", security(("bearer" = [])),
    responses((status = 200, description = "Conversations", body = [ConversationJson]),
              (status = 401, description = "No valid token", content_type = "application/problem+json")))]
pub async fn list(
    State(state): State<AppState>,
    Signed(current): Signed,
) -> AppResult<Json<Vec<ConversationJson>>> {
    state.db.ensure_conversations(current.user.id).await?;
    let rows = state.db.conversations_for(current.user.id).await?;
    Ok(Json(
        rows.into_iter()
            .map(|c| ConversationJson {
                id: c.id,
                kind: c.kind,
                other_id: c.other_id,
                other_name: c.other_name,
                unread: c.unread,
                last_at: c.last_at.map(|t| t.to_rfc3339()),
            })
            .collect(),
    ))
}

/// Where to start reading.
#[derive(Deserialize, IntoParams)]
pub struct AfterQuery {
    /// Only messages newer than this message id; the latest 200 when absent.
    pub after: Option<Uuid>,
}

/// Messages of a conversation.
#[derive(Serialize, ToSchema)]
pub struct MessagesJson {
    /// Oldest first.
    pub messages: Vec<MessageView>,
}

/// Messages of a conversation the caller takes part in.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/messages", tag = "messaging", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Conversation id"), AfterQuery),
    responses((status = 200, description = "Messages, oldest first", body = MessagesJson),
              (status = 401, description = "No valid token", content_type = "application/problem+json"),
              (status = 403, description = "Not a participant (audited)", content_type = "application/problem+json")))]
pub async fn messages(
    State(state): State<AppState>,
    SourceIp(ip): SourceIp,
    Signed(current): Signed,
    Path(id): Path<Uuid>,
    Query(query): Query<AfterQuery>,
) -> AppResult<Json<MessagesJson>> {
    let conversation = participant(&state, &current.user, id, ip.as_deref()).await?;
    let rows = match query.after {
        Some(after) => {
            let cursor = state
                .db
                .message(after)
                .await?
                .filter(|m| m.conversation_id == conversation.id)
                .ok_or_else(|| {
                    AppError::invalid("after", "No such message in this conversation.")
                })?;
            state
                .db
                .messages_after(conversation.id, Some(cursor.created_at), 500)
                .await?
        }
        None => state.db.latest_messages(conversation.id, 200).await?,
    };
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        out.push(open_message(&state, row, current.user.id).await?);
    }
    state
        .audit
        .record(
            crate::audit::Event::new(
                Some(current.user.principal()),
                "conversation.read",
                crate::audit::Outcome::Success,
            )
            .on("conversation", id)
            .from_ip(ip.as_deref()),
        )
        .await?;
    Ok(Json(MessagesJson { messages: out }))
}

/// A message to send.
#[derive(Deserialize, ToSchema)]
pub struct NewMessage {
    /// The text (1 to 5,000 characters; shown as text, never as markup).
    pub body: String,
    /// A key the sender chooses per message (for example a UUID). Sending again with the same
    /// key after a lost connection returns the stored message instead of a second copy.
    pub client_key: String,
}

/// The stored message and what to show now.
#[derive(Serialize, ToSchema)]
pub struct SentJson {
    /// The message as stored.
    pub message: MessageView,
    /// False when this was a resend of a message already stored.
    pub created: bool,
    /// For a client's message: `none`, `concern`, `urgent`, or `unscreened` when screening
    /// failed (a retry is queued). Absent for staff.
    pub risk_level: Option<String>,
    /// True when the page should show crisis resources and the safety plan now; the care
    /// team has been alerted.
    pub show_crisis_resources: bool,
}

/// Sends a message. The message is stored before the response; a 2xx means it is safe.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/messages", tag = "messaging", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Conversation id")), request_body = NewMessage,
    responses((status = 201, description = "Stored", body = SentJson),
              (status = 200, description = "Already stored under this client_key", body = SentJson),
              (status = 401, description = "No valid token", content_type = "application/problem+json"),
              (status = 403, description = "Not a participant (audited)", content_type = "application/problem+json"),
              (status = 409, description = "The conversation has ended", content_type = "application/problem+json"),
              (status = 422, description = "Empty, too long, or no client_key", content_type = "application/problem+json"),
              (status = 429, description = "Too many messages in a minute; try again after Retry-After", content_type = "application/problem+json")))]
pub async fn send_message(
    State(state): State<AppState>,
    SourceIp(ip): SourceIp,
    Signed(current): Signed,
    Path(id): Path<Uuid>,
    Json(new): Json<NewMessage>,
) -> AppResult<(StatusCode, Json<SentJson>)> {
    let conversation = participant(&state, &current.user, id, ip.as_deref()).await?;
    let sent = send(
        &state,
        &current.user,
        &conversation,
        &new.body,
        &new.client_key,
        ip.as_deref(),
    )
    .await?;
    let status = if sent.new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(SentJson {
            show_crisis_resources: super::needs_help(sent.risk.as_ref()),
            risk_level: sent.risk.map(|r| r.stored_level().to_string()),
            created: sent.new,
            message: sent.message,
        }),
    ))
}

/// How far the caller has read.
#[derive(Deserialize, ToSchema)]
pub struct ReadMark {
    /// The newest message the caller has seen.
    pub up_to: Uuid,
}

/// Marks a conversation read up to a message.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/read", tag = "messaging", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Conversation id")), request_body = ReadMark,
    responses((status = 204, description = "Marked"),
              (status = 401, description = "No valid token", content_type = "application/problem+json"),
              (status = 403, description = "Not a participant (audited)", content_type = "application/problem+json"),
              (status = 422, description = "No such message in this conversation", content_type = "application/problem+json")))]
pub async fn read(
    State(state): State<AppState>,
    SourceIp(ip): SourceIp,
    Signed(current): Signed,
    Path(id): Path<Uuid>,
    Json(mark): Json<ReadMark>,
) -> AppResult<StatusCode> {
    let conversation = participant(&state, &current.user, id, ip.as_deref()).await?;
    let message = state
        .db
        .message(mark.up_to)
        .await?
        .filter(|m| m.conversation_id == conversation.id)
        .ok_or_else(|| AppError::invalid("up_to", "No such message in this conversation."))?;
    state
        .db
        .mark_read(conversation.id, current.user.id, message.created_at)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
