//! Extractors that turn bad input into clear errors naming the field.
//!
//! Use [`Form`] for HTML forms (it also checks the CSRF token) and [`Json`] for the API;
//! `clippy.toml` bans axum's own `Form` and `Json` extractors so every body goes through here.
//! [`Signed`] yields the signed-in person; [`Page`] gathers what the layout needs.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::layout::Layout;
use super::middleware::{ClientIp, CsrfToken, CurrentUser};
use crate::crypto::token::constant_time_eq;
use crate::error::{AppError, FieldError};

/// Largest request body accepted anywhere, in bytes.
pub const BODY_LIMIT: usize = 64 * 1024;

/// Reads the whole body, mapping "too large" to 413.
async fn body_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, AppError> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::PayloadTooLarge
        } else {
            AppError::BadRequest("The request body could not be read.".into())
        }
    })
}

/// Turns a deserialisation error at `path` into a 422 naming the field.
fn field_error(path: String, message: String) -> AppError {
    let field = if path == "." || path.is_empty() {
        // serde reports a missing field at the parent; its name is in the message.
        message.split('`').nth(1).unwrap_or("body").to_string()
    } else {
        path
    };
    let friendly = if message.starts_with("missing field") {
        "This is required.".to_string()
    } else if message.starts_with("unknown variant") {
        let expected = message
            .split("expected ")
            .nth(1)
            .unwrap_or("one of the listed options");
        format!("Please choose one of: {}.", expected.replace('`', ""))
    } else {
        "This value isn't in the expected format.".to_string()
    };
    AppError::Invalid(vec![FieldError::new(&field, friendly)])
}

/// An HTML form body, accepted only with a matching CSRF token in its `csrf` field.
pub struct Form<T>(pub T);

/// Reads a form body after checking its CSRF token (unless the caller used a bearer token,
/// which browsers never send on their own) and that every value is UTF-8.
async fn checked_form_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, AppError> {
    let expected = req.extensions().get::<CsrfToken>().map(|c| c.0.clone());
    let via_bearer = req
        .extensions()
        .get::<CurrentUser>()
        .is_some_and(|c| c.via_bearer);
    let bytes = body_bytes(req, state).await?;
    check_utf8_form(&bytes)?;
    if !via_bearer {
        let sent = url::form_urlencoded::parse(&bytes)
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v.into_owned());
        check_csrf(expected.as_deref(), sent.as_deref())?;
    }
    Ok(bytes)
}

/// Compares the page's CSRF token with the one a form sent, in constant time.
pub fn check_csrf(expected: Option<&str>, sent: Option<&str>) -> Result<(), AppError> {
    match (expected, sent) {
        (Some(expected), Some(sent)) if constant_time_eq(expected.as_bytes(), sent.as_bytes()) => {
            Ok(())
        }
        _ => Err(AppError::Csrf),
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Form<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let bytes = checked_form_body(req, state).await?;
        let deserializer = serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(&bytes));
        serde_path_to_error::deserialize(deserializer)
            .map(Form)
            .map_err(|e| field_error(e.path().to_string(), e.inner().to_string()))
    }
}

/// A form body as its ordered key/value pairs, for forms whose checkbox groups repeat a key;
/// CSRF-checked like [`Form`].
pub struct FormPairs(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequest<S> for FormPairs {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let bytes = checked_form_body(req, state).await?;
        Ok(FormPairs(
            url::form_urlencoded::parse(&bytes).into_owned().collect(),
        ))
    }
}

/// A query string as its ordered key/value pairs (repeated keys kept).
pub struct QueryPairs(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for QueryPairs {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        Ok(QueryPairs(
            url::form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
                .into_owned()
                .collect(),
        ))
    }
}

/// Refuses form bodies whose percent-decoded values are not UTF-8 (instead of silently
/// replacing characters in what someone wrote).
fn check_utf8_form(bytes: &[u8]) -> Result<(), AppError> {
    for pair in bytes.split(|b| *b == b'&') {
        let mut parts = pair.splitn(2, |b| *b == b'=');
        let key = parts.next().unwrap_or_default();
        let value = parts.next().unwrap_or_default();
        let decoded: Vec<u8> = percent_encoding::percent_decode(
            &value
                .iter()
                .map(|b| if *b == b'+' { b' ' } else { *b })
                .collect::<Vec<_>>(),
        )
        .collect();
        if std::str::from_utf8(&decoded).is_err() {
            let name = String::from_utf8_lossy(key).into_owned();
            return Err(AppError::Invalid(vec![FieldError::new(
                &name,
                "This contains characters that aren't valid text (UTF-8).",
            )]));
        }
    }
    Ok(())
}

/// A JSON body for the API; requires `Content-Type: application/json` (which browsers cannot
/// send cross-site without a CORS preflight, so cookie-authenticated calls stay CSRF-safe).
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if !is_json {
            return Err(AppError::BadRequest(
                "Send the body as JSON with `Content-Type: application/json`.".into(),
            ));
        }
        let bytes = body_bytes(req, state).await?;
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| AppError::BadRequest("The body is not valid UTF-8.".into()))?;
        let mut deserializer = serde_json::Deserializer::from_str(text);
        match serde_path_to_error::deserialize(&mut deserializer) {
            Ok(value) => Ok(Json(value)),
            Err(err) if err.inner().is_syntax() || err.inner().is_eof() => Err(
                AppError::BadRequest(format!("The body is not valid JSON ({}).", err.inner())),
            ),
            Err(err) => Err(field_error(err.path().to_string(), err.inner().to_string())),
        }
    }
}

/// The signed-in person; routes declare who may call them, so this only fails on routes
/// that forgot to (401).
pub struct Signed(pub CurrentUser);

impl<S: Send + Sync> FromRequestParts<S> for Signed {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        parts
            .extensions
            .get::<CurrentUser>()
            .cloned()
            .map(Signed)
            .ok_or(AppError::Unauthorized)
    }
}

/// What every page needs: the layout's inputs, the caller if any, and their address.
pub struct Page {
    /// The caller when fully signed in.
    pub user: Option<CurrentUser>,
    /// CSRF token for forms on this page.
    pub csrf: String,
    /// The request path (for marking the current nav item).
    pub path: String,
    /// Source address for the audit trail.
    pub ip: Option<String>,
    /// What the header shows: open urgent alerts, unread messages, crisis lines.
    pub attention: crate::web::layout::Attention,
}

impl Page {
    /// The layout for a page titled `title`.
    pub fn layout(&self, title: &str) -> Layout {
        let mut layout = Layout::new(title, self.user.as_ref(), self.csrf.clone(), &self.path);
        layout.attention = self.attention.clone();
        layout
    }
}

impl FromRequestParts<crate::web::AppState> for Page {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &crate::web::AppState,
    ) -> Result<Self, AppError> {
        let user = parts
            .extensions
            .get::<CurrentUser>()
            .filter(|u| u.session.stage == crate::accounts::queries::Stage::Full)
            .cloned();
        let attention = crate::web::layout::Attention::load(state, user.as_ref()).await;
        Ok(Page {
            user: parts.extensions.get::<CurrentUser>().cloned(),
            csrf: parts
                .extensions
                .get::<CsrfToken>()
                .map(|c| c.0.clone())
                .unwrap_or_default(),
            path: parts.uri.path().to_string(),
            ip: parts.extensions.get::<ClientIp>().and_then(|c| c.0.clone()),
            attention,
        })
    }
}

/// The caller's source address.
pub struct SourceIp(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for SourceIp {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        Ok(SourceIp(
            parts.extensions.get::<ClientIp>().and_then(|c| c.0.clone()),
        ))
    }
}

/// Whether a checkbox-style form or query value is on ("1", "true", "on" or "yes").
pub fn is_checked(value: &str) -> bool {
    matches!(value.trim(), "1" | "true" | "on" | "yes")
}

/// Checks a free-text field's length in characters; 422 naming the field when over.
pub fn check_len(field: &str, value: &str, max: usize) -> Result<(), FieldError> {
    if value.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("Please keep this under {max} characters."),
        ));
    }
    Ok(())
}

/// Checks that a required field is not blank.
pub fn check_required(field: &str, value: &str) -> Result<(), FieldError> {
    if value.trim().is_empty() {
        return Err(FieldError::new(field, "This is required."));
    }
    Ok(())
}

/// Collects field checks; `Ok` when none failed, else one 422 listing them all.
pub fn collect(checks: impl IntoIterator<Item = Result<(), FieldError>>) -> Result<(), AppError> {
    let fields: Vec<FieldError> = checks.into_iter().filter_map(Result::err).collect();
    if fields.is_empty() {
        Ok(())
    } else {
        Err(AppError::Invalid(fields))
    }
}

/// A plausible email address: one `@`, something on both sides, a dot in the domain, no
/// spaces, at most 254 characters. Deliverability is proven by the invitation email itself.
pub fn check_email(field: &str, value: &str) -> Result<(), FieldError> {
    let v = value.trim();
    let ok = v.len() <= 254
        && !v.contains(char::is_whitespace)
        && v.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        });
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            "Please enter an email address like name@example.org.",
        ))
    }
}

impl<T: serde::Serialize> axum::response::IntoResponse for Json<T> {
    fn into_response(self) -> axum::response::Response {
        axum::Json(self.0).into_response()
    }
}
