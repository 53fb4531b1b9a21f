#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Letters as drafts: saved against a version, conflicts shown not overwritten, sealed, and
//! screened for risk.

mod support;

use axum::http::StatusCode;
use serde_json::json;
use support::TestApp;
use tend::authz::Role;

/// Starts a letter; its page and its API paths.
async fn new_letter(c: &mut support::Visitor<'_>) -> (String, String) {
    let r = c
        .post_form("/letters", &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let page_path = r.location();
    let id = page_path.trim_start_matches("/letters/").to_string();
    (page_path, format!("/api/v1/drafts/{id}"))
}

/// Alerts the therapist has not resolved.
async fn open_alerts(app: &TestApp, therapist: &tend::accounts::queries::User) -> usize {
    app.db()
        .alerts_for(therapist.id, false)
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn a_letter_is_saved_by_version_and_a_stale_save_gets_both_versions() {
    let app = TestApp::new().await;
    let therapist = app.user(Role::Therapist, "maya@tend.test").await;
    let client = app.client_of(&therapist, "amara@tend.test").await;
    let mut c = app.signed_in(&client).await;
    let (page_path, api_path) = new_letter(&mut c).await;
    let editor = c.get(&page_path).await.assert_status(StatusCode::OK);
    assert_eq!(editor.count("textarea[data-draft-text]"), 1);

    // Tab A saves version 1 -> 2 through the API (what autosave sends).
    let r = c
        .post_json(
            &api_path,
            &json!({"text": "Dear me, you are doing your best.", "version": 1}),
        )
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(r["version"], 2);
    // Tab B still thinks it is at version 1: refused, with the stored text to compare.
    let r = c
        .post_json(
            &api_path,
            &json!({"text": "Dear me, from the other tab.", "version": 1}),
        )
        .await
        .assert_status(StatusCode::CONFLICT)
        .json();
    assert_eq!(
        (r["text"].as_str(), r["version"].as_i64()),
        (Some("Dear me, you are doing your best."), Some(2))
    );
    // Without JavaScript, the page shows both versions.
    let page = c
        .post_form(
            &page_path,
            &[("text", "Dear me, from the other tab."), ("version", "1")],
        )
        .await
        .assert_status(StatusCode::CONFLICT);
    assert!(
        page.body.contains("Dear me, you are doing your best.")
            && page.body.contains("Dear me, from the other tab.")
    );
    let r = c.get(&api_path).await.assert_status(StatusCode::OK).json();
    assert_eq!(r["text"], "Dear me, you are doing your best.");

    // Only its writer can see it; it is sealed at rest; too long is refused with a reason.
    let other = app.client_of(&therapist, "ben@tend.test").await;
    app.signed_in(&other)
        .await
        .get(&api_path)
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let raw: Vec<u8> = tend::with_pool!(app.db(), |pool| sqlx::query_scalar(
        "SELECT content_sealed FROM drafts"
    )
    .fetch_one(pool)
    .await
    .unwrap());
    assert!(!String::from_utf8_lossy(&raw).contains("doing your best"));
    let r = c
        .post_json(
            &api_path,
            &json!({"text": "a".repeat(50_001), "version": 2}),
        )
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .json();
    assert_eq!(r["errors"][0]["field"], "text");

    // Risk language in a letter reaches the care team, once.
    for v in [2, 3] {
        let r = c
            .post_json(
                &api_path,
                &json!({"text": "Some days I want to die, and I'm writing anyway.", "version": v}),
            )
            .await
            .assert_status(StatusCode::OK)
            .json();
        assert_eq!(r["show_crisis_resources"], true);
    }
    assert_eq!(open_alerts(&app, &therapist).await, 1);
}

#[tokio::test]
async fn a_draft_is_read_for_meaning_in_the_background_once_per_burst_of_saves() {
    let app = TestApp::new().await;
    let therapist = app.user(Role::Therapist, "maya@tend.test").await;
    let client = app.client_of(&therapist, "amara@tend.test").await;
    let mut c = app.signed_in(&client).await;
    let api_path = new_letter(&mut c).await.1;
    // Written for this test: a farewell told through arrangements, which no phrase rule knows.
    let indirect = "I've sorted out who will take the cat and left my passwords with my \
                    sister, so nothing is left undone.";
    assert_eq!(
        tend::safety::screen::screen(indirect).level,
        tend::safety::screen::Level::None
    );
    // Two quick saves: the rules answer in each response; the meaning screen waits.
    for (v, text) in [(1, "Dear me,"), (2, indirect)] {
        let r = c
            .post_json(&api_path, &json!({"text": text, "version": v}))
            .await
            .assert_status(StatusCode::OK)
            .json();
        assert_eq!(r["show_crisis_resources"], false);
    }
    assert_eq!(open_alerts(&app, &therapist).await, 0);
    // One background job for the burst, due at the end of its span; it reads the newest
    // text and raises one urgent alert.
    let r = c
        .post_json(&api_path, &json!({"text": indirect, "version": 3}))
        .await
        .json();
    assert_eq!(r["version"], 4);
    let jobs: Vec<(uuid::Uuid, tend::db::Timestamp)> = tend::with_pool!(app.db(), |pool| {
        sqlx::query_as("SELECT id, run_at FROM jobs WHERE kind = 'screen_draft'")
            .fetch_all(pool)
            .await
            .unwrap()
    });
    assert!(!jobs.is_empty() && jobs.len() <= 2, "{} jobs", jobs.len());
    let now = tend::db::Timestamp::now();
    let span = tend::safety::risk::DRAFT_MEANING_EVERY_SECONDS;
    assert!(
        jobs.iter()
            .all(|(_, due)| *due > now - time::Duration::seconds(span))
    );
    assert!(
        jobs.iter()
            .all(|(_, due)| *due <= now + time::Duration::seconds(span))
    );
    tend::with_pool!(app.db(), |pool| {
        sqlx::query("UPDATE jobs SET run_at = $1 WHERE kind = 'screen_draft'")
            .bind(now)
            .execute(pool)
            .await
            .unwrap();
    });
    app.drain_jobs().await;
    let alerts = app.db().alerts_for(therapist.id, false).await.unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(
        (alerts[0].kind.as_str(), alerts[0].severity.as_str()),
        ("letter_risk", "urgent")
    );
    // From then on each save shows help, until the alert is resolved.
    let r = c
        .post_json(&api_path, &json!({"text": indirect, "version": 4}))
        .await
        .json();
    assert_eq!(r["show_crisis_resources"], true);
    app.drain_jobs().await;
    assert_eq!(open_alerts(&app, &therapist).await, 1);
}
