//! Measurement-based care: validated questionnaires as data, scored exactly as published,
//! and change that means something.
//!
//! Entry points: [`library::Library`] (the instruments, from `instruments/`),
//! [`scoring::score`] (pure scoring), [`change::classify`] (reliable and clinically
//! significant change), [`routes`] (the scoring and instrument-list API and the admin page
//! that enables licensed instruments).

pub mod api;
pub mod change;
pub mod chart;
pub mod fhir;
pub mod library;
pub mod pages;
pub mod progress;
pub mod queries;
pub mod respond;
pub mod scoring;

#[cfg(test)]
mod golden_tests;

use crate::authz::{ADMIN, ANY_ROLE, CLIENT, CLINICIAN};
use crate::db::{Db, DbResult};
use crate::web::routes::Route;
use crate::with_pool;

/// Routes of this feature.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/api/v1/instruments", ANY_ROLE, api::list_instruments),
        Route::post("/api/v1/measures/score", ANY_ROLE, api::score_answers),
        Route::get("/admin/instruments", ADMIN, pages::show_instruments),
        Route::post(
            "/admin/instruments/{instrument}",
            ADMIN,
            pages::set_instrument,
        ),
        Route::post(
            "/admin/measures/settings",
            ADMIN,
            pages::set_score_visibility,
        ),
        Route::get("/measures/assignments/{id}", CLIENT, respond::show_form),
        Route::post("/measures/responses/{id}", CLIENT, respond::save_or_submit),
        Route::get("/measures/responses/{id}", CLIENT, respond::show_done),
        Route::get("/clients/{id}/progress", ANY_ROLE, progress::show_progress),
        Route::post("/clients/{id}/measures", CLINICIAN, progress::assign),
        Route::get("/progress", CLINICIAN, progress::show_overview),
        Route::get("/api/v1/clients/{id}/fhir", ANY_ROLE, api::export_fhir),
        Route::post("/api/v1/clients/{id}/fhir", CLINICIAN, api::import_fhir),
    ]
}

/// The settings key recording whether an admin turned an instrument on or off.
fn enabled_key(id: &str) -> String {
    format!("instrument.enabled.{id}")
}

impl Db {
    /// Whether an instrument is enabled: the admin's choice, or the shipped default.
    pub async fn instrument_enabled(&self, inst: &library::Instrument) -> DbResult<bool> {
        let key = enabled_key(inst.id());
        let value: Option<String> = with_pool!(self, |pool| {
            sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
                .bind(&key)
                .fetch_optional(pool)
                .await?
        });
        Ok(value.map_or(inst.rules.enabled_by_default, |v| v == "true"))
    }

    /// Whether the practice hides scores from clients (they still see a kind message).
    pub async fn scores_hidden_from_clients(&self) -> DbResult<bool> {
        let value: Option<String> = with_pool!(self, |pool| {
            sqlx::query_scalar("SELECT value FROM settings WHERE key = 'measures.hide_scores'")
                .fetch_optional(pool)
                .await?
        });
        Ok(value.as_deref() == Some("true"))
    }

    /// Sets whether scores are hidden from clients.
    pub async fn set_scores_hidden(&self, hidden: bool) -> DbResult<()> {
        with_pool!(self, |pool| {
            sqlx::query("INSERT INTO settings (key, value) VALUES ('measures.hide_scores', $1) ON CONFLICT (key) DO UPDATE SET value = $1")
                .bind(if hidden { "true" } else { "false" })
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Records an admin's choice to enable or disable an instrument.
    pub async fn set_instrument_enabled(&self, id: &str, enabled: bool) -> DbResult<()> {
        let key = enabled_key(id);
        with_pool!(self, |pool| {
            sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = $2")
                .bind(&key)
                .bind(if enabled { "true" } else { "false" })
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}
