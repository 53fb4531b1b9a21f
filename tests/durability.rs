#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! A real `tend serve` process: an acknowledged write survives `kill -9`, and SIGTERM shuts
//! down cleanly.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;

use tend::accounts::queries::Stage;
use tend::authz::Role;

#[tokio::test]
async fn an_acknowledged_save_survives_kill_9() {
    let app = support::TestApp::new().await;
    let therapist = app.user(Role::Therapist, "t@tend.test").await;
    let client = app.client_of(&therapist, "c@tend.test").await;
    let session = app.session_token(&therapist, "web", Stage::Full).await;
    let config = (*app.state.config).clone();
    let (mut server, addr) = support::server::start(&config);

    let sentence = "Saved just before the power went out";
    let csrf = tend::crypto::token::new_token().0;
    let body = format!("csrf={csrf}&intake={}", sentence.replace(' ', "+"));
    let request = format!(
        "POST /clients/{}/intake HTTP/1.1\r\nHost: {addr}\r\nCookie: tend_session={session}; tend_csrf={csrf}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        client.id,
        body.len()
    );
    let mut stream = TcpStream::connect(&addr).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut status_line = [0u8; 12];
    stream.read_exact(&mut status_line).unwrap();
    assert_eq!(&status_line, b"HTTP/1.1 303", "the save was acknowledged");

    server.kill().unwrap(); // SIGKILL: no graceful shutdown, no flush.
    server.wait().unwrap();

    let reopened = tend::app::build_state(config).await.unwrap();
    let view = tend::care::record::open_record(&reopened, &therapist, client.id, None)
        .await
        .map_err(|e| e.to_string())
        .unwrap();
    assert_eq!(view.intake.as_deref(), Some(sentence));
}

/// Posts one journal entry over a fresh connection; true when Tend acknowledged it (303),
/// false when the connection failed or was cut before an answer.
fn post_entry(addr: &str, session: &str, csrf: &str, text: &str) -> bool {
    let body = format!("csrf={csrf}&text={}", text.replace(' ', "+"));
    let request = format!(
        "POST /journal HTTP/1.1\r\nHost: {addr}\r\nCookie: tend_session={session}; tend_csrf={csrf}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let Ok(mut stream) = TcpStream::connect(addr) else {
        return false;
    };
    let mut status_line = [0u8; 12];
    stream.write_all(request.as_bytes()).is_ok()
        && stream.read_exact(&mut status_line).is_ok()
        && &status_line == b"HTTP/1.1 303"
}

#[tokio::test]
async fn every_write_acknowledged_before_kill_9_under_sustained_load_is_there_after_restart() {
    const WRITERS: usize = 4;
    const KILL_AFTER: usize = 120;
    let app = support::TestApp::new().await;
    let therapist = app.user(Role::Therapist, "t@tend.test").await;
    let client = app.client_of(&therapist, "c@tend.test").await;
    let session = app.session_token(&client, "web", Stage::Full).await;
    let csrf = tend::crypto::token::new_token().0;
    let config = (*app.state.config).clone();
    let (mut server, addr) = support::server::start(&config);

    // Writers save entries as fast as Tend answers, each reporting what was acknowledged.
    let (acknowledged, receipts) = std::sync::mpsc::channel::<String>();
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (addr, session, csrf, acknowledged) = (
                addr.clone(),
                session.clone(),
                csrf.clone(),
                acknowledged.clone(),
            );
            std::thread::spawn(move || {
                for n in 0.. {
                    let text = format!("Evening note {w}-{n} written while the practice was busy");
                    if !post_entry(&addr, &session, &csrf, &text)
                        || acknowledged.send(text).is_err()
                    {
                        return n;
                    }
                }
                unreachable!()
            })
        })
        .collect();
    drop(acknowledged);
    let mut saved: Vec<String> = receipts.iter().take(KILL_AFTER).collect();
    server.kill().unwrap(); // SIGKILL mid-stream: writes are in flight on every writer.
    server.wait().unwrap();
    let answered: usize = writers.into_iter().map(|w| w.join().unwrap()).sum();
    saved.extend(receipts.iter()); // answers that arrived between the count and the kill
    assert!(saved.len() >= KILL_AFTER);
    assert_eq!(saved.len(), answered, "every acknowledgement was counted");

    let reopened = tend::app::build_state(config).await.unwrap();
    let mut stored = std::collections::HashSet::new();
    for entry in reopened
        .db
        .entries(client.id, false, 100_000)
        .await
        .unwrap()
    {
        let text = reopened
            .sealer
            .open(
                &tend::practice::pages::entry_context(entry.id),
                &entry.text_sealed,
            )
            .await
            .expect("every stored entry opens whole");
        stored.insert(text);
    }
    let lost: Vec<_> = saved.iter().filter(|t| !stored.contains(*t)).collect();
    assert!(
        lost.is_empty(),
        "acknowledged but lost after kill -9: {lost:?}"
    );
    // Anything else stored was in flight when the process died: at most one per writer.
    assert!(
        stored.len() <= saved.len() + WRITERS,
        "{} stored, {} acknowledged",
        stored.len(),
        saved.len()
    );
    eprintln!(
        "{} writes acknowledged before kill -9, all {} found after restart ({} stored)",
        saved.len(),
        saved.len(),
        stored.len()
    );
}

#[tokio::test]
async fn sigterm_shuts_down_cleanly() {
    let app = support::TestApp::new().await;
    let (mut server, addr) = support::server::start(&app.state.config);
    let mut stream = TcpStream::connect(&addr).unwrap();
    stream
        .write_all(
            format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(
        Command::new("kill")
            .args(["-TERM", &server.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let status = server.wait().unwrap();
    assert!(
        status.success(),
        "tend exits cleanly on SIGTERM: {status:?}"
    );
}

/// Sets `PRAGMA max_page_count` on every connection of the SQLite pool (holding all of them at
/// once, so none is missed): SQLite then answers SQLITE_FULL exactly as on a full disk.
async fn cap_pages(pool: &sqlx::SqlitePool, pages: Option<i64>) {
    let mut held = Vec::new();
    for _ in 0..pool.options().get_max_connections() {
        held.push(pool.acquire().await.unwrap());
    }
    for conn in &mut held {
        let cap = match pages {
            Some(p) => p,
            None => sqlx::query_scalar::<_, i64>("PRAGMA page_count")
                .fetch_one(&mut **conn)
                .await
                .unwrap(),
        };
        sqlx::query(&format!("PRAGMA max_page_count = {cap}"))
            .execute(&mut **conn)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_full_disk_gets_a_clear_answer_saves_nothing_by_half_and_corrupts_nothing() {
    // SQLite's own file; PostgreSQL's disk is its server's (its "disk full", class 53, maps
    // to the same answer in error.rs).
    let app = support::TestApp::new().await;
    let tend::db::Db::Sqlite(pool) = app.db().clone() else {
        return;
    };
    let therapist = app.user(Role::Therapist, "t@tend.test").await;
    let client = app.client_of(&therapist, "c@tend.test").await;
    let mut v = app.signed_in(&client).await;
    let entries =
        |db: tend::db::Db| async move { db.entries(client.id, false, 100).await.unwrap().len() };
    v.post_form("/journal", &[("text", "A quiet morning.")])
        .await;
    assert_eq!(entries(app.db().clone()).await, 1);

    // The disk fills: no page can be added.
    cap_pages(&pool, None).await;
    let long = "The day felt long and I wanted to write all of it down. ".repeat(400);
    let r = v.post_form("/journal", &[("text", &long)]).await;
    assert_eq!(
        r.status,
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        r.body
    );
    assert!(r.body.contains("Nothing you sent was lost or half-saved"));
    assert_eq!(entries(app.db().clone()).await, 1, "nothing half-saved");

    // Space again: the file is whole and writing works without a restart.
    cap_pages(&pool, Some(1_073_741_823)).await;
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(check, "ok");
    let r = v.post_form("/journal", &[("text", &long)]).await;
    assert_eq!(r.status, axum::http::StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(entries(app.db().clone()).await, 2);
}
