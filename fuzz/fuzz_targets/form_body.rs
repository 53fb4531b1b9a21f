//! Form bodies and query strings: Tend's form extractors (UTF-8 check, CSRF lookup, typed
//! decoding with field paths) and the public directory's search and matching queries, which
//! anyone can send without signing in.
#![no_main]

use axum::extract::FromRequest;
use libfuzzer_sys::fuzz_target;
use serde::Deserialize;
use tend::directory::matching::Answers;
use tend::directory::search::SearchQuery;
use tend::web::extract::{Form, FormPairs};
use tend_fuzz::{CSRF, block_on, form_request};

/// Field types Tend's forms use: text, numbers, optional and checkbox fields.
#[derive(Deserialize, Debug)]
#[allow(dead_code)]
struct Fields {
    csrf: String,
    text: Option<String>,
    mood: Option<i64>,
    score: Option<u8>,
    shared: Option<String>,
    minutes: Option<u32>,
    amount: Option<f64>,
}

fuzz_target!(|data: &[u8]| {
    let mut body = format!("csrf={CSRF}&").into_bytes();
    body.extend_from_slice(data);
    let _ = block_on(Form::<Fields>::from_request(
        form_request(body.clone()),
        &(),
    ));
    let Ok(FormPairs(pairs)) = block_on(FormPairs::from_request(form_request(body), &())) else {
        return;
    };
    if let Ok(query) = SearchQuery::from_pairs(&pairs) {
        // A query Tend accepted writes itself back as a query Tend accepts.
        let again = query.to_query_string(1);
        let reparsed: Vec<(String, String)> = url::form_urlencoded::parse(again.as_bytes())
            .into_owned()
            .collect();
        assert!(
            SearchQuery::from_pairs(&reparsed).is_ok(),
            "{again} was refused"
        );
    }
    let _ = Answers::from_pairs(&pairs);
});
