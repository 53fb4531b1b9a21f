//! Messaging benchmark (`bench/messaging`): N clients hold open Server-Sent Event streams
//! over real TCP; their therapist sends messages one by one, and each message's
//! send-to-receive time (POST started → event read by the client) is recorded. Reports p50
//! and p99, and the process's RSS before and after the streams opened (per connection).
//!
//! With `DATABASE_URL` set to PostgreSQL and `instances` = 2, two Tend instances (separate
//! pools, hubs and LISTEN connections) run in this process: sends go to A, streams are on B.
//!
//! Usage: cargo run --release --example messaging_bench [clients] [messages] [instances]

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tend::accounts::queries::NewUser;
use tend::authz::Role;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Mutex;

#[path = "support/mod.rs"]
mod support;
use support::{rss_kib, session};

async fn serve(state: tend::web::AppState) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // The same connection loop and limits as `tend serve`.
    let limits = tend::http_server::Limits::from_config(&state.config);
    let app = tend::app::router(state);
    tokio::spawn(tend::http_server::serve(
        listener,
        app,
        limits,
        std::future::pending(),
    ));
    addr
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let clients: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let messages: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(300);
    let instances: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let dir = tempfile::TempDir::new_in("target").unwrap();
    let mut config = tend::config::Config::for_data_dir(dir.path().to_path_buf());
    config.database_url = std::env::var("DATABASE_URL").ok();
    config.run_jobs = false;
    let a = tend::app::build_state(config.clone()).await.unwrap();
    let b = if instances > 1 {
        let b = tend::app::build_state(config).await.unwrap();
        b.hub.spawn_pg_listener(&b.db);
        a.hub.spawn_pg_listener(&a.db);
        b
    } else {
        a.clone()
    };
    // One therapist per ten clients, so no sender meets the per-person send limit.
    let mut therapists = Vec::new();
    for t in 0..clients.div_ceil(10) {
        let therapist =
            a.db.create_user(NewUser {
                email: &format!("t{t}@bench.test"),
                name: "Therapist",
                role: Role::Therapist,
                password_hash: None,
                therapist_id: None,
            })
            .await
            .unwrap();
        let token = session(&a, therapist.id, "api").await;
        therapists.push((therapist, token));
    }
    let mut people = Vec::new();
    for c in 0..clients {
        let (therapist, therapist_token) = &therapists[c / 10];
        let user =
            a.db.create_user(NewUser {
                email: &format!("c{c}@bench.test"),
                name: "Client",
                role: Role::Client,
                password_hash: None,
                therapist_id: Some(therapist.id),
            })
            .await
            .unwrap();
        a.db.ensure_conversations(user.id).await.unwrap();
        let conversation = a.db.conversations_for(user.id).await.unwrap()[0].id;
        people.push((
            conversation,
            session(&a, user.id, "web").await,
            therapist_token.clone(),
        ));
    }
    let addr_a = serve(a.clone()).await;
    let addr_b = if instances > 1 {
        serve(b.clone()).await
    } else {
        addr_a
    };
    let rss_before = rss_kib();

    // Open every stream and wait for its headers.
    let arrivals: Arc<Mutex<Vec<(String, Instant)>>> = Arc::default();
    for (conversation, cookie, _) in &people {
        let mut stream = TcpStream::connect(addr_b).await.unwrap();
        stream
            .write_all(
                format!("GET /messages/{conversation}/events HTTP/1.1\r\nHost: bench\r\nCookie: tend_session={cookie}\r\n\r\n")
                    .as_bytes(),
            )
            .await
            .unwrap();
        let mut buf = vec![0u8; 4096];
        let mut head = String::new();
        while !head.contains("\r\n\r\n") {
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0);
            head.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        let arrivals = arrivals.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 8192];
            loop {
                let Ok(n) = stream.read(&mut buf).await else {
                    return;
                };
                if n == 0 {
                    return;
                }
                let now = Instant::now();
                let text = String::from_utf8_lossy(&buf[..n]).to_string();
                for marker in text.split("bench-").skip(1) {
                    let key: String = marker.chars().take_while(|c| c.is_ascii_digit()).collect();
                    arrivals.lock().await.push((key, now));
                }
            }
        });
    }
    let rss_after = rss_kib();

    // Send one message at a time to a different client, 20 per second.
    let mut latencies = Vec::new();
    for m in 0..messages {
        let (conversation, _, therapist_token) = &people[m * 7919 % people.len()];
        let body = format!(r#"{{"body":"bench-{m} hello","client_key":"k{m}"}}"#);
        let started = Instant::now();
        let mut post = TcpStream::connect(addr_a).await.unwrap();
        post.write_all(
            format!(
                "POST /api/v1/conversations/{conversation}/messages HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {therapist_token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        )
        .await
        .unwrap();
        let mut reply = Vec::new();
        post.read_to_end(&mut reply).await.unwrap();
        assert!(
            reply.starts_with(b"HTTP/1.1 201"),
            "{}",
            String::from_utf8_lossy(&reply)
        );
        let key = m.to_string();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some((_, at)) = arrivals.lock().await.iter().find(|(k, _)| *k == key) {
                latencies.push(at.duration_since(started));
                break;
            }
            assert!(Instant::now() < deadline, "message {m} never arrived");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p).ceil() as usize).saturating_sub(1)];
    println!(
        "backend: {}, instances: {instances}, connected clients: {clients}, messages: {messages}",
        if a.db.backend() == tend::db::Backend::Postgres {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    );
    println!(
        "send-to-receive: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        latencies.last().unwrap().as_secs_f64() * 1e3
    );
    println!(
        "RSS: {} KiB before streams, {} KiB with {clients} open ({:.1} KiB per connection, client and server side together)",
        rss_before,
        rss_after,
        (rss_after.saturating_sub(rss_before)) as f64 / clients as f64
    );
    println!("listeners on the receiving instance: {}", b.hub.listeners());
}
