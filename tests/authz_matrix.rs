#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The authorization matrix: every route the router serves, called as every kind of person.
//!
//! Routes come from `tend::app::all_routes()`, the same list the router is built from. A
//! route missing from `MATRIX` fails the test, so no route ships without a decision about
//! who may call it.

mod support;

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use support::{TestApp, Visitor};
use tend::accounts::queries::User;
use tend::authz::Role;

/// The people every route is tried as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum P {
    Anonymous,
    /// A client of therapist T1: the record's owner.
    Client,
    /// A client of another therapist.
    OtherClient,
    /// The client's treating therapist.
    Therapist,
    /// A therapist with no relationship to the client.
    OtherTherapist,
    /// A supervisor of T1, with no caseload.
    Supervisor,
    Admin,
}

use P::*;

const EVERYONE: &[P] = &[
    Anonymous,
    Client,
    OtherClient,
    Therapist,
    OtherTherapist,
    Supervisor,
    Admin,
];
const SIGNED_IN: &[P] = &[
    Client,
    OtherClient,
    Therapist,
    OtherTherapist,
    Supervisor,
    Admin,
];
const CLINICIANS: &[P] = &[Therapist, OtherTherapist, Supervisor];
const RECORD: &[P] = &[Client, Therapist];
const THERAPISTS: &[P] = &[Therapist, OtherTherapist];
const CLIENTS: &[P] = &[Client, OtherClient];

/// (method, path, who may, form fields for POST, whether allowed callers must get the record).
type Row = (
    &'static str,
    &'static str,
    &'static [P],
    &'static [(&'static str, &'static str)],
    bool,
);

const MATRIX: &[Row] = &[
    ("GET", "/", EVERYONE, &[], false),
    ("GET", "/login", EVERYONE, &[], false),
    (
        "POST",
        "/login",
        EVERYONE,
        &[("email", "nobody@tend.test"), ("password", "x")],
        false,
    ),
    ("GET", "/login/mfa", SIGNED_IN, &[], false),
    (
        "POST",
        "/login/mfa",
        SIGNED_IN,
        &[("code", "000000")],
        false,
    ),
    ("POST", "/logout", SIGNED_IN, &[], false),
    ("GET", "/account", SIGNED_IN, &[], false),
    (
        "POST",
        "/account/password",
        SIGNED_IN,
        &[
            ("current_password", "x"),
            ("new_password", "y"),
            ("confirm_password", "y"),
        ],
        false,
    ),
    ("POST", "/account/sessions/revoke", SIGNED_IN, &[], false),
    ("GET", "/account/mfa", SIGNED_IN, &[], false),
    (
        "POST",
        "/account/mfa",
        SIGNED_IN,
        &[("code", "000000")],
        false,
    ),
    ("GET", "/invitations/{token}", EVERYONE, &[], false),
    (
        "POST",
        "/invitations/{token}",
        EVERYONE,
        &[("name", "X"), ("password", "y"), ("confirm_password", "y")],
        false,
    ),
    ("GET", "/setup", EVERYONE, &[], false),
    (
        "POST",
        "/setup",
        EVERYONE,
        &[("name", "X"), ("email", "x@tend.test"), ("password", "y")],
        false,
    ),
    ("POST", "/api/v1/auth/login", EVERYONE, &[], false),
    ("POST", "/api/v1/auth/logout", SIGNED_IN, &[], false),
    ("GET", "/api/v1/me", SIGNED_IN, &[], false),
    ("GET", "/clients", CLINICIANS, &[], false),
    (
        "POST",
        "/clients/invite",
        &[Therapist, OtherTherapist],
        &[("name", "New"), ("email", "new@tend.test")],
        false,
    ),
    ("GET", "/clients/{id}", RECORD, &[], true),
    (
        "POST",
        "/clients/{id}/intake",
        &[Therapist],
        &[("intake", "Matrix test summary.")],
        true,
    ),
    ("GET", "/trainees", &[Supervisor], &[], false),
    ("GET", "/api/v1/clients", CLINICIANS, &[], false),
    ("GET", "/api/v1/clients/{id}", RECORD, &[], true),
    ("GET", "/clients/{id}/progress", RECORD, &[], true),
    ("GET", "/api/v1/clients/{id}/fhir", RECORD, &[], true),
    ("GET", "/safety-plan", &[Client, OtherClient], &[], false),
    ("GET", "/practice", &[Client, OtherClient], &[], false),
    (
        "GET",
        "/practice/{practice}",
        &[Client, OtherClient],
        &[],
        false,
    ),
    (
        "POST",
        "/practice/{practice}/complete",
        &[Client, OtherClient],
        &[("mood_before", "4"), ("mood_after", "6")],
        false,
    ),
    ("GET", "/journal", &[Client, OtherClient], &[], false),
    (
        "POST",
        "/journal",
        &[Client, OtherClient],
        &[("text", "A quiet day.")],
        false,
    ),
    ("GET", "/clients/{id}/practice", RECORD, &[], true),
    (
        "POST",
        "/clients/{id}/homework",
        &[Therapist],
        &[("practice", "body-scan"), ("schedule", "once")],
        true,
    ),
    (
        "POST",
        "/api/v1/journal",
        &[Client, OtherClient],
        &[],
        false,
    ),
    ("GET", "/api/v1/journal", &[Client, OtherClient], &[], false),
    (
        "POST",
        "/api/v1/practice/completions",
        &[Client, OtherClient],
        &[],
        false,
    ),
    (
        "POST",
        "/practice/reminders",
        &[Client, OtherClient],
        &[
            ("hour", "18"),
            ("quiet_start", "21"),
            ("quiet_end", "8"),
            ("utc_offset_minutes", "0"),
        ],
        false,
    ),
    (
        "POST",
        "/journal/{id}/share",
        &[Client, OtherClient],
        &[("shared", "yes")],
        false,
    ),
    ("GET", "/letters", &[Client, OtherClient], &[], false),
    ("POST", "/letters", &[Client, OtherClient], &[], false),
    ("GET", "/letters/{id}", &[Client, OtherClient], &[], false),
    (
        "POST",
        "/letters/{id}",
        &[Client, OtherClient],
        &[("text", "x"), ("version", "1")],
        false,
    ),
    (
        "GET",
        "/api/v1/drafts/{id}",
        &[Client, OtherClient],
        &[],
        false,
    ),
    (
        "POST",
        "/api/v1/drafts/{id}",
        &[Client, OtherClient],
        &[],
        false,
    ),
    ("GET", "/clients/{id}/notes", RECORD, &[], true),
    ("GET", "/clients/{id}/notes/new", &[Therapist], &[], true),
    (
        "POST",
        "/clients/{id}/notes",
        &[Therapist],
        &[
            ("template", "free"),
            ("session_date", "2026-11-20"),
            ("note", "A quieter week."),
        ],
        true,
    ),
    ("GET", "/clients/{id}/notes/{note}", RECORD, &[], true),
    (
        "POST",
        "/clients/{id}/notes/{note}",
        &[Therapist],
        &[
            ("template", "free"),
            ("session_date", "2026-11-20"),
            ("note", "A change."),
        ],
        true,
    ),
    (
        "POST",
        "/clients/{id}/notes/{note}/share",
        &[Therapist],
        &[("shared", "1")],
        true,
    ),
    (
        "POST",
        "/clients/{id}/notes/{note}/addenda",
        &[Therapist],
        &[("addendum", "One more thing.")],
        true,
    ),
    ("GET", "/account/confirm", SIGNED_IN, &[], false),
    (
        "POST",
        "/account/confirm",
        SIGNED_IN,
        &[("password", "not the password"), ("next", "/")],
        false,
    ),
    ("GET", "/my/record", CLIENTS, &[], false),
    ("GET", "/clients/{id}/record", RECORD, &[], true),
    ("GET", "/clients/{id}/export.json", RECORD, &[], true),
    ("GET", "/clients/{id}/export.fhir.json", RECORD, &[], true),
    ("GET", "/clients/{id}/export.html", RECORD, &[], true),
    // Without a fresh password confirmation this only asks for one: nothing is deleted here.
    (
        "POST",
        "/my/deletion",
        CLIENTS,
        &[("understand", "1")],
        false,
    ),
    ("GET", "/clients/{id}/plan", RECORD, &[], true),
    ("GET", "/clients/{id}/plan/edit", &[Therapist], &[], true),
    (
        "POST",
        "/clients/{id}/plan",
        &[Therapist],
        &[("version", "0"), ("problem_1", "Panic on the train.")],
        true,
    ),
    (
        "POST",
        "/clients/{id}/plan/reviews",
        &[Therapist],
        &[("version", "1"), ("note", "Steady progress.")],
        true,
    ),
    ("GET", "/clients/{id}/safety-plan", RECORD, &[], true),
    (
        "POST",
        "/clients/{id}/safety-plan",
        RECORD,
        &[("version", "0"), ("coping", "A walk by the river.")],
        true,
    ),
    (
        "GET",
        "/clients/{id}/safety-plan/versions/{version}",
        RECORD,
        &[],
        true,
    ),
    ("GET", "/messages", SIGNED_IN, &[], false),
    ("GET", "/messages/settings", CLINICIANS, &[], false),
    (
        "POST",
        "/messages/settings",
        CLINICIANS,
        &[
            ("reply_note", "I reply within a day."),
            ("office_hours", ""),
        ],
        false,
    ),
    (
        "GET",
        "/messages/with/{user_id}",
        &[Client, Supervisor],
        &[],
        true,
    ),
    ("GET", "/messages/{id}", &[Client, Therapist], &[], false),
    (
        "POST",
        "/messages/{id}",
        &[Client, Therapist],
        &[("body", "Matrix test message"), ("client_key", "matrix")],
        false,
    ),
    (
        "GET",
        "/messages/{id}/events",
        &[Client, Therapist],
        &[],
        false,
    ),
    ("GET", "/api/v1/conversations", SIGNED_IN, &[], false),
    (
        "GET",
        "/api/v1/conversations/{id}/messages",
        &[Client, Therapist],
        &[],
        false,
    ),
    (
        "POST",
        "/api/v1/conversations/{id}/messages",
        &[Client, Therapist],
        &[
            ("body", "Matrix test message"),
            ("client_key", "matrix-api"),
        ],
        false,
    ),
    (
        "POST",
        "/api/v1/conversations/{id}/read",
        &[Client, Therapist],
        &[("up_to", "00000000-0000-0000-0000-000000000000")],
        false,
    ),
    ("GET", "/help", EVERYONE, &[], false),
    (
        "POST",
        "/api/v1/safety/screen",
        CLINICIANS,
        &[("text", "A calm week, mostly.")],
        false,
    ),
    ("POST", "/api/v1/clients/{id}/fhir", &[Therapist], &[], true),
    ("GET", "/coach", CLINICIANS, &[], false),
    ("GET", "/coach/scenarios/{slug}", CLINICIANS, &[], false),
    (
        "POST",
        "/coach/scenarios/{slug}",
        CLINICIANS,
        &[("reply", "It sounds like Monday matters to you.")],
        false,
    ),
    (
        "GET",
        "/coach/attempts/{id}",
        &[Therapist, Supervisor],
        &[],
        true,
    ),
    (
        "POST",
        "/coach/attempts/{id}/comments",
        &[Therapist, Supervisor],
        &[("body", "Matrix comment")],
        true,
    ),
    ("GET", "/coach/progress", CLINICIANS, &[], false),
    ("GET", "/coach/trainees/{id}", &[Supervisor], &[], true),
    ("GET", "/coach/check", CLINICIANS, &[], false),
    (
        "POST",
        "/coach/check",
        CLINICIANS,
        &[("body", "That sounds hard.")],
        false,
    ),
    ("GET", "/directory", EVERYONE, &[], false),
    ("GET", "/directory/match", EVERYONE, &[], false),
    ("GET", "/directory/t/{slug}", EVERYONE, &[], false),
    ("GET", "/directory/t/{slug}/request", EVERYONE, &[], false),
    (
        "POST",
        "/directory/t/{slug}/request",
        EVERYONE,
        &[("name", "X"), ("email", "x@tend.test")],
        false,
    ),
    ("GET", "/directory/photos/{id}", EVERYONE, &[], false),
    ("GET", "/api/v1/directory/search", EVERYONE, &[], false),
    ("GET", "/directory/profile", THERAPISTS, &[], false),
    (
        "POST",
        "/directory/profile",
        THERAPISTS,
        &[("display_name", "")],
        false,
    ),
    ("POST", "/directory/profile/photo", THERAPISTS, &[], false),
    ("GET", "/directory/hours", THERAPISTS, &[], false),
    (
        "POST",
        "/directory/hours/windows",
        THERAPISTS,
        &[("weekday", "9"), ("start", "x"), ("end", "y")],
        false,
    ),
    (
        "POST",
        "/directory/hours/windows/{id}/delete",
        THERAPISTS,
        &[],
        false,
    ),
    (
        "POST",
        "/directory/hours/exceptions",
        THERAPISTS,
        &[("date", "x"), ("kind", "off")],
        false,
    ),
    (
        "POST",
        "/directory/hours/exceptions/{id}/delete",
        THERAPISTS,
        &[],
        false,
    ),
    (
        "POST",
        "/directory/hours/session-types",
        THERAPISTS,
        &[
            ("name", ""),
            ("minutes", "x"),
            ("modality", "x"),
            ("fee", "x"),
        ],
        false,
    ),
    (
        "POST",
        "/directory/hours/session-types/{id}/retire",
        THERAPISTS,
        &[],
        false,
    ),
    ("GET", "/directory/requests", THERAPISTS, &[], false),
    (
        "POST",
        "/directory/requests/{id}",
        THERAPISTS,
        &[("action", "accept")],
        false,
    ),
    ("GET", "/appointments", SIGNED_IN, &[], false),
    (
        "POST",
        "/appointments/time-zone",
        SIGNED_IN,
        &[("time_zone", "UTC")],
        false,
    ),
    ("POST", "/appointments/feed", SIGNED_IN, &[], false),
    ("GET", "/appointments/book/{id}", CLIENTS, &[], false),
    (
        "POST",
        "/appointments/book/{id}",
        CLIENTS,
        &[("session_type", "x"), ("start", "1")],
        false,
    ),
    ("POST", "/appointments/{id}/cancel", SIGNED_IN, &[], false),
    (
        "GET",
        "/appointments/{id}/reschedule",
        SIGNED_IN,
        &[],
        false,
    ),
    (
        "POST",
        "/appointments/{id}/reschedule",
        SIGNED_IN,
        &[("start", "1")],
        false,
    ),
    (
        "POST",
        "/appointments/{id}/attendance",
        THERAPISTS,
        &[("status", "attended")],
        false,
    ),
    ("GET", "/calendar/{token}", EVERYONE, &[], false),
    ("GET", "/admin/directory", &[Admin], &[], false),
    (
        "POST",
        "/admin/directory/{id}",
        &[Admin],
        &[("action", "verify")],
        false,
    ),
    ("GET", "/coach/summary", CLINICIANS, &[], false),
    (
        "POST",
        "/coach/summary",
        CLINICIANS,
        &[("transcript", "Client: Hi.\nTherapist: Welcome.")],
        false,
    ),
    (
        "POST",
        "/api/v1/coach/feedback",
        CLINICIANS,
        &[("reply", "It sounds like a long week.")],
        false,
    ),
    (
        "POST",
        "/api/v1/coach/summary",
        CLINICIANS,
        &[("transcript", "Client: Hi.\nTherapist: Welcome.")],
        false,
    ),
    (
        "POST",
        "/clients/{id}/measures",
        &[Therapist],
        &[("instrument", "phq9"), ("schedule", "once")],
        true,
    ),
    ("GET", "/admin/users", &[Admin], &[], false),
    (
        "POST",
        "/admin/invitations",
        &[Admin],
        &[
            ("name", "New"),
            ("email", "colleague@tend.test"),
            ("role", "therapist"),
        ],
        false,
    ),
    ("GET", "/admin/audit", &[Admin], &[], false),
    ("GET", "/admin/jobs", &[Admin], &[], false),
    ("GET", "/outcomes", &[Supervisor, Admin], &[], false),
    ("GET", "/outcomes.csv", &[Supervisor, Admin], &[], false),
    ("GET", "/admin/crisis-lines", &[Admin], &[], false),
    (
        "POST",
        "/admin/crisis-lines",
        &[Admin],
        &[("lines", "On-call clinician | Call | 555 0100 | tel:5550100")],
        false,
    ),
    (
        "GET",
        "/admin/break-glass/{client_id}",
        &[Admin],
        &[],
        false,
    ),
    (
        "POST",
        "/admin/break-glass/{client_id}",
        &[Admin],
        &[(
            "reason",
            "Matrix test: the therapist is unreachable in an emergency.",
        )],
        false,
    ),
    ("GET", "/api/v1/instruments", SIGNED_IN, &[], false),
    ("POST", "/api/v1/measures/score", SIGNED_IN, &[], false),
    ("GET", "/admin/instruments", &[Admin], &[], false),
    (
        "POST",
        "/admin/instruments/{instrument}",
        &[Admin],
        &[("enabled", "off")],
        false,
    ),
    (
        "POST",
        "/admin/measures/settings",
        &[Admin],
        &[("scores", "show")],
        false,
    ),
    (
        "GET",
        "/measures/assignments/{id}",
        &[Client, OtherClient],
        &[],
        false,
    ),
    (
        "POST",
        "/measures/responses/{id}",
        &[Client, OtherClient],
        &[("action", "save")],
        false,
    ),
    (
        "GET",
        "/measures/responses/{id}",
        &[Client, OtherClient],
        &[],
        false,
    ),
    ("GET", "/progress", CLINICIANS, &[], false),
    ("GET", "/alerts", CLINICIANS, &[], false),
    (
        "POST",
        "/alerts/{id}",
        CLINICIANS,
        &[("action", "acknowledge")],
        false,
    ),
    ("GET", "/api/v1/openapi.json", EVERYONE, &[], false),
    ("GET", "/healthz", EVERYONE, &[], false),
    ("GET", "/readyz", EVERYONE, &[], false),
    ("GET", "/static/tend.css", EVERYONE, &[], false),
    ("GET", "/static/tend.js", EVERYONE, &[], false),
];

struct People {
    client: User,
    other_client: User,
    therapist: User,
    other_therapist: User,
    supervisor: User,
    admin: User,
}

async fn people(app: &TestApp) -> People {
    let therapist = app.user(Role::Therapist, "t1@tend.test").await;
    let other_therapist = app.user(Role::Therapist, "t2@tend.test").await;
    let supervisor = app.user(Role::Supervisor, "sup@tend.test").await;
    app.db()
        .add_supervision(supervisor.id, therapist.id)
        .await
        .unwrap();
    People {
        client: app.client_of(&therapist, "client@tend.test").await,
        other_client: app.client_of(&other_therapist, "other@tend.test").await,
        admin: app.user(Role::Admin, "admin@tend.test").await,
        therapist,
        other_therapist,
        supervisor,
    }
}

async fn as_person<'a>(app: &'a TestApp, people: &People, p: P) -> Visitor<'a> {
    let user = match p {
        Anonymous => return app.visitor(),
        Client => &people.client,
        OtherClient => &people.other_client,
        Therapist => &people.therapist,
        OtherTherapist => &people.other_therapist,
        Supervisor => &people.supervisor,
        Admin => &people.admin,
    };
    app.signed_in(user).await
}

#[tokio::test]
async fn every_route_is_in_the_matrix_and_the_matrix_names_only_real_routes() {
    let served: BTreeSet<(String, String)> = tend::app::all_routes()
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_string()))
        .collect();
    let matrix: BTreeSet<(String, String)> = MATRIX
        .iter()
        .map(|(m, p, ..)| (m.to_string(), p.to_string()))
        .collect();
    let untested: Vec<_> = served.difference(&matrix).collect();
    let stale: Vec<_> = matrix.difference(&served).collect();
    assert!(
        untested.is_empty(),
        "routes with no row in the authorization matrix: {untested:?}"
    );
    assert!(
        stale.is_empty(),
        "matrix rows for routes that no longer exist: {stale:?}"
    );
}

#[tokio::test]
async fn every_route_admits_exactly_the_people_the_matrix_allows() {
    let app = TestApp::new().await;
    let people = people(&app).await;
    // The care conversation between the client and their therapist.
    app.db()
        .ensure_conversations(people.client.id)
        .await
        .unwrap();
    let conversation = app.db().conversations_for(people.client.id).await.unwrap()[0].id;
    // A practice attempt by the therapist (a trainee of the supervisor).
    let attempt = app
        .signed_in(&people.therapist)
        .await
        .post_form(
            "/coach/scenarios/first-day-nerves",
            &[("reply", "It sounds like Monday matters a lot to you.")],
        )
        .await
        .location()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    // A signed note the client may read.
    let note = app
        .signed_in(&people.therapist)
        .await
        .post_form(
            &format!("/clients/{}/notes", people.client.id),
            &[
                ("template", "free"),
                ("session_date", "2026-11-20"),
                ("note", "We talked about sleep."),
                ("shared", "1"),
                ("intent", "sign"),
            ],
        )
        .await
        .location()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let mut failures = Vec::new();
    for &(method, pattern, allowed, fields, is_record) in MATRIX {
        let id =
            if pattern.starts_with("/messages/") || pattern.starts_with("/api/v1/conversations/") {
                conversation.to_string()
            } else if pattern.starts_with("/coach/attempts/") {
                attempt.clone()
            } else if pattern.starts_with("/coach/trainees/") {
                people.therapist.id.to_string()
            } else {
                people.client.id.to_string()
            };
        let path = pattern
            .replace("{id}", &id)
            .replace("{user_id}", &people.therapist.id.to_string())
            .replace("{version}", "1")
            .replace("{note}", &note)
            .replace("{client_id}", &people.client.id.to_string())
            .replace("{token}", "no-such-invitation")
            .replace("{instrument}", "gad2")
            .replace("{practice}", "body-scan")
            .replace("{slug}", "first-day-nerves");
        for &person in EVERYONE {
            let mut v = as_person(&app, &people, person).await;
            if path.ends_with("/events") {
                // An event stream never ends; only its status matters here.
                let status = v.get_status(&path).await;
                // Anonymous visitors are sent to sign-in (303) like on any page.
                let denied = matches!(
                    status,
                    StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::SEE_OTHER
                );
                if allowed.contains(&person) == denied {
                    failures.push(format!("{method} {pattern} as {person:?}: got {status}"));
                }
                continue;
            }
            let response = match method {
                "GET" => v.get(&path).await,
                _ if path.starts_with("/api/") => {
                    let body: serde_json::Map<String, serde_json::Value> = fields
                        .iter()
                        .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.to_string())))
                        .collect();
                    v.request(
                        Method::POST,
                        &path,
                        Some("application/json"),
                        serde_json::to_vec(&body).unwrap(),
                    )
                    .await
                }
                _ => v.post_form(&path, fields).await,
            };
            // Refusals on pages redirect to sign-in ("/login" or "/login?next=…"); signing out
            // also lands on "/login?signed_out=1", which is the route working.
            let to_login = response
                .headers
                .get("location")
                .and_then(|l| l.to_str().ok())
                .is_some_and(|l| l == "/login" || l.starts_with("/login?next="));
            let denied = matches!(
                response.status,
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
            ) && !is_form_redisplay(&response)
                || (is_record && response.status == StatusCode::NOT_FOUND)
                || to_login;
            let should_allow = allowed.contains(&person);
            if should_allow == denied {
                failures.push(format!(
                    "{method} {pattern} as {person:?}: got {} (expected {})",
                    response.status,
                    if should_allow { "allowed" } else { "denied" }
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "authorization matrix mismatches:\n{}",
        failures.join("\n")
    );
}

/// A 401 that re-displays a form with an error (wrong password or code) is the route
/// working, not refusing the caller.
fn is_form_redisplay(response: &support::TestResponse) -> bool {
    response
        .headers
        .get("content-type")
        .is_some_and(|c| c.to_str().unwrap_or("").starts_with("text/html"))
        && response.body.contains("error-summary")
}

#[tokio::test]
async fn refused_record_reads_are_audited_as_denied() {
    let app = TestApp::new().await;
    let people = people(&app).await;
    let mut v = app.signed_in(&people.other_therapist).await;
    v.get(&format!("/clients/{}", people.client.id))
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let denied = app
        .db()
        .audit_page(
            &tend::audit::AuditFilter {
                outcome: Some("denied".into()),
                ..Default::default()
            },
            10,
        )
        .await
        .unwrap();
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0].actor_id, Some(people.other_therapist.id));
    assert_eq!(denied[0].resource_id, Some(people.client.id));
}
