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
