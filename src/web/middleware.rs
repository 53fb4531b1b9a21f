//! Middleware: who is asking, may they, and how responses look.
//!
//! Order (outermost first, see `app::router`): [`render_errors`] → [`security_headers`] →
//! [`resolve_session`] → per-route [`enforce_access`] → handler.

use askama::Template;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use time::Duration;

use super::AppState;
use super::layout::Layout;
use crate::accounts::queries::{Session, Stage, User};
use crate::audit::{Event, Outcome};
use crate::authz::Access;
use crate::crypto::token::{hash_token, new_token};
use crate::db::Timestamp;
use crate::error::{AppError, ErrorInfo};

/// Session cookie name.
pub const SESSION_COOKIE: &str = "tend_session";
/// CSRF cookie name (double-submit: the form echoes it in a hidden `csrf` field).
pub const CSRF_COOKIE: &str = "tend_csrf";
/// Skip writing `last_seen_at` more often than this.
const TOUCH_EVERY: Duration = Duration::seconds(60);
/// Anonymous requests to public routes allowed per address per minute.
const PUBLIC_PER_MINUTE: u32 = 300;
/// API tokens live this long, used or not.
pub const API_TOKEN_DAYS: i64 = 30;

/// The signed-in person making this request.
#[derive(Clone, Debug)]
pub struct CurrentUser {
    /// Their account.
    pub user: User,
    /// The session or API token used.
    pub session: Session,
    /// Whether it came as `Authorization: Bearer` (no CSRF exposure).
    pub via_bearer: bool,
}

/// This request's CSRF token (from the cookie, or newly issued).
#[derive(Clone, Debug)]
pub struct CsrfToken(pub String);

/// The request's source address, when known.
#[derive(Clone, Debug)]
pub struct ClientIp(pub Option<String>);

/// The address the trusted proxy saw: the last `X-Forwarded-For` entry, the one the proxy
/// itself appended. Earlier entries are whatever the client chose to send, so trusting the
/// first would let anyone pick the address the audit trail and the rate limits see.
fn forwarded_client(header: &str) -> Option<&str> {
    header
        .rsplit(',')
        .map(str::trim)
        .find(|hop| !hop.is_empty())
}

/// Finds the source address: the socket peer, or the hop the trusted proxy recorded when the
/// operator says one is in front.
fn client_ip(req: &Request, trust_proxy: bool) -> Option<String> {
    if trust_proxy
        && let Some(forwarded) = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
        && let Some(hop) = forwarded_client(forwarded)
    {
        return Some(hop.to_string());
    }
    req.extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
}

/// Reads one cookie's value.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value with Tend's flags: HttpOnly, SameSite=Strict, Path=/, Secure over TLS.
pub fn cookie_header(
    name: &str,
    value: &str,
    max_age: Option<i64>,
    secure: bool,
) -> Option<HeaderValue> {
    let mut text = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if let Some(age) = max_age {
        text.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        text.push_str("; Secure");
    }
    HeaderValue::from_str(&text).ok()
}

/// Resolves the caller: source address, CSRF token, and session or bearer token (checking
/// idle and absolute timeouts). A database failure here answers 503 rather than treating the
/// caller as anonymous.
pub async fn resolve_session(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let ip = client_ip(&req, state.config.trust_proxy);
    if is_anonymous_by_design(req.uri().path()) {
        // Health checks and assets never need a session or a CSRF token; skipping the lookup
        // keeps them cheap for load balancers and browsers.
        req.extensions_mut().insert(ClientIp(ip));
        return next.run(req).await;
    }
    req.extensions_mut().insert(ClientIp(ip));

    let existing_csrf = cookie(req.headers(), CSRF_COOKIE)
        .filter(|v| {
            v.len() == 43
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_string);
    // The API authenticates with bearer tokens or JSON-only bodies; only pages need the cookie.
    let is_api = req.uri().path().starts_with("/api/");
    let (csrf, issue_csrf) = match existing_csrf {
        Some(token) => (token, false),
        None => (new_token().0, !is_api),
    };
    req.extensions_mut().insert(CsrfToken(csrf.clone()));

    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|v| v.trim().to_string());
    let from_cookie = cookie(req.headers(), SESSION_COOKIE).map(str::to_string);
    let mut clear_session_cookie = false;
    let token = bearer.clone().or(from_cookie);
    if let Some(token) = token {
        match load_current(&state, &token, bearer.is_some()).await {
            Ok(Some(current)) => {
                req.extensions_mut().insert(current);
            }
            Ok(None) => clear_session_cookie = bearer.is_none(),
            Err(err) => return err.into_response(),
        }
    }

    let mut response = next.run(req).await;
    let secure = state.config.served_over_tls();
    let sets_session = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|v| v.as_bytes().starts_with(SESSION_COOKIE.as_bytes()));
    if clear_session_cookie
        && !sets_session
        && let Some(v) = cookie_header(SESSION_COOKIE, "", Some(0), secure)
    {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    if issue_csrf && let Some(v) = cookie_header(CSRF_COOKIE, &csrf, None, secure) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// Paths served the same to everyone, with no session lookup.
pub fn is_anonymous_by_design(path: &str) -> bool {
    path == "/healthz" || path == "/readyz" || path.starts_with("/static/")
}

/// Loads and checks a session token; `None` when unknown, expired or idle too long.
async fn load_current(
    state: &AppState,
    token: &str,
    via_bearer: bool,
) -> Result<Option<CurrentUser>, AppError> {
    let db = &state.db;
    let Some(session) = db.session_by_token_hash(&hash_token(token)).await? else {
        return Ok(None);
    };
    if via_bearer != (session.kind == "api") {
        // A browser cookie is not an API token and vice versa.
        return Ok(None);
    }
    let Some(user) = db.user_by_id(session.user_id).await? else {
        return Ok(None);
    };
    let now = Timestamp::now();
    let idle_minutes = if user.role.is_staff() {
        state.config.staff_idle_minutes
    } else {
        state.config.client_idle_minutes
    };
    let idle_expired = !via_bearer && now - session.last_seen_at > Duration::minutes(idle_minutes);
    if user.disabled || session.expires_at <= now || idle_expired {
        db.delete_session(session.id).await?;
        return Ok(None);
    }
    if now - session.last_seen_at > TOUCH_EVERY {
        db.touch_session(session.id, now).await?;
    }
    Ok(Some(CurrentUser {
        user,
        session,
        via_bearer,
    }))
}

/// Enforces a route's declared [`Access`] before its handler runs.
pub async fn enforce_access(
    State((state, access)): State<(AppState, Access)>,
    req: Request,
    next: Next,
) -> Response {
    let current = req.extensions().get::<CurrentUser>().cloned();
    let is_api = req.uri().path().starts_with("/api/");
    let ip = req.extensions().get::<ClientIp>().and_then(|c| c.0.clone());
    match (access, current) {
        (Access::Public, Some(_)) => next.run(req).await,
        (Access::Public, None) => {
            // Anonymous traffic to public pages is limited per address; health checks and
            // assets are exempt so load balancers and browsers are never refused.
            let exempt = is_anonymous_by_design(req.uri().path());
            let key = format!("public:{}", ip.as_deref().unwrap_or("unknown"));
            if !exempt
                && let Err(refused) =
                    state
                        .limiter
                        .hit(&key, PUBLIC_PER_MINUTE, std::time::Duration::from_secs(60))
            {
                return refused.into_response();
            }
            next.run(req).await
        }
        (_, None) => AppError::Unauthorized.into_response(),
        (Access::PartialSignIn, Some(_)) => next.run(req).await,
        (Access::Roles(roles), Some(current)) => match current.session.stage {
            Stage::Mfa if is_api => AppError::Unauthorized.into_response(),
            Stage::Mfa => Redirect::to("/login/mfa").into_response(),
            Stage::Enroll if is_api => AppError::Forbidden.into_response(),
            Stage::Enroll => Redirect::to("/account/mfa").into_response(),
            Stage::Full if roles.contains(&current.user.role) => next.run(req).await,
            Stage::Full => {
                let event = Event::new(
                    Some(current.user.principal()),
                    "route.denied",
                    Outcome::Denied,
                )
                .from_ip(ip.as_deref());
                if let Err(err) = state.audit.record(event).await {
                    return AppError::from(err).into_response();
                }
                AppError::Forbidden.into_response()
            }
        },
    }
}

/// Adds security headers to every response: a strict Content-Security-Policy with no inline
/// script or style, no framing, no referrer, no sniffing, no caching of private pages.
pub async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    let set = |headers: &mut HeaderMap, name: &'static str, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(
        headers,
        "content-security-policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; \
         connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    set(headers, "x-content-type-options", "nosniff");
    set(headers, "x-frame-options", "DENY");
    set(headers, "referrer-policy", "no-referrer");
    set(headers, "cross-origin-opener-policy", "same-origin");
    set(headers, "cross-origin-resource-policy", "same-origin");
    set(
        headers,
        "permissions-policy",
        "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    );
    if !headers.contains_key(header::CACHE_CONTROL) {
        set(headers, "cache-control", "no-store");
    }
    if state.config.served_over_tls() {
        set(
            headers,
            "strict-transport-security",
            "max-age=63072000; includeSubDomains",
        );
    }
    response
}

/// The page shown for any error outside the API.
#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    info: ErrorInfo,
}

/// Renders every error the same way: a calm HTML page for pages, an RFC 9457 problem body
/// for `/api/`. A 401 on a page becomes a redirect to sign-in that comes back afterwards.
pub async fn render_errors(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let path_and_query = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let is_get = req.method() == Method::GET;
    let is_api = path.starts_with("/api/");
    let csrf = req
        .extensions()
        .get::<CsrfToken>()
        .map(|c| c.0.clone())
        .unwrap_or_default();
    let response = next.run(req).await;

    let status = response.status();
    let info = match response.extensions().get::<ErrorInfo>() {
        Some(info) => info.clone(),
        None if status.is_client_error() || status.is_server_error() => {
            // Pages re-displayed with field errors are ours already; axum's own plain-text
            // rejections (a malformed path parameter, a wrong method) are re-rendered.
            let is_ours = response
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("text/html") || v.starts_with("application/"));
            if is_ours {
                return response;
            }
            ErrorInfo::for_status(status)
        }
        None => return response,
    };

    if status == StatusCode::UNAUTHORIZED && !is_api {
        let next_url =
            if is_get && path_and_query.starts_with('/') && !path_and_query.starts_with("//") {
                format!(
                    "/login?next={}",
                    url::form_urlencoded::byte_serialize(path_and_query.as_bytes())
                        .collect::<String>()
                )
            } else {
                "/login".to_string()
            };
        return Redirect::to(&next_url).into_response();
    }

    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let body = if is_api {
        parts.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        let problem = serde_json::json!({
            "type": "about:blank",
            "title": info.title,
            "status": status.as_u16(),
            "detail": info.detail,
            "errors": info.fields,
        });
        Body::from(problem.to_string())
    } else {
        let page = ErrorPage {
            layout: Layout::bare(&info.title, csrf),
            info,
        };
        match page.render() {
            Ok(html) => {
                parts.headers.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                );
                Body::from(Html(html).0)
            }
            Err(_) => Body::from(status.canonical_reason().unwrap_or("Error").to_string()),
        }
    };
    Response::from_parts(parts, body)
}

#[cfg(test)]
mod forwarded_tests {
    use super::forwarded_client;

    #[test]
    fn the_proxy_s_own_entry_is_the_one_trusted() {
        assert_eq!(forwarded_client("203.0.113.9"), Some("203.0.113.9"));
        // A client that sends its own header cannot choose its address.
        assert_eq!(
            forwarded_client("10.0.0.1, 6.6.6.6 , 203.0.113.9"),
            Some("203.0.113.9")
        );
        assert_eq!(forwarded_client("203.0.113.9, "), Some("203.0.113.9"));
        assert_eq!(forwarded_client(" , "), None);
    }
}
