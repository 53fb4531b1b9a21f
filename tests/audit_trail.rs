#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The audit trail detects edits and deletions, and never holds clinical text.

mod support;

use axum::http::StatusCode;
use support::TestApp;
use tend::audit::{ChainReport, Event, Outcome, verify_chain};
use tend::authz::Role;
use tend::with_pool;

async fn app_with_entries(n: usize) -> TestApp {
    let app = TestApp::new().await;
    for _ in 0..n {
        app.state
            .audit
            .record(Event::new(None, "test.event", Outcome::Success))
            .await
            .unwrap();
    }
    app
}

#[tokio::test]
async fn an_intact_chain_verifies() {
    let app = app_with_entries(5).await;
    assert!(matches!(
        verify_chain(app.db()).await.unwrap(),
        ChainReport::Intact { entries: 5, .. }
    ));
}

#[tokio::test]
async fn editing_an_entry_is_detected() {
    let app = app_with_entries(5).await;
    with_pool!(app.db(), |pool| sqlx::query(
        "UPDATE audit_log SET outcome = 'denied' WHERE seq = 3"
    )
    .execute(pool)
    .await
    .unwrap()
    .rows_affected());
    assert_eq!(
        verify_chain(app.db()).await.unwrap(),
        ChainReport::Broken {
            seq: 3,
            reason: "its contents were changed after it was written".into()
        }
    );
}

#[tokio::test]
async fn deleting_an_entry_is_detected() {
    let app = app_with_entries(5).await;
    with_pool!(app.db(), |pool| sqlx::query(
        "DELETE FROM audit_log WHERE seq = 2"
    )
    .execute(pool)
    .await
    .unwrap()
    .rows_affected());
    assert!(matches!(
        verify_chain(app.db()).await.unwrap(),
        ChainReport::Broken { seq: 2, .. }
    ));
}

#[tokio::test]
async fn deleting_the_newest_entries_is_detected() {
    let app = app_with_entries(5).await;
    with_pool!(app.db(), |pool| sqlx::query(
        "DELETE FROM audit_log WHERE seq >= 4"
    )
    .execute(pool)
    .await
    .unwrap()
    .rows_affected());
    assert!(matches!(
        verify_chain(app.db()).await.unwrap(),
        ChainReport::Broken { .. }
    ));
}

#[tokio::test]
async fn rewriting_an_entry_and_its_hash_still_breaks_the_link_after_it() {
    let app = app_with_entries(5).await;
    let mut entry = app
        .db()
        .audit_page(&Default::default(), 10)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.seq == 2)
        .unwrap();
    entry.outcome = "denied".into();
    let forged = entry.compute_hash();
    with_pool!(app.db(), |pool| sqlx::query(
        "UPDATE audit_log SET outcome = 'denied', hash = $1 WHERE seq = 2"
    )
    .bind(&forged)
    .execute(pool)
    .await
    .unwrap()
    .rows_affected());
    assert_eq!(
        verify_chain(app.db()).await.unwrap(),
        ChainReport::Broken {
            seq: 3,
            reason: "does not link to the entry before it".into()
        }
    );
}

#[tokio::test]
async fn the_admin_audit_page_filters_and_records_its_own_reading() {
    let app = TestApp::new().await;
    let therapist = app.user(Role::Therapist, "t@tend.test").await;
    let client = app.client_of(&therapist, "c@tend.test").await;
    let admin = app.user(Role::Admin, "a@tend.test").await;
    let mut t = app.signed_in(&therapist).await;
    t.get(&format!("/clients/{}", client.id))
        .await
        .assert_status(StatusCode::OK);
    let mut a = app.signed_in(&admin).await;
    let page = a
        .get("/admin/audit?action=client_record.read")
        .await
        .assert_status(StatusCode::OK);
    assert_eq!(page.count("tbody tr"), 1);
    assert!(
        page.select_text("tbody tr")
            .unwrap()
            .contains(&client.id.to_string())
    );
    let all = a.get("/admin/audit").await.assert_status(StatusCode::OK);
    assert!(all.body.contains("audit.read"));
}

#[tokio::test]
async fn clinical_text_never_reaches_the_audit_trail() {
    let app = TestApp::new().await;
    let therapist = app.user(Role::Therapist, "t@tend.test").await;
    let client = app.client_of(&therapist, "c@tend.test").await;
    let mut t = app.signed_in(&therapist).await;
    let sentence = "Worried about the anniversary of the accident";
    t.post_form(
        &format!("/clients/{}/intake", client.id),
        &[("intake", sentence)],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    for e in app.db().audit_page(&Default::default(), 100).await.unwrap() {
        let text = format!("{e:?}");
        assert!(!text.contains("anniversary"), "{text}");
    }
}
