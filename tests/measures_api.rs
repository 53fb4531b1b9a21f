#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The scoring API and the instrument switches, over the real router on both backends.

mod support;

use axum::http::StatusCode;
use serde_json::json;
use support::TestApp;
use tend::authz::Role;

#[tokio::test]
async fn the_score_endpoint_scores_exactly_and_stores_nothing() {
    let app = TestApp::new().await;
    let therapist = app.user(Role::Therapist, "t@tend.test").await;
    let mut api = app.api_client(&therapist).await;
    let r = api
        .post_json(
            "/api/v1/measures/score",
            &json!({"instrument": "phq9", "answers": [1, 1, 2, 2, 1, 1, 1, 1, 1]}),
        )
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(r["total"], 11.0);
    assert_eq!(r["band"], "moderate");
    assert_eq!(r["complete"], true);
    assert_eq!(r["risk"], "urgent");
    assert_eq!(r["flags"], json!(["item_9_positive"]));
    let r = api
        .post_json(
            "/api/v1/measures/score",
            &json!({"instrument": "pcl5", "answers": vec![2; 20]}),
        )
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(r["total"], 40.0);
    assert_eq!(r["band"], serde_json::Value::Null);
    assert_eq!(r["subscales"][0]["id"], "B");
    let r = api
        .post_json(
            "/api/v1/measures/score",
            &json!({"instrument": "phq9", "answers": [2, null, 2, 2, 2, 2, 2, 2, 0]}),
        )
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(
        (r["total"].as_f64(), r["prorated"].as_bool()),
        (Some(15.75), Some(true))
    );
}

#[tokio::test]
async fn bad_scoring_requests_get_clear_errors() {
    let app = TestApp::new().await;
    let client = app.user(Role::Client, "c@tend.test").await;
    let mut api = app.api_client(&client).await;
    let cases = [
        (json!({"instrument": "nope", "answers": [0]}), "instrument"),
        (json!({"instrument": "phq9", "answers": [0, 0]}), "answers"),
        (
            json!({"instrument": "phq9", "answers": [0, 0, 0, 0, 7, 0, 0, 0, 0]}),
            "answers[item 5]",
        ),
        (
            json!({"instrument": "scs_sf", "answers": vec![3; 12]}),
            "instrument",
        ),
        (json!({"instrument": "phq9", "answers": "zero"}), "answers"),
    ];
    for (body, field) in cases {
        let r = api
            .post_json("/api/v1/measures/score", &body)
            .await
            .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
            .json();
        assert_eq!(r["errors"][0]["field"], field, "{body}");
    }
    app.visitor()
        .post_json(
            "/api/v1/measures/score",
            &json!({"instrument": "phq9", "answers": []}),
        )
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn licensed_instruments_need_an_admin_to_confirm_permission() {
    let app = TestApp::new().await;
    let admin = app.user(Role::Admin, "a@tend.test").await;
    let therapist = app.user(Role::Therapist, "t@tend.test").await;
    let mut api = app.api_client(&therapist).await;
    let ids = |v: serde_json::Value| {
        v.as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let listed = ids(api
        .get("/api/v1/instruments")
        .await
        .assert_status(StatusCode::OK)
        .json());
    assert_eq!(listed, ["gad2", "gad7", "pcl5", "phq2", "phq9", "who5"]);

    let mut a = app.signed_in(&admin).await;
    let page = a
        .get("/admin/instruments")
        .await
        .assert_status(StatusCode::OK);
    assert!(page.body.contains("Self-Compassion Scale"));
    assert!(
        page.body.contains("free for research"),
        "the licence is shown"
    );
    a.post_form("/admin/instruments/scs_sf", &[("enabled", "on")])
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    a.post_form(
        "/admin/instruments/scs_sf",
        &[("enabled", "on"), ("confirm_permission", "yes")],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    a.post_form("/admin/instruments/gad2", &[("enabled", "off")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    a.post_form("/admin/instruments/nope", &[("enabled", "on")])
        .await
        .assert_status(StatusCode::NOT_FOUND);

    let listed = ids(api.get("/api/v1/instruments").await.json());
    assert_eq!(listed, ["gad7", "pcl5", "phq2", "phq9", "scs_sf", "who5"]);
    let r = api
        .post_json(
            "/api/v1/measures/score",
            &json!({"instrument": "scs_sf", "answers": vec![3; 12]}),
        )
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(
        (r["total"].as_f64(), r["band"].as_str()),
        (Some(3.0), Some("moderate"))
    );
    let actions: Vec<String> = app
        .db()
        .audit_page(&Default::default(), 20)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(
        actions.contains(&"instrument.enabled".to_string())
            && actions.contains(&"instrument.disabled".to_string())
    );
}
