//! HTML pages for signing in and managing one's own account.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::password::{check_strength, hash_password};
use super::queries::{NewUser, Session, Stage, User};
use super::signin::{
    account_event, check_password, check_second_factor, end_session, first_stage, start_session,
    totp_context, verify_totp,
};
use super::totp;
use crate::audit::{Event, Outcome};
use crate::authz::Role;
use crate::crypto::token::hash_token;
use crate::db::Timestamp;
use crate::error::{AppError, AppResult, FieldError};
use crate::web::AppState;
use crate::web::extract::{Form, Page, Signed, check_email, check_len, check_required};
use crate::web::layout::{Errors, Layout};
use crate::web::middleware::{SESSION_COOKIE, cookie_header};

/// Renders a template as a page with a status.
fn render(status: StatusCode, page: impl Template) -> AppResult<Response> {
    Ok((status, Html(page.render()?)).into_response())
}

/// Redirects to `to`, setting the session cookie to `token` (or clearing it).
fn redirect_with_session(state: &AppState, to: &str, token: Option<&str>) -> Response {
    let mut response = Redirect::to(to).into_response();
    let secure = state.config.served_over_tls();
    let value = match token {
        Some(token) => cookie_header(SESSION_COOKIE, token, None, secure),
        None => cookie_header(SESSION_COOKIE, "", Some(0), secure),
    };
    if let Some(value) = value {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// Only same-site paths are followed after sign-in (no open redirects).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") => {
            n.to_string()
        }
        _ => "/".to_string(),
    }
}

/// The sign-in page.
#[derive(Template)]
#[template(path = "accounts/login.html")]
struct LoginPage {
    layout: Layout,
    email: String,
    next: String,
    notice: Option<&'static str>,
    errors: Errors,
}

/// Query parameters of the sign-in page.
#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    signed_out: Option<String>,
}

/// `GET /login`
pub async fn show_login(page: Page, Query(q): Query<LoginQuery>) -> AppResult<Response> {
    let notice = q.signed_out.map(|_| "You have signed out. Take care.");
    render(
        StatusCode::OK,
        LoginPage {
            layout: Layout::bare("Sign in", page.csrf),
            email: String::new(),
            next: safe_next(q.next.as_deref()),
            notice,
            errors: Errors::default(),
        },
    )
}

/// The sign-in form.
#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

/// `POST /login`
pub async fn sign_in(
    State(state): State<AppState>,
    page: Page,
    Form(form): Form<LoginForm>,
) -> AppResult<Response> {
    let next = safe_next(form.next.as_deref());
    let Some(user) =
        check_password(&state, &form.email, &form.password, page.ip.as_deref()).await?
    else {
        let errors = Errors(vec![FieldError::new(
            "password",
            "That email and password don't match an account. Please check them and try again.",
        )]);
        return render(
            StatusCode::UNAUTHORIZED,
            LoginPage {
                layout: Layout::bare("Sign in", page.csrf),
                email: form.email,
                next,
                notice: None,
                errors,
            },
        );
    };
    // A new sign-in never reuses an earlier session (no session fixation).
    if let Some(current) = &page.user {
        state.db.delete_session(current.session.id).await?;
    }
    let stage = first_stage(&user);
    let (token, _) = start_session(&state, &user, "web", stage, page.ip.as_deref()).await?;
    let to = match stage {
        Stage::Mfa => format!(
            "/login/mfa?next={}",
            url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
        ),
        Stage::Enroll => "/account/mfa".to_string(),
        Stage::Full => next,
    };
    Ok(redirect_with_session(&state, &to, Some(&token)))
}

/// The second-step page.
#[derive(Template)]
#[template(path = "accounts/mfa.html")]
struct MfaPage {
    layout: Layout,
    next: String,
    errors: Errors,
}

/// Query with an optional `next`.
#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// `GET /login/mfa`
pub async fn show_mfa(
    page: Page,
    Signed(current): Signed,
    Query(q): Query<NextQuery>,
) -> AppResult<Response> {
    if current.session.stage != Stage::Mfa {
        return Ok(Redirect::to("/").into_response());
    }
    render(
        StatusCode::OK,
        MfaPage {
            layout: Layout::bare("Two-step sign-in", page.csrf),
            next: safe_next(q.next.as_deref()),
            errors: Errors::default(),
        },
    )
}

/// The code form.
#[derive(Deserialize)]
pub struct CodeForm {
    code: String,
    next: Option<String>,
}

/// `POST /login/mfa`
pub async fn verify_mfa(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Form(form): Form<CodeForm>,
) -> AppResult<Response> {
    if current.session.stage != Stage::Mfa {
        return Ok(Redirect::to("/").into_response());
    }
    let next = safe_next(form.next.as_deref());
    if !check_second_factor(&state, &current.user, &form.code, page.ip.as_deref()).await? {
        let errors = Errors(vec![FieldError::new(
            "code",
            "That code didn't work. Codes change every 30 seconds; please try the newest one, or a recovery code.",
        )]);
        return render(
            StatusCode::UNAUTHORIZED,
            MfaPage {
                layout: Layout::bare("Two-step sign-in", page.csrf),
                next,
                errors,
            },
        );
    }
    upgrade_session(
        &state,
        &current.user,
        &current.session,
        page.ip.as_deref(),
        &next,
    )
    .await
}

/// Replaces a part-way session with a fully signed-in one under a new token.
async fn upgrade_session(
    state: &AppState,
    user: &User,
    old: &Session,
    ip: Option<&str>,
    to: &str,
) -> AppResult<Response> {
    state.db.delete_session(old.id).await?;
    let (token, _) = start_session(state, user, "web", Stage::Full, ip).await?;
    Ok(redirect_with_session(state, to, Some(&token)))
}

/// `POST /logout`
pub async fn sign_out(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Form(_): Form<Empty>,
) -> AppResult<Response> {
    end_session(&state, &current, page.ip.as_deref()).await?;
    let mut response = redirect_with_session(&state, "/login?signed_out=1", None);
    // Unsent letters and messages are kept in the browser's storage so a lost connection
    // loses nothing; on a shared computer the next person must not find them. `tend.js`
    // clears them when the sign-out form is sent; this header makes browsers that honour it
    // (over HTTPS or on localhost) clear the rest of the site's storage too.
    response.headers_mut().insert(
        header::HeaderName::from_static("clear-site-data"),
        header::HeaderValue::from_static("\"storage\""),
    );
    Ok(response)
}

/// A form with no fields but the CSRF token.
#[derive(Deserialize)]
pub struct Empty {}

/// The account page.
#[derive(Template)]
#[template(path = "accounts/account.html")]
struct AccountPage {
    layout: Layout,
    user: User,
    sessions: Vec<Session>,
    current_session: uuid::Uuid,
    recovery_left: i64,
    notice: Option<&'static str>,
    errors: Errors,
}

/// Query of the account page.
#[derive(Deserialize)]
pub struct AccountQuery {
    done: Option<String>,
}

/// `GET /account`
pub async fn show_account(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Query(q): Query<AccountQuery>,
) -> AppResult<Response> {
    let notice = match q.done.as_deref() {
        Some("password") => {
            Some("Your password has been changed, and you have been signed out everywhere else.")
        }
        Some("sessions") => Some("You have been signed out on every other device."),
        _ => None,
    };
    account_page(
        &state,
        &page,
        &current.user,
        current.session.id,
        notice,
        Errors::default(),
        StatusCode::OK,
    )
    .await
}

/// Renders the account page.
async fn account_page(
    state: &AppState,
    page: &Page,
    user: &User,
    current_session: uuid::Uuid,
    notice: Option<&'static str>,
    errors: Errors,
    status: StatusCode,
) -> AppResult<Response> {
    let sessions = state.db.sessions_of(user.id).await?;
    let recovery_left = state.db.recovery_codes_left(user.id).await?;
    render(
        status,
        AccountPage {
            layout: page.layout("Your account"),
            user: user.clone(),
            sessions,
            current_session,
            recovery_left,
            notice,
            errors,
        },
    )
}

/// The change-password form.
#[derive(Deserialize)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
    confirm_password: String,
}

/// `POST /account/password`: checks the current password, sets the new one, ends every
/// session (including this one) and starts a fresh session for this browser.
pub async fn change_password(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Form(form): Form<PasswordForm>,
) -> AppResult<Response> {
    let user = &current.user;
    let mut problems = Vec::new();
    if check_password(
        &state,
        &user.email,
        &form.current_password,
        page.ip.as_deref(),
    )
    .await?
    .is_none()
    {
        problems.push(FieldError::new(
            "current_password",
            "That isn't your current password.",
        ));
    }
    if let Err(e) = check_strength(
        "new_password",
        &form.new_password,
        &[&user.email, &user.name],
    ) {
        problems.push(e);
    }
    if form.new_password != form.confirm_password {
        problems.push(FieldError::new(
            "confirm_password",
            "The two new passwords don't match.",
        ));
    }
    if !problems.is_empty() {
        return account_page(
            &state,
            &page,
            user,
            current.session.id,
            None,
            Errors(problems),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let hash = hash_blocking(form.new_password).await?;
    state.db.set_password(user.id, &hash).await?;
    state
        .audit
        .record(account_event(
            user,
            "auth.password_changed",
            Outcome::Success,
            page.ip.as_deref(),
        ))
        .await?;
    let (token, _) = start_session(&state, user, "web", Stage::Full, page.ip.as_deref()).await?;
    Ok(redirect_with_session(
        &state,
        "/account?done=password",
        Some(&token),
    ))
}

/// Hashes a password on the blocking pool.
pub async fn hash_blocking(password: String) -> AppResult<String> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(AppError::Internal)
}

/// `POST /account/sessions/revoke`: "sign out everywhere else".
pub async fn sign_out_everywhere(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Form(_): Form<Empty>,
) -> AppResult<Response> {
    state
        .db
        .delete_sessions_of(current.user.id, Some(current.session.id))
        .await?;
    state
        .audit
        .record(account_event(
            &current.user,
            "auth.sessions_revoked",
            Outcome::Success,
            page.ip.as_deref(),
        ))
        .await?;
    Ok(Redirect::to("/account?done=sessions").into_response())
}

/// The authenticator set-up page.
#[derive(Template)]
#[template(path = "accounts/mfa_setup.html")]
struct MfaSetupPage {
    layout: Layout,
    enabled: bool,
    required: bool,
    secret: String,
    uri: String,
    errors: Errors,
}

/// `GET /account/mfa`: shows the secret to add to an authenticator app (creating a pending
/// one if needed), or that two-step sign-in is already on.
pub async fn show_mfa_setup(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
) -> AppResult<Response> {
    mfa_setup_page(
        &state,
        &page,
        &current.user,
        current.session.stage,
        Errors::default(),
        StatusCode::OK,
    )
    .await
}

/// Renders the set-up page, creating a pending secret when there is none.
async fn mfa_setup_page(
    state: &AppState,
    page: &Page,
    user: &User,
    stage: Stage,
    errors: Errors,
    status: StatusCode,
) -> AppResult<Response> {
    let layout = if stage == Stage::Full {
        page.layout("Two-step sign-in")
    } else {
        Layout::bare("Set up two-step sign-in", page.csrf.clone())
    };
    if user.totp_enabled {
        return render(
            status,
            MfaSetupPage {
                layout,
                enabled: true,
                required: user.role.requires_mfa(),
                secret: String::new(),
                uri: String::new(),
                errors,
            },
        );
    }
    let secret = match &user.totp_secret {
        Some(sealed) => hex::decode(state.sealer.open(&totp_context(user.id), sealed).await?)
            .map_err(|e| AppError::Internal(e.to_string()))?,
        None => {
            let secret = totp::new_secret();
            let sealed = state
                .sealer
                .seal(&totp_context(user.id), &hex::encode(&secret))
                .await?;
            state.db.set_totp(user.id, Some(&sealed), false).await?;
            secret
        }
    };
    render(
        status,
        MfaSetupPage {
            layout,
            enabled: false,
            required: user.role.requires_mfa(),
            secret: totp::secret_base32(&secret),
            uri: totp::otpauth_uri(&secret, &user.email),
            errors,
        },
    )
}

/// The recovery codes, shown once.
#[derive(Template)]
#[template(path = "accounts/recovery_codes.html")]
struct RecoveryCodesPage {
    layout: Layout,
    codes: Vec<String>,
}

/// `POST /account/mfa`: confirms the app works with one code, turns two-step sign-in on,
/// and shows ten recovery codes once.
pub async fn enable_mfa(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Form(form): Form<CodeForm>,
) -> AppResult<Response> {
    let Some(user) = state.db.user_by_id(current.user.id).await? else {
        return Err(AppError::Unauthorized);
    };
    if user.totp_enabled {
        return Ok(Redirect::to("/account/mfa").into_response());
    }
    if !verify_totp(&state, &user, &form.code).await? {
        let errors = Errors(vec![FieldError::new(
            "code",
            "That code didn't match. Please check the app shows Tend and try the newest code.",
        )]);
        return mfa_setup_page(
            &state,
            &page,
            &user,
            current.session.stage,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    state.db.enable_totp(user.id).await?;
    let codes = totp::new_recovery_codes();
    let hashes: Vec<String> = codes
        .iter()
        .map(|c| hash_token(&super::totp::recovery_code_key(c)))
        .collect();
    state.db.replace_recovery_codes(user.id, &hashes).await?;
    state
        .audit
        .record(account_event(
            &user,
            "auth.mfa_enabled",
            Outcome::Success,
            page.ip.as_deref(),
        ))
        .await?;
    // Enrolment completes sign-in: swap the part-way session for a full one.
    state.db.delete_session(current.session.id).await?;
    let (token, _) = start_session(&state, &user, "web", Stage::Full, page.ip.as_deref()).await?;
    let html = RecoveryCodesPage {
        layout: Layout::bare("Save your recovery codes", page.csrf),
        codes,
    }
    .render()?;
    let mut response = Html(html).into_response();
    if let Some(v) = cookie_header(SESSION_COOKIE, &token, None, state.config.served_over_tls()) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(response)
}

/// The accept-invitation page.
#[derive(Template)]
#[template(path = "accounts/invitation.html")]
struct InvitationPage {
    layout: Layout,
    token: String,
    email: String,
    name: String,
    role: Role,
    errors: Errors,
}

/// Finds a usable invitation by its link token, or a 404 that explains kindly.
async fn usable_invitation(state: &AppState, token: &str) -> AppResult<super::queries::Invitation> {
    state.limiter.hit(
        &format!("invitation-token:{}", &hash_token(token)[..16]),
        30,
        std::time::Duration::from_secs(60),
    )?;
    match state
        .db
        .invitation_by_token_hash(&hash_token(token))
        .await?
    {
        Some(inv) if inv.accepted_at.is_none() && inv.expires_at > Timestamp::now() => Ok(inv),
        _ => Err(AppError::NotFound),
    }
}

/// `GET /invitations/{token}`
pub async fn show_invitation(
    State(state): State<AppState>,
    page: Page,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let inv = usable_invitation(&state, &token).await?;
    render(
        StatusCode::OK,
        InvitationPage {
            layout: Layout::bare("Welcome to Tend", page.csrf),
            token,
            email: inv.email,
            name: inv.name,
            role: inv.role,
            errors: Errors::default(),
        },
    )
}

/// The accept-invitation form.
#[derive(Deserialize)]
pub struct AcceptForm {
    name: String,
    password: String,
    confirm_password: String,
}

/// `POST /invitations/{token}`: creates the account and signs in.
pub async fn accept_invitation(
    State(state): State<AppState>,
    page: Page,
    Path(token): Path<String>,
    Form(form): Form<AcceptForm>,
) -> AppResult<Response> {
    state.limiter.hit(
        &format!("accept-ip:{}", page.ip.as_deref().unwrap_or("unknown")),
        20,
        std::time::Duration::from_secs(60),
    )?;
    let inv = usable_invitation(&state, &token).await?;
    let mut problems: Vec<FieldError> = [
        check_required("name", &form.name),
        check_len("name", &form.name, 120),
    ]
    .into_iter()
    .filter_map(Result::err)
    .collect();
    if let Err(e) = check_strength("password", &form.password, &[&inv.email, &form.name]) {
        problems.push(e);
    }
    if form.password != form.confirm_password {
        problems.push(FieldError::new(
            "confirm_password",
            "The two passwords don't match.",
        ));
    }
    if !problems.is_empty() {
        return render(
            StatusCode::UNPROCESSABLE_ENTITY,
            InvitationPage {
                layout: Layout::bare("Welcome to Tend", page.csrf),
                token,
                email: inv.email,
                name: form.name,
                role: inv.role,
                errors: Errors(problems),
            },
        );
    }
    let hash = hash_blocking(form.password).await?;
    let user = state
        .db
        .accept_invitation(&inv, &form.name, &hash)
        .await
        .map_err(|e| match e {
            crate::db::DbError::Conflict => AppError::NotFound,
            other => other.into(),
        })?;
    state
        .audit
        .record(
            Event::new(
                Some(user.principal()),
                "invitation.accepted",
                Outcome::Success,
            )
            .on("invitation", inv.id)
            .from_ip(page.ip.as_deref()),
        )
        .await?;
    let stage = first_stage(&user);
    let (session, _) = start_session(&state, &user, "web", stage, page.ip.as_deref()).await?;
    let to = if stage == Stage::Enroll {
        "/account/mfa"
    } else {
        "/"
    };
    Ok(redirect_with_session(&state, to, Some(&session)))
}

/// The first-run page.
#[derive(Template)]
#[template(path = "accounts/setup.html")]
struct SetupPage {
    layout: Layout,
    name: String,
    email: String,
    errors: Errors,
}

/// Setup is offered only while no admin exists, and only to the machine Tend runs on.
async fn setup_allowed(
    state: &AppState,
    page: &Page,
    headers: &axum::http::HeaderMap,
) -> AppResult<()> {
    // A request relayed by a reverse proxy on this machine also arrives from loopback; the
    // forwarding headers give it away, and such a request is not "from this machine".
    let proxied =
        headers.contains_key("x-forwarded-for") || headers.contains_key(header::FORWARDED);
    let local = !proxied
        && page
            .ip
            .as_deref()
            .and_then(|ip| ip.parse::<std::net::IpAddr>().ok())
            .is_some_and(|ip| ip.is_loopback());
    if !local || state.db.has_admin().await? {
        return Err(AppError::NotFound);
    }
    Ok(())
}

/// `GET /setup`
pub async fn show_setup(
    State(state): State<AppState>,
    page: Page,
    headers: axum::http::HeaderMap,
) -> AppResult<Response> {
    setup_allowed(&state, &page, &headers).await?;
    render(
        StatusCode::OK,
        SetupPage {
            layout: Layout::bare("Set up Tend", page.csrf),
            name: String::new(),
            email: String::new(),
            errors: Errors::default(),
        },
    )
}

/// The first-admin form.
#[derive(Deserialize)]
pub struct SetupForm {
    name: String,
    email: String,
    password: String,
}

/// `POST /setup`: creates the first admin, once.
pub async fn create_first_admin(
    State(state): State<AppState>,
    page: Page,
    headers: axum::http::HeaderMap,
    Form(form): Form<SetupForm>,
) -> AppResult<Response> {
    setup_allowed(&state, &page, &headers).await?;
    state
        .limiter
        .hit("setup", 20, std::time::Duration::from_secs(60))?;
    let mut problems: Vec<FieldError> = [
        check_required("name", &form.name),
        check_len("name", &form.name, 120),
        check_email("email", &form.email),
    ]
    .into_iter()
    .filter_map(Result::err)
    .collect();
    if let Err(e) = check_strength("password", &form.password, &[&form.email, &form.name]) {
        problems.push(e);
    }
    if !problems.is_empty() {
        return render(
            StatusCode::UNPROCESSABLE_ENTITY,
            SetupPage {
                layout: Layout::bare("Set up Tend", page.csrf),
                name: form.name,
                email: form.email,
                errors: Errors(problems),
            },
        );
    }
    let hash = hash_blocking(form.password).await?;
    let user = state
        .db
        .create_user(NewUser {
            email: &form.email,
            name: &form.name,
            role: Role::Admin,
            password_hash: Some(&hash),
            therapist_id: None,
        })
        .await?;
    state
        .audit
        .record(account_event(
            &user,
            "setup.first_admin",
            Outcome::Success,
            page.ip.as_deref(),
        ))
        .await?;
    let (token, _) = start_session(&state, &user, "web", Stage::Enroll, page.ip.as_deref()).await?;
    Ok(redirect_with_session(&state, "/account/mfa", Some(&token)))
}
