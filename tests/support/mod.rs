//! The test harness: [`TestApp`] runs Tend's real router in-process over a fresh database
//! (a temporary SQLite file, or a throwaway PostgreSQL database when
//! `TEND_TEST_DATABASE=postgres`), and [`Visitor`] acts like a browser with a cookie jar that
//! fills in CSRF tokens. `smtp` is a real SMTP server in-process; `proxy` is a TCP proxy
//! that can cut the database connection.

#![allow(dead_code, missing_docs)]

pub mod proxy;
pub mod server;
pub mod smtp;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::OnceLock;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use tempfile::TempDir;
use tend::accounts::queries::{NewSession, NewUser, Stage, User};
use tend::authz::Role;
use tend::config::Config;
use tend::crypto::token::{hash_token, new_token};
use tend::db::{Db, Timestamp};
use tend::web::AppState;
use tower::ServiceExt;

/// The password every test account gets.
pub const PASSWORD: &str = "quiet-harbour-lantern-7";

/// Hashing once per test binary keeps tests fast (Argon2 is slow by design).
fn password_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| tend::accounts::password::hash_password(PASSWORD).expect("hash"))
}

/// Which backend tests run on, from `TEND_TEST_DATABASE` (`sqlite`, the default, or `postgres`).
pub fn backend_is_postgres() -> bool {
    std::env::var("TEND_TEST_DATABASE").is_ok_and(|v| v == "postgres")
}

/// The PostgreSQL server tests create throwaway databases on.
pub fn pg_admin_url() -> String {
    std::env::var("TEND_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A throwaway PostgreSQL database, dropped when this value is dropped.
pub struct PgDatabase {
    pub name: String,
    pub url: String,
}

impl PgDatabase {
    pub async fn create() -> PgDatabase {
        use sqlx::Connection;
        let name = format!("tend_test_{}", uuid::Uuid::now_v7().simple());
        let admin = pg_admin_url();
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .expect("connect to PostgreSQL for tests");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("create test database");
        let mut url = url::Url::parse(&admin).expect("admin url");
        url.set_path(&name);
        PgDatabase {
            name,
            url: url.to_string(),
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs outside async context; a short-lived runtime on its own thread cleans up.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                use sqlx::Connection;
                if let Ok(mut conn) = sqlx::PgConnection::connect(&pg_admin_url()).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut conn)
                        .await;
                }
            });
        })
        .join();
    }
}

/// A change to the test configuration.
type ConfigTweak = Box<dyn FnOnce(&mut Config)>;

/// Builder for [`TestApp`].
#[derive(Default)]
pub struct TestAppBuilder {
    smtp_url: Option<String>,
    database_url: Option<String>,
    tweak: Option<ConfigTweak>,
}

impl TestAppBuilder {
    /// Send email to this SMTP server instead of the outbox.
    pub fn smtp(mut self, url: String) -> Self {
        self.smtp_url = Some(url);
        self
    }

    /// Use this database URL (for example through a proxy) instead of a fresh one.
    pub fn database_url(mut self, url: String) -> Self {
        self.database_url = Some(url);
        self
    }

    /// Adjust the configuration.
    pub fn config(mut self, f: impl FnOnce(&mut Config) + 'static) -> Self {
        self.tweak = Some(Box::new(f));
        self
    }

    pub async fn build(self) -> TestApp {
        let dir = TempDir::new().expect("temp dir");
        let mut config = Config::for_data_dir(dir.path().to_path_buf());
        let pg = match (&self.database_url, backend_is_postgres()) {
            (Some(url), _) => {
                config.database_url = Some(url.clone());
                None
            }
            (None, true) => {
                let pg = PgDatabase::create().await;
                config.database_url = Some(pg.url.clone());
                Some(pg)
            }
            (None, false) => None,
        };
        config.smtp_url = self.smtp_url;
        config.public_url = Some("http://tend.test".into());
        if let Some(tweak) = self.tweak {
            tweak(&mut config);
        }
        let state = tend::app::build_state(config).await.expect("build state");
        let router = tend::app::router(state.clone());
        TestApp {
            state,
            router,
            dir,
            _pg: pg,
        }
    }
}

/// Tend's router over a fresh database.
pub struct TestApp {
    pub state: AppState,
    pub router: Router,
    pub dir: TempDir,
    _pg: Option<PgDatabase>,
}

impl TestApp {
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder::default()
    }

    pub async fn new() -> TestApp {
        TestApp::builder().build().await
    }

    pub fn db(&self) -> &Db {
        &self.state.db
    }

    /// Sends one request through the whole middleware stack, from 127.0.0.1.
    pub async fn send(&self, mut req: Request<Body>) -> TestResponse {
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
        let response = self.router.clone().oneshot(req).await.expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        TestResponse {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// Sends one request and returns only the status, without reading the body (for
    /// endless responses such as event streams).
    pub async fn send_status(&self, mut req: Request<Body>) -> StatusCode {
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
        self.router
            .clone()
            .oneshot(req)
            .await
            .expect("infallible")
            .status()
    }

    /// A browser with an empty cookie jar.
    pub fn visitor(&self) -> Visitor<'_> {
        Visitor {
            app: self,
            cookies: HashMap::new(),
            bearer: None,
        }
    }

    /// Creates an account directly in storage.
    pub async fn user(&self, role: Role, email: &str) -> User {
        self.db()
            .create_user(NewUser {
                email,
                name: &display_name(email),
                role,
                password_hash: Some(password_hash()),
                therapist_id: None,
            })
            .await
            .expect("create user")
    }

    /// Creates a client in `therapist`'s care.
    pub async fn client_of(&self, therapist: &User, email: &str) -> User {
        self.db()
            .create_user(NewUser {
                email,
                name: &display_name(email),
                role: Role::Client,
                password_hash: Some(password_hash()),
                therapist_id: Some(therapist.id),
            })
            .await
            .expect("create client")
    }

    /// A visitor already fully signed in as `user` (the sign-in flow itself is tested in
    /// `sign_in.rs`; most tests start here).
    pub async fn signed_in(&self, user: &User) -> Visitor<'_> {
        let token = self.session_token(user, "web", Stage::Full).await;
        let mut v = self.visitor();
        v.cookies.insert("tend_session".into(), token);
        v.cookies.insert("tend_csrf".into(), new_token().0);
        v
    }

    /// A client with a bearer token for `user`.
    pub async fn api_client(&self, user: &User) -> Visitor<'_> {
        let token = self.session_token(user, "api", Stage::Full).await;
        Visitor {
            app: self,
            cookies: HashMap::new(),
            bearer: Some(token),
        }
    }

    /// Creates a session row directly and returns its token.
    pub async fn session_token(&self, user: &User, kind: &str, stage: Stage) -> String {
        let (token, hash) = new_token();
        self.db()
            .create_session(NewSession {
                token_hash: &hash,
                user_id: user.id,
                kind,
                stage,
                expires_at: Timestamp::now() + time::Duration::hours(1),
                source_ip: None,
            })
            .await
            .expect("session");
        assert_eq!(hash, hash_token(&token));
        token
    }

    /// Audit rows with this action and outcome (`success`, `failure`, `denied`).
    pub async fn audit_count(&self, action: &str, outcome: &str) -> i64 {
        tend::with_pool!(self.db(), |pool| {
            sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM audit_log WHERE action = $1 AND outcome = $2",
            )
            .bind(action)
            .bind(outcome)
            .fetch_one(pool)
            .await
            .expect("count audit rows")
        })
    }

    /// Runs queued jobs until none is due.
    pub async fn drain_jobs(&self) -> usize {
        let mut ran = 0;
        while tend::jobs::run_one(&self.state).await.expect("job queue") {
            ran += 1;
        }
        ran
    }

    /// Emails written to the outbox folder, as raw text.
    pub fn outbox(&self) -> Vec<String> {
        let dir = self.dir.path().join("outbox");
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        let mut mails: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
            .map(|e| std::fs::read_to_string(e.path()).expect("read eml"))
            .collect();
        mails.sort();
        mails
    }
}

/// "maya@x.test" → "Maya".
fn display_name(email: &str) -> String {
    let local = email.split('@').next().unwrap_or("someone");
    let mut chars = local.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().collect::<String>() + chars.as_str(),
        None => "Someone".into(),
    }
}

/// A response with its body read.
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl TestResponse {
    /// Asserts the status and returns self for chaining.
    #[track_caller]
    pub fn assert_status(self, expected: StatusCode) -> Self {
        assert_eq!(
            self.status, expected,
            "unexpected status; body:\n{}",
            self.body
        );
        self
    }

    /// The redirect target.
    #[track_caller]
    pub fn location(&self) -> String {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .unwrap_or_else(|| panic!("no Location header; status {}", self.status))
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// Text content of the first element matching `selector`.
    pub fn select_text(&self, selector: &str) -> Option<String> {
        let html = scraper::Html::parse_document(&self.body);
        let sel = scraper::Selector::parse(selector).expect("selector");
        html.select(&sel).next().map(|e| {
            e.text()
                .collect::<String>()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
    }

    /// How many elements match `selector`.
    pub fn count(&self, selector: &str) -> usize {
        let html = scraper::Html::parse_document(&self.body);
        let sel = scraper::Selector::parse(selector).expect("selector");
        html.select(&sel).count()
    }
}

/// A browser-like client: keeps cookies, adds the CSRF field to forms.
pub struct Visitor<'a> {
    pub app: &'a TestApp,
    pub cookies: HashMap<String, String>,
    pub bearer: Option<String>,
}

impl Visitor<'_> {
    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep_cookies(&mut self, response: &TestResponse) {
        for value in response.headers.get_all(header::SET_COOKIE) {
            let Ok(text) = value.to_str() else { continue };
            let first = text.split(';').next().unwrap_or_default();
            if let Some((k, v)) = first.split_once('=') {
                if v.is_empty() || text.contains("Max-Age=0") {
                    self.cookies.remove(k);
                } else {
                    self.cookies.insert(k.to_string(), v.to_string());
                }
            }
        }
    }

    pub async fn request(
        &mut self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> TestResponse {
        let mut builder = Request::builder().method(method).uri(path);
        if !self.cookies.is_empty() {
            builder = builder.header(header::COOKIE, self.cookie_header());
        }
        if let Some(token) = &self.bearer {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        if let Some(ct) = content_type {
            builder = builder.header(header::CONTENT_TYPE, ct);
        }
        let response = self
            .app
            .send(builder.body(Body::from(body)).expect("request"))
            .await;
        self.keep_cookies(&response);
        response
    }

    /// A GET whose body is never read (event streams); returns the status.
    pub async fn get_status(&mut self, path: &str) -> StatusCode {
        let mut builder = Request::builder().method(Method::GET).uri(path);
        if !self.cookies.is_empty() {
            builder = builder.header(header::COOKIE, self.cookie_header());
        }
        if let Some(token) = &self.bearer {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        self.app
            .send_status(builder.body(Body::empty()).expect("request"))
            .await
    }

    pub async fn get(&mut self, path: &str) -> TestResponse {
        self.request(Method::GET, path, None, Vec::new()).await
    }

    /// Posts a form, adding the CSRF token from the cookie jar (fetching `/` first to get one).
    pub async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> TestResponse {
        if !self.cookies.contains_key("tend_csrf") && self.bearer.is_none() {
            self.get("/healthz").await;
            if !self.cookies.contains_key("tend_csrf") {
                self.get("/login").await;
            }
        }
        let csrf = self.cookies.get("tend_csrf").cloned().unwrap_or_default();
        let mut all: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        let body = serde_urlencoded::to_string(&all).expect("form");
        self.request(
            Method::POST,
            path,
            Some("application/x-www-form-urlencoded"),
            body.into_bytes(),
        )
        .await
    }

    /// Posts a form exactly as given (no CSRF token added).
    pub async fn post_raw_form(&mut self, path: &str, body: &[u8]) -> TestResponse {
        self.request(
            Method::POST,
            path,
            Some("application/x-www-form-urlencoded"),
            body.to_vec(),
        )
        .await
    }

    pub async fn post_json(&mut self, path: &str, json: &serde_json::Value) -> TestResponse {
        self.request(
            Method::POST,
            path,
            Some("application/json"),
            json.to_string().into_bytes(),
        )
        .await
    }

    /// Signs in through the real pages (password, then TOTP if asked) and follows to the end.
    pub async fn sign_in(&mut self, email: &str, password: &str) -> TestResponse {
        self.get("/login").await;
        self.post_form(
            "/login",
            &[("email", email), ("password", password), ("next", "/")],
        )
        .await
    }
}
