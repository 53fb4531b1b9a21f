#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Risk screening by meaning: the shipped model catches indirect risk the phrase rules miss,
//! leaves ordinary messages alone, keeps its held-out figures, and when its files are missing
//! or belong to another encoder it is switched off loudly while the rules keep screening.

mod support;

use axum::http::StatusCode;
use serde_json::json;
use support::TestApp;
use tend::authz::Role;
use tend::safety::meaning::{MeaningScreen, default_head_path, load_head};
use tend::safety::screen::{Level, evaluate_with, parse_tsv, screen};

/// Written for this test: a farewell told through arrangements, with no phrase the rules know.
const INDIRECT: &str = "I've sorted out who will take the cat and left my passwords with my \
                        sister, so nothing is left undone.";

#[tokio::test]
async fn an_indirect_message_the_rules_miss_is_urgent_and_alerts_the_therapist() {
    assert_eq!(
        screen(INDIRECT).level,
        Level::None,
        "the rules alone miss it"
    );
    let app = TestApp::new().await;
    let therapist = app.user(Role::Therapist, "t@tend.test").await;
    let client = app.client_of(&therapist, "c@tend.test").await;
    let j = app
        .api_client(&therapist)
        .await
        .post_json("/api/v1/safety/screen", &json!({ "text": INDIRECT }))
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(j["level"], "urgent");
    assert_eq!(j["signals"][0]["rule"], "meaning.urgent");
    assert_eq!(j["signals"][0]["category"], "suicide");
    assert!(
        j["signals"][0]["matched"]
            .as_str()
            .unwrap()
            .contains("passwords")
    );

    app.db().ensure_conversations(client.id).await.unwrap();
    let conversation = app.db().conversations_for(client.id).await.unwrap()[0].id;
    let sent = app
        .api_client(&client)
        .await
        .post_json(
            &format!("/api/v1/conversations/{conversation}/messages"),
            &json!({ "body": INDIRECT, "client_key": "indirect-1" }),
        )
        .await
        .json();
    assert_eq!(sent["risk_level"], "urgent");
    assert_eq!(sent["show_crisis_resources"], true);
    let alerts = app.db().alerts_for(therapist.id, false).await.unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].severity, "urgent");
}

#[tokio::test]
async fn ordinary_messages_and_figures_of_speech_raise_nothing() {
    let app = TestApp::new().await;
    for text in [
        "Running five minutes late, sorry!",
        "Thanks for today, the breathing exercise really helped.",
        // Both raised urgent alerts under the coach's encoder (found by bench/clinic-day).
        "I'm running ten minutes late, sorry!",
        "Thank you for today. I tried the breathing practice twice and it helped a little.",
        "Can we move Thursday to 4pm?",
        "hi",
        "this traffic is killing me",
        "I'd kill for a coffee right now",
        "I'm not suicidal, just really tired of my boss",
    ] {
        let screening = tend::safety::risk::try_screen(&app.state, text)
            .await
            .unwrap();
        assert_eq!(
            screening.level,
            Level::None,
            "{text}: {:?}",
            screening.signals
        );
    }
}

#[tokio::test]
async fn without_its_model_screening_runs_on_the_rules_and_says_why() {
    let missing = tempfile::TempDir::new().unwrap();
    let path = missing.path().join("head.json");
    let app = TestApp::builder()
        .config(move |c| c.safety_model = Some(path))
        .build()
        .await;
    let problem = app
        .state
        .meaning
        .problem()
        .expect("the screen reports it is off");
    assert!(problem.contains("head.json"), "{problem}");
    let direct = tend::safety::risk::try_screen(&app.state, "I cut myself again last night")
        .await
        .unwrap();
    assert_eq!(direct.level, Level::Urgent);
    let indirect = tend::safety::risk::try_screen(&app.state, INDIRECT)
        .await
        .unwrap();
    assert_eq!(indirect.level, Level::None);
}

#[tokio::test]
async fn a_model_trained_for_another_encoder_is_switched_off_not_trusted() {
    let dir = tempfile::TempDir::new().unwrap();
    let mut head = load_head(&default_head_path()).unwrap();
    head.encoder_sha256 = "0".repeat(64);
    let path = dir.path().join("head.json");
    std::fs::write(&path, serde_json::to_vec(&head).unwrap()).unwrap();
    // The real encoder beside it: only the head's record of it is wrong.
    std::os::unix::fs::symlink(
        std::fs::canonicalize(tend::safety::meaning::encoder_dir(&default_head_path())).unwrap(),
        dir.path().join("encoder"),
    )
    .unwrap();
    let app = TestApp::builder()
        .config(move |c| c.safety_model = Some(path))
        .build()
        .await;
    let indirect = tend::safety::risk::try_screen(&app.state, INDIRECT)
        .await
        .unwrap();
    assert_eq!(indirect.level, Level::None);
    let problem = app.state.meaning.problem().expect("off after the check");
    assert!(problem.contains("different encoder"), "{problem}");

    // A head without its encoder beside it is off too, and says what is missing.
    let alone = dir.path().join("alone");
    std::fs::create_dir_all(&alone).unwrap();
    std::fs::copy(default_head_path(), alone.join("head.json")).unwrap();
    let coach = std::sync::Arc::new(tend::coach::Engine::new(&tend::coach::default_model_dir()));
    let screen = MeaningScreen::new(&alone.join("head.json"), coach);
    let problem = screen.problem().expect("off without its encoder");
    assert!(problem.contains("encoder"), "{problem}");
    assert_eq!(screen.screen_blocking(INDIRECT).unwrap().level, Level::None);

    // A damaged file is refused at start.
    let damaged = dir.path().join("damaged.json");
    std::fs::write(&damaged, b"{\"mean\": []}").unwrap();
    let coach = std::sync::Arc::new(tend::coach::Engine::new(&tend::coach::default_model_dir()));
    let screen = MeaningScreen::new(&damaged, coach);
    assert!(screen.problem().unwrap().contains("damaged.json"));
}

/// The figures reported in safety/model/README.md, as floors: a retrained model that does
/// worse on the held-out set, or flags more ordinary talk, fails here.
#[test]
fn the_shipped_model_keeps_its_reported_figures() {
    let head = load_head(&default_head_path()).unwrap();
    assert!(head.training.cross_validated.urgent_recall >= 0.95);
    let coach = std::sync::Arc::new(tend::coach::Engine::new(&tend::coach::default_model_dir()));
    let meaning = MeaningScreen::new(&default_head_path(), coach);
    let level = |text: &str| meaning.screen_blocking(text).unwrap().level;
    let root = env!("CARGO_MANIFEST_DIR");
    let read = |name: &str| parse_tsv(&std::fs::read_to_string(format!("{root}/{name}")).unwrap());
    let fresh = read("safety/eval/fresh.tsv");
    let e = evaluate_with(fresh.iter().map(|(l, t)| (*l, t.as_str())), level);
    assert!(meaning.problem().is_none(), "{:?}", meaning.problem());
    assert!(
        e.urgent_recall() >= 0.91,
        "urgent recall {:.3}",
        e.urgent_recall()
    );
    assert!(
        e.urgent_precision() >= 0.5,
        "urgent precision {:.3}",
        e.urgent_precision()
    );
    assert!(
        e.risk_recall() >= 0.93,
        "risk recall {:.3}",
        e.risk_recall()
    );
    let everyday = read("safety/eval/everyday_annomi.tsv");
    let e = evaluate_with(everyday.iter().map(|(l, t)| (*l, t.as_str())), level);
    let flagged = e.flagged_urgent as f64 / e.total as f64;
    assert!(
        flagged <= 0.03,
        "{flagged:.3} of ordinary talk flagged urgent"
    );
    // Messages to a therapist, held out: every urgent one caught, and a ceiling on how many
    // ordinary ones still raise an urgent alert (the screen's weakest point; see the README).
    let messages = read("safety/eval/messages_heldout.tsv");
    let e = evaluate_with(messages.iter().map(|(l, t)| (*l, t.as_str())), level);
    assert!(
        e.urgent_recall() >= 0.95,
        "urgent recall {:.3}",
        e.urgent_recall()
    );
    assert!(
        e.risk_recall() >= 0.95,
        "risk recall {:.3}",
        e.risk_recall()
    );
    let ordinary: Vec<&str> = messages
        .iter()
        .filter(|(l, _)| *l == Level::None)
        .map(|(_, t)| t.as_str())
        .collect();
    let alarmed = ordinary
        .iter()
        .filter(|t| level(t) == Level::Urgent)
        .count() as f64
        / ordinary.len() as f64;
    assert!(
        alarmed <= 0.18,
        "{alarmed:.3} of ordinary messages flagged urgent"
    );
}
