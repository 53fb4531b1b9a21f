//! Safety plans: a client's own plan for hard moments, written with their therapist, one tap
//! away from every page, and linked from crisis resources.
//!
//! The sections follow the six components of the Safety Planning Intervention (Stanley &
//! Brown 2012, reference source S23); the wording is Tend's own, because the template's headings may
//! not be reproduced without the authors' permission (reference §10, licence UNVERIFIED).
//! The plan is sealed at rest; every read and write is audited.

pub mod api;
pub mod crisis;
pub mod pages;
pub mod risk;
pub mod screen;

use uuid::Uuid;

use crate::authz::{ANY_ROLE, Access, CLIENT, CLINICIAN};
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

/// One saved version of a plan.
#[derive(sqlx::FromRow)]
pub struct PlanVersion {
    /// Version number (1 is the first).
    pub version: i64,
    /// Sealed JSON of the sections (sealed with [`plan_context`]).
    pub content_sealed: Vec<u8>,
    /// Who saved it.
    pub updated_by_name: String,
    /// When.
    pub created_at: Timestamp,
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

    /// Every saved version of a client's plan, newest first.
    pub async fn safety_plan_versions(&self, client_id: Uuid) -> DbResult<Vec<PlanVersion>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT v.version, v.content_sealed, u.name AS updated_by_name, v.created_at FROM safety_plan_versions v \
                 JOIN users u ON u.id = v.updated_by WHERE v.client_id = $1 ORDER BY v.version DESC",
            )
            .bind(client_id)
            .fetch_all(pool)
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
            let mut tx = pool.begin().await?;
            let n = if version == 0 {
                sqlx::query("INSERT INTO safety_plans (client_id, content_sealed, version, updated_by, updated_at) VALUES ($1, $2, 1, $3, $4) ON CONFLICT (client_id) DO NOTHING")
                    .bind(client_id)
                    .bind(sealed)
                    .bind(by)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
            } else {
                sqlx::query("UPDATE safety_plans SET content_sealed = $1, version = version + 1, updated_by = $2, updated_at = $3 WHERE client_id = $4 AND version = $5")
                    .bind(sealed)
                    .bind(by)
                    .bind(now)
                    .bind(client_id)
                    .bind(version)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
            };
            if n == 1 {
                // The same transaction keeps every version, so history and plan never disagree.
                sqlx::query("INSERT INTO safety_plan_versions (client_id, version, content_sealed, updated_by, created_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(client_id)
                    .bind(version + 1)
                    .bind(sealed)
                    .bind(by)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            n
        });
        if done == 1 {
            Ok(version + 1)
        } else {
            Err(DbError::Conflict)
        }
    }
}
