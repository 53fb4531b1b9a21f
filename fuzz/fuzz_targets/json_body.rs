//! JSON bodies of the API: Tend's extractor (content type, UTF-8, syntax errors told apart
//! from field errors with their path) into a free value and into typed requests.
#![no_main]

use axum::extract::FromRequest;
use libfuzzer_sys::fuzz_target;
use serde::Deserialize;
use tend::web::extract::Json;
use tend_fuzz::{block_on, json_request};

/// Field types Tend's API requests use.
#[derive(Deserialize, Debug)]
#[allow(dead_code)]
struct Request {
    text: String,
    answers: Option<Vec<Option<u32>>>,
    shared: Option<bool>,
    when: Option<String>,
    nested: Option<Vec<Request>>,
}

fuzz_target!(|data: &[u8]| {
    let _ = block_on(Json::<Request>::from_request(
        json_request(data.to_vec()),
        &(),
    ));
    let _ = block_on(Json::<serde_json::Value>::from_request(
        json_request(data.to_vec()),
        &(),
    ));
});
