//! Shared by the benchmark examples (`#[path]`-included; not an example itself).

// Each example includes all of it and uses a part.
#![allow(dead_code)]

/// Resident set size of this process in KiB, from `/proc/self/status` (0 where unavailable).
pub fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// A signed-in session against the whole router, in process: what a browser's request costs
/// Tend, without the network.
pub struct SignedIn {
    /// The app.
    router: axum::Router,
    /// The session cookie's token.
    token: String,
}

/// Signs `user_id` in directly in the database (a `kind` session, `web` or `api`, fully
/// through sign-in, for four hours) and returns its token.
pub async fn session(state: &tend::web::AppState, user_id: uuid::Uuid, kind: &str) -> String {
    let (token, hash) = tend::crypto::token::new_token();
    state
        .db
        .create_session(tend::accounts::queries::NewSession {
            token_hash: &hash,
            user_id,
            kind,
            stage: tend::accounts::queries::Stage::Full,
            expires_at: tend::db::Timestamp::now() + time::Duration::hours(4),
            source_ip: None,
        })
        .await
        .unwrap();
    token
}

impl SignedIn {
    /// Creates a full web session for `user_id` and the router to send it through.
    pub async fn new(state: &tend::web::AppState, user_id: uuid::Uuid) -> SignedIn {
        SignedIn {
            router: tend::app::router(state.clone()),
            token: session(state, user_id, "web").await,
        }
    }

    /// GETs `path`, requires 200, and returns how long the whole response took.
    pub async fn get(&self, path: &str) -> std::time::Duration {
        use tower::ServiceExt;
        let mut req = axum::http::Request::builder()
            .uri(path)
            .header("cookie", format!("tend_session={}", self.token))
            .body(axum::body::Body::empty())
            .unwrap();
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
                [127, 0, 0, 1],
                1,
            ))));
        let started = std::time::Instant::now();
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let _ = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        assert_eq!(status, axum::http::StatusCode::OK, "{path}");
        started.elapsed()
    }
}

/// Prints one line of p50, p99 and max for `times`.
pub fn report(name: &str, mut times: Vec<std::time::Duration>) {
    times.sort();
    let pct = |p: f64| {
        times[((times.len() as f64 * p).ceil() as usize).saturating_sub(1)].as_secs_f64() * 1000.0
    };
    println!(
        "{name:<44} n={:<4} p50 {:>6.2} ms  p99 {:>6.2} ms  max {:>6.2} ms",
        times.len(),
        pct(0.50),
        pct(0.99),
        pct(1.0)
    );
}
