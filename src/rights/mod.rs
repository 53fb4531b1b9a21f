//! Client rights: reading one's own record, taking a copy of it, and asking for it to be
//! deleted.
//!
//! - `/clients/{id}/record` shows the whole record as its owner may see it (shared notes,
//!   questionnaires and progress, the treatment plan, the safety plan, messages, journal and
//!   practice), built from [`export::collect`], the same value the exports write.
//! - Exports (JSON, a FHIR R4 Bundle, a readable HTML document) are for the client and their
//!   treating therapist only; anyone else gets 403, audited. Each needs the password confirmed
//!   in the last [`REAUTH_MINUTES`] minutes (step-up authentication) and is audited.
//! - A deletion request closes the account at once and schedules the purge for the end of the
//!   practice's retention period for clinical records (`TEND_RECORD_RETENTION_DAYS`); the
//!   purge erases every row about the client and leaves the audit trail whole.
//!
//! Entry points: [`routes`], [`purge_if_due`] (run by the job queue).

pub mod export;
pub mod pages;
pub mod queries;

use uuid::Uuid;

use crate::audit::{Event, Outcome};
use crate::authz::{ANY_ROLE, CLIENT};
use crate::db::Timestamp;
use crate::error::AppResult;
use crate::web::AppState;
use crate::web::routes::Route;

/// Routes of this feature.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/account/confirm", ANY_ROLE, pages::confirm_form),
        Route::post("/account/confirm", ANY_ROLE, pages::confirm),
        Route::get("/my/record", CLIENT, pages::own_record),
        Route::get("/clients/{id}/record", ANY_ROLE, pages::record),
        Route::get("/clients/{id}/export.json", ANY_ROLE, pages::export_json),
        Route::get(
            "/clients/{id}/export.fhir.json",
            ANY_ROLE,
            pages::export_fhir,
        ),
        Route::get("/clients/{id}/export.html", ANY_ROLE, pages::export_html),
        Route::post("/my/deletion", CLIENT, pages::request_deletion),
    ]
}

/// Minutes a password confirmation lets someone export.
pub const REAUTH_MINUTES: i64 = 10;

/// Whether a confirmation at `at` still counts at `now`.
pub fn is_fresh(at: Option<Timestamp>, now: Timestamp) -> bool {
    at.is_some_and(|at| {
        let age = now - at;
        age >= time::Duration::ZERO && age <= time::Duration::minutes(REAUTH_MINUTES)
    })
}

/// `next` if it is a path on this site (never another host: `//evil`, `/\evil` or a scheme
/// would send people away after they typed their password).
pub fn safe_next(next: &str) -> Option<&str> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control);
    ok.then_some(next)
}

/// Queues the purge of `client_id` for `purge_after`. The key names the date, so a request
/// made again (after a failure) or a purge that ran early queues a fresh job.
pub async fn queue_purge(
    state: &AppState,
    client_id: Uuid,
    purge_after: Timestamp,
) -> AppResult<()> {
    crate::jobs::enqueue_at(
        state,
        &crate::jobs::JobKind::PurgeClient { client_id },
        Some(&format!(
            "client-purge:{client_id}:{}",
            purge_after.to_text()
        )),
        purge_after,
    )
    .await?;
    Ok(())
}

/// Purges `client_id` if their deletion request's time has come; audits it. Run by the job
/// queue at the end of the retention period. A job that runs before the request's date (the
/// request was made again later) queues itself for that date, so a purge is never lost; with
/// no request at all it does nothing.
pub async fn purge_if_due(state: &AppState, client_id: Uuid) -> AppResult<bool> {
    let purged = state.db.purge_client(client_id, Timestamp::now()).await?;
    if purged {
        state
            .audit
            .record(
                Event::new(None, "client_record.purge", Outcome::Success).on("client", client_id),
            )
            .await?;
    } else if let Some(request) = state.db.deletion_request(client_id).await? {
        queue_purge(state, client_id, request.purge_after).await?;
    }
    Ok(purged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_confirmation_counts_for_ten_minutes_and_never_from_the_future() {
        let now = Timestamp::now();
        assert!(is_fresh(Some(now - time::Duration::minutes(9)), now));
        assert!(!is_fresh(Some(now - time::Duration::minutes(11)), now));
        assert!(!is_fresh(Some(now + time::Duration::minutes(1)), now));
        assert!(!is_fresh(None, now));
    }

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(
            safe_next("/clients/1/export.json"),
            Some("/clients/1/export.json")
        );
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil",
            "",
            "/a\nb",
            "evil",
        ] {
            assert_eq!(safe_next(bad), None, "{bad:?}");
        }
    }
}
