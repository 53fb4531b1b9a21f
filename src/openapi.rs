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
    modifiers(&BearerAuth, &CommonResponses),
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

/// Documents the answers any operation can give besides its own: the problem document every
/// error uses, 400 for a request that can't be read (malformed JSON, a wrong content type, an
/// id that is not a UUID), 401 and 403 for operations that need a token and a role, 413 for an
/// oversized body, 429 when rate limited and 503 while the database is unreachable. Found by
/// Schemathesis: without these, clients had no schema for answers the server really gives.
struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        let text = |description: &str| {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some(description))
                .build()
        };
        let field = ObjectBuilder::new()
            .property("field", text("The request field at fault"))
            .property("message", text("What to change, in plain words"))
            .required("field")
            .required("message")
            .build();
        let problem = ObjectBuilder::new()
            .description(Some("An RFC 9457 problem document"))
            .property("type", text("Always `about:blank`"))
            .property("title", text("A short headline"))
            .property(
                "status",
                ObjectBuilder::new().schema_type(Type::Integer).build(),
            )
            .property("detail", text("A sentence or two of explanation"))
            .property("errors", ArrayBuilder::new().items(field).build())
            .required("type")
            .required("title")
            .required("status")
            .required("detail")
            .build();
        openapi
            .components
            .get_or_insert_with(Default::default)
            .schemas
            .insert("Problem".into(), problem.into());
        let answer = |description: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/problem+json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("Problem")))
                            .build(),
                    )
                    .build(),
            )
        };
        let routes = crate::app::all_routes();
        for (path, item) in openapi.paths.paths.iter_mut() {
            for (method, op) in [
                ("GET", item.get.as_mut()),
                ("POST", item.post.as_mut()),
                ("PUT", item.put.as_mut()),
                ("PATCH", item.patch.as_mut()),
                ("DELETE", item.delete.as_mut()),
            ] {
                let Some(op) = op else { continue };
                let public = routes
                    .iter()
                    .find(|r| r.path == path && r.method.as_str() == method)
                    .is_some_and(|r| matches!(r.access, Access::Public));
                let mut extra = vec![
                    ("400", "The request could not be read"),
                    ("429", "Too many requests; wait a moment and try again"),
                    (
                        "503",
                        "Tend cannot reach its database just now; try again shortly",
                    ),
                ];
                if !public {
                    extra.push(("401", "No valid token"));
                    extra.push(("403", "This account's role may not do this"));
                }
                if op.request_body.is_some() {
                    extra.push(("413", "The body is larger than allowed"));
                }
                for (status, description) in extra {
                    op.responses
                        .responses
                        .entry(status.to_string())
                        .or_insert_with(|| answer(description));
                }
                // Error answers the handlers documented without a schema get the problem's.
                for (status, response) in op.responses.responses.iter_mut() {
                    if let (false, RefOr::T(r)) = (status.starts_with('2'), response)
                        && let Some(content) = r.content.get_mut("application/problem+json")
                        && content.schema.is_none()
                    {
                        content.schema = Some(Ref::from_schema_name("Problem").into());
                    }
                }
            }
        }
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
