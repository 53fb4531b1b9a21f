//! Administration: people and invitations, the audit trail, and break-glass access.
//!
//! Admins manage accounts but do not read clinical content. The one exception is
//! break-glass: an admin types a reason, gets one hour of read access to one client's record,
//! and the grant is audited and shown to the client's therapist.

pub mod pages;

use uuid::Uuid;

use crate::authz::ADMIN;
use crate::web::routes::Route;

/// Routes of this feature.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/admin/users", ADMIN, pages::show_users),
        Route::post("/admin/invitations", ADMIN, pages::invite_staff),
        Route::get("/admin/audit", ADMIN, pages::show_audit),
        Route::get("/admin/jobs", ADMIN, pages::show_jobs),
        Route::get("/admin/crisis-lines", ADMIN, pages::show_crisis_lines),
        Route::post("/admin/crisis-lines", ADMIN, pages::save_crisis_lines),
        Route::get(
            "/admin/break-glass/{client_id}",
            ADMIN,
            pages::show_break_glass,
        ),
        Route::post("/admin/break-glass/{client_id}", ADMIN, pages::break_glass),
    ]
}

/// Associated data for a grant's sealed reason.
pub fn break_glass_context(grant_id: Uuid) -> String {
    format!("break_glass_grants.reason:{grant_id}")
}
