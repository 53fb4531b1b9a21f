//! The OpenAPI 3.1 document for `/api/v1`, generated from the handlers' annotations.

use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::authz::Access;
use crate::web::routes::Route;

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(title = "Tend API", description = "JSON API of Tend, a self-hostable platform for compassionate therapy. \
        Errors are RFC 9457 problem documents. Authenticate with `POST /api/v1/auth/login`, then send \
        `Authorization: Bearer <token>`."),
    paths(crate::accounts::api::login, crate::accounts::api::logout, crate::accounts::api::me,
          crate::care::api::list_clients, crate::care::api::get_client,
          crate::measures::api::list_instruments, crate::measures::api::score_answers,
          crate::measures::api::export_fhir, crate::measures::api::import_fhir,
          crate::practice::api::create_entry, crate::practice::api::list_entries, crate::practice::api::create_completion,
          crate::practice::drafts::get_draft, crate::practice::drafts::save_draft,
          crate::messaging::api::list, crate::messaging::api::messages, crate::messaging::api::send_message, crate::messaging::api::read,
          crate::safety::api::screen_text, crate::coach::api::feedback, crate::coach::api::summary,
          crate::directory::api::search),
    modifiers(&BearerAuth),
    tags((name = "auth", description = "Tokens and the signed-in account"), (name = "care", description = "Caseload and client records"), (name = "measures", description = "Validated questionnaires and scoring"), (name = "practice", description = "Journal and practice between sessions"), (name = "messaging", description = "Secure conversations between client and therapist, and supervisor and trainee"), (name = "safety", description = "Risk screening"), (name = "coach", description = "The empathy and active-listening coach"), (name = "directory", description = "The public therapist directory"))
)]
pub struct ApiDoc;

/// Adds the bearer-token security scheme.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Routes of this feature.
pub fn routes() -> Vec<Route> {
    vec![Route::get(
        "/api/v1/openapi.json",
        Access::Public,
        openapi_json,
    )]
}

/// The document, with this build's version.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    doc
}

/// `GET /api/v1/openapi.json`
async fn openapi_json() -> Response {
    crate::web::extract::Json(document()).into_response()
}
