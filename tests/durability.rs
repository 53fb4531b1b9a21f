#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! An acknowledged write survives `kill -9` of the server: a real `tend serve` process
//! answers a save, is killed without warning, and the saved text is there afterwards.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

use tend::accounts::queries::Stage;
use tend::authz::Role;

#[tokio::test]
async fn an_acknowledged_save_survives_kill_9() {
    let app = support::TestApp::new().await;
    let therapist = app.user(Role::Therapist, "t@tend.test").await;
    let client = app.client_of(&therapist, "c@tend.test").await;
    let session = app.session_token(&therapist, "web", Stage::Full).await;
    let config = (*app.state.config).clone();

    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tend"));
    cmd.args(["serve", "--listen", "127.0.0.1:0"])
        .env("TEND_DATA_DIR", &config.data_dir)
        .env_remove("TEND_MASTER_KEY")
        .env("TEND_RUN_JOBS", "false");
    match &config.database_url {
        Some(url) => cmd.env("DATABASE_URL", url),
        None => cmd.env_remove("DATABASE_URL"),
    };
    let mut server = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait for the server's own "ready" line, which it prints after binding.
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("server exited before it was ready")
            .unwrap();
        if let Some(url) = line.strip_prefix("Tend is ready at http://") {
            break url.trim().to_string();
        }
    };

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
