#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! First run: the set-up page creates the first admin once, and only from this machine.

mod support;

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use support::{PASSWORD, TestApp};
use tend::authz::Role;

#[tokio::test]
async fn the_first_admin_is_created_once_from_this_machine() {
    let app = TestApp::new().await;
    let home = app.visitor().get("/").await.assert_status(StatusCode::OK);
    assert!(
        home.body.contains("/setup"),
        "the welcome page points to set-up"
    );

    // From another address the page does not exist.
    let mut remote = Request::builder()
        .uri("/setup")
        .body(Body::empty())
        .unwrap();
    remote
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([203, 0, 113, 9], 5555))));
    let response = tower::ServiceExt::oneshot(app.router.clone(), remote)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    // Nor through a reverse proxy on this machine (loopback, but forwarded).
    let mut proxied = Request::builder()
        .uri("/setup")
        .header("x-forwarded-for", "198.51.100.7")
        .body(Body::empty())
        .unwrap();
    proxied
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 5555))));
    let response = tower::ServiceExt::oneshot(app.router.clone(), proxied)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    let mut v = app.visitor();
    v.get("/setup").await.assert_status(StatusCode::OK);
    v.post_form(
        "/setup",
        &[
            ("name", "Morgan"),
            ("email", "morgan@tend.test"),
            ("password", "short"),
        ],
    )
    .await
    .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let r = v
        .post_form(
            "/setup",
            &[
                ("name", "Morgan"),
                ("email", "morgan@tend.test"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(
        r.location(),
        "/account/mfa",
        "the new admin sets up two-step sign-in first"
    );
    let admin = app
        .db()
        .user_by_email("morgan@tend.test")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(admin.role, Role::Admin);

    // Once an admin exists, set-up is gone.
    app.visitor()
        .get("/setup")
        .await
        .assert_status(StatusCode::NOT_FOUND);
    app.visitor()
        .post_form(
            "/setup",
            &[
                ("name", "Eve"),
                ("email", "eve@tend.test"),
                ("password", PASSWORD),
            ],
        )
        .await
        .assert_status(StatusCode::NOT_FOUND);
    assert!(
        app.db()
            .user_by_email("eve@tend.test")
            .await
            .unwrap()
            .is_none()
    );
}
