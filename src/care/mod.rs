//! Care: a therapist's caseload, inviting clients, and the client record.
//!
//! Entry points: [`routes`]. Every read of a client record goes through
//! [`crate::authz::can_read_client_record`] and is audited (allowed or denied); the intake
//! summary is sealed at rest.

pub mod api;
pub mod attention;
pub mod overview;
pub mod pages;
pub mod queries;
pub mod record;

use crate::authz::{ANY_ROLE, CLINICIAN, THERAPIST};
use crate::web::routes::Route;

/// Routes of this feature.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/clients", CLINICIAN, pages::show_caseload),
        Route::post("/clients/invite", THERAPIST, pages::invite_client),
        Route::get("/clients/{id}", ANY_ROLE, pages::show_client),
        Route::post("/clients/{id}/intake", CLINICIAN, pages::update_intake),
        Route::get(
            "/trainees",
            crate::authz::Access::Roles(&[crate::authz::Role::Supervisor]),
            pages::show_trainees,
        ),
        Route::get("/api/v1/clients", CLINICIAN, api::list_clients),
        Route::get("/api/v1/clients/{id}", ANY_ROLE, api::get_client),
    ]
}
