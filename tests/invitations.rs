#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Walkthrough: a therapist invites a client, the email arrives over real SMTP, the client
//! accepts and signs in, and the care relationship exists. Plus the offline outbox.

mod support;

use axum::http::StatusCode;
use support::smtp::SmtpServer;
use support::{PASSWORD, TestApp};
use tend::authz::Role;

/// Pulls the invitation link's path out of an email body.
fn invitation_path(body: &str) -> String {
    let start = body.find("/invitations/").expect("link in email");
    body[start..]
        .split_whitespace()
        .next()
        .unwrap()
        .trim_end_matches(['\r', '.'])
        .to_string()
}

#[tokio::test]
async fn a_therapist_invites_a_client_who_accepts_and_signs_in() {
    let smtp = SmtpServer::start().await;
    let app = TestApp::builder().smtp(smtp.url()).build().await;
    let therapist = app.user(Role::Therapist, "maya@tend.test").await;
    let mut t = app.signed_in(&therapist).await;

    let r = t
        .post_form(
            "/clients/invite",
            &[("name", "Amara"), ("email", "Amara@Example.org")],
        )
        .await;
    assert_eq!(r.location(), "/clients?invited=1");
    assert_eq!(app.drain_jobs().await, 1);

    let mail = smtp.received().await;
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].to, vec!["<amara@example.org>"]);
    assert!(
        mail[0]
            .data
            .contains("Subject: Maya has invited you to Tend")
    );
    let path = invitation_path(&mail[0].data);

    let mut client = app.visitor();
    let page = client.get(&path).await.assert_status(StatusCode::OK);
    assert_eq!(page.select_text("h1").unwrap(), "Welcome to Tend");
    let weak = client
        .post_form(
            &path,
            &[
                ("name", "Amara"),
                ("password", "amara123"),
                ("confirm_password", "amara123"),
            ],
        )
        .await;
    weak.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let r = client
        .post_form(
            &path,
            &[
                ("name", "Amara Nwosu"),
                ("password", PASSWORD),
                ("confirm_password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.location(), "/");
    assert_eq!(
        client.get("/").await.select_text("h1").unwrap(),
        "Hello, Amara Nwosu"
    );

    // The link works once.
    app.visitor()
        .get(&path)
        .await
        .assert_status(StatusCode::NOT_FOUND);
    // The client is in the therapist's caseload.
    let caseload = t.get("/clients").await.assert_status(StatusCode::OK);
    assert_eq!(caseload.select_text("tbody td a").unwrap(), "Amara Nwosu");
}

#[tokio::test]
async fn failed_sends_are_retried_and_do_not_duplicate() {
    let smtp = SmtpServer::start().await;
    smtp.refuse.store(true, std::sync::atomic::Ordering::SeqCst);
    let app = TestApp::builder().smtp(smtp.url()).build().await;
    let admin = app.user(Role::Admin, "admin@tend.test").await;
    let mut a = app.signed_in(&admin).await;
    a.post_form(
        "/admin/invitations",
        &[
            ("name", "Dan"),
            ("email", "dan@tend.test"),
            ("role", "therapist"),
        ],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    assert_eq!(
        app.drain_jobs().await,
        1,
        "one attempt, then it waits for its backoff"
    );
    assert!(smtp.received().await.is_empty());
    let job_id: uuid::Uuid =
        tend::with_pool!(app.db(), |pool| sqlx::query_scalar("SELECT id FROM jobs")
            .fetch_one(pool)
            .await
            .unwrap());
    let status = app.db().job_status(job_id).await.unwrap().unwrap();
    assert_eq!((status.state.as_str(), status.attempts), ("pending", 1));
    assert!(status.last_error.unwrap().contains("451"));

    // The server recovers; once the backoff has passed, the retry delivers exactly once.
    smtp.refuse
        .store(false, std::sync::atomic::Ordering::SeqCst);
    tend::with_pool!(app.db(), |pool| sqlx::query("UPDATE jobs SET run_at = $1")
        .bind(tend::db::Timestamp::now())
        .execute(pool)
        .await
        .unwrap()
        .rows_affected());
    assert_eq!(app.drain_jobs().await, 1);
    assert_eq!(app.drain_jobs().await, 0);
    assert_eq!(smtp.received().await.len(), 1);
    assert_eq!(
        app.db().job_status(job_id).await.unwrap().unwrap().state,
        "done"
    );
}

#[tokio::test]
async fn without_smtp_emails_go_to_the_outbox_folder() {
    let app = TestApp::new().await;
    let therapist = app.user(Role::Therapist, "priya@tend.test").await;
    let mut t = app.signed_in(&therapist).await;
    t.post_form(
        "/clients/invite",
        &[("name", "Kofi"), ("email", "kofi@tend.test")],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    app.drain_jobs().await;
    let outbox = app.outbox();
    assert_eq!(outbox.len(), 1);
    assert!(outbox[0].contains("To: kofi@tend.test"));
    assert!(outbox[0].contains("/invitations/"));
}

#[tokio::test]
async fn invitations_are_checked_before_they_are_sent() {
    let app = TestApp::new().await;
    let therapist = app.user(Role::Therapist, "sam@tend.test").await;
    app.user(Role::Client, "taken@tend.test").await;
    let mut t = app.signed_in(&therapist).await;
    let r = t
        .post_form(
            "/clients/invite",
            &[("name", "X"), ("email", "taken@tend.test")],
        )
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("already has an account"));
    let r = t
        .post_form(
            "/clients/invite",
            &[("name", ""), ("email", "not-an-email")],
        )
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.count("#error-summary li"), 2);
    assert_eq!(app.drain_jobs().await, 0);
    // Admins cannot invite clients (therapists do, which creates the care relationship).
    let admin = app.user(Role::Admin, "root@tend.test").await;
    let mut a = app.signed_in(&admin).await;
    a.post_form(
        "/admin/invitations",
        &[("name", "C"), ("email", "c@tend.test"), ("role", "client")],
    )
    .await
    .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    a.post_form(
        "/admin/invitations",
        &[("name", "C"), ("email", "c@tend.test"), ("role", "wizard")],
    )
    .await
    .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn break_glass_is_audited_and_shown_to_the_treating_therapist() {
    let app = TestApp::new().await;
    let therapist = app.user(Role::Therapist, "lee@tend.test").await;
    let client = app.client_of(&therapist, "ola@tend.test").await;
    let admin = app.user(Role::Admin, "boss@tend.test").await;
    let mut a = app.signed_in(&admin).await;
    let record = format!("/clients/{}", client.id);
    a.get(&record).await.assert_status(StatusCode::NOT_FOUND);
    a.post_form(
        &format!("/admin/break-glass/{}", client.id),
        &[("reason", "short")],
    )
    .await
    .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let r = a
        .post_form(
            &format!("/admin/break-glass/{}", client.id),
            &[(
                "reason",
                "Client called the front desk in crisis; therapist on leave.",
            )],
        )
        .await;
    assert_eq!(r.location(), record);
    let page = a.get(&record).await.assert_status(StatusCode::OK);
    assert!(page.body.contains("emergency access"));
    // The admin can read but never edit.
    a.post_form(&format!("{record}/intake"), &[("intake", "x")])
        .await
        .assert_status(StatusCode::FORBIDDEN);

    let mut t = app.signed_in(&therapist).await;
    let seen = t.get(&record).await.assert_status(StatusCode::OK);
    assert!(
        seen.body
            .contains("Client called the front desk in crisis; therapist on leave.")
    );
    let actions: Vec<String> = app
        .db()
        .audit_page(&Default::default(), 50)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(actions.contains(&"break_glass.granted".to_string()));
    assert!(actions.contains(&"client_record.read_break_glass".to_string()));
}
