//! Invitations by emailed one-time link. Admins invite staff; therapists invite clients, and
//! accepting a client invitation also starts the care relationship.

use std::time::Duration as StdDuration;

use time::Duration;

use super::queries::{Invitation, User};
use crate::audit::{Event, Outcome};
use crate::authz::{Role, can_invite};
use crate::crypto::token::new_token;
use crate::db::{Timestamp, new_id};
use crate::email::Email;
use crate::error::{AppError, AppResult, FieldError};
use crate::jobs::{JobKind, enqueue};
use crate::web::AppState;
use crate::web::extract::{check_email, check_len, check_required, collect};

/// How long an invitation link works.
pub const VALID_DAYS: i64 = 7;
/// Invitations one person may send per hour.
const PER_HOUR: u32 = 50;

/// Validates, stores and emails an invitation from `inviter`. Returns the invitation id.
pub async fn send_invitation(
    state: &AppState,
    inviter: &User,
    email: &str,
    name: &str,
    role: Role,
    ip: Option<&str>,
) -> AppResult<uuid::Uuid> {
    collect([
        check_email("email", email),
        check_required("name", name),
        check_len("name", name, 120),
    ])?;
    if !can_invite(inviter.role, role) {
        return Err(AppError::Forbidden);
    }
    state.limiter.hit(
        &format!("invite:{}", inviter.id),
        PER_HOUR,
        StdDuration::from_secs(3600),
    )?;
    if state.db.user_by_email(email).await?.is_some() {
        return Err(AppError::Invalid(vec![FieldError::new(
            "email",
            "Someone with this email already has an account.",
        )]));
    }
    let (token, hash) = new_token();
    let invitation = Invitation {
        id: new_id(),
        email: email.trim().to_lowercase(),
        name: name.trim().to_string(),
        role,
        invited_by: inviter.id,
        therapist_id: (role == Role::Client).then_some(inviter.id),
        expires_at: Timestamp::now() + Duration::days(VALID_DAYS),
        accepted_at: None,
    };
    state.db.create_invitation(&hash, &invitation).await?;
    let link = format!("{}/invitations/{token}", state.config.base_url());
    let email = Email {
        to: invitation.email.clone(),
        subject: subject(role, &inviter.name),
        body: body(role, &invitation.name, &inviter.name, &link),
        attachment: None,
    };
    enqueue(
        state,
        &JobKind::SendEmail(email),
        Some(&format!("invitation:{}", invitation.id)),
    )
    .await?;
    state
        .audit
        .record(
            Event::new(
                Some(inviter.principal()),
                "invitation.sent",
                Outcome::Success,
            )
            .on("invitation", invitation.id)
            .from_ip(ip),
        )
        .await?;
    Ok(invitation.id)
}

/// The invitation email's subject.
fn subject(role: Role, inviter: &str) -> String {
    match role {
        Role::Client => format!("{inviter} has invited you to Tend"),
        _ => "You're invited to join your practice on Tend".to_string(),
    }
}

/// The invitation email's body: warm, plain, and free of anything clinical.
fn body(role: Role, name: &str, inviter: &str, link: &str) -> String {
    let why = match role {
        Role::Client => format!(
            "{inviter} has set up a private space for you on Tend, where you can keep in touch between sessions. \
             Nothing is shared with anyone outside your care."
        ),
        _ => format!(
            "{inviter} has invited you to join your practice on Tend as a {}.",
            role.as_str()
        ),
    };
    format!(
        "Hello {name},\n\n{why}\n\nTo choose your password and sign in, open this link (it works once, for {VALID_DAYS} days):\n\n{link}\n\n\
         If you weren't expecting this, you can ignore this email and nothing will happen.\n\nWith warm wishes,\nTend\n"
    )
}
