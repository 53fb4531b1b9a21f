#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Practice outcomes on the current backend: counts per questionnaire for the practice and per
//! therapist, percentages withheld below ten clients, clients out of touch, retention, sessions, the CSV,
//! and an audit entry for every reading.

mod support;

use support::TestApp;
use tend::audit::AuditFilter;
use tend::authz::Role;
use tend::measures::queries::Summary;

/// Every row of every table on the page, as the text of its cells.
fn table_rows(body: &str) -> Vec<Vec<String>> {
    let doc = scraper::Html::parse_document(body);
    let tr = scraper::Selector::parse("tbody tr").unwrap();
    let cell = scraper::Selector::parse("th, td").unwrap();
    doc.select(&tr)
        .map(|r| {
            r.select(&cell)
                .map(|c| c.text().collect::<String>().trim().to_string())
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn the_report_counts_outcomes_and_withholds_small_numbers() {
    let app = TestApp::new().await;
    let ana = app.user(Role::Therapist, "ana@x.test").await;
    let bo = app.user(Role::Therapist, "bo@x.test").await;
    let now = time::OffsetDateTime::now_utc();
    let days_ago = |d: i64| tend::db::Timestamp::from(now - time::Duration::days(d));
    // Ana: ten clients on the PHQ-9 (4 recovered, 3 better, 2 the same, 1 worse). Bo: two,
    // both better, and one with a single score (not counted: a change needs two).
    let mut n = 0;
    for (therapist, status, count, administrations) in [
        (&ana, "recovered", 4, 3),
        (&ana, "reliably_improved", 3, 3),
        (&ana, "no_reliable_change", 2, 2),
        (&ana, "reliably_deteriorated", 1, 5),
        (&bo, "reliably_improved", 2, 4),
        (&bo, "no_reliable_change", 1, 1),
    ] {
        for _ in 0..count {
            n += 1;
            let client = app.client_of(therapist, &format!("c{n}@x.test")).await;
            app.db()
                .upsert_summary(&Summary {
                    client_id: client.id,
                    instrument: "phq9".into(),
                    baseline_total: 18.0,
                    baseline_at: days_ago(90),
                    latest_total: 8.0,
                    latest_at: days_ago(2),
                    administrations,
                    status: status.into(),
                    not_on_track: false,
                })
                .await
                .unwrap();
        }
    }
    // Every client of Ana's began 90 days ago; one wrote to her last week.
    tend::with_pool!(app.db(), |pool| {
        sqlx::query("UPDATE care_relationships SET started_at = $1")
            .bind(days_ago(90))
            .execute(pool)
            .await
            .unwrap();
    });
    let writer = app.db().caseload(ana.id).await.unwrap()[0].id;
    // The writer came to three sessions last week: two attended, one missed.
    let session = app
        .db()
        .add_session_type(ana.id, "Individual session", 50, "video", 9000)
        .await
        .unwrap();
    for (hours, status) in [(170, "attended"), (150, "attended"), (130, "no_show")] {
        let starts = tend::db::Timestamp::from(now - time::Duration::hours(hours));
        let id = uuid::Uuid::now_v7();
        app.db()
            .book(&tend::directory::queries::NewAppointment {
                id,
                therapist_id: ana.id,
                client_id: writer,
                session_type_id: session,
                starts_at: starts,
                ends_at: starts + time::Duration::minutes(50),
                modality: "video".into(),
                fee_cents: 9000,
                room: "room".into(),
                by: writer,
            })
            .await
            .unwrap();
        assert!(
            app.db()
                .set_appointment_status(id, status, ana.id)
                .await
                .unwrap()
        );
    }
    app.db().ensure_conversations(writer).await.unwrap();
    let conversation = app.db().conversations_for(writer).await.unwrap()[0].id;
    app.db()
        .insert_message(
            conversation,
            writer,
            uuid::Uuid::now_v7(),
            b"sealed",
            "k",
            "none",
        )
        .await
        .unwrap();

    let bos = app.db().caseload(bo.id).await.unwrap();
    for (client, end) in [(bos[0].id, "2099-01-01"), (bos[1].id, "2026-01-01")] {
        tend::with_pool!(app.db(), |pool| {
            sqlx::query(
                "INSERT INTO treatment_plans (client_id, content_sealed, version, planned_end, updated_by, updated_at) \
                 VALUES ($1, $2, 1, $3, $4, $5)",
            )
            .bind(client)
            .bind(b"sealed".to_vec())
            .bind(end)
            .bind(bo.id)
            .bind(tend::db::Timestamp::now())
            .execute(pool)
            .await
            .unwrap();
        });
    }
    let lead = app.user(Role::Supervisor, "lead@x.test").await;
    let mut v = app.signed_in(&lead).await;
    let page = v.get("/outcomes").await;
    let rows = table_rows(&page.body);
    assert_eq!(
        rows[0][..7],
        [
            "Whole practice",
            "PHQ-9",
            "12",
            "4 (33%)",
            "5 (42%)",
            "2 (17%)",
            "1 (8%)"
        ]
    );
    let ana_row = rows.iter().find(|r| r[0] == "Ana").unwrap();
    assert_eq!(
        ana_row[2..7],
        ["10", "4 (40%)", "3 (30%)", "2 (20%)", "1 (10%)"]
    );
    let bo_row = rows.iter().find(|r| r[0] == "Bo").unwrap();
    assert_eq!(bo_row[2..8], ["2", "0", "2", "0", "0", "too few to say"]);
    assert!(
        page.body
            .contains("role=\"img\" aria-label=\"Recovered 40%, Reliably improved 30%")
    );
    // Nine of Ana's ten have had no contact in 60 days; Bo's three are all out of touch. Two
    // of Bo's have a plan: one planned to end next year (dropped out before it), one whose
    // planned end has passed (finished, not dropped out).
    let engagement: Vec<_> = rows.iter().filter(|r| r.len() == 6).collect();
    assert_eq!(engagement[0][..], ["Ana", "10", "9", "0", "2", "1"]);
    assert_eq!(engagement[1][..], ["Bo", "3", "3", "1", "0", "0"]);
    // All thirteen began 90 days (almost 13 weeks) ago; only the writer is still in touch.
    let retention: Vec<_> = rows.iter().filter(|r| r.len() == 3).collect();
    assert_eq!(retention[0][..], ["4", "13", "1 (8%)"]);
    assert_eq!(retention[2][..], ["12", "13", "1 (8%)"]);
    assert_eq!(retention[3][..], ["26", "0", "0 (too few to say)"]);
    assert!(
        page.body
            .contains("aria-label=\"Clients still in contact: week 4: 8%")
    );

    // The CSV carries the same counts; an admin may have it too.
    let admin = app.user(Role::Admin, "admin@x.test").await;
    let mut a = app.signed_in(&admin).await;
    let csv = a.get("/outcomes.csv").await;
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    assert!(
        csv.headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let lines: Vec<&str> = csv.body.split("\r\n").collect();
    assert!(lines[0].starts_with("scope,instrument,clients,recovered,"));
    assert_eq!(lines[1], "Whole practice,PHQ-9,12,4,5,2,1,33,42,17,8");
    assert!(lines.contains(&"Bo,PHQ-9,2,0,2,0,0,,,,"));

    // Every reading is audited.
    for action in ["outcomes.view", "outcomes.export"] {
        let entries = app
            .db()
            .audit_page(
                &AuditFilter {
                    action: Some(action.into()),
                    ..Default::default()
                },
                10,
            )
            .await
            .unwrap();
        assert_eq!(entries.len(), 1, "{action}");
    }
}
