//! Static assets, compiled into the binary so Tend needs no files beside it and makes no
//! third-party requests. Served with a long cache lifetime; the `?v=` in links changes with
//! each release.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::routes::Route;
use crate::authz::Access;

/// The design system.
const CSS: &str = include_str!("../../static/tend.css");
/// Progressive enhancement only; every page works without it.
const JS: &str = include_str!("../../static/tend.js");

/// Routes for assets.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/static/tend.css", Access::Public, || async {
            asset(CSS, "text/css; charset=utf-8")
        }),
        Route::get("/static/tend.js", Access::Public, || async {
            asset(JS, "text/javascript; charset=utf-8")
        }),
    ]
}

/// One asset response.
fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    response
}
