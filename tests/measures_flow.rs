#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Measurement-based care end to end over the real router: assign, autosave, resume, submit,
//! score, change, alerts (including a failing alert store), progress charts.

mod support;

use axum::http::{Method, StatusCode};
use support::{TestApp, Visitor};
use tend::accounts::queries::User;
use tend::authz::Role;
use tend::with_pool;

/// Practice with a therapist and one client in care.
async fn practice(app: &TestApp) -> (User, User) {
    let therapist = app.user(Role::Therapist, "maya@tend.test").await;
    let client = app.client_of(&therapist, "amara@tend.test").await;
    (therapist, client)
}

/// The therapist assigns an instrument; returns the assignment's form path.
async fn assign(
    app: &TestApp,
    therapist: &User,
    client: &User,
    instrument: &str,
    schedule: &str,
) -> String {
    let mut t = app.signed_in(therapist).await;
    t.post_form(
        &format!("/clients/{}/measures", client.id),
        &[("instrument", instrument), ("schedule", schedule)],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    let id: uuid::Uuid = with_pool!(app.db(), |pool| sqlx::query_scalar(
        "SELECT id FROM measure_assignments ORDER BY created_at DESC LIMIT 1"
    )
    .fetch_one(pool)
    .await
    .unwrap());
    format!("/measures/assignments/{id}")
}

/// Opens the form and returns (response path, version).
async fn open_form(v: &mut Visitor<'_>, form_path: &str) -> (String, String) {
    let page = v.get(form_path).await.assert_status(StatusCode::OK);
    let html = scraper::Html::parse_document(&page.body);
    let action = html
        .select(&scraper::Selector::parse("form.measure-form").unwrap())
        .next()
        .unwrap()
        .value()
        .attr("action")
        .unwrap()
        .to_string();
    let version = html
        .select(&scraper::Selector::parse("input[name=version]").unwrap())
        .next()
        .unwrap()
        .value()
        .attr("value")
        .unwrap()
        .to_string();
    (action, version)
}

/// Fills every item with the given values and submits.
async fn submit(v: &mut Visitor<'_>, form_path: &str, values: &[i64]) -> support::TestResponse {
    let (action, version) = open_form(v, form_path).await;
    let names: Vec<String> = (1..=values.len()).map(|i| format!("item_{i}")).collect();
    let vals: Vec<String> = values.iter().map(|x| x.to_string()).collect();
    let mut fields: Vec<(&str, &str)> = names
        .iter()
        .map(String::as_str)
        .zip(vals.iter().map(String::as_str))
        .collect();
    fields.push(("version", &version));
    fields.push(("action", "submit"));
    v.post_form(&action, &fields).await
}

#[tokio::test]
async fn a_client_completes_an_assigned_phq9_with_autosave_and_resume() {
    let app = TestApp::new().await;
    let (therapist, client) = practice(&app).await;
    let form = assign(&app, &therapist, &client, "phq9", "weekly").await;
    assert_eq!(
        app.drain_jobs().await,
        1,
        "the client is emailed that something is waiting"
    );
    assert!(
        app.outbox()[0].contains("questionnaire is waiting") && !app.outbox()[0].contains("PHQ"),
        "the email names no instrument"
    );

    let mut c = app.signed_in(&client).await;
    let home = c.get("/").await.assert_status(StatusCode::OK);
    assert!(
        home.body.contains(&form),
        "home lists the waiting questionnaire"
    );
    let page = c.get(&form).await.assert_status(StatusCode::OK);
    assert_eq!(page.count("fieldset.question"), 10);
    assert_eq!(page.count("fieldset.question legend"), 10);
    let (action, version) = open_form(&mut c, &form).await;

    // Autosave: 204 with the new version; a stale version is refused as a conflict.
    let csrf = c.cookies["tend_csrf"].clone();
    let body = format!("csrf={csrf}&version={version}&action=save&item_1=2&item_2=1");
    let mut req = axum::http::Request::builder()
        .method(Method::POST)
        .uri(&action)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-tend-autosave", "1");
    req = req.header(
        "cookie",
        format!(
            "tend_session={}; tend_csrf={csrf}",
            c.cookies["tend_session"]
        ),
    );
    let r = app
        .send(req.body(axum::body::Body::from(body.clone())).unwrap())
        .await
        .assert_status(StatusCode::NO_CONTENT);
    assert_eq!(
        r.headers["x-tend-version"],
        (version.parse::<i64>().unwrap() + 1).to_string()
    );
    c.post_raw_form(&action, body.as_bytes())
        .await
        .assert_status(StatusCode::CONFLICT);

    // Resuming shows what was saved.
    let resumed = c.get(&form).await;
    assert_eq!(resumed.count("input[name=item_1][value='2'][checked]"), 1);
    assert_eq!(resumed.count("input[name=item_2][value='1'][checked]"), 1);

    let r = submit(&mut c, &form, &[2, 1, 2, 1, 1, 1, 1, 1, 0]).await;
    let done_path = r.location();
    let done = c.get(&done_path).await.assert_status(StatusCode::OK);
    assert!(
        done.body.contains("Your score is <strong>10</strong>"),
        "{}",
        done.body
    );
    assert!(done.body.contains("moderate"));
    assert_eq!(
        done.count("#crisis-heading"),
        0,
        "no risk answer, no crisis block"
    );

    // Submitting again changes nothing.
    let (action_again, _) = (done_path.clone(), ());
    c.post_form(
        &action_again,
        &[("version", "1"), ("action", "submit"), ("item_1", "3")],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    let submitted: i64 = with_pool!(app.db(), |pool| sqlx::query_scalar(
        "SELECT COUNT(*) FROM measure_responses WHERE status = 'submitted'"
    )
    .fetch_one(pool)
    .await
    .unwrap());
    assert_eq!(submitted, 1);
    // Weekly: not due again today, and a reminder is queued for when it is.
    assert!(!c.get("/").await.body.contains(&form));
    let reminders: Vec<tend::db::Timestamp> = with_pool!(app.db(), |pool| sqlx::query_scalar(
        "SELECT run_at FROM jobs WHERE state = 'pending' AND kind = 'send_email'"
    )
    .fetch_all(pool)
    .await
    .unwrap());
    assert_eq!(reminders.len(), 1);
    assert!(reminders[0] > tend::db::Timestamp::now() + time::Duration::days(6));
}

#[tokio::test]
async fn item_9_shows_crisis_resources_and_raises_an_urgent_alert_that_escalates() {
    let app = TestApp::new().await;
    let (therapist, client) = practice(&app).await;
    let admin = app.user(Role::Admin, "admin@tend.test").await;
    let form = assign(&app, &therapist, &client, "phq9", "once").await;
    let mut c = app.signed_in(&client).await;
    let r = submit(&mut c, &form, &[0, 0, 0, 0, 0, 0, 0, 0, 1]).await;
    let done = c.get(&r.location()).await.assert_status(StatusCode::OK);
    assert_eq!(done.count("#crisis-heading"), 1);
    assert!(done.body.contains("tel:988") && done.body.contains("116 123"));
    assert_eq!(
        done.count("a[href='/safety-plan']"),
        2,
        "the safety plan is on the page itself, and in the navigation"
    );

    let alerts = app.db().alerts_for(therapist.id, true).await.unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(
        (
            alerts[0].kind.as_str(),
            alerts[0].severity.as_str(),
            alerts[0].status.as_str()
        ),
        ("measure_risk", "urgent", "open")
    );
    let mut t = app.signed_in(&therapist).await;
    assert!(t.get("/").await.body.contains("1 open alert"));
    assert!(t.get("/clients").await.body.contains("1 open"));

    // Nobody acknowledges: once the escalation time passes, admins are emailed.
    app.drain_jobs().await;
    with_pool!(app.db(), |pool| sqlx::query(
        "UPDATE jobs SET run_at = $1 WHERE kind = 'escalate_alert'"
    )
    .bind(tend::db::Timestamp::now())
    .execute(pool)
    .await
    .unwrap()
    .rows_affected());
    app.drain_jobs().await;
    assert!(
        app.db().alerts_for(therapist.id, true).await.unwrap()[0]
            .escalated_at
            .is_some()
    );
    assert!(
        app.outbox()
            .iter()
            .any(|m| m.contains(&format!("To: {}", admin.email))
                && m.contains("has not been acknowledged"))
    );
    assert!(
        app.outbox()
            .iter()
            .all(|m| !m.contains("Thoughts that you would be better off dead")),
        "emails carry no clinical content"
    );

    let alerts_page = t.get("/alerts").await.assert_status(StatusCode::OK);
    assert_eq!(app.audit_count("alerts.view", "success").await, 1);
    assert!(alerts_page.body.contains("escalated"));
    t.post_form(
        &format!("/alerts/{}", alerts[0].id),
        &[("action", "acknowledge")],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    t.post_form(
        &format!("/alerts/{}", alerts[0].id),
        &[
            ("action", "resolve"),
            ("note", "Called the client; safe and seen tomorrow."),
        ],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    assert_eq!(
        app.db().alerts_for(therapist.id, true).await.unwrap()[0].status,
        "resolved"
    );
    // Another therapist cannot touch it.
    let other = app.user(Role::Therapist, "other@tend.test").await;
    app.signed_in(&other)
        .await
        .post_form(
            &format!("/alerts/{}", alerts[0].id),
            &[
                ("action", "resolve"),
                ("note", "Called the client; safe and seen tomorrow."),
            ],
        )
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn when_alerts_cannot_be_stored_the_answers_are_saved_and_the_client_still_sees_help() {
    let app = TestApp::new().await;
    let (therapist, client) = practice(&app).await;
    let form = assign(&app, &therapist, &client, "phq9", "once").await;
    // Inject the failure: the alert ledger is gone.
    with_pool!(app.db(), |pool| sqlx::query("DROP TABLE alerts")
        .execute(pool)
        .await
        .unwrap()
        .rows_affected());
    let mut c = app.signed_in(&client).await;
    let r = submit(&mut c, &form, &[1, 1, 1, 1, 1, 1, 1, 1, 2])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let done = c.get(&r.location()).await.assert_status(StatusCode::OK);
    assert_eq!(
        done.count("#crisis-heading"),
        1,
        "the resources are shown regardless"
    );
    let saved: (String, Option<f64>) = with_pool!(app.db(), |pool| sqlx::query_as(
        "SELECT status, total FROM measure_responses"
    )
    .fetch_one(pool)
    .await
    .unwrap());
    assert_eq!(saved, ("submitted".to_string(), Some(10.0)));
    let retries: i64 = with_pool!(app.db(), |pool| sqlx::query_scalar(
        "SELECT COUNT(*) FROM jobs WHERE kind = 'raise_alert'"
    )
    .fetch_one(pool)
    .await
    .unwrap());
    assert_eq!(retries, 1, "the alert is queued for retry, not forgotten");
}

#[tokio::test]
async fn no_reliable_improvement_after_four_administrations_is_not_on_track() {
    let app = TestApp::new().await;
    let (therapist, client) = practice(&app).await;
    let form = assign(&app, &therapist, &client, "gad7", "1").await;
    let mut c = app.signed_in(&client).await;
    for _ in 0..4 {
        // Make the daily assignment due again now.
        with_pool!(app.db(), |pool| sqlx::query(
            "UPDATE measure_assignments SET next_due_at = $1"
        )
        .bind(tend::db::Timestamp::now())
        .execute(pool)
        .await
        .unwrap()
        .rows_affected());
        submit(&mut c, &form, &[2, 2, 2, 2, 1, 1, 1])
            .await
            .assert_status(StatusCode::SEE_OTHER);
    }
    let summary = app.db().caseload_summaries(therapist.id).await.unwrap();
    assert_eq!(
        (
            summary[0].administrations,
            summary[0].not_on_track,
            summary[0].status.as_str()
        ),
        (4, true, "no_reliable_change")
    );
    let mut t = app.signed_in(&therapist).await;
    assert!(t.get("/clients").await.body.contains("Not on track"));
    let kinds: Vec<String> = app
        .db()
        .alerts_for(therapist.id, true)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.kind)
        .collect();
    assert_eq!(kinds, vec!["not_on_track"]);

    let progress = t
        .get(&format!("/clients/{}/progress", client.id))
        .await
        .assert_status(StatusCode::OK);
    assert_eq!(
        progress.count("svg[role=img] title"),
        1 + 4 + 4 + 1,
        "chart title, 4 band titles, 4 points, rc band"
    );
    assert_eq!(
        progress.count("table tbody tr"),
        4,
        "a data table alternative"
    );
    assert!(progress.body.contains("no reliable change"));
}

#[tokio::test]
async fn measures_refuse_what_is_not_yours_or_not_valid() {
    let app = TestApp::new().await;
    let (therapist, client) = practice(&app).await;
    let other_client = app.client_of(&therapist, "ben@tend.test").await;
    let form = assign(&app, &therapist, &client, "phq9", "once").await;
    // Another client cannot open or answer it.
    let mut o = app.signed_in(&other_client).await;
    o.get(&form).await.assert_status(StatusCode::NOT_FOUND);
    let mut c = app.signed_in(&client).await;
    let (action, version) = open_form(&mut c, &form).await;
    o.post_form(&action, &[("version", &version), ("action", "submit")])
        .await
        .assert_status(StatusCode::NOT_FOUND);
    // Out of range and malformed answers.
    let r = c
        .post_form(
            &action,
            &[("version", &version), ("action", "submit"), ("item_1", "7")],
        )
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("item 1: 7 is not an allowed answer"));
    c.post_form(
        &action,
        &[("version", &version), ("action", "submit"), ("item_1", "x")],
    )
    .await
    .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let drafts: i64 = with_pool!(app.db(), |pool| sqlx::query_scalar(
        "SELECT COUNT(*) FROM measure_responses WHERE status = 'draft'"
    )
    .fetch_one(pool)
    .await
    .unwrap());
    assert_eq!(drafts, 1, "nothing was half-saved");
    // Only the treating therapist assigns, and only enabled instruments.
    let stranger = app.user(Role::Therapist, "stranger@tend.test").await;
    app.signed_in(&stranger)
        .await
        .post_form(
            &format!("/clients/{}/measures", client.id),
            &[("instrument", "phq9"), ("schedule", "once")],
        )
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let mut t = app.signed_in(&therapist).await;
    t.post_form(
        &format!("/clients/{}/measures", client.id),
        &[("instrument", "scs_sf"), ("schedule", "once")],
    )
    .await
    .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    t.post_form(
        &format!("/clients/{}/measures", client.id),
        &[("instrument", "phq9"), ("schedule", "0")],
    )
    .await
    .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    // Progress is the client's and their therapist's only.
    app.signed_in(&stranger)
        .await
        .get(&format!("/clients/{}/progress", client.id))
        .await
        .assert_status(StatusCode::NOT_FOUND);
    c.get(&format!("/clients/{}/progress", client.id))
        .await
        .assert_status(StatusCode::OK);
}

#[tokio::test]
async fn a_practice_can_hide_scores_from_clients() {
    let app = TestApp::new().await;
    let (therapist, client) = practice(&app).await;
    let admin = app.user(Role::Admin, "admin@tend.test").await;
    app.signed_in(&admin)
        .await
        .post_form("/admin/measures/settings", &[("scores", "hide")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let form = assign(&app, &therapist, &client, "gad7", "once").await;
    let mut c = app.signed_in(&client).await;
    let r = submit(&mut c, &form, &[3, 3, 3, 3, 3, 3, 3]).await;
    let done = c.get(&r.location()).await.assert_status(StatusCode::OK);
    assert!(!done.body.contains("Your score is"));
    assert!(done.body.contains("Thank you"));
}

#[tokio::test]
async fn fhir_export_and_import_round_trip_with_alerts_and_access_rules() {
    let app = TestApp::new().await;
    let (therapist, client) = practice(&app).await;
    let form = assign(&app, &therapist, &client, "phq9", "once").await;
    let mut c = app.signed_in(&client).await;
    submit(&mut c, &form, &[1, 1, 1, 1, 1, 1, 1, 1, 0])
        .await
        .assert_status(StatusCode::SEE_OTHER);

    let path = format!("/api/v1/clients/{}/fhir", client.id);
    let mut api = app.api_client(&therapist).await;
    let r = api.get(&path).await.assert_status(StatusCode::OK);
    assert_eq!(r.headers["content-type"], "application/fhir+json");
    let bundle = r.json();
    let kinds: Vec<&str> = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"]["resourceType"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "Patient",
            "Questionnaire",
            "QuestionnaireResponse",
            "Observation"
        ]
    );
    assert_eq!(
        bundle["entry"][3]["resource"]["valueQuantity"]["value"],
        8.0
    );
    assert_eq!(
        bundle["entry"][3]["resource"]["interpretation"][0]["text"],
        "mild"
    );
    // The client may export their own; another therapist may not (403, audited).
    app.api_client(&client)
        .await
        .get(&path)
        .await
        .assert_status(StatusCode::OK);
    let stranger = app.user(Role::Therapist, "stranger@tend.test").await;
    app.api_client(&stranger)
        .await
        .get(&path)
        .await
        .assert_status(StatusCode::FORBIDDEN);
    // An export needs a token from a sign-in in the last ten minutes.
    let mut old = app.api_client(&therapist).await;
    tend::with_pool!(app.db(), |pool| {
        sqlx::query("UPDATE sessions SET created_at = $1 WHERE user_id = $2")
            .bind(tend::db::Timestamp::now() - time::Duration::minutes(11))
            .bind(therapist.id)
            .execute(pool)
            .await
            .unwrap();
    });
    old.get(&path).await.assert_status(StatusCode::FORBIDDEN);
    let denied: i64 = tend::with_pool!(app.db(), |pool| {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'measures.export_fhir' AND outcome = 'denied'",
        )
        .fetch_one(pool)
        .await
        .unwrap()
    });
    assert_eq!(
        denied, 1,
        "the stale token's attempt; the stranger's is a denied record read"
    );
    let mut api = app.api_client(&therapist).await;

    // Import a response from elsewhere, with item 9 answered: scored, stored, alert raised.
    let mut qr = bundle["entry"][2]["resource"].clone();
    qr["item"][8]["answer"][0]["valueCoding"] =
        serde_json::json!({"system": "http://loinc.org", "code": "LA6570-1"});
    qr["authored"] = serde_json::json!("2026-11-20T09:30:00Z");
    let r = api
        .post_json(&path, &qr)
        .await
        .assert_status(StatusCode::CREATED)
        .json();
    assert_eq!(r["score"]["total"], 10.0);
    assert_eq!(r["score"]["risk"], "urgent");
    assert_eq!(app.db().history(client.id, "phq9").await.unwrap().len(), 2);
    assert!(
        app.db()
            .alerts_for(therapist.id, false)
            .await
            .unwrap()
            .iter()
            .any(|a| a.kind == "measure_risk")
    );
    // Bad imports name the field; clients cannot import.
    let r = api
        .post_json(&path, &serde_json::json!({"resourceType": "Patient"}))
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .json();
    assert_eq!(r["errors"][0]["field"], "resourceType");
    app.api_client(&client)
        .await
        .post_json(&path, &qr)
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let audit: Vec<String> = app
        .db()
        .audit_page(&Default::default(), 50)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(
        audit.contains(&"measures.export_fhir".to_string())
            && audit.contains(&"measures.import_fhir".to_string())
    );
}
