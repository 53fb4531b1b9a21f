#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Bad input gets a clear error naming the problem, and nothing is half-saved.

mod support;

use axum::http::{Method, StatusCode};
use support::TestApp;
use support::proxy::Proxy;
use tend::authz::Role;

#[tokio::test]
async fn a_missing_form_field_is_named() {
    let app = TestApp::new().await;
    let therapist = app.user(Role::Therapist, "t@tend.test").await;
    let mut t = app.signed_in(&therapist).await;
    let r = t
        .post_form("/clients/invite", &[("name", "Only a name")])
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.select_text("main")
            .unwrap()
            .contains("email: This is required."),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn malformed_and_mistyped_json_get_problem_details() {
    let app = TestApp::new().await;
    let mut v = app.visitor();
    let r = v
        .request(
            Method::POST,
            "/api/v1/auth/login",
            Some("application/json"),
            b"{not json".to_vec(),
        )
        .await
        .assert_status(StatusCode::BAD_REQUEST);
    assert_eq!(r.headers["content-type"], "application/problem+json");
    assert_eq!(r.json()["status"], 400);
    let r = v
        .post_json("/api/v1/auth/login", &serde_json::json!({"email": "a@b.c"}))
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["errors"][0]["field"], "password");
    let r = v
        .post_json(
            "/api/v1/auth/login",
            &serde_json::json!({"email": 5, "password": "x"}),
        )
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["errors"][0]["field"], "email");
    v.request(
        Method::POST,
        "/api/v1/auth/login",
        Some("text/plain"),
        b"{}".to_vec(),
    )
    .await
    .assert_status(StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn unknown_enum_values_are_refused_by_name() {
    let app = TestApp::new().await;
    let admin = app.user(Role::Admin, "a@tend.test").await;
    let mut a = app.signed_in(&admin).await;
    let r = a
        .post_form(
            "/admin/invitations",
            &[
                ("name", "X"),
                ("email", "x@tend.test"),
                ("role", "superuser"),
            ],
        )
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body
            .contains("Please choose therapist, supervisor or admin")
    );
}

#[tokio::test]
async fn invalid_utf8_in_a_form_is_refused_not_mangled() {
    let app = TestApp::new().await;
    let therapist = app.user(Role::Therapist, "t@tend.test").await;
    let client = app.client_of(&therapist, "c@tend.test").await;
    let mut t = app.signed_in(&therapist).await;
    let csrf = t.cookies["tend_csrf"].clone();
    let body = format!("csrf={csrf}&intake=caf%C3%28");
    let r = t
        .post_raw_form(&format!("/clients/{}/intake", client.id), body.as_bytes())
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("intake"));
    assert!(
        app.db().client_record(client.id).await.unwrap().is_none(),
        "nothing was saved"
    );
}

#[tokio::test]
async fn over_long_text_is_refused_and_nothing_is_saved() {
    let app = TestApp::new().await;
    let therapist = app.user(Role::Therapist, "t@tend.test").await;
    let client = app.client_of(&therapist, "c@tend.test").await;
    let mut t = app.signed_in(&therapist).await;
    let long = "a".repeat(20_001);
    let r = t
        .post_form(
            &format!("/clients/{}/intake", client.id),
            &[("intake", &long)],
        )
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("under 20000 characters"));
    assert!(app.db().client_record(client.id).await.unwrap().is_none());
}

#[tokio::test]
async fn bodies_over_the_limit_get_413() {
    let app = TestApp::new().await;
    let mut v = app.visitor();
    let big = vec![b'a'; 70 * 1024];
    v.request(
        Method::POST,
        "/api/v1/auth/login",
        Some("application/json"),
        big.clone(),
    )
    .await
    .assert_status(StatusCode::PAYLOAD_TOO_LARGE);
    let r = v
        .post_raw_form("/login", &big)
        .await
        .assert_status(StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.select_text("h1").unwrap(), "That was too large to send");
}

#[tokio::test]
async fn unknown_routes_get_a_kind_404_page_and_bad_ids_a_clear_error() {
    let app = TestApp::new().await;
    let mut v = app.visitor();
    let r = v
        .get("/no/such/page")
        .await
        .assert_status(StatusCode::NOT_FOUND);
    assert_eq!(r.select_text("h1").unwrap(), "Page not found");
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let r = v
        .get("/api/v1/nothing")
        .await
        .assert_status(StatusCode::NOT_FOUND);
    assert_eq!(r.json()["title"], "Page not found");
    let therapist = app.user(Role::Therapist, "t@tend.test").await;
    let mut t = app.signed_in(&therapist).await;
    let r = t
        .get("/clients/not-a-uuid")
        .await
        .assert_status(StatusCode::BAD_REQUEST);
    assert!(r.body.contains("<h1>"));
    t.request(Method::DELETE, "/clients", None, Vec::new())
        .await
        .assert_status(StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn pages_carry_security_headers() {
    let app = TestApp::new().await;
    let r = app
        .visitor()
        .get("/login")
        .await
        .assert_status(StatusCode::OK);
    let csp = r.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'none'")
            && csp.contains("script-src 'self'")
            && !csp.contains("unsafe-inline")
    );
    assert_eq!(r.headers["x-frame-options"], "DENY");
    assert_eq!(r.headers["x-content-type-options"], "nosniff");
    assert_eq!(r.headers["referrer-policy"], "no-referrer");
    assert_eq!(r.headers["cache-control"], "no-store");
    assert!(
        r.headers.get("strict-transport-security").is_none(),
        "no HSTS over plain HTTP"
    );
    let tls = TestApp::builder()
        .config(|c| c.public_url = Some("https://tend.example.org".into()))
        .build()
        .await;
    let r = tls.visitor().get("/login").await;
    assert!(
        r.headers["strict-transport-security"]
            .to_str()
            .unwrap()
            .contains("max-age=")
    );
    assert!(r.headers["set-cookie"].to_str().unwrap().contains("Secure"));
}

#[tokio::test]
async fn open_redirects_are_refused_after_sign_in() {
    let app = TestApp::new().await;
    app.user(Role::Client, "c@tend.test").await;
    let mut v = app.visitor();
    v.get("/login").await;
    let r = v
        .post_form(
            "/login",
            &[
                ("email", "c@tend.test"),
                ("password", support::PASSWORD),
                ("next", "//evil.example/"),
            ],
        )
        .await;
    assert_eq!(r.location(), "/");
}

/// Only meaningful on PostgreSQL, where the database is a server that can go away.
#[tokio::test]
async fn when_the_database_goes_away_pages_say_so_kindly_and_recover_without_restart() {
    if !support::backend_is_postgres() {
        return;
    }
    let pg = support::PgDatabase::create().await;
    let upstream = url::Url::parse(&pg.url).unwrap();
    let proxy = Proxy::start(format!(
        "{}:{}",
        upstream.host_str().unwrap(),
        upstream.port().unwrap_or(5432)
    ))
    .await;
    let mut via_proxy = upstream.clone();
    via_proxy.set_port(Some(proxy.port)).unwrap();
    let app = TestApp::builder()
        .database_url(via_proxy.to_string())
        .build()
        .await;
    let client = app.user(Role::Client, "c@tend.test").await;
    let mut v = app.signed_in(&client).await;
    v.get("/account").await.assert_status(StatusCode::OK);
    app.visitor()
        .get("/readyz")
        .await
        .assert_status(StatusCode::OK);

    proxy.down();
    let r = app
        .visitor()
        .get("/readyz")
        .await
        .assert_status(StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.body.contains("reach our database"));
    let r = v
        .get("/account")
        .await
        .assert_status(StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        r.select_text("h1").unwrap(),
        "Tend is having trouble right now"
    );
    app.visitor()
        .get("/healthz")
        .await
        .assert_status(StatusCode::OK);

    proxy.up();
    app.visitor()
        .get("/readyz")
        .await
        .assert_status(StatusCode::OK);
    v.get("/account").await.assert_status(StatusCode::OK);
}

#[tokio::test]
async fn anonymous_traffic_to_public_pages_is_rate_limited_but_health_checks_are_not() {
    let app = TestApp::new().await;
    let mut v = app.visitor();
    let mut statuses = Vec::new();
    for _ in 0..301 {
        statuses.push(v.get("/login").await.status);
    }
    assert!(statuses[..300].iter().all(|s| *s == StatusCode::OK));
    assert_eq!(statuses[300], StatusCode::TOO_MANY_REQUESTS);
    for _ in 0..5 {
        v.get("/healthz").await.assert_status(StatusCode::OK);
    }
}
