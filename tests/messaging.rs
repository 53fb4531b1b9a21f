#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Secure messaging: conversations, read state, idempotent sends, refusals, rate limits,
//! encryption and immutability at rest, real-time delivery over SSE, the unread email, and
//! the safety path for what a client writes (crisis help in the same response, alerts,
//! a failing screen, the paging webhook, escalation to a backup clinician).

mod support;

use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::json;
use support::TestApp;
use tend::accounts::queries::User;
use tend::authz::Role;
use uuid::Uuid;

/// A therapist, their client, and the conversation between them.
async fn pair(app: &TestApp) -> (User, User, Uuid) {
    let therapist = app.user(Role::Therapist, "rowan@tend.test").await;
    let client = app.client_of(&therapist, "amara@tend.test").await;
    app.db().ensure_conversations(client.id).await.unwrap();
    let id = app.db().conversations_for(client.id).await.unwrap()[0].id;
    (therapist, client, id)
}

#[tokio::test]
async fn a_message_reaches_the_therapist_with_unread_counts_and_read_state() {
    let app = TestApp::new().await;
    let (therapist, client, id) = pair(&app).await;
    let mut c = app.signed_in(&client).await;
    let page = c
        .get(&format!("/messages/{id}"))
        .await
        .assert_status(StatusCode::OK);
    // The therapist's expectation note is shown before the client writes.
    assert!(page.body.contains("I usually reply within one working day"));
    let key = Uuid::new_v4().to_string();
    let r = c
        .post_form(
            &format!("/messages/{id}"),
            &[
                ("body", "Thank you for Tuesday. <b>The walk helped.</b>"),
                ("client_key", &key),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);

    let mut t = app.signed_in(&therapist).await;
    let list = t.get("/messages").await;
    assert!(list.body.contains("1 unread"), "{}", list.body);
    let api = app
        .api_client(&therapist)
        .await
        .get("/api/v1/conversations")
        .await
        .json();
    assert_eq!(api[0]["unread"], 1);
    let thread = t.get(&format!("/messages/{id}")).await;
    // Markup is shown as text, never interpreted.
    assert!(!thread.body.contains("<b>The walk"));
    assert!(
        thread
            .select_text("li.message .body")
            .unwrap()
            .contains("<b>The walk helped.</b>")
    );
    assert_eq!(thread.count("li.message b"), 0);
    assert_eq!(app.db().unread_total(therapist.id).await.unwrap(), 0);

    // The therapist replies; the client has one unread, shown as a badge in the navigation.
    t.post_form(
        &format!("/messages/{id}"),
        &[
            ("body", "I'm glad. Same time next week?"),
            ("client_key", "reply-1"),
        ],
    )
    .await;
    let home = c.get("/").await;
    assert_eq!(
        home.select_text("nav .badge").as_deref().map(str::trim),
        Some("1 unread")
    );
}

#[tokio::test]
async fn a_resend_with_the_same_key_is_stored_once() {
    let app = TestApp::new().await;
    let (_, client, id) = pair(&app).await;
    let mut api = app.api_client(&client).await;
    let body = json!({"body": "Did my message arrive?", "client_key": "k-1"});
    let first = api
        .post_json(&format!("/api/v1/conversations/{id}/messages"), &body)
        .await
        .assert_status(StatusCode::CREATED)
        .json();
    let again = api
        .post_json(&format!("/api/v1/conversations/{id}/messages"), &body)
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(first["message"]["id"], again["message"]["id"]);
    assert_eq!(again["created"], false);
    let all = api
        .get(&format!("/api/v1/conversations/{id}/messages"))
        .await
        .json();
    assert_eq!(all["messages"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn people_outside_a_conversation_are_refused_and_audited() {
    let app = TestApp::new().await;
    let (_, _, id) = pair(&app).await;
    let stranger = app.user(Role::Therapist, "stranger@tend.test").await;
    let r = app
        .api_client(&stranger)
        .await
        .post_json(
            &format!("/api/v1/conversations/{id}/messages"),
            &json!({"body": "hello", "client_key": "x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let denied = app
        .db()
        .audit_page(&tend::audit::AuditFilter::default(), 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "conversation.access" && e.outcome == "denied")
        .count();
    assert_eq!(denied, 1);
}

#[tokio::test]
async fn bad_messages_get_clear_errors_and_the_text_stays_in_the_box() {
    let app = TestApp::new().await;
    let (_, client, id) = pair(&app).await;
    let mut c = app.signed_in(&client).await;
    let long = "a".repeat(5001);
    let r = c
        .post_form(
            &format!("/messages/{id}"),
            &[("body", &long), ("client_key", "k")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Please keep this under 5000 characters."));
    assert_eq!(r.select_text("textarea#body").map(|t| t.len()), Some(5001));

    let api = app
        .api_client(&client)
        .await
        .post_json(
            &format!("/api/v1/conversations/{id}/messages"),
            &json!({"body": "   ", "client_key": "k2"}),
        )
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .json();
    assert_eq!(api["errors"][0]["field"], "body");
}

#[tokio::test]
async fn flooding_pauses_sending_kindly_without_losing_the_message() {
    let app = TestApp::new().await;
    let (_, client, id) = pair(&app).await;
    let mut c = app.signed_in(&client).await;
    for n in 0..tend::messaging::PER_MINUTE {
        let key = format!("flood-{n}");
        let r = c
            .post_form(
                &format!("/messages/{id}"),
                &[("body", "again"), ("client_key", &key)],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
    }
    let r = c
        .post_form(
            &format!("/messages/{id}"),
            &[("body", "one more thing"), ("client_key", "flood-last")],
        )
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.body.contains("Your message is still here"));
    assert_eq!(
        r.select_text("textarea#body").as_deref(),
        Some("one more thing")
    );
}

#[tokio::test]
async fn messages_are_sealed_at_rest_and_cannot_be_edited() {
    let app = TestApp::new().await;
    let (_, client, id) = pair(&app).await;
    let sentence = "The lighthouse keeper sentence that must never appear in plain text";
    app.api_client(&client)
        .await
        .post_json(
            &format!("/api/v1/conversations/{id}/messages"),
            &json!({"body": sentence, "client_key": "s"}),
        )
        .await
        .assert_status(StatusCode::CREATED);
    let row = &app.db().latest_messages(id, 1).await.unwrap()[0];
    assert!(!String::from_utf8_lossy(&row.body_sealed).contains("lighthouse"));
    let edit: Result<_, sqlx::Error> = tend::with_pool!(app.db(), |pool| {
        sqlx::query("UPDATE messages SET risk_level = 'none'")
            .execute(pool)
            .await
            .map(|_| ())
    });
    let error = edit.expect_err("messages are immutable");
    assert!(error.to_string().contains("immutable"), "{error}");
}

/// Reads the stream until an event carrying `needle` arrives (or panics after 5 s).
async fn read_until(body: &mut Body, needle: &str) -> String {
    let mut seen = String::new();
    tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame.unwrap().into_data() {
                seen.push_str(&String::from_utf8_lossy(&data));
                if seen.contains(needle) {
                    return;
                }
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no event with {needle:?} within 5 s; got {seen:?}"));
    seen
}

#[tokio::test]
async fn an_open_page_receives_new_messages_as_server_sent_events() {
    let app = TestApp::new().await;
    let (therapist, client, id) = pair(&app).await;
    let response = open_stream(&app, &therapist, &format!("/messages/{id}/events")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE].to_str().unwrap(),
        "text/event-stream"
    );
    let mut body = response.into_body();
    let message_id = send_as(&app, &client, id, "Are you there?").await;
    let events = read_until(&mut body, &message_id).await;
    assert!(events.contains("event: message"));
    assert!(events.contains("Are you there?"));
}

#[tokio::test]
async fn a_page_that_showed_no_messages_gets_the_ones_sent_before_its_stream_opened() {
    let app = TestApp::new().await;
    let (therapist, client, id) = pair(&app).await;
    let page = app
        .signed_in(&therapist)
        .await
        .get(&format!("/messages/{id}"))
        .await;
    assert_eq!(page.count("#messages[data-after='start']"), 1);
    // Sent after the page rendered, before its stream connected.
    let message_id = send_as(&app, &client, id, "Sent in the gap").await;
    let response = open_stream(
        &app,
        &therapist,
        &format!("/messages/{id}/events?after=start"),
    )
    .await;
    let events = read_until(&mut response.into_body(), &message_id).await;
    assert!(events.contains("Sent in the gap"));
}

/// Opens an event stream as `user` through the in-process router.
async fn open_stream(app: &TestApp, user: &User, path: &str) -> axum::response::Response {
    let token = app
        .session_token(user, "web", tend::accounts::queries::Stage::Full)
        .await;
    let mut request = Request::get(path)
        .header(header::COOKIE, format!("tend_session={token}"))
        .body(Body::empty())
        .unwrap();
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
            [127, 0, 0, 1],
            40000,
        ))));
    tower::ServiceExt::oneshot(app.router.clone(), request)
        .await
        .unwrap()
}

/// Sends a message through the API as `user`; returns its id.
async fn send_as(app: &TestApp, user: &User, conversation: Uuid, text: &str) -> String {
    let sent = app
        .api_client(user)
        .await
        .post_json(
            &format!("/api/v1/conversations/{conversation}/messages"),
            &json!({"body": text, "client_key": Uuid::new_v4().to_string()}),
        )
        .await
        .json();
    sent["message"]["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn an_unread_message_is_announced_by_email_without_its_content() {
    let app = TestApp::builder()
        .config(|c| c.message_notify_minutes = 0)
        .build()
        .await;
    let (therapist, client, id) = pair(&app).await;
    let mut api = app.api_client(&client).await;
    api.post_json(
        &format!("/api/v1/conversations/{id}/messages"),
        &json!({"body": "The private words of the message", "client_key": "e1"}),
    )
    .await;
    app.drain_jobs().await;
    let mails: Vec<String> = app
        .outbox()
        .into_iter()
        .filter(|m| m.contains("new message"))
        .collect();
    assert_eq!(mails.len(), 1);
    assert!(mails[0].contains(&therapist.email));
    assert!(!mails[0].contains("private words"));

    // Read before the job runs: no email.
    api.post_json(
        &format!("/api/v1/conversations/{id}/messages"),
        &json!({"body": "A second one", "client_key": "e2"}),
    )
    .await;
    app.signed_in(&therapist)
        .await
        .get(&format!("/messages/{id}"))
        .await;
    app.drain_jobs().await;
    let count = app
        .outbox()
        .iter()
        .filter(|m| m.contains("new message"))
        .count();
    assert_eq!(count, 1);
}

#[tokio::test]
async fn a_risky_message_shows_help_in_the_same_response_and_alerts_the_therapist() {
    let app = TestApp::new().await;
    let (therapist, client, id) = pair(&app).await;
    let mut c = app.signed_in(&client).await;
    let r = c
        .post_form(
            &format!("/messages/{id}"),
            &[
                ("body", "I don't want to wake up tomorrow."),
                ("client_key", "risk-1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.count("#help:not([hidden]) #crisis-heading"), 1);
    assert!(r.body.contains("tel:988"));
    assert_eq!(r.count("#help a[href='/safety-plan']"), 1);
    let alerts = app.db().alerts_for(therapist.id, false).await.unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(
        (alerts[0].kind.as_str(), alerts[0].severity.as_str()),
        ("message_risk", "urgent")
    );
    // The therapist sees the banner on every page.
    let home = app.signed_in(&therapist).await.get("/").await;
    assert!(home.body.contains("1 urgent alert"));

    // An ordinary message shows no crisis block and raises nothing.
    let r = c
        .post_form(
            &format!("/messages/{id}"),
            &[("body", "Ok, thanks."), ("client_key", "fine")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.db()
            .alerts_for(therapist.id, false)
            .await
            .unwrap()
            .len(),
        1
    );

    // The API says the same.
    let j = app
        .api_client(&client)
        .await
        .post_json(
            &format!("/api/v1/conversations/{id}/messages"),
            &json!({"body": "Honestly everyone would be better off without me", "client_key": "risk-2"}),
        )
        .await
        .json();
    assert_eq!(j["risk_level"], "urgent");
    assert_eq!(j["show_crisis_resources"], true);
}

#[tokio::test]
async fn when_screening_fails_the_message_is_kept_help_is_shown_and_a_retry_alerts_later() {
    let app = TestApp::new().await;
    let (therapist, client, id) = pair(&app).await;
    app.state.faults.screening.store(true, Ordering::SeqCst);
    let j = app
        .api_client(&client)
        .await
        .post_json(
            &format!("/api/v1/conversations/{id}/messages"),
            &json!({"body": "I want to end my life", "client_key": "f1"}),
        )
        .await
        .assert_status(StatusCode::CREATED)
        .json();
    assert_eq!(j["risk_level"], "unscreened");
    assert_eq!(j["show_crisis_resources"], true);
    // The retry fails loudly while screening is down, and admins can see it waiting.
    assert!(tend::jobs::run_one(&app.state).await.unwrap());
    let admin = app.user(Role::Admin, "admin@tend.test").await;
    let page = app.signed_in(&admin).await.get("/admin/jobs").await;
    assert!(
        page.body.contains("Safety: </strong>screen_text"),
        "{}",
        page.body
    );
    assert!(page.body.contains("injected fault"));
    assert!(
        app.db()
            .alerts_for(therapist.id, false)
            .await
            .unwrap()
            .is_empty()
    );

    // Screening recovers; the retry runs and the alert is raised.
    app.state.faults.screening.store(false, Ordering::SeqCst);
    let job = app.db().jobs_needing_attention().await.unwrap();
    let screen = job.iter().find(|j| j.kind == "screen_text").unwrap();
    make_due(&app, screen.id).await;
    app.drain_jobs().await;
    let alerts = app.db().alerts_for(therapist.id, false).await.unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].kind, "message_risk");
}

/// Makes a waiting job due now (instead of waiting out its backoff).
async fn make_due(app: &TestApp, job: Uuid) {
    let now = tend::db::Timestamp::now();
    tend::with_pool!(app.db(), |pool| {
        sqlx::query("UPDATE jobs SET run_at = $1 WHERE id = $2")
            .bind(now)
            .bind(job)
            .execute(pool)
            .await
            .unwrap();
    });
}

/// A test app whose paging webhook is `receiver`, served at `/page` on a local port.
async fn app_paging(receiver: axum::routing::MethodRouter) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = axum::Router::new().route("/page", receiver);
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    TestApp::builder()
        .config(move |c| c.alert_webhook_url = Some(format!("http://{addr}/page")))
        .build()
        .await
}

#[tokio::test]
async fn urgent_alerts_page_a_webhook_with_ids_only_and_escalate_to_the_backup() {
    // A tiny webhook receiver.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let app = app_paging(axum::routing::post(move |body: String| {
        let tx = tx.clone();
        async move {
            let _ = tx.send(body);
            "ok"
        }
    }))
    .await;
    let (therapist, client, id) = pair(&app).await;
    let backup = app.user(Role::Therapist, "backup@tend.test").await;
    let admin = app.user(Role::Admin, "admin@tend.test").await;
    app.signed_in(&therapist)
        .await
        .post_form(
            "/messages/settings",
            &[
                ("office_hours", "Mon-Thu 9-5"),
                ("reply_note", "I reply within a working day."),
                ("backup_clinician_id", &backup.id.to_string()),
            ],
        )
        .await
        .assert_status(StatusCode::OK);
    app.api_client(&client)
        .await
        .post_json(
            &format!("/api/v1/conversations/{id}/messages"),
            &json!({"body": "I have the pills counted out on my desk right now", "client_key": "w"}),
        )
        .await;
    app.drain_jobs().await;
    let paged = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
        .unwrap();
    let payload: serde_json::Value = serde_json::from_str(&paged).unwrap();
    assert_eq!(payload["event"], "tend.alert.urgent");
    assert!(!paged.contains("pills") && !paged.contains(&client.name));

    // Nobody acknowledges: escalation reaches the backup's ledger and the admins' inboxes.
    let alert = app.db().alerts_for(therapist.id, false).await.unwrap()[0].id;
    tend::alerts::escalate_if_open(&app.state, alert)
        .await
        .unwrap();
    app.drain_jobs().await;
    let backup_alerts = app.db().alerts_for(backup.id, false).await.unwrap();
    assert_eq!(backup_alerts.len(), 1);
    assert!(
        app.outbox()
            .iter()
            .any(|m| m.contains(&admin.email) && m.contains("not been acknowledged"))
    );

    // Resolving takes a note.
    let mut t = app.signed_in(&therapist).await;
    let r = t
        .post_form(
            &format!("/alerts/{alert}"),
            &[("action", "resolve"), ("note", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    t.post_form(
        &format!("/alerts/{alert}"),
        &[
            ("action", "resolve"),
            ("note", "Called; safe with her sister tonight."),
        ],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    assert!(
        app.db()
            .alerts_for(therapist.id, false)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn supervisors_and_trainees_have_their_own_conversation() {
    let app = TestApp::new().await;
    let trainee = app.user(Role::Therapist, "trainee@tend.test").await;
    let supervisor = app.user(Role::Supervisor, "sup@tend.test").await;
    app.db()
        .add_supervision(supervisor.id, trainee.id)
        .await
        .unwrap();
    let list = app
        .api_client(&trainee)
        .await
        .get("/api/v1/conversations")
        .await
        .json();
    assert_eq!(list[0]["kind"], "supervision");
    assert_eq!(list[0]["other_name"], supervisor.name);
    // Staff messages are not screened (risk_level is absent).
    let id = list[0]["id"].as_str().unwrap();
    let j = app
        .api_client(&supervisor)
        .await
        .post_json(
            &format!("/api/v1/conversations/{id}/messages"),
            &json!({"body": "Let's talk about the risk assessment you wrote.", "client_key": "s"}),
        )
        .await
        .assert_status(StatusCode::CREATED)
        .json();
    assert!(j["risk_level"].is_null());
}

#[tokio::test]
async fn help_is_one_tap_away_without_signing_in_and_practices_add_their_own_lines() {
    let app = TestApp::new().await;
    let page = app
        .visitor()
        .get("/help")
        .await
        .assert_status(StatusCode::OK);
    assert!(page.body.contains("tel:988") && page.body.contains("tel:116123"));
    assert_eq!(page.count("header a.help-now[href='/help']"), 1);

    let admin = app.user(Role::Admin, "admin@tend.test").await;
    let mut a = app.signed_in(&admin).await;
    let bad = a
        .post_form(
            "/admin/crisis-lines",
            &[("lines", "On call | Call | 555 | javascript:alert(1)")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    a.post_form(
        "/admin/crisis-lines",
        &[(
            "lines",
            "Our on-call clinician | Call | 555 0100 | tel:5550100",
        )],
    )
    .await
    .assert_status(StatusCode::OK);
    let page = app.visitor().get("/help").await;
    let first = page.select_text(".crisis-lines li").unwrap();
    assert!(
        first.contains("Your practice") && first.contains("555 0100"),
        "{first}"
    );
}

#[tokio::test]
async fn the_screen_api_explains_its_result_for_clinicians() {
    let app = TestApp::new().await;
    let therapist = app.user(Role::Therapist, "t@tend.test").await;
    let mut api = app.api_client(&therapist).await;
    let j = api
        .post_json(
            "/api/v1/safety/screen",
            &json!({"text": "this traffic is killing me"}),
        )
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(j["level"], "none");
    let j = api
        .post_json(
            "/api/v1/safety/screen",
            &json!({"text": "I cut myself again last night"}),
        )
        .await
        .json();
    assert_eq!(j["level"], "urgent");
    assert_eq!(j["signals"][0]["category"], "self_harm");
    assert!(j["signals"][0]["explanation"].as_str().unwrap().len() > 10);
    let client = app.client_of(&therapist, "c@tend.test").await;
    app.api_client(&client)
        .await
        .post_json("/api/v1/safety/screen", &json!({"text": "hi"}))
        .await
        .assert_status(StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_paging_webhook_does_not_follow_redirects() {
    // A receiver that redirects to a port where nothing listens: followed, the call would fail
    // to connect; not followed, it fails on the redirect itself, and the job retries.
    let nowhere = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let nowhere_addr = nowhere.local_addr().unwrap();
    drop(nowhere);
    let app = app_paging(axum::routing::post(move || async move {
        axum::response::Redirect::temporary(&format!("http://{nowhere_addr}/elsewhere"))
    }))
    .await;
    let (therapist, client, id) = pair(&app).await;
    app.api_client(&client)
        .await
        .post_json(
            &format!("/api/v1/conversations/{id}/messages"),
            &json!({"body": "I have the pills ready for tonight", "client_key": "redirect"}),
        )
        .await
        .assert_status(StatusCode::CREATED);
    let alert = app.db().alerts_for(therapist.id, false).await.unwrap()[0].id;
    let error = tend::alerts::call_webhook(&app.state, alert)
        .await
        .unwrap_err();
    assert!(error.starts_with("webhook answered 307"), "{error}");
}
