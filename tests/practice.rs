#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Between-session practice: the library and player, the journal (private by default,
//! shareable, searchable, sealed, screened for risk), homework, and the API.

mod support;

use axum::http::StatusCode;
use serde_json::json;
use support::TestApp;
use tend::authz::Role;

#[tokio::test]
async fn a_client_practises_journals_and_shares_what_they_choose() {
    let app = TestApp::new().await;
    let therapist = app.user(Role::Therapist, "maya@tend.test").await;
    let client = app.client_of(&therapist, "amara@tend.test").await;
    let mut t = app.signed_in(&therapist).await;
    t.post_form(
        &format!("/clients/{}/homework", client.id),
        &[
            ("practice", "self-compassion-break"),
            ("schedule", "daily"),
            ("note", "Try it after work, even once."),
        ],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);

    let mut c = app.signed_in(&client).await;
    let home = c.get("/").await.assert_status(StatusCode::OK);
    assert_eq!(
        home.select_text("#today-heading + p a").unwrap(),
        "Self-compassion break",
        "today's practice comes first"
    );
    let library = c.get("/practice").await.assert_status(StatusCode::OK);
    assert!(library.count(".tiles .tile") >= 12);
    assert!(library.body.contains("Try it after work, even once."));
    let player = c
        .get("/practice/self-compassion-break")
        .await
        .assert_status(StatusCode::OK);
    assert_eq!(player.count("ol.steps li"), 3);
    assert!(player.body.contains("Mindful Self-Compassion (Neff"));
    c.post_form(
        "/practice/self-compassion-break/complete",
        &[
            ("minutes", "5"),
            ("mood_before", "3"),
            ("mood_after", "6"),
            ("reflection", "Kinder than I expected."),
            ("shared", "yes"),
        ],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    c.post_form(
        "/practice/body-scan/complete",
        &[("minutes", "2"), ("reflection", "Private one.")],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    c.post_form("/practice/body-scan/complete", &[("mood_before", "11")])
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    c.get("/practice/no-such-practice")
        .await
        .assert_status(StatusCode::NOT_FOUND);

    c.post_form(
        "/journal",
        &[
            ("mood", "4"),
            ("emotion_anxious", "yes"),
            ("emotion_hopeful", "yes"),
            ("text", "Nervous about Friday, but I slept better."),
            ("shared", "yes"),
        ],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    c.post_form(
        "/journal",
        &[("text", "Just for me: the garden was lovely.")],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    let journal = c.get("/journal").await.assert_status(StatusCode::OK);
    assert_eq!(journal.count(".stack-list li"), 2);
    let found = c.get("/journal?q=garden").await;
    assert_eq!(found.count(".stack-list li"), 1);
    assert_eq!(
        c.get("/journal?q=anxious").await.count(".stack-list li"),
        1,
        "search finds tags too"
    );

    // The therapist sees only what was shared, and the minutes practised.
    let view = t
        .get(&format!("/clients/{}/practice", client.id))
        .await
        .assert_status(StatusCode::OK);
    assert!(view.body.contains("Nervous about Friday") && !view.body.contains("garden"));
    assert!(view.body.contains("Kinder than I expected.") && !view.body.contains("Private one."));
    assert!(view.body.contains("3 → 6"));
    assert!(
        view.body.contains("done 1 time since suggested"),
        "adherence counts what was shared"
    );
    // Insight: minutes per week and mood over time, each with a table alternative. The
    // therapist's view counts only what was shared (5 of the 7 minutes).
    assert_eq!(
        view.count("#minutes-heading ~ figure svg[role=img] rect.bar"),
        8
    );
    assert!(view.body.contains("this week: 5"));
    assert_eq!(
        view.count("#panel-mood ~ details table tbody tr"),
        1,
        "one shared entry with a mood"
    );
    let own = c
        .get(&format!("/clients/{}/practice", client.id))
        .await
        .assert_status(StatusCode::OK);
    assert!(
        own.body.contains("this week: 7"),
        "the client sees everything of their own"
    );
    // Sharing can be changed later by the writer, and only by the writer.
    let garden: uuid::Uuid = tend::with_pool!(app.db(), |pool| sqlx::query_scalar(
        "SELECT id FROM journal_entries WHERE shared = FALSE"
    )
    .fetch_one(pool)
    .await
    .unwrap());
    c.post_form(&format!("/journal/{garden}/share"), &[("shared", "yes")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    assert!(
        t.get(&format!("/clients/{}/practice", client.id))
            .await
            .body
            .contains("garden")
    );
    c.post_form(&format!("/journal/{garden}/share"), &[("shared", "no")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    assert!(
        !t.get(&format!("/clients/{}/practice", client.id))
            .await
            .body
            .contains("garden")
    );
    let other_client = app.client_of(&therapist, "ben@tend.test").await;
    app.signed_in(&other_client)
        .await
        .post_form(&format!("/journal/{garden}/share"), &[("shared", "yes")])
        .await
        .assert_status(StatusCode::NOT_FOUND);
    // Another therapist sees nothing at all; text is sealed at rest.
    let stranger = app.user(Role::Therapist, "stranger@tend.test").await;
    app.signed_in(&stranger)
        .await
        .get(&format!("/clients/{}/practice", client.id))
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let raw: Vec<Vec<u8>> = tend::with_pool!(app.db(), |pool| sqlx::query_scalar(
        "SELECT text_sealed FROM journal_entries"
    )
    .fetch_all(pool)
    .await
    .unwrap());
    assert!(
        raw.iter()
            .all(|r| !String::from_utf8_lossy(r).contains("garden"))
    );
}

#[tokio::test]
async fn risk_language_in_a_journal_entry_shows_help_and_alerts_the_therapist() {
    let app = TestApp::new().await;
    let therapist = app.user(Role::Therapist, "maya@tend.test").await;
    let client = app.client_of(&therapist, "amara@tend.test").await;
    let mut c = app.signed_in(&client).await;
    let r = c
        .post_form("/journal", &[("text", "Some nights I want to die.")])
        .await;
    assert_eq!(r.location(), "/journal?care=1");
    let page = c.get("/journal?care=1").await;
    assert_eq!(page.count("#crisis-heading"), 1);
    assert_eq!(page.count("main a[href='/safety-plan']"), 1);
    let alerts = app.db().alerts_for(therapist.id, false).await.unwrap();
    assert_eq!(
        (
            alerts.len(),
            alerts[0].kind.as_str(),
            alerts[0].severity.as_str()
        ),
        (1, "journal_risk", "urgent")
    );
    // The entry stays private: the therapist is alerted, but cannot read it unless shared.
    let view = app
        .signed_in(&therapist)
        .await
        .get(&format!("/clients/{}/practice", client.id))
        .await;
    assert!(!view.body.contains("want to die"));
}

#[tokio::test]
async fn journal_input_is_checked_and_over_long_text_is_kept_for_the_writer() {
    let app = TestApp::new().await;
    let client = app.user(Role::Client, "c@tend.test").await;
    let mut c = app.signed_in(&client).await;
    let long = "word ".repeat(10_001);
    let r = c
        .post_form("/journal", &[("text", &long)])
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("longer than 50000 characters"));
    assert!(
        r.body.contains("word word word"),
        "the text is given back, not lost"
    );
    c.post_form("/journal", &[("text", "x"), ("emotion_bored", "yes")])
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    c.post_form("/journal", &[("text", "   ")])
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let count: i64 = tend::with_pool!(app.db(), |pool| sqlx::query_scalar(
        "SELECT COUNT(*) FROM journal_entries"
    )
    .fetch_one(pool)
    .await
    .unwrap());
    assert_eq!(count, 0);
}

#[tokio::test]
async fn the_api_writes_and_reads_the_journal_and_records_practice() {
    let app = TestApp::new().await;
    let client = app.user(Role::Client, "c@tend.test").await;
    let other = app.user(Role::Client, "o@tend.test").await;
    let mut api = app.api_client(&client).await;
    let r = api
        .post_json(
            "/api/v1/journal",
            &json!({"mood": 7, "emotions": ["calm"], "text": "Good walk today."}),
        )
        .await
        .assert_status(StatusCode::CREATED)
        .json();
    assert_eq!(r["show_crisis_resources"], false);
    let list = api
        .get("/api/v1/journal")
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(list[0]["text"], "Good walk today.");
    assert_eq!(list[0]["shared"], false, "private by default");
    assert_eq!(
        app.api_client(&other)
            .await
            .get("/api/v1/journal")
            .await
            .json(),
        json!([]),
        "nobody reads another client's entries"
    );
    let r = api
        .post_json(
            "/api/v1/journal",
            &json!({"text": "x", "emotions": ["zen"]}),
        )
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .json();
    assert_eq!(r["errors"][0]["field"], "emotions");
    api.post_json(
        "/api/v1/practice/completions",
        &json!({"practice": "slow-breathing", "minutes": 4, "mood_before": 4, "mood_after": 6}),
    )
    .await
    .assert_status(StatusCode::CREATED);
    let r = api
        .post_json(
            "/api/v1/practice/completions",
            &json!({"practice": "levitation", "minutes": 4}),
        )
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .json();
    assert_eq!(r["errors"][0]["field"], "practice");
    let r = api
        .post_json(
            "/api/v1/journal",
            &json!({"text": "I keep thinking about suicide."}),
        )
        .await
        .assert_status(StatusCode::CREATED)
        .json();
    assert_eq!(r["show_crisis_resources"], true);
}

#[tokio::test]
async fn reminders_are_opt_in_gentle_and_respect_quiet_hours() {
    let app = TestApp::new().await;
    let therapist = app.user(Role::Therapist, "maya@tend.test").await;
    let client = app.client_of(&therapist, "amara@tend.test").await;
    app.signed_in(&therapist)
        .await
        .post_form(
            &format!("/clients/{}/homework", client.id),
            &[("practice", "body-scan"), ("schedule", "daily")],
        )
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let mut c = app.signed_in(&client).await;
    let pending = |app: &TestApp| {
        let db = app.db().clone();
        async move {
            tend::with_pool!(&db, |pool| sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM jobs WHERE kind = 'practice_reminder'"
            )
            .fetch_one(pool)
            .await
            .unwrap())
        }
    };
    assert_eq!(
        pending(&app).await,
        0,
        "off unless the client turns them on"
    );
    c.post_form(
        "/practice/reminders",
        &[
            ("enabled", "on"),
            ("hour", "23"),
            ("quiet_start", "22"),
            ("quiet_end", "7"),
            ("utc_offset_minutes", "0"),
        ],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    let run_at: tend::db::Timestamp = tend::with_pool!(app.db(), |pool| sqlx::query_scalar(
        "SELECT run_at FROM jobs WHERE kind = 'practice_reminder'"
    )
    .fetch_one(pool)
    .await
    .unwrap());
    assert_eq!(
        run_at.inner().hour(),
        7,
        "23:00 is in the quiet hours, so it waits until they end"
    );
    // When it runs it sends a gentle email and queues the next day's.
    tend::with_pool!(app.db(), |pool| sqlx::query(
        "UPDATE jobs SET run_at = $1 WHERE kind = 'practice_reminder'"
    )
    .bind(tend::db::Timestamp::now())
    .execute(pool)
    .await
    .unwrap()
    .rows_affected());
    app.drain_jobs().await;
    // Undo quoted-printable soft line breaks before reading the body.
    let mail = app
        .outbox()
        .into_iter()
        .find(|m| m.contains("whenever you'd like it"))
        .expect("reminder sent")
        .replace("=\r\n", "")
        .replace("=\n", "");
    assert!(mail.contains("nothing to catch up on") && !mail.to_lowercase().contains("streak"));
    assert_eq!(pending(&app).await, 2, "the sent one and the next one");
    c.post_form(
        "/practice/reminders",
        &[
            ("hour", "25"),
            ("quiet_start", "22"),
            ("quiet_end", "7"),
            ("utc_offset_minutes", "0"),
        ],
    )
    .await
    .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
}
