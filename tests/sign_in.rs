#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Signing in and out, two-step sign-in, sessions and API tokens, through the real pages.

mod support;

use axum::http::StatusCode;
use support::{PASSWORD, TestApp};
use tend::accounts::totp;
use tend::audit::{AuditFilter, ChainReport, verify_chain};
use tend::authz::Role;

/// The code an authenticator would show now for the user's pending or active secret.
async fn current_code(app: &TestApp, user_id: uuid::Uuid, offset_steps: i64) -> String {
    let user = app.db().user_by_id(user_id).await.unwrap().unwrap();
    let sealed = user.totp_secret.expect("secret");
    let hex_secret = app
        .state
        .sealer
        .open(&tend::accounts::signin::totp_context(user_id), &sealed)
        .await
        .unwrap();
    let secret = hex::decode(hex_secret).unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp() + offset_steps * 30;
    totp::code_at(&secret, now as u64)
}

#[tokio::test]
async fn a_client_signs_in_with_a_password_and_lands_home() {
    let app = TestApp::new().await;
    let therapist = app.user(Role::Therapist, "maya@tend.test").await;
    let client = app.client_of(&therapist, "amara@tend.test").await;
    let mut v = app.visitor();
    let r = v
        .sign_in("AMARA@tend.test", PASSWORD)
        .await
        .assert_status(StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/");
    let home = v.get("/").await.assert_status(StatusCode::OK);
    assert_eq!(home.select_text("h1").unwrap(), "Hello, Amara");
    let record = v
        .get(&format!("/clients/{}", client.id))
        .await
        .assert_status(StatusCode::OK);
    assert_eq!(record.select_text("h1").unwrap(), "Your record");
    let cookie = r
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap().to_string())
        .find(|c| c.starts_with("tend_session="))
        .unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
}

#[tokio::test]
async fn a_wrong_password_is_refused_kindly_and_audited() {
    let app = TestApp::new().await;
    let user = app.user(Role::Client, "ben@tend.test").await;
    let mut v = app.visitor();
    let r = v
        .sign_in("ben@tend.test", "not the password at all")
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    assert!(
        r.select_text("#error-summary")
            .unwrap()
            .contains("don't match")
    );
    assert!(!v.cookies.contains_key("tend_session"));
    let entries = app
        .db()
        .audit_page(
            &AuditFilter {
                action: Some("auth.sign_in".into()),
                ..Default::default()
            },
            10,
        )
        .await
        .unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].outcome, "failure");
    assert_eq!(entries[0].resource_id, Some(user.id));
}

#[tokio::test]
async fn repeated_failures_are_rate_limited_with_retry_after() {
    let app = TestApp::new().await;
    app.user(Role::Client, "cara@tend.test").await;
    let mut v = app.visitor();
    let mut last = None;
    for _ in 0..11 {
        last = Some(v.sign_in("cara@tend.test", "wrong wrong wrong").await);
    }
    let r = last.unwrap().assert_status(StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = r
        .headers
        .get("retry-after")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1);
    // Even the right password waits until the window passes.
    v.sign_in("cara@tend.test", PASSWORD)
        .await
        .assert_status(StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_therapist_must_enrol_two_step_sign_in_then_uses_it() {
    let app = TestApp::new().await;
    let therapist = app.user(Role::Therapist, "maya@tend.test").await;
    let mut v = app.visitor();
    let r = v
        .sign_in("maya@tend.test", PASSWORD)
        .await
        .assert_status(StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/account/mfa");
    // Part-way through, clinical pages send them back to enrolment.
    assert_eq!(v.get("/clients").await.location(), "/account/mfa");
    let setup = v.get("/account/mfa").await.assert_status(StatusCode::OK);
    assert!(setup.select_text("#totp-secret").is_some());
    v.post_form("/account/mfa", &[("code", "000000")])
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let code = current_code(&app, therapist.id, 0).await;
    let codes_page = v
        .post_form("/account/mfa", &[("code", &code)])
        .await
        .assert_status(StatusCode::OK);
    assert_eq!(codes_page.count("#recovery-codes li"), 10);
    v.get("/clients").await.assert_status(StatusCode::OK);

    // Next time: password, then a code; a code already used is refused.
    let mut again = app.visitor();
    let r = again.sign_in("maya@tend.test", PASSWORD).await;
    assert!(r.location().starts_with("/login/mfa"));
    assert!(
        again
            .get("/clients")
            .await
            .location()
            .starts_with("/login/mfa")
    );
    let replay = again.post_form("/login/mfa", &[("code", &code)]).await;
    assert_eq!(
        replay.status,
        StatusCode::UNAUTHORIZED,
        "{:?}",
        replay.headers.get("location")
    );
    let next = current_code(&app, therapist.id, 1).await;
    let r = again
        .post_form("/login/mfa", &[("code", &next), ("next", "/clients")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/clients");
    again.get("/clients").await.assert_status(StatusCode::OK);

    // A recovery code works once, however it is typed (capitals, spaces for dashes).
    let recovery = codes_page.select_text("#recovery-codes li").unwrap();
    let typed = recovery.to_uppercase().replace('-', " ");
    let mut third = app.visitor();
    third.sign_in("maya@tend.test", PASSWORD).await;
    third
        .post_form("/login/mfa", &[("code", &typed)])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let mut fourth = app.visitor();
    fourth.sign_in("maya@tend.test", PASSWORD).await;
    fourth
        .post_form("/login/mfa", &[("code", &recovery)])
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    assert!(matches!(
        verify_chain(app.db()).await.unwrap(),
        ChainReport::Intact { .. }
    ));
}

#[tokio::test]
async fn forms_without_the_csrf_token_are_refused() {
    let app = TestApp::new().await;
    let client = app.user(Role::Client, "dana@tend.test").await;
    let mut v = app.signed_in(&client).await;
    let r = v
        .post_raw_form("/logout", b"")
        .await
        .assert_status(StatusCode::FORBIDDEN);
    assert_eq!(r.select_text("h1").unwrap(), "Please try again");
    v.post_raw_form("/logout", b"csrf=forged")
        .await
        .assert_status(StatusCode::FORBIDDEN);
    v.get("/account").await.assert_status(StatusCode::OK);
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    let app = TestApp::new().await;
    let client = app.user(Role::Client, "eli@tend.test").await;
    let mut v = app.signed_in(&client).await;
    let token = v.cookies["tend_session"].clone();
    let out = v.post_form("/logout", &[]).await;
    assert_eq!(out.location(), "/login?signed_out=1");
    // The browser is told to forget what it kept on this device (unsent letters, messages).
    assert_eq!(out.headers["clear-site-data"], "\"storage\"");
    let mut replay = app.visitor();
    replay.cookies.insert("tend_session".into(), token);
    assert!(
        replay
            .get("/account")
            .await
            .location()
            .starts_with("/login")
    );
}

#[tokio::test]
async fn idle_sessions_expire_and_sign_out_everywhere_ends_the_others() {
    let app = TestApp::builder()
        .config(|c| c.client_idle_minutes = 0)
        .build()
        .await;
    let client = app.user(Role::Client, "fay@tend.test").await;
    let mut v = app.signed_in(&client).await;
    // With a zero idle timeout, the first request after any pause finds the session idle.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    assert!(v.get("/account").await.location().starts_with("/login"));

    let app = TestApp::new().await;
    let client = app.user(Role::Client, "gus@tend.test").await;
    let mut phone = app.signed_in(&client).await;
    let mut laptop = app.signed_in(&client).await;
    laptop
        .post_form("/account/sessions/revoke", &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    laptop.get("/account").await.assert_status(StatusCode::OK);
    assert!(phone.get("/account").await.location().starts_with("/login"));
}

#[tokio::test]
async fn changing_the_password_ends_every_other_session() {
    let app = TestApp::new().await;
    let client = app.user(Role::Client, "hal@tend.test").await;
    let mut phone = app.signed_in(&client).await;
    let mut laptop = app.signed_in(&client).await;
    let weak = laptop
        .post_form(
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "password1234"),
                ("confirm_password", "password1234"),
            ],
        )
        .await;
    weak.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let new = "meadow-copper-violin-42";
    let r = laptop
        .post_form(
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", new),
                ("confirm_password", new),
            ],
        )
        .await;
    assert_eq!(r.location(), "/account?done=password");
    laptop.get("/account").await.assert_status(StatusCode::OK);
    assert!(phone.get("/account").await.location().starts_with("/login"));
    let mut fresh = app.visitor();
    fresh
        .sign_in("hal@tend.test", new)
        .await
        .assert_status(StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_api_issues_revocable_bearer_tokens() {
    let app = TestApp::new().await;
    app.user(Role::Client, "ida@tend.test").await;
    let therapist = app.user(Role::Therapist, "jo@tend.test").await;
    let mut v = app.visitor();
    let r = v
        .post_json(
            "/api/v1/auth/login",
            &serde_json::json!({"email": "ida@tend.test", "password": PASSWORD}),
        )
        .await
        .assert_status(StatusCode::OK);
    let token = r.json()["token"].as_str().unwrap().to_string();
    let mut api = app.visitor();
    api.bearer = Some(token.clone());
    let me = api
        .get("/api/v1/me")
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(me["email"], "ida@tend.test");
    assert_eq!(me["role"], "client");
    api.post_json("/api/v1/auth/logout", &serde_json::json!({}))
        .await
        .assert_status(StatusCode::NO_CONTENT);
    let r = api
        .get("/api/v1/me")
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    assert_eq!(r.headers["content-type"], "application/problem+json");
    // Staff without an authenticator must enrol in the browser first.
    v.post_json(
        "/api/v1/auth/login",
        &serde_json::json!({"email": therapist.email, "password": PASSWORD}),
    )
    .await
    .assert_status(StatusCode::FORBIDDEN);
    // A bearer token is not a cookie, and a cookie token is not a bearer token.
    let mut as_cookie = app.visitor();
    as_cookie.cookies.insert("tend_session".into(), token);
    assert!(
        as_cookie
            .get("/account")
            .await
            .location()
            .starts_with("/login")
    );
}
