//! The one error type at the HTTP edge.
//!
//! Handlers return `Result<_, AppError>`. [`AppError`] turns into a bare response carrying an
//! [`ErrorInfo`] extension; the `web::render_errors` middleware then renders it as a calm HTML
//! page for pages or an RFC 9457 problem body for `/api/`, so the two never drift apart.
//! Internal details are logged once here, with ids only, and never shown.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::crypto::CryptoError;
use crate::db::DbError;

/// A problem with one submitted field.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct FieldError {
    /// The field's name as submitted.
    pub field: String,
    /// What is wrong, in plain words.
    pub message: String,
}

impl FieldError {
    /// A problem with `field`.
    pub fn new(field: &str, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.to_string(),
            message: message.into(),
        }
    }
}

/// Every outcome other than success that a person or script can see.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 404: no such page or record, or one the caller may not know exists.
    #[error("not found")]
    NotFound,
    /// 401 (API) or a redirect to sign-in (pages): no valid session or token.
    #[error("sign-in required")]
    Unauthorized,
    /// 403: signed in, but this is not theirs to see or do.
    #[error("forbidden")]
    Forbidden,
    /// 403: the form's CSRF token was missing or wrong.
    #[error("the form expired")]
    Csrf,
    /// 400: the request body could not be read as the expected format at all.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 422: the body was readable but fields are invalid; each names its field.
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    /// 409: the change conflicts with what exists (for example an email already in use).
    #[error("conflict: {0}")]
    Conflict(String),
    /// 413: the body is larger than allowed.
    #[error("payload too large")]
    PayloadTooLarge,
    /// 429: too many attempts; try again after the given seconds.
    #[error("rate limited")]
    RateLimited {
        /// Seconds until another attempt is allowed.
        retry_after: u64,
    },
    /// 503: the database is unreachable; nothing was changed.
    #[error("service unavailable")]
    Unavailable,
    /// 503: an optional part of Tend (the listening coach) is switched off; says why.
    #[error("feature unavailable: {0}")]
    FeatureOff(String),
    /// 500: a bug or an unexpected failure; logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    /// A 422 for a single field.
    pub fn invalid(field: &str, message: impl Into<String>) -> AppError {
        AppError::Invalid(vec![FieldError::new(field, message)])
    }

    /// The HTTP status this outcome maps to.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden | AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable | AppError::FeatureOff(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The user-facing description of this outcome.
    fn info(&self) -> ErrorInfo {
        let (title, detail) = match self {
            AppError::NotFound => ("Page not found", "We couldn't find that page. It may have moved, or the link may be incomplete.".to_string()),
            AppError::Unauthorized => ("Please sign in", "You need to sign in to see this.".to_string()),
            AppError::Forbidden => ("Not available to you", "This isn't part of what your account can see or change. If you think it should be, please ask your practice.".to_string()),
            AppError::Csrf => ("Please try again", "This form was open for a long time or came from another page, so we didn't send it. Please go back, reload the page and try again.".to_string()),
            AppError::BadRequest(why) => ("We couldn't read that", why.clone()),
            AppError::Invalid(_) => ("Some answers need another look", "Please check the fields listed below.".to_string()),
            AppError::Conflict(why) => ("That already exists", why.clone()),
            AppError::PayloadTooLarge => ("That was too large to send", "Please send something smaller.".to_string()),
            AppError::RateLimited { .. } => ("Please wait a moment", "There were many attempts in a short time. Please wait a little and try again.".to_string()),
            AppError::Unavailable => ("Tend is having trouble right now", "We can't reach our database at the moment. Nothing you sent was lost or half-saved. Please try again in a minute. If you are in crisis, please contact your local emergency number.".to_string()),
            AppError::FeatureOff(why) => ("This part of Tend is switched off", why.clone()),
            AppError::Internal(_) => ("Something went wrong on our side", "It's not something you did. Please try again. If it keeps happening, let your practice know.".to_string()),
        };
        ErrorInfo {
            status: self.status(),
            title: title.to_string(),
            detail,
            fields: match self {
                AppError::Invalid(fields) => fields.clone(),
                _ => Vec::new(),
            },
        }
    }
}

/// What the renderer needs to show an error; travels in the response extensions.
#[derive(Clone, Debug, Serialize)]
pub struct ErrorInfo {
    /// The status code.
    #[serde(skip)]
    pub status: StatusCode,
    /// A short, kind headline.
    pub title: String,
    /// A sentence or two of explanation.
    pub detail: String,
    /// Field problems for 422.
    pub fields: Vec<FieldError>,
}

impl ErrorInfo {
    /// Describes a bare status produced outside our handlers (for example axum's 405).
    pub fn for_status(status: StatusCode) -> ErrorInfo {
        let err = match status {
            StatusCode::NOT_FOUND => AppError::NotFound,
            StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge,
            StatusCode::UNAUTHORIZED => AppError::Unauthorized,
            StatusCode::FORBIDDEN => AppError::Forbidden,
            StatusCode::SERVICE_UNAVAILABLE => AppError::Unavailable,
            s if s.is_client_error() => {
                AppError::BadRequest("That request isn't something this page can handle.".into())
            }
            _ => AppError::Internal(String::new()),
        };
        ErrorInfo {
            status,
            ..err.info()
        }
    }
}

impl AppError {
    /// The security event a refusal by one of Tend's own controls records in the process log
    /// (ASVS V16.3.3), or `None` for outcomes that are not refusals. What was refused is named;
    /// the values sent are not logged, since they may be health data or passwords.
    pub fn security_event(&self) -> Option<&'static str> {
        match self {
            AppError::Csrf => Some("csrf_refused"),
            AppError::Forbidden => Some("access_refused"),
            AppError::RateLimited { .. } => Some("rate_limited"),
            AppError::Invalid(_) => Some("validation_refused"),
            AppError::BadRequest(_) => Some("malformed_request"),
            AppError::PayloadTooLarge => Some("payload_too_large"),
            AppError::NotFound
            | AppError::Unauthorized
            | AppError::Conflict(_)
            | AppError::Unavailable
            | AppError::FeatureOff(_)
            | AppError::Internal(_) => None,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match &self {
            AppError::Internal(detail) => tracing::error!(error = %detail, "internal error"),
            AppError::Unavailable => tracing::warn!("database unavailable"),
            AppError::Invalid(fields) => {
                let fields: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
                let event = self.security_event();
                tracing::info!(
                    security_event = event,
                    ?fields,
                    "request refused: invalid fields"
                );
            }
            other => {
                if let Some(event) = other.security_event() {
                    // Inside the request's trace span, which carries the method and path.
                    tracing::warn!(
                        security_event = event,
                        "request refused by a security control"
                    );
                }
            }
        }
        let info = self.info();
        let mut response = info.status.into_response();
        if let AppError::RateLimited { retry_after } = self
            && let Ok(value) = HeaderValue::from_str(&retry_after.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response.extensions_mut().insert(info);
        response
    }
}

impl From<DbError> for AppError {
    fn from(err: DbError) -> Self {
        match err {
            DbError::Conflict => {
                AppError::Conflict("A record with that value already exists.".into())
            }
            DbError::Sqlx(ref e) if is_unavailable(e) => AppError::Unavailable,
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<CryptoError> for AppError {
    fn from(err: CryptoError) -> Self {
        match err {
            CryptoError::Db(db) => db.into(),
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<askama::Error> for AppError {
    fn from(err: askama::Error) -> Self {
        AppError::Internal(format!("template: {err}"))
    }
}

/// Whether a database error means "cannot write or reach the database now" rather than a bug.
fn is_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_) => true,
        // Out of space (SQLite's SQLITE_FULL; PostgreSQL's class 53), a lost connection (class
        // 08) or a server shutting down or not yet accepting connections (57P01–57P03): the
        // write did not happen and trying again later will work, so say that, not "error".
        sqlx::Error::Database(db) => {
            if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                db.code().is_some_and(|c| c == "13")
            } else {
                db.code().is_some_and(|c| {
                    c.starts_with("53")
                        || c.starts_with("08")
                        || matches!(c.as_ref(), "57P01" | "57P02" | "57P03")
                })
            }
        }
        _ => false,
    }
}

/// Shorthand for handler results.
pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_by_the_controls_are_security_events_and_other_outcomes_are_not() {
        assert_eq!(AppError::Csrf.security_event(), Some("csrf_refused"));
        assert_eq!(
            AppError::RateLimited { retry_after: 5 }.security_event(),
            Some("rate_limited")
        );
        assert_eq!(
            AppError::Invalid(vec![FieldError::new("text", "Too long.")]).security_event(),
            Some("validation_refused")
        );
        assert_eq!(AppError::Forbidden.security_event(), Some("access_refused"));
        assert_eq!(
            AppError::PayloadTooLarge.security_event(),
            Some("payload_too_large")
        );
        assert_eq!(AppError::NotFound.security_event(), None);
        assert_eq!(AppError::Unavailable.security_event(), None);
    }
}
