#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Real-time delivery between real `tend serve` processes: on PostgreSQL, a message sent
//! through instance A reaches a page connected to instance B (LISTEN/NOTIFY); on SQLite, the
//! same flow through one instance.

mod support;

use std::time::Duration;

use tend::accounts::queries::Stage;
use tend::authz::Role;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Kills the server processes when the test ends, however it ends.
struct Servers(Vec<std::process::Child>);

impl Drop for Servers {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[tokio::test]
async fn a_message_sent_through_one_instance_reaches_a_page_on_another() {
    let app = support::TestApp::new().await;
    let therapist = app.user(Role::Therapist, "t@tend.test").await;
    let client = app.client_of(&therapist, "c@tend.test").await;
    app.db().ensure_conversations(client.id).await.unwrap();
    let conversation = app.db().conversations_for(client.id).await.unwrap()[0].id;
    let client_cookie = app.session_token(&client, "web", Stage::Full).await;
    let therapist_token = app.session_token(&therapist, "api", Stage::Full).await;
    let config = (*app.state.config).clone();

    // Two instances on PostgreSQL; SQLite supports one.
    let (a, addr_a) = support::server::start(&config);
    let mut servers = Servers(vec![a]);
    let addr_b = if support::backend_is_postgres() {
        let (b, addr_b) = support::server::start(&config);
        servers.0.push(b);
        addr_b
    } else {
        addr_a.clone()
    };

    // The client's page is open on instance B.
    let mut stream = TcpStream::connect(&addr_b).await.unwrap();
    stream
        .write_all(
            format!(
                "GET /messages/{conversation}/events HTTP/1.1\r\nHost: {addr_b}\r\nCookie: tend_session={client_cookie}\r\nAccept: text/event-stream\r\n\r\n"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let mut seen = String::new();
    let mut buf = vec![0u8; 8192];
    // Wait until the stream is open (headers arrived) before sending.
    tokio::time::timeout(Duration::from_secs(10), async {
        while !seen.contains("\r\n\r\n") {
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "stream closed: {seen}");
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    })
    .await
    .expect("the event stream opened");
    assert!(seen.starts_with("HTTP/1.1 200"), "{seen}");

    // The therapist sends through instance A.
    let body = format!(
        r#"{{"body":"Sent through A, read on B","client_key":"{}"}}"#,
        uuid::Uuid::new_v4()
    );
    let mut post = TcpStream::connect(&addr_a).await.unwrap();
    post.write_all(
        format!(
            "POST /api/v1/conversations/{conversation}/messages HTTP/1.1\r\nHost: {addr_a}\r\nAuthorization: Bearer {therapist_token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let mut reply = String::new();
    post.read_to_string(&mut reply).await.unwrap();
    assert!(reply.starts_with("HTTP/1.1 201"), "{reply}");

    tokio::time::timeout(Duration::from_secs(10), async {
        while !seen.contains("Sent through A, read on B") {
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "stream closed before the message arrived: {seen}");
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the message did not reach instance B within 10 s: {seen}"));
    assert!(seen.contains("event: message"));
    drop(servers);
}
