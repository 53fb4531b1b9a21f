//! Benchmarks for measurement-based care (`bench/measures`):
//! 1. scoring throughput on one core;
//! 2. a client's history page and the therapist's overview with 10,000 clients × 50
//!    administrations on SQLite, through the real router, as p50/p99 latencies.
//!
//! Usage: cargo run --release --example measures_bench [clients] [administrations]

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

#[path = "support/mod.rs"]
mod support;

use tend::accounts::queries::NewUser;
use tend::authz::Role;
use tend::db::{Timestamp, new_id};
use tend::measures::library::Library;
use tend::measures::scoring::score;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let clients: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let per_client: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(50);
    let library = Library::get().unwrap();

    // 1. Scoring throughput.
    let phq9 = library.instrument("phq9").unwrap();
    let n = 1_000_000u64;
    let started = Instant::now();
    let mut checksum = 0.0;
    for i in 0..n {
        let answers: Vec<Option<i64>> = (0..9).map(|k| Some(((i >> k) & 3) as i64)).collect();
        checksum += score(phq9, &answers).unwrap().total.unwrap_or(0.0);
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "## Scoring\nPHQ-9: {:.0} scores/s on one core ({n} scores in {secs:.2} s; checksum {checksum})",
        n as f64 / secs
    );

    // 2. Seed a large practice on SQLite.
    // On the project disk, not a RAM-backed /tmp, so fsync costs what it would in production.
    let dir = tempfile::TempDir::new_in("target").unwrap();
    let config = tend::config::Config::for_data_dir(dir.path().to_path_buf());
    let state = tend::app::build_state(config).await.unwrap();
    let therapist = state
        .db
        .create_user(NewUser {
            email: "t@bench.test",
            name: "Therapist",
            role: Role::Therapist,
            password_hash: None,
            therapist_id: None,
        })
        .await
        .unwrap();
    let seed_started = Instant::now();
    let tend::db::Db::Sqlite(pool) = &state.db else {
        panic!("SQLite only")
    };
    let mut client_ids = Vec::with_capacity(clients);
    let now = Timestamp::now();
    let mut tx = pool.begin().await.unwrap();
    for c in 0..clients {
        let id = new_id();
        client_ids.push(id);
        sqlx::query("INSERT INTO users (id, email, name, role, totp_enabled, disabled, created_at, updated_at) VALUES ($1, $2, $3, 'client', FALSE, FALSE, $4, $4)")
            .bind(id).bind(format!("c{c}@bench.test")).bind(format!("Client {c:05}")).bind(now).execute(&mut *tx).await.unwrap();
        sqlx::query("INSERT INTO care_relationships (id, therapist_id, client_id, started_at) VALUES ($1, $2, $3, $4)")
            .bind(new_id()).bind(therapist.id).bind(id).bind(now).execute(&mut *tx).await.unwrap();
        let mut totals = Vec::with_capacity(per_client);
        for k in 0..per_client {
            let total = ((c * 7 + k * 3) % 28) as i64;
            let answers: Vec<Option<i64>> = (0..9)
                .map(|item| Some(((total - item).clamp(0, 3)).min(3)))
                .collect();
            let s = score(phq9, &answers).unwrap();
            totals.push(s.total.unwrap_or(0.0));
            let at = now - time::Duration::days((per_client - k) as i64 * 7);
            sqlx::query(
                "INSERT INTO measure_responses (id, client_id, instrument, answers, status, version, total, band, complete, flags, started_at, updated_at, submitted_at) \
                 VALUES ($1, $2, 'phq9', $3, 'submitted', 1, $4, $5, TRUE, '[]', $6, $6, $6)",
            )
            .bind(new_id()).bind(id).bind(serde_json::to_string(&answers).unwrap()).bind(s.total).bind(s.band).bind(at).execute(&mut *tx).await.unwrap();
        }
        let status =
            tend::measures::change::classify(&phq9.rules, totals[0], totals[per_client - 1]);
        sqlx::query(
            "INSERT INTO measure_summaries (client_id, instrument, baseline_total, baseline_at, latest_total, latest_at, administrations, status, not_on_track) \
             VALUES ($1, 'phq9', $2, $3, $4, $3, $5, $6, $7)",
        )
        .bind(id).bind(totals[0]).bind(now).bind(totals[per_client - 1]).bind(per_client as i64)
        .bind(serde_json::to_value(status).unwrap().as_str().unwrap().to_string()).bind(status == tend::measures::change::ChangeStatus::ReliablyDeteriorated)
        .execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
    sqlx::query("ANALYZE").execute(pool).await.unwrap();
    println!(
        "\n## Data\n{clients} clients × {per_client} PHQ-9 administrations seeded in {:.1} s",
        seed_started.elapsed().as_secs_f64()
    );

    // 3. Latency through the whole router, signed in as the therapist.
    let session = support::SignedIn::new(&state, therapist.id).await;
    let get = |path: String| {
        let session = &session;
        async move { session.get(&path).await }
    };
    let report = support::report;
    println!("\n## Latency (in-process router, SQLite, {clients} clients)");
    for _ in 0..20 {
        get(format!("/clients/{}/progress", client_ids[0])).await;
    }
    let mut history = Vec::new();
    for i in 0..300 {
        history.push(
            get(format!(
                "/clients/{}/progress",
                client_ids[(i * 7919) % clients]
            ))
            .await,
        );
    }
    report("client history page (/clients/{id}/progress)", history);
    let mut overview = Vec::new();
    for i in 0..300 {
        overview.push(
            get(format!(
                "/progress?page={}",
                1 + (i * 31) % (clients / 24).max(1)
            ))
            .await,
        );
    }
    report("therapist overview (/progress, 24 per page)", overview);
    let mut first = Vec::new();
    for _ in 0..100 {
        first.push(get("/progress".to_string()).await);
    }
    report("overview page 1 (+ up to 12 not on track)", first);
    // Practice outcomes over every client, as a clinical lead (supervisor) reads them.
    let lead = state
        .db
        .create_user(NewUser {
            email: "lead@bench.test",
            name: "Lead",
            role: Role::Supervisor,
            password_hash: None,
            therapist_id: None,
        })
        .await
        .unwrap();
    let lead = support::SignedIn::new(&state, lead.id).await;
    let mut outcomes = Vec::new();
    for _ in 0..100 {
        outcomes.push(lead.get("/outcomes").await);
    }
    report("practice outcomes (/outcomes, every client)", outcomes);
    if std::env::var("PROBE").is_ok() {
        let mut q = Vec::new();
        for i in 0..50 {
            let t = Instant::now();
            state
                .db
                .caseload_names(therapist.id, ((i * 31) % 400) as i64 * 24, 25)
                .await
                .unwrap();
            q.push(t.elapsed());
        }
        report("probe: caseload_names query", q);
        let since = Timestamp::now() - time::Duration::days(60);
        for (name, which) in [
            ("probe: outcome_counts", 0),
            ("probe: outcome_counts_by_therapist", 1),
            ("probe: engagement", 2),
            ("probe: retention", 3),
        ] {
            let mut times = Vec::new();
            for _ in 0..30 {
                let t = Instant::now();
                match which {
                    0 => drop(state.db.outcome_counts().await.unwrap()),
                    1 => drop(state.db.outcome_counts_by_therapist().await.unwrap()),
                    2 => drop(
                        state
                            .db
                            .engagement(
                                since,
                                &tend::plans::format_date(time::OffsetDateTime::now_utc().date()),
                            )
                            .await
                            .unwrap(),
                    ),
                    _ => drop(state.db.retention(Timestamp::now()).await.unwrap()),
                }
                times.push(t.elapsed());
            }
            report(name, times);
        }
        let mut h = Vec::new();
        for i in 0..200 {
            let t = Instant::now();
            state
                .db
                .history(client_ids[(i * 7919) % clients], "phq9")
                .await
                .unwrap();
            h.push(t.elapsed());
        }
        report("probe: one history query", h);
    }
}
