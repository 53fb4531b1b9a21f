#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Treatment plans end to end on the current backend: writing a plan with measured goals,
//! progress drawn from the questionnaires, reviews that keep the day's progress, every
//! version kept, two editors at once, bad input that keeps every word, the client reading
//! their plan, sealing at rest, and refusals.

mod support;

use axum::http::StatusCode;
use support::TestApp;
use tend::authz::Role;
use tend::measures::queries::Summary;

/// A questionnaire summary as submissions leave it.
async fn summary(app: &TestApp, client: uuid::Uuid, instrument: &str, first: f64, latest: f64) {
    let now = tend::db::Timestamp::now();
    app.db()
        .upsert_summary(&Summary {
            client_id: client,
            instrument: instrument.into(),
            baseline_total: first,
            baseline_at: now - time::Duration::weeks(6),
            latest_total: latest,
            latest_at: now,
            administrations: 6,
            status: "reliably_improved".into(),
            not_on_track: false,
        })
        .await
        .unwrap();
}

/// The plan form with one measured goal and a practice.
fn plan_form<'a>(version: &'a str, target: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("version", version),
        ("problem_1", "Panic on the train to work"),
        ("goal_1_text", "Travel to work by train three days a week"),
        ("goal_1_measure", "gad7"),
        ("goal_1_target", target),
        ("goal_1_by", "2027-03-31"),
        ("goal_2_text", "Sleep through most nights"),
        ("intervention_1_text", "Slow breathing before the journey"),
        ("intervention_1_practice", "slow-breathing"),
        ("review_weeks", "4"),
        ("planned_end", "2027-05-01"),
    ]
}

#[tokio::test]
async fn a_plan_is_written_measured_reviewed_and_read_by_the_client() {
    let app = TestApp::new().await;
    let therapist = app.user(Role::Therapist, "tess@x.test").await;
    let client = app.client_of(&therapist, "cara@x.test").await;
    let base = format!("/clients/{}/plan", client.id);
    let mut t = app.signed_in(&therapist).await;

    let empty = t.get(&base).await.assert_status(StatusCode::OK);
    assert!(empty.body.contains("No plan yet"));
    let form = t
        .get(&format!("{base}/edit"))
        .await
        .assert_status(StatusCode::OK);
    assert_eq!(form.count("input[name^=problem_]"), 6);
    assert!(form.count("select[name=goal_1_measure] option") > 5);

    let r = t.post_form(&base, &plan_form("0", "9")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    summary(&app, client.id, "gad7", 15.0, 8.0).await;
    let page = t.get(&base).await.assert_status(StatusCode::OK);
    assert!(page.body.contains("Panic on the train to work"));
    assert!(page.body.contains("practice: Slow breathing"));
    let progress = page.select_text("table tbody tr").unwrap();
    assert!(
        progress.contains("15") && progress.contains("8"),
        "{progress}"
    );
    assert!(
        progress.contains("Reached"),
        "GAD-7 8 meets a target of ≤ 9: {progress}"
    );
    assert!(page.body.contains("Reviewed every 4 weeks"));

    // The stored plan is sealed; the planned end and next review are dates in the clear.
    let (sealed, planned_end, next_review): (Vec<u8>, Option<String>, Option<String>) = tend::with_pool!(
        app.db(),
        |pool| {
            sqlx::query_as("SELECT content_sealed, planned_end, next_review FROM treatment_plans WHERE client_id = $1")
                .bind(client.id)
                .fetch_one(pool)
                .await
                .unwrap()
        }
    );
    assert!(!String::from_utf8_lossy(&sealed).contains("Panic"));
    assert_eq!(planned_end.as_deref(), Some("2027-05-01"));
    let in_four_weeks = time::OffsetDateTime::now_utc().date() + time::Duration::weeks(4);
    assert_eq!(
        next_review.unwrap(),
        tend::plans::format_date(in_four_weeks)
    );

    // A review keeps the words and that day's progress; the next review moves on.
    let r = t
        .post_form(
            &format!("{base}/reviews"),
            &[
                ("version", "1"),
                ("note", "Cara took the train twice this week."),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = t.get(&base).await;
    let review = page.select_text("#reviews .card:last-child").unwrap();
    assert!(review.contains("Cara took the train twice"), "{review}");
    assert!(
        review.contains("GAD-7 15 → 8 over 6 administrations"),
        "{review}"
    );

    // The practice named in the plan became weekly homework.
    let homework = app.db().homework_of(client.id).await.unwrap();
    assert_eq!(homework.len(), 1);
    assert_eq!(homework[0].practice_id, "slow-breathing");
    assert_eq!(homework[0].every_days, Some(7));

    // A second version; the first is kept, and the homework is not set twice.
    let r = t.post_form(&base, &plan_form("1", "7")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(app.db().homework_of(client.id).await.unwrap().len(), 1);
    let versions = app
        .db()
        .versions(tend::db::versioned::Versioned::TreatmentPlan, client.id)
        .await
        .unwrap();
    assert_eq!(
        versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        [2, 1]
    );
    let page = t.get(&base).await;
    assert!(
        page.select_text("table tbody tr")
            .unwrap()
            .contains("Not yet"),
        "8 is above 7"
    );

    // Someone else's save in between: the form comes back with these words kept.
    let stale = t.post_form(&base, &plan_form("1", "6")).await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert!(stale.body.contains("Someone else saved this plan"));
    assert_eq!(
        stale.count("#goal_1_target[value='6']"),
        1,
        "the target typed is kept in its field"
    );
    // A review of an older version is refused the same way, keeping the note.
    let stale = t
        .post_form(
            &format!("{base}/reviews"),
            &[("version", "1"), ("note", "Late thought.")],
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert_eq!(stale.select_text("#note").unwrap(), "Late thought.");

    // The client reads their plan, without the forms.
    let mut c = app.signed_in(&client).await;
    let own = c.get(&base).await.assert_status(StatusCode::OK);
    assert!(own.body.contains("Your plan for therapy"));
    assert!(own.body.contains("Travel to work by train"));
    assert_eq!(own.count("form[action$=reviews]"), 0);
    assert_eq!(
        c.get_status(&format!("{base}/edit")).await,
        StatusCode::FORBIDDEN
    );
    let r = c.post_form(&base, &plan_form("2", "5")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Another therapist learns nothing, and the attempt is audited.
    let other = app.user(Role::Therapist, "otto@x.test").await;
    let mut o = app.signed_in(&other).await;
    assert_eq!(o.get_status(&base).await, StatusCode::NOT_FOUND);
    let denied: i64 = tend::with_pool!(app.db(), |pool| {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit_log WHERE actor_id = $1 AND outcome = 'denied'",
        )
        .bind(other.id)
        .fetch_one(pool)
        .await
        .unwrap()
    });
    assert_eq!(denied, 1);
}

#[tokio::test]
async fn bad_plan_forms_name_each_field_and_keep_every_word() {
    let app = TestApp::new().await;
    let therapist = app.user(Role::Therapist, "tess@x.test").await;
    let client = app.client_of(&therapist, "cara@x.test").await;
    let base = format!("/clients/{}/plan", client.id);
    let mut t = app.signed_in(&therapist).await;
    let long = "x".repeat(1_001);
    let r = t
        .post_form(
            &base,
            &[
                ("version", "0"),
                ("problem_1", "Worry that doesn't switch off"),
                ("problem_2", &long),
                ("goal_1_text", "Worry less"),
                ("goal_1_measure", "gad7"),
                ("goal_1_target", "30"),
                ("goal_2_measure", "phq9"),
                ("goal_2_target", "5"),
                ("intervention_1_practice", "not-a-practice"),
                ("review_weeks", "100"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for field in [
        "problem_2",
        "goal_1_target",
        "goal_2_text",
        "intervention_1_practice",
        "review_weeks",
    ] {
        assert_eq!(
            r.count(&format!("#{field}[aria-invalid=true]")),
            1,
            "{field} is marked"
        );
    }
    assert!(r.body.contains("Enter a score from 0 to 21."));
    assert!(
        r.body.contains("Worry that doesn&#x27;t switch off")
            || r.body.contains("Worry that doesn&#39;t switch off")
    );
    assert!(
        app.db().treatment_plan(client.id).await.unwrap().is_none(),
        "nothing saved"
    );
    // Reviewing a plan that does not exist says so.
    let r = t
        .post_form(
            &format!("{base}/reviews"),
            &[("version", "0"), ("note", "Hm.")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Write the plan before reviewing it."));
}

#[tokio::test]
async fn a_plan_due_for_review_asks_for_attention_until_it_is_reviewed() {
    let app = TestApp::new().await;
    let therapist = app.user(Role::Therapist, "tess@x.test").await;
    let client = app.client_of(&therapist, "cara@x.test").await;
    let base = format!("/clients/{}/plan", client.id);
    let mut t = app.signed_in(&therapist).await;
    t.post_form(&base, &plan_form("0", "9"))
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let attention = |body: &str| {
        let doc = scraper::Html::parse_document(body);
        let sel = scraper::Selector::parse("ul.attention li").unwrap();
        doc.select(&sel)
            .map(|li| li.text().collect::<String>())
            .collect::<Vec<_>>()
    };
    assert!(
        attention(&t.get("/clients").await.body).is_empty(),
        "not due yet"
    );
    tend::with_pool!(app.db(), |pool| {
        sqlx::query("UPDATE treatment_plans SET next_review = '2026-01-01' WHERE client_id = $1")
            .bind(client.id)
            .execute(pool)
            .await
            .unwrap();
    });
    let list = attention(&t.get("/clients").await.body);
    assert_eq!(list.len(), 1);
    assert!(list[0].contains("plan review due"), "{list:?}");
    assert!(
        t.get(&base)
            .await
            .body
            .contains("This plan is due for review.")
    );
    t.post_form(
        &format!("{base}/reviews"),
        &[("version", "1"), ("note", "Still working on the train.")],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    assert!(
        attention(&t.get("/clients").await.body).is_empty(),
        "reviewed"
    );
}
