//! What the fuzz targets share: a runtime to drive Tend's async extractors, and requests
//! built the way they arrive from a browser or an API client.

use std::sync::LazyLock;

use axum::body::Body;
use axum::http::{Request, header};
use tend::web::middleware::CsrfToken;

/// The CSRF token every fuzzed form carries, so that decoding goes past the CSRF check.
pub const CSRF: &str = "fuzz-token";

/// One single-threaded runtime for every input.
static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap_or_else(|e| panic!("no tokio runtime: {e}"))
});

/// Drives one of Tend's extractors to completion.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    RUNTIME.block_on(future)
}

/// A form POST of `body`, its CSRF token matched as the session middleware would.
pub fn form_request(body: Vec<u8>) -> Request<Body> {
    let mut request = Request::post("/fuzz")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap_or_else(|e| panic!("request: {e}"));
    request.extensions_mut().insert(CsrfToken(CSRF.to_string()));
    request
}

/// A JSON POST of `body`.
pub fn json_request(body: Vec<u8>) -> Request<Body> {
    Request::post("/fuzz")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap_or_else(|e| panic!("request: {e}"))
}

/// The input as text, as Tend receives it after UTF-8 checks.
pub fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}
