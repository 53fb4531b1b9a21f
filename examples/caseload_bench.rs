//! Caseload benchmark (`bench/caseload`): one therapist with N clients (default 200), each with
//! two questionnaire summaries, an overdue questionnaire for some, suggested practices and
//! completions, a conversation of messages, attended and booked sessions, and notes; then
//! times `GET /clients` (every order, and the attention-only view) through the whole router,
//! signed in as the therapist. Target p99 ≤ 50 ms on SQLite.
//! SQLite by default (a fresh data directory); PostgreSQL when `DATABASE_URL` is set (use a
//! throwaway database).
//!
//! Usage: cargo run --release --example caseload_bench [clients] [requests]

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/mod.rs"]
mod support;

use std::time::Instant;

use tend::accounts::queries::NewUser;
use tend::authz::Role;
use tend::db::{Timestamp, new_id};

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let clients: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(200);
    let requests: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(300);

    // On the project disk, not a RAM-backed /tmp, so fsync costs what it would in production.
    let dir = tempfile::TempDir::new_in("target").unwrap();
    let mut config = tend::config::Config::for_data_dir(dir.path().to_path_buf());
    config.database_url = std::env::var("DATABASE_URL").ok();
    let state = tend::app::build_state(config).await.unwrap();
    let db = &state.db;
    let therapist = db
        .create_user(NewUser {
            email: "t@bench.test",
            name: "Therapist",
            role: Role::Therapist,
            password_hash: None,
            therapist_id: None,
        })
        .await
        .unwrap();
    let session_type = db
        .add_session_type(therapist.id, "Session", 50, "video", 9000)
        .await
        .unwrap();
    let seeded = Instant::now();
    let now = time::OffsetDateTime::now_utc();
    let ago = |days: i64| Timestamp::from(now - time::Duration::days(days));
    let sealed = vec![7u8; 400];
    for c in 0..clients {
        let client = db
            .create_user(NewUser {
                email: &format!("c{c}@bench.test"),
                name: &format!("Client {c:04}"),
                role: Role::Client,
                password_hash: None,
                therapist_id: Some(therapist.id),
            })
            .await
            .unwrap();
        for (k, instrument) in ["phq9", "gad7"].into_iter().enumerate() {
            let (first, latest) = (((c + k) % 22) as f64, ((c * 7 + k) % 22) as f64);
            db.upsert_summary(&tend::measures::queries::Summary {
                client_id: client.id,
                instrument: instrument.into(),
                baseline_total: first,
                baseline_at: ago(120),
                latest_total: latest,
                latest_at: ago(3),
                administrations: 8,
                status: if latest + 6.0 <= first {
                    "reliably_improved"
                } else if latest >= first + 6.0 {
                    "reliably_deteriorated"
                } else {
                    "no_reliable_change"
                }
                .into(),
                not_on_track: latest >= first + 6.0,
            })
            .await
            .unwrap();
        }
        if c % 5 == 0 {
            db.assign_measure(client.id, therapist.id, "phq9", Some(14))
                .await
                .unwrap();
        }
        db.ensure_conversations(client.id).await.unwrap();
        let conversation = db.conversations_for(client.id).await.unwrap()[0].id;
        tend::with_pool!(db, |pool| {
            let mut tx = pool.begin().await.unwrap();
            for (practice, every) in [
                ("breathing-space", Some(7i64)),
                ("compassionate-letter", None),
            ] {
                sqlx::query(
                    "INSERT INTO homework (id, client_id, therapist_id, practice_id, every_days, active, created_at) \
                     VALUES ($1, $2, $3, $4, $5, TRUE, $6)",
                )
                .bind(new_id()).bind(client.id).bind(therapist.id).bind(practice).bind(every).bind(ago(90))
                .execute(&mut *tx).await.unwrap();
            }
            for d in 0..(c % 12) as i64 {
                sqlx::query(
                    "INSERT INTO practice_completions (id, client_id, practice_id, minutes, shared, completed_at) \
                     VALUES ($1, $2, 'breathing-space', 5, FALSE, $3)",
                )
                .bind(new_id()).bind(client.id).bind(ago(d * 5 + 1))
                .execute(&mut *tx).await.unwrap();
            }
            for m in 0..20i64 {
                let sender = if m % 2 == 0 { client.id } else { therapist.id };
                sqlx::query(
                    "INSERT INTO messages (id, conversation_id, sender_id, body_sealed, client_key, risk_level, created_at) \
                     VALUES ($1, $2, $3, $4, $5, 'none', $6)",
                )
                .bind(new_id()).bind(conversation).bind(sender).bind(&sealed).bind(format!("k{m}"))
                .bind(ago(60 - m * 3 + (c % 3) as i64))
                .execute(&mut *tx).await.unwrap();
            }
            for s in 0..10i64 {
                // Weekly sessions: eight behind (attended, each with a signed note), two ahead; 50
                // minutes apart across clients, so no two booked sessions share a start.
                let starts = now
                    + time::Duration::days(7 * (s - 8))
                    + time::Duration::minutes(c as i64 * 50);
                let appointment = new_id();
                sqlx::query(
                    "INSERT INTO appointments (id, therapist_id, client_id, session_type_id, starts_at, ends_at, status, \
                     modality, fee_cents, room, sequence, created_at, updated_at, changed_by) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, 'video', 9000, 'room', 0, $8, $8, $2)",
                )
                .bind(appointment).bind(therapist.id).bind(client.id).bind(session_type)
                .bind(Timestamp::from(starts)).bind(Timestamp::from(starts + time::Duration::minutes(50)))
                .bind(if s < 8 { "attended" } else { "booked" }).bind(ago(100))
                .execute(&mut *tx).await.unwrap();
                if s < 8 {
                    sqlx::query(
                        "INSERT INTO session_notes (id, client_id, author_id, appointment_id, template, session_date, \
                         body_sealed, shared, signed_at, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, 'soap', $5, $6, FALSE, $7, $7, $7)",
                    )
                    .bind(new_id()).bind(client.id).bind(therapist.id).bind(appointment)
                    .bind(starts.date().to_string()).bind(&sealed).bind(Timestamp::from(starts))
                    .execute(&mut *tx).await.unwrap();
                }
            }
            // What insert_message and set_appointment_status keep; the raw inserts above
            // bypass them.
            sqlx::query("UPDATE care_relationships SET last_contact_at = $1 WHERE client_id = $2")
                .bind(ago(3 + (c % 3) as i64))
                .bind(client.id)
                .execute(&mut *tx)
                .await
                .unwrap();
            tx.commit().await.unwrap();
        });
    }
    tend::with_pool!(db, |pool| {
        sqlx::query("ANALYZE").execute(pool).await.unwrap();
    });
    println!(
        "## Caseload ({:?}): {clients} clients, each with 2 summaries, 2 suggested practices, up to 11 completions, \
         20 messages, 10 sessions and 8 notes; seeded in {:.1} s",
        db.backend(),
        seeded.elapsed().as_secs_f64()
    );

    let session = support::SignedIn::new(&state, therapist.id).await;
    for _ in 0..20 {
        session.get("/clients").await;
    }
    let views = [
        "/clients",
        "/clients?sort=next",
        "/clients?sort=note",
        "/clients?sort=contact",
        "/clients?sort=homework",
        "/clients?show=attention",
    ];
    let mut times = Vec::with_capacity(requests);
    for i in 0..requests {
        times.push(session.get(views[i % views.len()]).await);
    }
    support::report("caseload page (/clients, every order)", times);

    // PROBE=1: each storage call the page makes, alone, to see where the time goes.
    if std::env::var("PROBE").is_ok() {
        let t = therapist.id;
        let since = Timestamp::from(now - time::Duration::days(28));
        macro_rules! probe {
            ($name:expr, $call:expr) => {{
                let mut times = Vec::new();
                for _ in 0..50 {
                    let started = Instant::now();
                    $call.await.unwrap();
                    times.push(started.elapsed());
                }
                support::report($name, times);
            }};
        }
        probe!("caseload", db.caseload(t));
        probe!("caseload_summaries", db.caseload_summaries(t));
        probe!("open_alert_counts", db.open_alert_counts(t));
        probe!("next_sessions", db.next_sessions(t));
        probe!("last_notes_by", db.last_notes_by(t));
        probe!("waiting_messages", db.waiting_messages(t));
        probe!("overdue_measures", db.overdue_measures(t, since));
        probe!("caseload_homework", db.caseload_homework(t));
        probe!("caseload_completions", db.caseload_completions(t, since));
        probe!("last_contacts", db.last_contacts(t));
    }
}
