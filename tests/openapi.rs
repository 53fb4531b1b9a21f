#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The OpenAPI document describes every JSON route the router serves.

mod support;

use std::collections::BTreeSet;

use axum::http::StatusCode;
use support::TestApp;

#[tokio::test]
async fn every_api_route_is_documented_and_nothing_else() {
    let app = TestApp::new().await;
    let doc = app
        .visitor()
        .get("/api/v1/openapi.json")
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut documented = BTreeSet::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            documented.insert((method.to_uppercase(), path.clone()));
        }
    }
    let served: BTreeSet<(String, String)> = tend::app::all_routes()
        .iter()
        .filter(|r| r.is_api() && r.path != "/api/v1/openapi.json")
        .map(|r| (r.method.to_string(), r.path.to_string()))
        .collect();
    assert_eq!(documented, served);
}
