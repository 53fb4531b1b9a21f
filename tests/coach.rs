#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The listening coach: the shipped model against PyTorch's numbers, feedback over the API and
//! the CLI, bad input, a model that will not load, practice attempts with supervision, "check
//! my draft" in messaging, and the transcript summary.

mod support;

use std::io::Write;
use std::process::{Command, Stdio};

use axum::http::StatusCode;
use serde_json::json;
use support::TestApp;
use tend::authz::Role;
use tend::coach::Label;
use tend::coach::model::Model;

#[derive(serde::Deserialize)]
struct Fixture {
    client_message: String,
    sentence: String,
    probabilities: Vec<f32>,
}

fn fixtures() -> Vec<Fixture> {
    let path = tend::coach::default_model_dir().join("fixtures.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn the_shipped_model_gives_the_probabilities_pytorch_gives() {
    let model = Model::load(&tend::coach::default_model_dir()).unwrap();
    let fixtures = fixtures();
    assert!(fixtures.len() >= 5);
    for f in &fixtures {
        let got = model.classify(&f.client_message, &[&f.sentence]).unwrap();
        for (a, b) in got[0].iter().zip(&f.probabilities) {
            assert!(
                (a - b).abs() < 2e-3,
                "{}: candle {:?} vs PyTorch {:?}",
                f.sentence,
                got[0],
                f.probabilities
            );
        }
    }
}

#[test]
fn the_shipped_model_labels_clear_sentences_as_a_trainer_would() {
    let model = Model::load(&tend::coach::default_model_dir()).unwrap();
    let client = "I haven't slept properly in weeks and work keeps piling up.";
    let cases = [
        (
            "It sounds like you're exhausted and there's no room left to recover.",
            &[Label::ComplexReflection, Label::SimpleReflection][..],
        ),
        ("What has that been like for you?", &[Label::OpenQuestion]),
        ("Are you sleeping at all?", &[Label::ClosedQuestion]),
        (
            "Cutting out caffeine after lunch often helps people sleep.",
            &[Label::InformationOrAdvice],
        ),
    ];
    for (sentence, expected) in cases {
        let probs = model.classify(client, &[sentence]).unwrap();
        let label = tend::coach::argmax_label(&probs[0]);
        assert!(
            expected.contains(&label),
            "{sentence}: {label:?} {:?}",
            probs[0]
        );
    }
    // A batch gives the same answers as one at a time (padding does not leak).
    let one = model
        .classify(client, &["Are you sleeping at all?"])
        .unwrap();
    let batch = model
        .classify(
            client,
            &[
                "It sounds like you're exhausted.",
                "Are you sleeping at all?",
            ],
        )
        .unwrap();
    for (a, b) in one[0].iter().zip(&batch[1]) {
        assert!((a - b).abs() < 1e-4);
    }
}

#[tokio::test]
async fn feedback_over_the_api_labels_sentences_profiles_the_reply_and_suggests() {
    let app = TestApp::new().await;
    let therapist = app.user(Role::Therapist, "rowan@tend.test").await;
    let mut api = app.api_client(&therapist).await;
    let r = api
        .post_json(
            "/api/v1/coach/feedback",
            &json!({
                "client_message": "My manager criticised my report in front of everyone and I just froze.",
                "reply": "Did you say anything back? Was it in a meeting? At least it's over now.",
            }),
        )
        .await
        .assert_status(StatusCode::OK);
    let f = r.json();
    assert_eq!(f["sentences"].as_array().unwrap().len(), 3);
    for s in f["sentences"].as_array().unwrap() {
        let c = s["confidence"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&c));
        assert!(s["label"].is_string());
    }
    for d in ["reflection", "exploration", "warmth"] {
        let v = f["dimensions"][d].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&v), "{d} {v}");
    }
    let roadblocks = f["roadblocks"].as_array().unwrap();
    assert!(
        roadblocks
            .iter()
            .any(|r| r["id"] == "minimising" && r["matched"] == "At least"),
        "{f}"
    );
    let suggestions = f["suggestions"].as_array().unwrap();
    assert!((1..=3).contains(&suggestions.len()), "{f}");
    assert!(
        suggestions
            .iter()
            .any(|s| s["text"].as_str().unwrap().contains("At least")),
        "{f}"
    );
    // No reflection in that reply, so the first suggestion is to reflect first.
    assert_eq!(suggestions[0]["kind"], "reflect_first", "{f}");
}

#[tokio::test]
async fn bad_input_gets_a_clear_error_and_nothing_misleading() {
    let app = TestApp::new().await;
    let therapist = app.user(Role::Therapist, "rowan@tend.test").await;
    let client = app.client_of(&therapist, "amara@tend.test").await;
    let mut api = app.api_client(&therapist).await;
    let cases = [
        (
            json!({"client_message": "Hi", "reply": "   "}),
            "Write a reply",
        ),
        (
            json!({"client_message": "Hi", "reply": "a".repeat(5001)}),
            "under 5000",
        ),
        (
            json!({"client_message": "Hola", "reply": "Lo siento mucho, parece que ha sido una semana muy difícil para ti."}),
            "English only",
        ),
    ];
    for (body, expect) in cases {
        let r = api.post_json("/api/v1/coach/feedback", &body).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(r.body.contains(expect), "{}", r.body);
        assert!(!r.body.contains("dimensions"));
    }
    let r = api
        .post_json("/api/v1/coach/feedback", &json!({"client_message": "Hi"}))
        .await;
    assert!(r.status.is_client_error());
    // Clients cannot use the coach, and nobody can without signing in.
    let mut c = app.api_client(&client).await;
    c.post_json("/api/v1/coach/feedback", &json!({"reply": "Hello there."}))
        .await
        .assert_status(StatusCode::FORBIDDEN);
    app.visitor()
        .post_json("/api/v1/coach/feedback", &json!({"reply": "Hello there."}))
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_model_that_cannot_load_turns_the_coach_off_and_nothing_else() {
    // Missing files: refused at start with a clear reason.
    let missing = tempfile::TempDir::new().unwrap();
    let path = missing.path().to_path_buf();
    let app = TestApp::builder()
        .config(move |c| c.coach_model = Some(path))
        .build()
        .await;
    assert!(
        matches!(app.state.coach.status(), tend::coach::Status::Unavailable(why) if why.contains("config.json"))
    );
    let therapist = app.user(Role::Therapist, "rowan@tend.test").await;
    let mut api = app.api_client(&therapist).await;
    let r = api
        .post_json(
            "/api/v1/coach/feedback",
            &json!({"reply": "It sounds hard."}),
        )
        .await
        .assert_status(StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.body.contains("not available"), "{}", r.body);
    let mut page = app.signed_in(&therapist).await;
    let coach = page.get("/coach").await.assert_status(StatusCode::OK);
    assert!(coach.body.contains("not available on this server"));
    page.get("/clients").await.assert_status(StatusCode::OK);

    // Files present but the weights are corrupt: the first use fails cleanly, and so do later ones.
    let corrupt = tempfile::TempDir::new().unwrap();
    let shipped = tend::coach::default_model_dir();
    for f in ["config.json", "tokenizer.json"] {
        std::fs::copy(shipped.join(f), corrupt.path().join(f)).unwrap();
    }
    std::fs::write(corrupt.path().join("model.safetensors"), b"not a model").unwrap();
    let path = corrupt.path().to_path_buf();
    let app = TestApp::builder()
        .config(move |c| c.coach_model = Some(path))
        .build()
        .await;
    assert_eq!(app.state.coach.status(), tend::coach::Status::Ready);
    let therapist = app.user(Role::Therapist, "rowan@tend.test").await;
    let mut api = app.api_client(&therapist).await;
    for _ in 0..2 {
        api.post_json(
            "/api/v1/coach/feedback",
            &json!({"reply": "It sounds hard."}),
        )
        .await
        .assert_status(StatusCode::SERVICE_UNAVAILABLE);
    }
    assert!(matches!(
        app.state.coach.status(),
        tend::coach::Status::Unavailable(_)
    ));
}

#[tokio::test]
async fn a_trainee_practises_and_their_supervisor_sees_and_comments() {
    let app = TestApp::new().await;
    let trainee = app.user(Role::Therapist, "trainee@tend.test").await;
    let supervisor = app.user(Role::Supervisor, "helen@tend.test").await;
    let other = app.user(Role::Supervisor, "other-sup@tend.test").await;
    app.db()
        .add_supervision(supervisor.id, trainee.id)
        .await
        .unwrap();

    let mut t = app.signed_in(&trainee).await;
    let index = t.get("/coach").await.assert_status(StatusCode::OK);
    assert!(index.count("ul.tiles li") >= 30);
    t.get("/coach/scenarios/first-day-nerves")
        .await
        .assert_status(StatusCode::OK);
    // An empty reply comes back with the reason; nothing is stored.
    let r = t
        .post_form("/coach/scenarios/first-day-nerves", &[("reply", " ")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Write a reply"));
    assert!(app.db().attempts_of(trainee.id).await.unwrap().is_empty());

    let reply = "Part of you knows you've done this before, and part of you has been bracing all week. What feels most uncertain?";
    let r = t
        .post_form("/coach/scenarios/first-day-nerves", &[("reply", reply)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let location = r.location();
    let page = t.get(&location).await.assert_status(StatusCode::OK);
    assert!(page.body.contains("What the coach noticed"));
    assert_eq!(page.count("ol.coach-sentences li"), 2);
    assert!(page.body.contains("One way a therapist might reply"));

    // The reply and the feedback are sealed at rest.
    let attempts = app.db().attempts_of(trainee.id).await.unwrap();
    assert_eq!(attempts.len(), 1);
    let a = &attempts[0];
    assert!(!String::from_utf8_lossy(&a.reply_sealed).contains("bracing"));
    assert!(!String::from_utf8_lossy(&a.feedback_sealed).contains("bracing"));

    let progress = t.get("/coach/progress").await.assert_status(StatusCode::OK);
    assert!(progress.body.contains("Nerves before a new job"));
    assert_eq!(progress.count("svg polyline"), 3);

    // The supervisor sees it and comments; the trainee sees the comment.
    let mut s = app.signed_in(&supervisor).await;
    let seen = s.get(&location).await.assert_status(StatusCode::OK);
    assert!(seen.body.contains("bracing all week"));
    let trainee_view = s
        .get(&format!("/coach/trainees/{}", trainee.id))
        .await
        .assert_status(StatusCode::OK);
    assert!(trainee_view.body.contains("Nerves before a new job"));
    let r = s
        .post_form(
            &format!("{location}/comments"),
            &[(
                "body",
                "Lovely double-sided reflection. Try pausing before the question.",
            )],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let again = t.get(&location).await;
    assert!(again.body.contains("Lovely double-sided reflection"));

    // Another supervisor may not see it; the refusal is audited.
    let mut o = app.signed_in(&other).await;
    o.get(&location).await.assert_status(StatusCode::FORBIDDEN);
    o.get(&format!("/coach/trainees/{}", trainee.id))
        .await
        .assert_status(StatusCode::FORBIDDEN);
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
    assert!(
        denied
            .iter()
            .any(|e| e.action == "coach.attempt.read" && e.actor_id == Some(other.id))
    );
}

#[tokio::test]
async fn check_my_draft_reads_the_clients_last_message_and_sends_nothing() {
    let app = TestApp::new().await;
    let therapist = app.user(Role::Therapist, "rowan@tend.test").await;
    let client = app.client_of(&therapist, "amara@tend.test").await;
    app.db().ensure_conversations(client.id).await.unwrap();
    let id = app.db().conversations_for(client.id).await.unwrap()[0].id;
    let mut c = app.signed_in(&client).await;
    c.post_form(
        &format!("/messages/{id}"),
        &[
            ("body", "The panic came back on the bus today."),
            ("client_key", "k1"),
        ],
    )
    .await;
    let thread = c.get(&format!("/messages/{id}")).await;
    assert!(
        !thread.body.contains("Check my draft"),
        "clients never see the coach"
    );

    let mut t = app.signed_in(&therapist).await;
    let thread = t.get(&format!("/messages/{id}")).await;
    assert!(thread.body.contains("Check my draft"));
    let r = t
        .post_form(
            "/coach/check",
            &[
                ("conversation", &id.to_string()),
                ("body", "You should try breathing exercises."),
            ],
        )
        .await
        .assert_status(StatusCode::OK);
    assert!(
        r.body.contains("The panic came back on the bus today."),
        "{}",
        r.body
    );
    assert!(r.body.contains("What the coach noticed"));
    assert!(r.body.contains("Should and ought"));
    assert!(r.body.contains(&format!("formaction=\"/messages/{id}\"")));
    // Nothing was sent: the conversation still holds only the client's message.
    assert_eq!(app.db().latest_messages(id, 10).await.unwrap().len(), 1);

    // Someone else's conversation is refused.
    let other = app.user(Role::Therapist, "other@tend.test").await;
    let mut o = app.signed_in(&other).await;
    let r = o
        .post_form(
            "/coach/check",
            &[("conversation", &id.to_string()), ("body", "Hello.")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_session_summary_counts_reflections_and_questions_against_miti() {
    let app = TestApp::new().await;
    let therapist = app.user(Role::Therapist, "rowan@tend.test").await;
    let mut api = app.api_client(&therapist).await;
    let transcript = "Client: I keep snapping at my kids and then hating myself for it.\n\
        Therapist: You're worn thin, and the guilt afterwards hurts as much as the snapping.\n\
        Client: Yes. Exactly that.\n\
        Therapist: What usually happens just before you snap?\n\
        Client: I'm trying to do five things at once.\n\
        Therapist: Is that every evening?";
    let s = api
        .post_json(
            "/api/v1/coach/summary",
            &json!({ "transcript": transcript }),
        )
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(s["therapist_turns"], 3);
    assert_eq!(s["sentences"], 3);
    let reflections =
        s["simple_reflections"].as_u64().unwrap() + s["complex_reflections"].as_u64().unwrap();
    let questions = s["open_questions"].as_u64().unwrap() + s["closed_questions"].as_u64().unwrap();
    assert_eq!(reflections + questions, 3, "{s}");
    assert_eq!(s["reflection_to_question"]["fair"], 1.0);
    assert_eq!(s["percent_complex_reflections"]["good"], 50.0);
    assert!(
        s["percent_open_questions"]["source"]
            .as_str()
            .unwrap()
            .contains("MITI 3.1.1")
    );
    api.post_json(
        "/api/v1/coach/summary",
        &json!({ "transcript": "no speakers here" }),
    )
    .await
    .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let mut page = app.signed_in(&therapist).await;
    let r = page
        .post_form("/coach/summary", &[("transcript", transcript)])
        .await
        .assert_status(StatusCode::OK);
    assert!(r.body.contains("Reflections per question"));
}

#[test]
fn the_cli_answers_one_json_line_per_input_line() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tend"))
        .args(["coach", "feedback"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    {
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "{}", json!({"client_message": "I failed my driving test again.", "reply": "That's a real disappointment. What went through your mind afterwards?"})).unwrap();
        writeln!(stdin, "not json").unwrap();
        writeln!(stdin, "{}", json!({"client_message": "Hi", "reply": ""})).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["sentences"].as_array().unwrap().len(), 2);
    assert!(lines[1]["error"].as_str().unwrap().contains("JSON"));
    assert!(
        lines[2]["error"]
            .as_str()
            .unwrap()
            .contains("Write a reply")
    );
}
