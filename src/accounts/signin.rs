//! Sign-in logic shared by the HTML pages and the JSON API.

use std::time::Duration as StdDuration;

use time::Duration;
use uuid::Uuid;

use super::password::{dummy_hash, verify_password};
use super::queries::{NewSession, Stage, User};
use super::totp;
use crate::audit::{Event, Outcome};
use crate::crypto::token::{hash_token, new_token};
use crate::db::Timestamp;
use crate::error::{AppError, AppResult};
use crate::web::AppState;
use crate::web::middleware::CurrentUser;

/// Sign-in attempts allowed per source address per minute.
const PER_IP_PER_MINUTE: u32 = 20;
/// Failed sign-ins allowed per account per 15 minutes.
const PER_ACCOUNT_PER_15_MIN: u32 = 10;

/// Checks email and password under rate limits; audits the outcome. `None` means "wrong
/// email or password" (deliberately not saying which).
pub async fn check_password(
    state: &AppState,
    email: &str,
    password: &str,
    ip: Option<&str>,
) -> AppResult<Option<User>> {
    let email = email.trim().to_lowercase();
    state.limiter.hit(
        &format!("login-ip:{}", ip.unwrap_or("unknown")),
        PER_IP_PER_MINUTE,
        StdDuration::from_secs(60),
    )?;
    let account_key = format!("login-account:{email}");
    state.limiter.hit(
        &account_key,
        PER_ACCOUNT_PER_15_MIN,
        StdDuration::from_secs(15 * 60),
    )?;
    let user = state.db.user_by_email(&email).await?;
    let hash = user.as_ref().and_then(|u| u.password_hash.clone());
    let password = password.to_string();
    // Argon2 takes tens of milliseconds of CPU: keep it off the async workers. A missing
    // account still verifies against a dummy hash so timing does not reveal who exists.
    let matches = tokio::task::spawn_blocking(move || {
        verify_password(&password, hash.as_deref().unwrap_or(dummy_hash()))
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?;
    match user {
        Some(user) if matches && !user.disabled => {
            state.limiter.clear(&account_key);
            Ok(Some(user))
        }
        other => {
            let mut event = Event::new(
                other.as_ref().map(User::principal),
                "auth.sign_in",
                Outcome::Failure,
            )
            .from_ip(ip);
            if let Some(user) = &other {
                event = event.on("user", user.id);
            }
            state.audit.record(event).await?;
            Ok(None)
        }
    }
}

/// The stage a fresh session starts in for this person.
pub fn first_stage(user: &User) -> Stage {
    if user.totp_enabled {
        Stage::Mfa
    } else if user.role.requires_mfa() {
        Stage::Enroll
    } else {
        Stage::Full
    }
}

/// Creates a session (`web` or `api`); returns the token to hand out once.
pub async fn start_session(
    state: &AppState,
    user: &User,
    kind: &str,
    stage: Stage,
    ip: Option<&str>,
) -> AppResult<(String, Timestamp)> {
    let (token, hash) = new_token();
    let lifetime = if kind == "api" {
        Duration::days(crate::web::middleware::API_TOKEN_DAYS)
    } else {
        Duration::hours(state.config.session_max_hours)
    };
    let expires_at = Timestamp::now() + lifetime;
    state
        .db
        .create_session(NewSession {
            token_hash: &hash,
            user_id: user.id,
            kind,
            stage,
            expires_at,
            source_ip: ip,
        })
        .await?;
    if stage == Stage::Full {
        let action = if kind == "api" {
            "auth.api_token"
        } else {
            "auth.sign_in"
        };
        state
            .audit
            .record(account_event(user, action, Outcome::Success, ip))
            .await?;
    }
    Ok((token, expires_at))
}

/// Checks a TOTP code or, failing that, a recovery code; audits the outcome.
pub async fn check_second_factor(
    state: &AppState,
    user: &User,
    code: &str,
    ip: Option<&str>,
) -> AppResult<bool> {
    state.limiter.hit(
        &format!("mfa:{}", user.id),
        10,
        StdDuration::from_secs(5 * 60),
    )?;
    let ok = match verify_totp(state, user, code).await? {
        true => true,
        false => {
            let key = super::totp::recovery_code_key(code);
            // Codes issued before 2026-12-03 were hashed as shown (`k3fq-8wzt`).
            let legacy = code.trim().to_lowercase();
            state
                .db
                .use_recovery_code(user.id, &hash_token(&key))
                .await?
                || state
                    .db
                    .use_recovery_code(user.id, &hash_token(&legacy))
                    .await?
        }
    };
    let outcome = if ok {
        Outcome::Success
    } else {
        Outcome::Failure
    };
    state
        .audit
        .record(account_event(user, "auth.second_factor", outcome, ip))
        .await?;
    Ok(ok)
}

/// Checks a TOTP code against the user's (possibly not yet enabled) secret, refusing replays.
pub async fn verify_totp(state: &AppState, user: &User, code: &str) -> AppResult<bool> {
    let Some(sealed) = &user.totp_secret else {
        return Ok(false);
    };
    let secret = state.sealer.open(&totp_context(user.id), sealed).await?;
    let secret = hex::decode(secret).map_err(|e| AppError::Internal(e.to_string()))?;
    let now = u64::try_from(time::OffsetDateTime::now_utc().unix_timestamp()).unwrap_or(0);
    let last = user.totp_last_step.and_then(|s| u64::try_from(s).ok());
    match totp::verify(&secret, code, now, last) {
        Some(step) => Ok(state
            .db
            .claim_totp_step(user.id, i64::try_from(step).unwrap_or(i64::MAX))
            .await?),
        None => Ok(false),
    }
}

/// An audit event by `user` about their own account.
pub fn account_event(
    user: &User,
    action: &'static str,
    outcome: Outcome,
    ip: Option<&str>,
) -> Event {
    Event::new(Some(user.principal()), action, outcome)
        .on("user", user.id)
        .from_ip(ip)
}

/// Ends the session or token used for this request and audits the sign-out.
pub async fn end_session(
    state: &AppState,
    current: &CurrentUser,
    ip: Option<&str>,
) -> AppResult<()> {
    state.db.delete_session(current.session.id).await?;
    state
        .audit
        .record(account_event(
            &current.user,
            "auth.sign_out",
            Outcome::Success,
            ip,
        ))
        .await?;
    Ok(())
}

/// Associated data for a user's sealed TOTP secret.
pub fn totp_context(user_id: Uuid) -> String {
    format!("users.totp_secret:{user_id}")
}
