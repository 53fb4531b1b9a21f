//! Safety plans: a client's own plan for hard moments, written with their therapist, one tap
//! away from every page, and linked from crisis resources.
//!
//! The sections follow the six components of the Safety Planning Intervention (Stanley &
//! Brown 2012, reference source S23); the wording is Tend's own, because the template's headings may
//! not be reproduced without the authors' permission (reference §10, licence UNVERIFIED).
//! The plan is sealed at rest; every read and write is audited.

pub mod pages;
pub mod screen;

use uuid::Uuid;

use crate::authz::{ANY_ROLE, CLIENT};
use crate::db::{Db, DbError, DbResult, Timestamp};
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
        "What matters most to me",
        "The people, hopes and reasons that keep you going.",
    ),
];

/// Routes of this feature.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/safety-plan", CLIENT, pages::show_own_plan),
        Route::get("/clients/{id}/safety-plan", ANY_ROLE, pages::show_plan),
        Route::post("/clients/{id}/safety-plan", ANY_ROLE, pages::save_plan),
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

    /// Saves a plan if it is still at `version` (0 for a new plan); returns the new version or
    /// [`DbError::Conflict`] when someone else saved first.
    pub async fn save_safety_plan(
        &self,
        client_id: Uuid,
        sealed: &[u8],
        version: i64,
        by: Uuid,
    ) -> DbResult<i64> {
        let now = Timestamp::now();
        let done = with_pool!(self, |pool| {
            if version == 0 {
                sqlx::query("INSERT INTO safety_plans (client_id, content_sealed, version, updated_by, updated_at) VALUES ($1, $2, 1, $3, $4) ON CONFLICT (client_id) DO NOTHING")
                    .bind(client_id)
                    .bind(sealed)
                    .bind(by)
                    .bind(now)
                    .execute(pool)
                    .await?
                    .rows_affected()
            } else {
                sqlx::query("UPDATE safety_plans SET content_sealed = $1, version = version + 1, updated_by = $2, updated_at = $3 WHERE client_id = $4 AND version = $5")
                    .bind(sealed)
                    .bind(by)
                    .bind(now)
                    .bind(client_id)
                    .bind(version)
                    .execute(pool)
                    .await?
                    .rows_affected()
            }
        });
        if done == 1 {
            Ok(version + 1)
        } else {
            Err(DbError::Conflict)
        }
    }
}
