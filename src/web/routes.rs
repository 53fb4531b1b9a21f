//! Routes with their access rule attached.
//!
//! Each feature returns a `Vec<Route>` from its `routes()`; `app::router` merges them and
//! wraps every handler in the access check for its declared [`Access`]. Because routes are
//! data, the authorization matrix test can enumerate all of them (`tests/authz_matrix.rs`),
//! so a route cannot ship without a row in that matrix.

use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodFilter, MethodRouter, on};

use super::AppState;
use crate::authz::Access;

/// One method on one path, who may call it, and the handler.
pub struct Route {
    /// HTTP method.
    pub method: Method,
    /// Path pattern in axum syntax (`/clients/{id}`).
    pub path: &'static str,
    /// Who may call it at all.
    pub access: Access,
    /// The handler as a method router for `method`.
    pub handler: MethodRouter<AppState>,
}

impl Route {
    /// A GET route.
    pub fn get<H, T>(path: &'static str, access: Access, handler: H) -> Route
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        Route {
            method: Method::GET,
            path,
            access,
            handler: on(MethodFilter::GET, handler),
        }
    }

    /// A POST route.
    pub fn post<H, T>(path: &'static str, access: Access, handler: H) -> Route
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        Route {
            method: Method::POST,
            path,
            access,
            handler: on(MethodFilter::POST, handler),
        }
    }

    /// Raises the request body limit for this route only (uploads); every other route keeps
    /// the small default.
    pub fn with_body_limit(mut self, bytes: usize) -> Route {
        self.handler = self
            .handler
            .layer(axum::extract::DefaultBodyLimit::max(bytes));
        self
    }

    /// Whether this route belongs to the JSON API (errors render as problem JSON).
    pub fn is_api(&self) -> bool {
        self.path.starts_with("/api/")
    }
}
