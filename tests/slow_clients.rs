#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Slow and stalled clients against a real `tend serve`: each loses its connection after its
//! deadline, and however many there are, the process holds no more connections than its cap.

mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Longest any test here waits for the server to act; far beyond the one-second deadlines
/// the servers are given, so only a server that never acts hits it.
const GUARD: Duration = Duration::from_secs(20);

/// A configuration with one-second deadlines, so stalls end quickly.
fn quick(app: &support::TestApp) -> tend::config::Config {
    let mut config = (*app.state.config).clone();
    config.header_timeout_seconds = 1;
    config.request_timeout_seconds = 1;
    config
}

/// Connects and sends `bytes`, then nothing more.
fn stall(addr: &str, bytes: &str) -> TcpStream {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.write_all(bytes.as_bytes()).unwrap();
    stream.set_read_timeout(Some(GUARD)).unwrap();
    stream
}

/// Reads until the server closes the connection; panics if it is still open after [`GUARD`].
fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut got = Vec::new();
    match stream.read_to_end(&mut got) {
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
        Err(e) => panic!("the server kept a stalled connection open: {e}"),
    }
    String::from_utf8_lossy(&got).into_owned()
}

/// Open file descriptors (sockets, database files) of a process.
fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count()
}

#[tokio::test]
async fn a_client_that_stops_sending_headers_loses_the_connection() {
    let app = support::TestApp::new().await;
    let (mut server, addr) = support::server::start(&quick(&app));

    let started = Instant::now();
    let mut stalled = stall(&addr, "GET /healthz HTTP/1.1\r\nHost: tend\r\n");
    let answer = read_until_closed(&mut stalled);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
    // Closed by its one-second deadline, not by anything slower.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );

    // A kept-alive connection left idle after its answer is closed the same way.
    let mut idle = stall(
        &addr,
        "GET /healthz HTTP/1.1\r\nHost: tend\r\nConnection: keep-alive\r\n\r\n",
    );
    let answer = read_until_closed(&mut idle);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    server.kill().unwrap();
    server.wait().unwrap();
}

#[tokio::test]
async fn a_request_body_that_stops_arriving_gets_a_timeout() {
    let app = support::TestApp::new().await;
    let (mut server, addr) = support::server::start(&quick(&app));
    let mut slow = stall(
        &addr,
        "POST /login HTTP/1.1\r\nHost: tend\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: 1000\r\n\r\nemail=some",
    );
    let mut status = [0u8; 12];
    slow.read_exact(&mut status)
        .expect("the server answered before the guard");
    assert_eq!(&status, b"HTTP/1.1 503");
    server.kill().unwrap();
    server.wait().unwrap();
}

#[tokio::test]
async fn stalled_connections_cannot_exhaust_the_server_and_real_requests_still_get_through() {
    const CAP: usize = 8;
    const STALLED: usize = 24;
    let app = support::TestApp::new().await;
    let mut config = quick(&app);
    config.max_connections = CAP;
    let (mut server, addr) = support::server::start(&config);
    let pid = server.id();

    // Warm up: the database pool's connections are open before the baseline is taken.
    let mut warm = stall(
        &addr,
        "GET /healthz HTTP/1.1\r\nHost: tend\r\nConnection: close\r\n\r\n",
    );
    assert!(read_until_closed(&mut warm).starts_with("HTTP/1.1 200"));
    let baseline = open_fds(pid);

    // Watch the process's descriptors for as long as the attack lasts.
    let done = Arc::new(AtomicBool::new(false));
    let most = Arc::new(AtomicUsize::new(baseline));
    let watcher = {
        let (done, most) = (done.clone(), most.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                most.fetch_max(open_fds(pid), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };

    let mut attackers: Vec<TcpStream> = (0..STALLED)
        .map(|_| stall(&addr, "GET / HTTP/1.1\r\nHost: tend\r\nX-Slow: "))
        .collect();
    // A real request queued behind them is answered once the stalled ones time out.
    let mut real = stall(
        &addr,
        "GET /healthz HTTP/1.1\r\nHost: tend\r\nConnection: close\r\n\r\n",
    );
    let answer = read_until_closed(&mut real);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    for attacker in &mut attackers {
        read_until_closed(attacker);
    }
    done.store(true, Ordering::Relaxed);
    watcher.join().unwrap();

    let most = most.load(Ordering::Relaxed);
    // The cap, plus a few descriptors of the process's own (database journal, pool).
    assert!(
        most <= baseline + CAP + 4,
        "{most} descriptors open at most, {baseline} before {STALLED} stalled connections (cap {CAP})"
    );
    server.kill().unwrap();
    server.wait().unwrap();
}
