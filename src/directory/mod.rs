//! Finding a therapist and booking time with them.
//!
//! Pure parts: `vocab` (controlled vocabularies), `profile` (checks and formatting),
//! `search` (query parsing), `index` (the in-memory search index), `matching` (explained
//! scores), `schedule` (weekly hours to slots across time zones and daylight-saving changes),
//! `ics` (RFC 5545) and `photo` (re-encoding uploads). I/O: `queries` (storage), `pages`
//! (the public directory, matching and requests), `manage` (a therapist's profile, hours and
//! requests), `booking` (appointments, reminders, feeds), `admin` and `api`.

pub mod admin;
pub mod api;
pub mod booking;
pub mod demo;
pub mod ics;
pub mod index;
pub mod manage;
pub mod matching;
pub mod pages;
pub mod photo;
pub mod profile;
pub mod queries;
pub mod schedule;
pub mod search;
pub mod vocab;

use crate::authz::{ADMIN, ANY_ROLE, Access, CLIENT, THERAPIST};
use crate::web::routes::Route;

/// Everyone, signed in or not.
const PUBLIC: Access = Access::Public;

/// The directory's routes.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/directory", PUBLIC, pages::search),
        Route::get("/directory/match", PUBLIC, pages::match_page),
        Route::get("/directory/t/{slug}", PUBLIC, pages::show_profile),
        Route::get("/directory/t/{slug}/request", PUBLIC, pages::request_form),
        Route::post("/directory/t/{slug}/request", PUBLIC, pages::send_request),
        Route::get("/directory/photos/{id}", PUBLIC, pages::photo),
        Route::get("/api/v1/directory/search", PUBLIC, api::search),
        Route::get("/directory/profile", THERAPIST, manage::edit_profile),
        Route::post("/directory/profile", THERAPIST, manage::save_profile),
        // Photos are the one upload: up to 5 MB plus the form's overhead.
        Route::post("/directory/profile/photo", THERAPIST, manage::upload_photo)
            .with_body_limit(photo::MAX_UPLOAD + 64 * 1024),
        Route::get("/directory/hours", THERAPIST, manage::show_hours),
        Route::post("/directory/hours/windows", THERAPIST, manage::add_window),
        Route::post(
            "/directory/hours/windows/{id}/delete",
            THERAPIST,
            manage::delete_window,
        ),
        Route::post(
            "/directory/hours/exceptions",
            THERAPIST,
            manage::add_exception,
        ),
        Route::post(
            "/directory/hours/exceptions/{id}/delete",
            THERAPIST,
            manage::delete_exception,
        ),
        Route::post(
            "/directory/hours/session-types",
            THERAPIST,
            manage::add_session_type,
        ),
        Route::post(
            "/directory/hours/session-types/{id}/retire",
            THERAPIST,
            manage::retire_session_type,
        ),
        Route::get("/directory/requests", THERAPIST, manage::show_requests),
        Route::post(
            "/directory/requests/{id}",
            THERAPIST,
            manage::decide_request,
        ),
        Route::get("/appointments", ANY_ROLE, booking::list),
        Route::post("/appointments/time-zone", ANY_ROLE, booking::set_zone),
        Route::post("/appointments/feed", ANY_ROLE, booking::new_feed),
        Route::get("/appointments/book/{id}", CLIENT, booking::book_form),
        Route::post("/appointments/book/{id}", CLIENT, booking::book),
        Route::post("/appointments/{id}/cancel", ANY_ROLE, booking::cancel),
        Route::get(
            "/appointments/{id}/reschedule",
            ANY_ROLE,
            booking::reschedule_form,
        ),
        Route::post(
            "/appointments/{id}/reschedule",
            ANY_ROLE,
            booking::reschedule,
        ),
        Route::post(
            "/appointments/{id}/attendance",
            THERAPIST,
            booking::attendance,
        ),
        Route::get("/calendar/{token}", PUBLIC, booking::feed),
        Route::get("/admin/directory", ADMIN, admin::show),
        Route::post("/admin/directory/{id}", ADMIN, admin::act),
    ]
}
