//! Between-session practice: a library of guided practices written for Tend, the guided
//! player, the journal, and homework a therapist suggests.
//!
//! Entry points: [`library`] (the practices, from `practices/practices.json`), [`routes`].
//! Everything a client writes here is sealed at rest and passes through
//! [`crate::safety::risk::screen_and_alert`], so risk language reaches the treating therapist.

pub mod api;
pub mod drafts;
pub mod library;
pub mod pages;
pub mod queries;
pub mod reminders;

use crate::authz::{ANY_ROLE, CLIENT, CLINICIAN};
use crate::web::routes::Route;

/// The fixed list of emotion tags a journal entry may carry (documented in `practices/README.md`).
pub const EMOTIONS: [&str; 14] = [
    "calm",
    "content",
    "grateful",
    "hopeful",
    "proud",
    "connected",
    "anxious",
    "sad",
    "lonely",
    "angry",
    "ashamed",
    "overwhelmed",
    "tired",
    "numb",
];

/// Routes of this feature.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/practice", CLIENT, pages::show_library),
        Route::get("/practice/{practice}", CLIENT, pages::show_player),
        Route::post(
            "/practice/{practice}/complete",
            CLIENT,
            pages::complete_practice,
        ),
        Route::get("/journal", CLIENT, pages::show_journal),
        Route::post("/journal", CLIENT, pages::add_entry),
        Route::get(
            "/clients/{id}/practice",
            ANY_ROLE,
            pages::show_client_practice,
        ),
        Route::post("/clients/{id}/homework", CLINICIAN, pages::assign_homework),
        Route::post("/api/v1/journal", CLIENT, api::create_entry),
        Route::get("/api/v1/journal", CLIENT, api::list_entries),
        Route::post(
            "/api/v1/practice/completions",
            CLIENT,
            api::create_completion,
        ),
        Route::post("/practice/reminders", CLIENT, pages::set_reminders),
        Route::post("/journal/{id}/share", CLIENT, pages::share_entry),
        Route::get("/letters", CLIENT, drafts::show_letters),
        Route::post("/letters", CLIENT, drafts::new_letter),
        Route::get("/letters/{id}", CLIENT, drafts::show_letter),
        Route::post("/letters/{id}", CLIENT, drafts::save_letter),
        Route::get("/api/v1/drafts/{id}", CLIENT, drafts::get_draft),
        Route::post("/api/v1/drafts/{id}", CLIENT, drafts::save_draft),
    ]
}
