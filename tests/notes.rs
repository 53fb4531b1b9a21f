#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Session notes end to end on the current backend: drafting, signing and the lock (in the
//! pages and in the database itself), addenda, sharing with the client, sealing at rest, bad
//! input that keeps every word, and refusals that are audited.

mod support;

use axum::http::StatusCode;
use support::TestApp;
use tend::authz::Role;

/// The id at the end of a redirect to a note.
fn note_id_from(location: &str) -> String {
    location.rsplit('/').next().unwrap().to_string()
}

/// Audit rows with this action and outcome by `actor`.
async fn audited(app: &TestApp, actor: uuid::Uuid, action: &str, outcome: &str) -> i64 {
    tend::with_pool!(app.db(), |pool| {
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM audit_log WHERE actor_id = $1 AND action = $2 AND outcome = $3",
        )
        .bind(actor)
        .bind(action)
        .bind(outcome)
        .fetch_one(pool)
        .await
        .unwrap()
    })
}

#[tokio::test]
async fn a_note_is_drafted_signed_locked_added_to_and_shared() {
    let app = TestApp::new().await;
    let therapist = app.user(Role::Therapist, "tess@x.test").await;
    let client = app.client_of(&therapist, "cara@x.test").await;
    let base = format!("/clients/{}/notes", client.id);
    let mut t = app.signed_in(&therapist).await;

    let form = t
        .get(&format!("{base}/new?template=birp"))
        .await
        .assert_status(StatusCode::OK);
    assert_eq!(
        form.count("textarea"),
        4,
        "behaviour, intervention, response, plan"
    );

    // A draft, then the same draft changed and signed.
    let r = t
        .post_form(
            &base,
            &[
                ("template", "soap"),
                ("session_date", "2026-11-24"),
                ("subjective", "Cara said the week felt heavy."),
                ("plan", "Try the three-minute breathing space."),
                ("intent", "save"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let note = note_id_from(&r.location());
    let draft = t.get(&format!("{base}/{note}")).await;
    assert!(draft.body.contains("Cara said the week felt heavy."));
    assert_eq!(
        draft.count("button[value=sign]"),
        1,
        "a draft opens for writing"
    );
    let r = t
        .post_form(
            &format!("{base}/{note}"),
            &[
                ("template", "soap"),
                ("session_date", "2026-11-24"),
                (
                    "subjective",
                    "Cara said the week felt heavy, lighter by Friday.",
                ),
                ("plan", "Try the three-minute breathing space."),
                ("intent", "sign"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    // The caseload shows the latest note's session date.
    let caseload = t.get("/clients").await;
    assert!(
        caseload
            .select_text("tbody tr")
            .unwrap()
            .contains("2026-11-24"),
        "last note date on the caseload"
    );
    let signed = t.get(&format!("{base}/{note}")).await;
    assert!(signed.body.contains("lighter by Friday"));
    assert!(signed.body.contains("signed"));
    assert_eq!(signed.count("button[value=sign]"), 0);

    // Editing a signed note is refused; the attempted words wait in the addendum box.
    let refused = t
        .post_form(
            &format!("{base}/{note}"),
            &[
                ("template", "soap"),
                ("session_date", "2026-11-24"),
                ("subjective", "Actually she mentioned her sister too."),
                ("intent", "save"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(
        refused.select_text("#addendum").unwrap(),
        "Subjective: Actually she mentioned her sister too."
    );
    assert!(
        t.get(&format!("{base}/{note}"))
            .await
            .body
            .contains("lighter by Friday")
    );
    assert_eq!(
        audited(&app, therapist.id, "session_note.update", "denied").await,
        1
    );

    // The database itself refuses, whatever code asks.
    let direct = tend::with_pool!(app.db(), |pool| {
        sqlx::query("UPDATE session_notes SET body_sealed = $1 WHERE id = $2")
            .bind(vec![1u8, 2, 3])
            .bind(uuid::Uuid::parse_str(&note).unwrap())
            .execute(pool)
            .await
            .map(|_| ())
    });
    assert!(direct.is_err(), "a signed note changed underneath");

    // Sealed at rest.
    let raw: Vec<u8> = tend::with_pool!(app.db(), |pool| {
        sqlx::query_scalar("SELECT body_sealed FROM session_notes WHERE id = $1")
            .bind(uuid::Uuid::parse_str(&note).unwrap())
            .fetch_one(pool)
            .await
            .unwrap()
    });
    assert!(!String::from_utf8_lossy(&raw).contains("Friday"));

    // Addenda: empty is refused with the box kept; a real one is dated beside the note.
    let empty = t
        .post_form(&format!("{base}/{note}/addenda"), &[("addendum", "  ")])
        .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = t
        .post_form(
            &format!("{base}/{note}/addenda"),
            &[("addendum", "She also mentioned her sister.")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = t.get(&format!("{base}/{note}")).await;
    assert!(page.body.contains("She also mentioned her sister."));
    assert!(page.body.contains("Added by"));
    let direct = tend::with_pool!(app.db(), |pool| {
        sqlx::query("UPDATE session_note_addenda SET body_sealed = $1")
            .bind(vec![1u8, 2, 3])
            .execute(pool)
            .await
            .map(|_| ())
    });
    assert!(direct.is_err(), "an addendum changed underneath");
    // Sharing is the author's alone; anyone else's attempt is refused and audited.
    let other = app.user(Role::Therapist, "otto@x.test").await;
    let r = app
        .signed_in(&other)
        .await
        .post_form(&format!("{base}/{note}/share"), &[("shared", "1")])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // The client sees nothing until it is shared, then the note and its addendum.
    let mut c = app.signed_in(&client).await;
    assert_eq!(c.get(&base).await.count("tbody tr"), 0);
    assert_eq!(
        c.get(&format!("{base}/{note}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        audited(&app, client.id, "session_note.read", "denied").await,
        1
    );
    let r = t
        .post_form(&format!("{base}/{note}/share"), &[("shared", "1")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(c.get(&base).await.count("tbody tr"), 1);
    let shared = c
        .get(&format!("{base}/{note}"))
        .await
        .assert_status(StatusCode::OK);
    assert!(shared.body.contains("lighter by Friday"));
    assert!(shared.body.contains("She also mentioned her sister."));
    assert_eq!(shared.count("#addendum"), 0, "clients read, never write");

    // A shared draft stays with the therapist until it is signed.
    let r = t
        .post_form(
            &base,
            &[
                ("template", "free"),
                ("session_date", "2026-11-25"),
                ("note", "Half-formed thoughts."),
                ("shared", "1"),
            ],
        )
        .await;
    let draft = note_id_from(&r.location());
    assert_eq!(c.get(&base).await.count("tbody tr"), 1);
    assert_eq!(
        c.get(&format!("{base}/{draft}")).await.status,
        StatusCode::NOT_FOUND
    );
    // An addendum to a draft is refused: edit it instead.
    let r = t
        .post_form(&format!("{base}/{draft}/addenda"), &[("addendum", "More.")])
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn bad_notes_keep_every_word_and_strangers_are_refused() {
    let app = TestApp::new().await;
    let therapist = app.user(Role::Therapist, "tess@x.test").await;
    let client = app.client_of(&therapist, "cara@x.test").await;
    let other = app.user(Role::Therapist, "otto@x.test").await;
    let base = format!("/clients/{}/notes", client.id);
    let mut t = app.signed_in(&therapist).await;

    let r = t
        .post_form(
            &base,
            &[
                ("template", "dap"),
                ("session_date", "2099-01-01"),
                ("data", "Every word of this stays."),
                ("appointment_id", "0190a000-0000-7000-8000-000000000000"),
                ("intent", "sign"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Every word of this stays."));
    assert_eq!(r.count("#error-summary li"), 1, "the future date");
    let r = t
        .post_form(
            &base,
            &[
                ("template", "dap"),
                ("session_date", "2026-11-20"),
                ("data", "Every word of this stays."),
                ("appointment_id", "0190a000-0000-7000-8000-000000000000"),
            ],
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not their appointment"
    );
    assert!(
        r.select_text("#data")
            .unwrap()
            .contains("Every word of this stays.")
    );
    let r = t
        .post_form(
            &base,
            &[
                ("template", "free"),
                ("session_date", "2026-11-20"),
                ("intent", "sign"),
            ],
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "an empty note can't be signed"
    );

    let r = t
        .post_form(
            &base,
            &[
                ("template", "free"),
                ("session_date", "2026-11-20"),
                ("note", "Ours."),
            ],
        )
        .await;
    let note = note_id_from(&r.location());
    // Another therapist: not found, and the refusal is in the audit trail.
    let mut o = app.signed_in(&other).await;
    assert_eq!(o.get(&base).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        o.get(&format!("{base}/{note}")).await.status,
        StatusCode::NOT_FOUND
    );
    let r = o
        .post_form(
            &format!("{base}/{note}"),
            &[
                ("template", "free"),
                ("session_date", "2026-11-20"),
                ("note", "Theirs."),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        audited(&app, other.id, "client_record.read", "denied").await,
        2
    );
    assert_eq!(
        audited(&app, other.id, "client_record.update", "denied").await,
        1
    );
    assert!(
        t.get(&format!("{base}/{note}"))
            .await
            .body
            .contains("Ours.")
    );
}
