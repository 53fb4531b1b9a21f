//! Safety plans: a client's own plan for hard moments, written with their therapist, one tap
//! away from every page, and linked from crisis resources.
//!
//! The sections follow the six components of the Safety Planning Intervention (Stanley &
//! Brown 2012, reference source S23); the wording is Tend's own, because the template's headings may
//! not be reproduced without the authors' permission (reference §10, licence UNVERIFIED).
//! The plan is sealed at rest; every read and write is audited.

pub mod api;
pub mod crisis;
pub mod meaning;
pub mod pages;
pub mod risk;
pub mod screen;
pub mod training;

use uuid::Uuid;

use crate::authz::{ANY_ROLE, Access, CLIENT, CLINICIAN};
use crate::db::{Db, DbResult, Timestamp};
use crate::web::routes::Route;
use crate::with_pool;

/// The plan's sections: (field name, heading, hint). Tend's words for the six published
/// components, plus what matters most.
pub const SECTIONS: [(&str, &str, &str); 7] = [
    (
        "warning_signs",
        "Signs that a hard time may be starting",
        "Thoughts, feelings, situations or things you do that tell you a crisis may be building.",
    ),
    (
        "coping",
        "Things I can do on my own to get through a hard moment",
        "Small things that help you ride it out, like a walk, music, a shower or breathing slowly.",
    ),
    (
        "distraction",
        "People and places that can take my mind off things",
        "Who you could be with, and where you could go, without having to talk about how you feel.",
    ),
    (
        "support",
        "People I can ask for help",
        "Family or friends you could tell that you are struggling, and how to reach them.",
    ),
    (
        "professionals",
        "Professionals and services I can contact",
        "Your therapist, your doctor, an urgent care service. Crisis lines are listed below as well.",
    ),
    (
        "safer_surroundings",
        "Making my surroundings safer",
        "How you will keep things you might use to hurt yourself out of reach, and who can help.",
    ),
    (
        "what_matters",
        "My reasons for living",
        "The people, hopes, plans and small things that keep you going and matter most to you.",
    ),
];

/// Routes of this feature.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/safety-plan", CLIENT, pages::show_own_plan),
        Route::get("/clients/{id}/safety-plan", ANY_ROLE, pages::show_plan),
        Route::post("/clients/{id}/safety-plan", ANY_ROLE, pages::save_plan),
        Route::get(
            "/clients/{id}/safety-plan/versions/{version}",
            ANY_ROLE,
            pages::show_version,
        ),
        Route::get("/help", Access::Public, pages::help),
        Route::post("/api/v1/safety/screen", CLINICIAN, api::screen_text),
    ]
}

/// A stored plan.
#[derive(sqlx::FromRow)]
pub struct PlanRow {
    /// Sealed JSON of the sections.
    pub content_sealed: Vec<u8>,
    /// Version for conflict checks.
    pub version: i64,
    /// When it last changed.
    pub updated_at: Timestamp,
}

/// Associated data for a sealed plan.
pub fn plan_context(client_id: Uuid) -> String {
    format!("safety_plans.content:{client_id}")
}

impl Db {
    /// A client's plan, if one was written.
    pub async fn safety_plan(&self, client_id: Uuid) -> DbResult<Option<PlanRow>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT content_sealed, version, updated_at FROM safety_plans WHERE client_id = $1",
            )
            .bind(client_id)
            .fetch_optional(pool)
            .await?
        }))
    }
}
