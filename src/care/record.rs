//! Loading a client record through the policy, shared by the page and the API.

use uuid::Uuid;

use crate::accounts::queries::User;
use crate::audit::{Event, Outcome};
use crate::authz::{Grant, can_read_client_record};
use crate::db::Timestamp;
use crate::error::{AppError, AppResult};
use crate::web::AppState;

/// A break-glass access as the treating therapist sees it.
pub struct BreakGlassNotice {
    /// The admin who used it.
    pub admin_name: String,
    /// Their typed reason.
    pub reason: String,
    /// When.
    pub created_at: Timestamp,
    /// Until when.
    pub expires_at: Timestamp,
}

/// A client record opened for one reader.
pub struct ClientView {
    /// The client.
    pub client: User,
    /// The intake summary, decrypted.
    pub intake: Option<String>,
    /// Why the reader may see it.
    pub grant: Grant,
    /// Whether the reader may edit it.
    pub can_edit: bool,
    /// Break-glass accesses (shown to treating clinicians).
    pub break_glass: Vec<BreakGlassNotice>,
}

/// Associated data for a client's sealed intake summary.
pub fn intake_context(client_id: Uuid) -> String {
    format!("client_records.intake:{client_id}")
}

/// What someone wants to do with a record.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Read it.
    Read,
    /// Change it.
    Write,
}

/// The client's name, for a page about a record the caller was already authorised to read.
pub async fn client_name(state: &AppState, client_id: Uuid) -> AppResult<String> {
    Ok(state
        .db
        .user_by_id(client_id)
        .await?
        .ok_or(AppError::NotFound)?
        .name)
}

/// Asks the policy whether `who` may read or write `client_id`'s record. A refusal is audited
/// as denied and answers 404, so nobody learns which ids belong to clients they may not see.
/// On success returns the grant and the success event, for the caller to record at the right
/// moment (before showing a read, after saving a write).
pub async fn authorize(
    state: &AppState,
    who: &User,
    client_id: Uuid,
    access: Access,
    ip: Option<&str>,
) -> AppResult<(Grant, Event)> {
    let facts = state.db.client_facts(client_id).await?;
    let principal = who.principal();
    let action = if access == Access::Read {
        "client_record.read"
    } else {
        "client_record.update"
    };
    let event = Event::new(Some(principal), action, Outcome::Success)
        .on("client", client_id)
        .from_ip(ip);
    let grant = match (access, can_read_client_record(principal, &facts)) {
        (Access::Read, Some(grant)) => Some(grant),
        (Access::Write, Some(grant)) if grant.allows_write() => Some(grant),
        _ => None,
    };
    match grant {
        Some(grant) => Ok((grant, event)),
        None => {
            state
                .audit
                .record(Event {
                    outcome: Outcome::Denied,
                    ..event
                })
                .await?;
            Err(AppError::NotFound)
        }
    }
}

/// Opens a client's record for `reader`, auditing the read. Refusals are audited too and
/// answer 404, so nobody learns which ids belong to clients they may not see.
pub async fn open_record(
    state: &AppState,
    reader: &User,
    client_id: Uuid,
    ip: Option<&str>,
) -> AppResult<ClientView> {
    let (grant, event) = authorize(state, reader, client_id, Access::Read, ip).await?;
    let client = state
        .db
        .user_by_id(client_id)
        .await?
        .ok_or(AppError::NotFound)?;
    // Record the read before showing anything: an unaudited read must not happen.
    let action = if grant == Grant::BreakGlass {
        "client_record.read_break_glass"
    } else {
        "client_record.read"
    };
    state.audit.record(Event { action, ..event }).await?;
    let intake = match state
        .db
        .client_record(client_id)
        .await?
        .and_then(|r| r.intake_sealed)
    {
        Some(sealed) => Some(
            state
                .sealer
                .open(&intake_context(client_id), &sealed)
                .await?,
        ),
        None => None,
    };
    let mut break_glass = Vec::new();
    if grant == Grant::Treating {
        for row in state.db.break_glass_for(client_id).await? {
            let reason = state
                .sealer
                .open(
                    &crate::admin::break_glass_context(row.id),
                    &row.reason_sealed,
                )
                .await?;
            break_glass.push(BreakGlassNotice {
                admin_name: row.admin_name,
                reason,
                created_at: row.created_at,
                expires_at: row.expires_at,
            });
        }
    }
    Ok(ClientView {
        client,
        intake,
        grant,
        can_edit: grant.allows_write(),
        break_glass,
    })
}
