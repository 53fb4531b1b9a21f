//! Autosave benchmark (`bench/autosave`): 200 concurrent writers saving their letter drafts
//! through the real router on SQLite, reporting p50/p99 latency and the process's RSS.
//! Each writer saves every `interval` ms (the product autosaves about every 3 s while someone
//! types; 1 s is the default here, three times that rate). An interval of 0 saves back to
//! back, which measures saturation throughput rather than latency.
//!
//! Usage: cargo run --release --example autosave_bench [writers] [saves-per-writer] [interval-ms]

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use tend::accounts::queries::NewUser;
use tend::authz::Role;
use tend::db::new_id;
use tower::ServiceExt;

#[path = "support/mod.rs"]
mod support;
use support::rss_kib;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let writers: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(200);
    let saves: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20);
    let interval: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    // On the project disk, not a RAM-backed /tmp, so fsync costs what it would in production.
    let dir = tempfile::TempDir::new_in("target").unwrap();
    let mut config = tend::config::Config::for_data_dir(dir.path().to_path_buf());
    // As in `tend serve`: TEND_SAFETY_MODEL=/nonexistent measures without the meaning screen.
    config.safety_model = std::env::var_os("TEND_SAFETY_MODEL").map(Into::into);
    let state = tend::app::build_state(config).await.unwrap();
    let router = tend::app::router(state.clone());
    let mut sessions = Vec::new();
    for w in 0..writers {
        let user = state
            .db
            .create_user(NewUser {
                email: &format!("w{w}@bench.test"),
                name: "Writer",
                role: Role::Client,
                password_hash: None,
                therapist_id: None,
            })
            .await
            .unwrap();
        let token = support::session(&state, user.id, "web").await;
        let id = new_id();
        let sealed = state
            .sealer
            .seal(&format!("drafts.content:{id}"), "")
            .await
            .unwrap();
        state.db.create_draft(id, user.id, &sealed).await.unwrap();
        sessions.push((token, id));
    }
    // The job worker runs as in `tend serve`: each save queues the draft's screening by
    // meaning, and that work competes for the same two cores.
    let (stop_worker, worker_signal) = tend::jobs::shutdown::pair();
    let worker = tend::jobs::spawn_worker(state.clone(), worker_signal);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (n, (token, id)) in sessions.into_iter().enumerate() {
        let router = router.clone();
        // Spread the writers' first saves over one interval, as real typists would be.
        let offset = Duration::from_millis(interval * n as u64 / writers.max(1) as u64);
        // Each writer's own words (no two letters share a sentence), so nothing is encoded
        // once for everyone.
        let paragraph: String = (0..20)
            .map(|i| format!("Note {n}.{i}: I notice how hard I have been on myself this week, and I want to speak to myself more gently. "))
            .collect();
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::with_capacity(saves);
            let mut next = tokio::time::Instant::now() + offset;
            for version in 1..=saves as i64 {
                tokio::time::sleep_until(next).await;
                next += Duration::from_millis(interval);
                let body = serde_json::json!({"text": format!("{paragraph} ({version})"), "version": version}).to_string();
                let mut req = Request::builder().method("POST").uri(format!("/api/v1/drafts/{id}")).header("content-type", "application/json").header("cookie", format!("tend_session={token}")).body(Body::from(body)).unwrap();
                req.extensions_mut().insert(ConnectInfo(std::net::SocketAddr::from(([127, 0, 0, 1], 1))));
                let t = Instant::now();
                let res = router.clone().oneshot(req).await.unwrap();
                assert_eq!(res.status(), StatusCode::OK);
                let _ = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
                times.push(t.elapsed());
            }
            times
        }));
    }
    let mut all: Vec<Duration> = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let wall = started.elapsed();
    let backlog_started = Instant::now();
    // How long the background screening takes to catch up once the writers stop.
    while state.db.unfinished_jobs("screen_draft").await.unwrap() > 0 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let backlog = backlog_started.elapsed();
    stop_worker.fire();
    worker.await.unwrap();
    all.sort();
    let pct = |p: f64| {
        all[((all.len() as f64 * p).ceil() as usize).saturating_sub(1)].as_secs_f64() * 1000.0
    };
    let rss = rss_kib() as f64 / 1024.0;
    println!("## Autosave (POST /api/v1/drafts/{{id}}, ~2 KB letters, SQLite, in-process router)");
    println!(
        "{writers} concurrent writers × {saves} saves, one every {interval} ms each = {} saves in {:.2} s ({:.0} saves/s)",
        all.len(),
        wall.as_secs_f64(),
        all.len() as f64 / wall.as_secs_f64()
    );
    println!(
        "p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
    println!(
        "background screening of drafts by meaning caught up {:.1} s after the last save",
        backlog.as_secs_f64()
    );
    println!("RSS of the process (server and load generator together): {rss:.1} MB");
}
