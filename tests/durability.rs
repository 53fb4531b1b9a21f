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
