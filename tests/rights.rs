#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Client rights on the current backend: the client reads their whole record; exports in
//! three formats need a recent password confirmation, are audited, and are refused (403,
//! audited) to everyone but the client and their therapist; a deletion request closes the
//! account at once and the purge at the end of the retention period leaves no row about the
//! client while the audit chain stays whole.

mod support;

use axum::http::StatusCode;
use support::{PASSWORD, TestApp};
use tend::audit::{ChainReport, verify_chain};
use tend::authz::Role;

#[tokio::test]
async fn exports_need_a_fresh_password_and_hold_the_whole_record() {
    let app = TestApp::new().await;
    let therapist = app.user(Role::Therapist, "tess@x.test").await;
    let client = app.client_of(&therapist, "cara@x.test").await;
    let id = client.id;
    let mut t = app.signed_in(&therapist).await;
    // Some of everything: a plan, a shared and an unshared signed note, a message, a journal entry.
    t.post_form(
        &format!("/clients/{id}/plan"),
        &[
            ("version", "0"),
            ("problem_1", "Panic on the train"),
            ("goal_1_text", "Take the train calmly"),
            ("goal_1_measure", "gad7"),
            ("goal_1_target", "9"),
            ("intervention_1_practice", "slow-breathing"),
        ],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    for (text, shared) in [
        ("A shared reflection <b>bold</b>", "1"),
        ("Private working note", ""),
    ] {
        t.post_form(
            &format!("/clients/{id}/notes"),
            &[
                ("template", "free"),
                ("session_date", "2026-11-20"),
                ("note", text),
                ("shared", shared),
                ("intent", "sign"),
            ],
        )
        .await
        .assert_status(StatusCode::SEE_OTHER);
    }
    let mut c = app.signed_in(&client).await;
    c.post_form(
        "/journal",
        &[("text", "Slept better, walked to the park."), ("mood", "6")],
    )
    .await;
    app.db().ensure_conversations(id).await.unwrap();
    let conversation = app.db().conversations_for(id).await.unwrap()[0].id;
    let message_id = uuid::Uuid::now_v7();
    let sealed = app
        .state
        .sealer
        .seal(
            &tend::messaging::queries::message_context(message_id),
            "See you Tuesday",
        )
        .await
        .unwrap();
    app.db()
        .insert_message(
            conversation,
            therapist.id,
            message_id,
            &sealed,
            "k1",
            "none",
        )
        .await
        .unwrap();

    // The record page shows it all, with the shared note only.
    let page = c.get("/my/record").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let page = c.get(&page.location()).await.assert_status(StatusCode::OK);
    for text in [
        "Panic on the train",
        "See you Tuesday",
        "Slept better",
        "A shared reflection",
    ] {
        assert!(page.body.contains(text), "record shows {text}");
    }
    assert!(!page.body.contains("Private working note"));
    assert!(!page.body.contains("<b>bold"), "text stays text");

    // Without a recent confirmation, an export asks for the password first.
    let json_path = format!("/clients/{id}/export.json");
    let r = c.get(&json_path).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        r.location().starts_with("/account/confirm?next="),
        "{}",
        r.location()
    );
    c.get(&r.location()).await.assert_status(StatusCode::OK);
    let wrong = c
        .post_form(
            "/account/confirm",
            &[("password", "not it at all"), ("next", &json_path)],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.audit_count("auth.reauthenticate", "failure").await, 1);
    assert_eq!(
        c.get(&json_path).await.status,
        StatusCode::SEE_OTHER,
        "still not confirmed"
    );
    // A redirect elsewhere is never followed.
    let r = c
        .post_form(
            "/account/confirm",
            &[("password", PASSWORD), ("next", "//evil.example/")],
        )
        .await;
    assert_eq!(r.location(), "/");
    let json = c.get(&json_path).await.assert_status(StatusCode::OK);
    let x = json.json();
    assert_eq!(x["format"], "tend-client-export/1");
    assert_eq!(x["client"]["email"], "cara@x.test");
    assert_eq!(x["treatment_plan"]["problems"][0], "Panic on the train");
    assert_eq!(x["session_notes"].as_array().unwrap().len(), 1);
    assert_eq!(x["messages"][0]["text"], "See you Tuesday");
    assert_eq!(x["journal"][0]["text"], "Slept better, walked to the park.");

    let fhir = c
        .get(&format!("/clients/{id}/export.fhir.json"))
        .await
        .assert_status(StatusCode::OK);
    let bundle = fhir.json();
    let kinds: Vec<&str> = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"]["resourceType"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"Patient") && kinds.contains(&"CarePlan") && kinds.contains(&"Goal"),
        "{kinds:?}"
    );
    let goal = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["resource"]["resourceType"] == "Goal")
        .unwrap();
    assert_eq!(
        goal["resource"]["target"][0]["detailRange"]["high"]["value"],
        9.0
    );

    let html = c
        .get(&format!("/clients/{id}/export.html"))
        .await
        .assert_status(StatusCode::OK);
    assert!(html.body.starts_with("<!doctype html>"));
    assert!(html.body.contains("Take the train calmly"));
    assert!(!html.body.contains("<script"), "the document runs nothing");
    assert_eq!(
        app.audit_count("client_record.export_json", "success")
            .await,
        1
    );
    assert_eq!(
        app.audit_count("client_record.export_fhir", "success")
            .await,
        1
    );
    assert_eq!(
        app.audit_count("client_record.export_html", "success")
            .await,
        1
    );

    // The treating therapist may take a copy too, after confirming: the same record, without
    // what the client kept to themself (the journal entry was not shared).
    assert_eq!(t.get(&json_path).await.status, StatusCode::SEE_OTHER);
    t.post_form(
        "/account/confirm",
        &[("password", PASSWORD), ("next", &json_path)],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    let theirs = t.get(&json_path).await.assert_status(StatusCode::OK).json();
    assert_eq!(
        theirs["treatment_plan"]["problems"][0],
        "Panic on the train"
    );
    assert_eq!(theirs["messages"][0]["text"], "See you Tuesday");
    assert!(
        theirs["journal"].as_array().unwrap().is_empty(),
        "unshared entries stay private"
    );

    // Anyone else is refused with 403, audited, confirmed or not: another therapist, an admin,
    // another client, and an API token (exports are for signed-in browsers).
    let other = app.user(Role::Therapist, "otto@x.test").await;
    let admin = app.user(Role::Admin, "ada@x.test").await;
    let stranger = app.user(Role::Client, "sam@x.test").await;
    let before = app.audit_count("client_record.read", "denied").await;
    for who in [&other, &admin, &stranger] {
        let mut v = app.signed_in(who).await;
        v.post_form("/account/confirm", &[("password", PASSWORD), ("next", "/")])
            .await;
        assert_eq!(
            v.get_status(&json_path).await,
            StatusCode::FORBIDDEN,
            "{}",
            who.email
        );
    }
    assert_eq!(
        app.audit_count("client_record.read", "denied").await,
        before + 3
    );
    let mut api = app.api_client(&client).await;
    assert_eq!(api.get_status(&json_path).await, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn deletion_closes_the_account_and_the_purge_leaves_nothing_but_the_audit_trail() {
    let app = TestApp::builder()
        .config(|c| c.record_retention_days = 0)
        .build()
        .await;
    tend::demo::seed(&app.state).await.unwrap();
    let amara = app
        .db()
        .user_by_email("amara@tend.example")
        .await
        .unwrap()
        .unwrap();
    let ben = app
        .db()
        .user_by_email("ben@tend.example")
        .await
        .unwrap()
        .unwrap();
    // Queued work about her: a practice reminder.
    let later = tend::db::Timestamp::now() + time::Duration::days(1);
    tend::jobs::enqueue_at(
        &app.state,
        &tend::jobs::JobKind::PracticeReminder {
            user_id: amara.id,
            due_unix: later.inner().unix_timestamp(),
        },
        None,
        later,
    )
    .await
    .unwrap();
    let booked = |db: tend::db::Db, id: uuid::Uuid| async move {
        let n: i64 = tend::with_pool!(&db, |pool| {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM appointments WHERE client_id = $1 AND status = 'booked'",
            )
            .bind(id)
            .fetch_one(pool)
            .await
            .unwrap()
        });
        n
    };
    let about_her: i64 = tend::with_pool!(app.db(), |pool| {
        sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE subject_id = $1")
            .bind(amara.id)
            .fetch_one(pool)
            .await
            .unwrap()
    });
    assert!(about_her >= 1, "jobs name who they are about");
    assert!(
        booked(app.db().clone(), amara.id).await > 0,
        "the demo books her a session"
    );
    let mut c = app.signed_in(&amara).await;
    // Deleting needs a fresh confirmation and a ticked box.
    let r = c.post_form("/my/deletion", &[("understand", "1")]).await;
    assert!(
        r.location().starts_with("/account/confirm"),
        "{}",
        r.location()
    );
    c.post_form(
        "/account/confirm",
        &[("password", tend::demo::DEMO_PASSWORD), ("next", "/")],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    let r = c.post_form("/my/deletion", &[]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.count("#error-summary"), 1);
    assert!(
        !app.db()
            .user_by_id(amara.id)
            .await
            .unwrap()
            .unwrap()
            .disabled
    );
    let r = c.post_form("/my/deletion", &[("understand", "1")]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Your account is closed"));
    // Closed at once: disabled, signed out everywhere, out of care.
    assert!(
        app.db()
            .user_by_id(amara.id)
            .await
            .unwrap()
            .unwrap()
            .disabled
    );
    let r = c.get(&format!("/clients/{}/record", amara.id)).await;
    assert!(r.location().starts_with("/login"), "signed out");
    assert!(
        app.db()
            .client_facts(amara.id)
            .await
            .unwrap()
            .therapist_ids
            .is_empty()
    );
    assert_eq!(
        booked(app.db().clone(), amara.id).await,
        0,
        "future sessions cancelled"
    );
    assert_eq!(
        app.audit_count("client_record.deletion_requested", "success")
            .await,
        1
    );

    // The retention period here is zero days: the queued purge runs now.
    app.drain_jobs().await;
    let failed: Vec<Option<String>> = tend::with_pool!(app.db(), |pool| {
        sqlx::query_scalar("SELECT last_error FROM jobs WHERE kind = 'purge_client'")
            .fetch_all(pool)
            .await
            .unwrap()
    });
    assert!(
        app.db().user_by_id(amara.id).await.unwrap().is_none(),
        "{failed:?}"
    );
    for (table, column) in [
        ("care_relationships", "client_id"),
        ("client_records", "client_id"),
        ("measure_responses", "client_id"),
        ("measure_summaries", "client_id"),
        ("safety_plans", "client_id"),
        ("session_notes", "client_id"),
        ("journal_entries", "client_id"),
        ("conversations", "member_id"),
        ("messages", "sender_id"),
        ("appointments", "client_id"),
        ("alerts", "client_id"),
        ("sessions", "user_id"),
        ("deletion_requests", "client_id"),
        ("treatment_plans", "client_id"),
        ("drafts", "client_id"),
        ("practice_completions", "client_id"),
        ("homework", "client_id"),
        ("measure_assignments", "client_id"),
        ("directory_requests", "requester_id"),
        ("jobs", "subject_id"),
    ] {
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE {column} = $1");
        let n: i64 = tend::with_pool!(app.db(), |pool| {
            sqlx::query_scalar(&sql)
                .bind(amara.id)
                .fetch_one(pool)
                .await
                .unwrap()
        });
        assert_eq!(n, 0, "{table} still names the client");
    }
    assert_eq!(app.audit_count("client_record.purge", "success").await, 1);
    assert!(matches!(
        verify_chain(app.db()).await.unwrap(),
        ChainReport::Intact { .. }
    ));
    // Everyone else's record is untouched.
    assert!(!app.db().notes_for(ben.id, false).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_purge_waits_for_the_retention_period() {
    let app = TestApp::new().await;
    let therapist = app.user(Role::Therapist, "tess@x.test").await;
    let client = app.client_of(&therapist, "cara@x.test").await;
    let mut c = app.signed_in(&client).await;
    c.post_form("/account/confirm", &[("password", PASSWORD), ("next", "/")])
        .await;
    let r = c.post_form("/my/deletion", &[("understand", "on")]).await;
    assert_eq!(r.status, StatusCode::OK);
    app.drain_jobs().await;
    // Run early, the purge does nothing and stays queued for its date.
    assert!(
        !tend::rights::purge_if_due(&app.state, client.id)
            .await
            .unwrap()
    );
    let queued: i64 = tend::with_pool!(app.db(), |pool| {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM jobs WHERE kind = 'purge_client' AND state = 'pending'",
        )
        .fetch_one(pool)
        .await
        .unwrap()
    });
    assert_eq!(queued, 1);
    let kept = app.db().user_by_id(client.id).await.unwrap().unwrap();
    assert!(kept.disabled, "closed, but kept for the retention period");
    let request = app.db().deletion_request(client.id).await.unwrap().unwrap();
    let years = (request.purge_after - request.requested_at).whole_days();
    assert_eq!(years, 2557, "seven years by default");
    // Signing in is refused.
    let mut v = app.visitor();
    let r = v.sign_in("cara@x.test", PASSWORD).await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "a closed account cannot sign in"
    );
}
