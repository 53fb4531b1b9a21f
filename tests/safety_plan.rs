#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Safety plans: written together by the client and their therapist, sealed, audited, and
//! one tap from the client's navigation and from crisis resources.

mod support;

use axum::http::StatusCode;
use support::TestApp;
use tend::authz::Role;

#[tokio::test]
async fn a_client_and_their_therapist_write_the_plan_together() {
    let app = TestApp::new().await;
    let therapist = app.user(Role::Therapist, "maya@tend.test").await;
    let client = app.client_of(&therapist, "amara@tend.test").await;
    let plan = format!("/clients/{}/safety-plan", client.id);

    let mut c = app.signed_in(&client).await;
    let home = c.get("/").await;
    assert_eq!(
        home.count("nav a[href='/safety-plan']"),
        1,
        "one tap from every page"
    );
    assert_eq!(c.get("/safety-plan").await.location(), plan);
    let page = c.get(&plan).await.assert_status(StatusCode::OK);
    assert_eq!(page.count("textarea"), 7);
    c.post_form(
        &plan,
        &[
            ("version", "0"),
            ("coping", "Slow breathing, then a walk by the river."),
            ("support", "My sister Ana"),
        ],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);

    let mut t = app.signed_in(&therapist).await;
    let seen = t.get(&plan).await.assert_status(StatusCode::OK);
    assert!(seen.body.contains("a walk by the river"));
    // A stale version is refused rather than overwriting the client's words.
    t.post_form(&plan, &[("version", "0"), ("coping", "x")])
        .await
        .assert_status(StatusCode::CONFLICT);
    t.post_form(
        &plan,
        &[
            ("version", "1"),
            ("coping", "Slow breathing, then a walk by the river."),
            ("professionals", "Maya, Tuesdays"),
        ],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    assert!(c.get(&plan).await.body.contains("Maya, Tuesdays"));

    // Nobody else sees it; it is sealed at rest; reads and writes are audited.
    let stranger = app.user(Role::Therapist, "stranger@tend.test").await;
    app.signed_in(&stranger)
        .await
        .get(&plan)
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let row = app.db().safety_plan(client.id).await.unwrap().unwrap();
    assert!(!String::from_utf8_lossy(&row.content_sealed).contains("river"));
    let actions: Vec<String> = app
        .db()
        .audit_page(&Default::default(), 50)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(
        actions.contains(&"safety_plan.read".to_string())
            && actions.contains(&"safety_plan.update".to_string())
    );
    let long = "a".repeat(4001);
    c.post_form(&plan, &[("version", "2"), ("coping", &long)])
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
}
