#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The caseload's "who needs attention today" on the current backend: an unanswered message
//! and an overdue questionnaire put a client on the list, a reply takes them off, and a client
//! with nothing waiting never appears.

mod support;

use support::TestApp;
use tend::authz::Role;

/// The client names in the caseload table, in order.
fn rows(body: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(body);
    let sel = scraper::Selector::parse("tbody tr td:first-child a").unwrap();
    doc.select(&sel)
        .map(|a| a.text().collect::<String>())
        .collect()
}

/// The names on the attention list, in order.
fn attention(body: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(body);
    let sel = scraper::Selector::parse("ul.attention li").unwrap();
    doc.select(&sel)
        .map(|li| li.text().collect::<String>())
        .collect()
}

#[tokio::test]
async fn messages_waiting_and_overdue_questionnaires_need_attention() {
    let app = TestApp::new().await;
    let t = app.user(Role::Therapist, "tess@x.test").await;
    let writer = app.client_of(&t, "wren@x.test").await;
    let late = app.client_of(&t, "lark@x.test").await;
    app.client_of(&t, "calm@x.test").await;
    let mut v = app.signed_in(&t).await;
    let page = v.get("/clients").await;
    assert!(attention(&page.body).is_empty());
    // Viewing a caseload is an access decision too, and is logged.
    assert_eq!(app.audit_count("caseload.view", "success").await, 1);
    assert!(page.body.contains("Nobody is waiting on you right now"));

    // Wren writes; nobody has answered yet.
    app.db().ensure_conversations(writer.id).await.unwrap();
    let conversation = app.db().conversations_for(writer.id).await.unwrap()[0].id;
    let send = |sender: uuid::Uuid, key: &'static str| {
        let db = app.db().clone();
        async move {
            db.insert_message(
                conversation,
                sender,
                uuid::Uuid::now_v7(),
                b"sealed",
                key,
                "none",
            )
            .await
            .unwrap();
        }
    };
    send(writer.id, "w1").await;
    // Lark's questionnaire fell due ten days ago.
    let assignment = app
        .db()
        .assign_measure(late.id, t.id, "phq9", Some(14))
        .await
        .unwrap();
    let ten_days_ago =
        tend::db::Timestamp::from(time::OffsetDateTime::now_utc() - time::Duration::days(10));
    tend::with_pool!(app.db(), |pool| {
        sqlx::query("UPDATE measure_assignments SET next_due_at = $1 WHERE id = $2")
            .bind(ten_days_ago)
            .bind(assignment)
            .execute(pool)
            .await
            .unwrap();
    });
    let list = attention(&v.get("/clients").await.body);
    assert_eq!(list.len(), 2, "{list:?}");
    assert!(list[0].starts_with("Wren") && list[0].contains("message waiting since"));
    assert!(list[1].starts_with("Lark") && list[1].contains("1 questionnaire overdue"));

    // A reply takes Wren off the list; a new message puts them back.
    send(t.id, "t1").await;
    let list = attention(&v.get("/clients").await.body);
    assert_eq!(list.len(), 1, "{list:?}");
    assert!(list[0].starts_with("Lark"));
    send(writer.id, "w2").await;
    assert_eq!(attention(&v.get("/clients").await.body).len(), 2);

    // The table orders and narrows: by name by default (and for anything unknown), by time
    // in care, or only those who need attention.
    assert_eq!(
        rows(&v.get("/clients").await.body),
        ["Calm", "Lark", "Wren"]
    );
    assert_eq!(
        rows(&v.get("/clients?sort=colour").await.body),
        ["Calm", "Lark", "Wren"]
    );
    assert_eq!(
        rows(&v.get("/clients?sort=since").await.body),
        ["Wren", "Lark", "Calm"]
    );
    let only = v.get("/clients?show=attention").await;
    assert_eq!(rows(&only.body), ["Lark", "Wren"]);
    assert!(only.body.contains("2 of 3 clients need attention"));
}

/// The text of each cell in the row of the client named `name`.
fn row_of(body: &str, name: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(body);
    let tr = scraper::Selector::parse("tbody tr").unwrap();
    let td = scraper::Selector::parse("td").unwrap();
    doc.select(&tr)
        .map(|row| {
            row.select(&td)
                .map(|c| c.text().collect::<String>().trim().to_string())
                .collect::<Vec<_>>()
        })
        .find(|cells| cells[0].starts_with(name))
        .unwrap_or_else(|| panic!("no row for {name}"))
}

#[tokio::test]
async fn each_row_shows_scores_homework_and_last_contact() {
    let app = TestApp::new().await;
    let t = app.user(Role::Therapist, "tess@x.test").await;
    let ada = app.client_of(&t, "ada@x.test").await;
    let bea = app.client_of(&t, "bea@x.test").await;
    let cy = app.client_of(&t, "cy@x.test").await;
    let now = time::OffsetDateTime::now_utc();
    let days_ago = |d: i64| tend::db::Timestamp::from(now - time::Duration::days(d));

    // Ada improved reliably on the PHQ-9; Bea worsened on the GAD-7 and is not on track.
    for (client, instrument, first, latest, status, off) in [
        (ada.id, "phq9", 17.0, 9.0, "reliably_improved", false),
        (bea.id, "gad7", 8.0, 15.0, "reliably_deteriorated", true),
    ] {
        app.db()
            .upsert_summary(&tend::measures::queries::Summary {
                client_id: client,
                instrument: instrument.into(),
                baseline_total: first,
                baseline_at: days_ago(60),
                latest_total: latest,
                latest_at: days_ago(1),
                administrations: 3,
                status: status.into(),
                not_on_track: off,
            })
            .await
            .unwrap();
    }
    // Ada: a breathing practice every 7 days for months, done three times in the last four
    // weeks (and once before them). Bea: a one-off letter suggested 10 days ago, not done.
    tend::with_pool!(app.db(), |pool| {
        for (client, practice, every, created) in [
            (ada.id, "breathing-space", Some(7i64), days_ago(90)),
            (bea.id, "compassionate-letter", None, days_ago(10)),
        ] {
            sqlx::query(
                "INSERT INTO homework (id, client_id, therapist_id, practice_id, every_days, active, created_at) \
                 VALUES ($1, $2, $3, $4, $5, TRUE, $6)",
            )
            .bind(uuid::Uuid::now_v7())
            .bind(client)
            .bind(t.id)
            .bind(practice)
            .bind(every)
            .bind(created)
            .execute(pool)
            .await
            .unwrap();
        }
        for d in [2, 9, 20, 40] {
            sqlx::query(
                "INSERT INTO practice_completions (id, client_id, practice_id, minutes, shared, completed_at) \
                 VALUES ($1, $2, 'breathing-space', 5, FALSE, $3)",
            )
            .bind(uuid::Uuid::now_v7())
            .bind(ada.id)
            .bind(days_ago(d))
            .execute(pool)
            .await
            .unwrap();
        }
    });
    // Ada has been in touch by message; Cy by a session (below); Bea not at all.
    app.db().ensure_conversations(ada.id).await.unwrap();
    let conversation = app.db().conversations_for(ada.id).await.unwrap()[0].id;
    app.db()
        .insert_message(
            conversation,
            ada.id,
            uuid::Uuid::now_v7(),
            b"sealed",
            "a1",
            "none",
        )
        .await
        .unwrap();

    // Cy came to a session ten days ago (booked earlier, marked attended).
    let session_type = app
        .db()
        .add_session_type(t.id, "Session", 50, "video", 9000)
        .await
        .unwrap();
    let appointment = uuid::Uuid::now_v7();
    let starts = now - time::Duration::days(10);
    app.db()
        .book(&tend::directory::queries::NewAppointment {
            id: appointment,
            therapist_id: t.id,
            client_id: cy.id,
            session_type_id: session_type,
            starts_at: starts.into(),
            ends_at: (starts + time::Duration::minutes(50)).into(),
            modality: "video".into(),
            fee_cents: 9000,
            room: "room".into(),
            by: t.id,
        })
        .await
        .unwrap();
    assert!(
        app.db()
            .set_appointment_status(appointment, "attended", t.id)
            .await
            .unwrap()
    );

    let mut v = app.signed_in(&t).await;
    let body = v.get("/clients").await.body;
    let ada_row = row_of(&body, "Ada");
    assert_eq!(ada_row[1], "PHQ-9 17 → 9, reliably improved");
    assert_eq!(ada_row[3], "3 of 4 done");
    assert!(ada_row[4].contains("UTC"), "{ada_row:?}");
    let bea_row = row_of(&body, "Bea");
    assert!(bea_row[1].starts_with("Not on track"), "{bea_row:?}");
    assert!(
        bea_row[1].ends_with("GAD-7 8 → 15, reliably deteriorated"),
        "{bea_row:?}"
    );
    assert_eq!(bea_row[3], "0 of 1 done");
    assert_eq!(bea_row[4], "none yet");
    let cy_row = row_of(&body, "Cy");
    assert_eq!(
        (cy_row[1].as_str(), cy_row[3].as_str()),
        ("No scores yet", "nothing due")
    );
    assert_eq!(cy_row[4], tend::db::Timestamp::from(starts).display());

    // Never in touch first, then the longest ago; least homework done first,
    // nothing due last.
    assert_eq!(
        rows(&v.get("/clients?sort=contact").await.body),
        ["Bea", "Cy", "Ada"]
    );
    assert_eq!(
        rows(&v.get("/clients?sort=homework").await.body),
        ["Bea", "Ada", "Cy"]
    );
}
