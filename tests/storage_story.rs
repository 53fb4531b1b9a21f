#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The storage contract, walked as real workflows. Runs on SQLite by default and on
//! PostgreSQL with `TEND_TEST_DATABASE=postgres`; the check command runs both.

mod support;

use std::collections::HashSet;

use support::TestApp;
use tend::accounts::queries::{Invitation, NewSession, Stage};
use tend::audit::{ChainReport, Event, Outcome, verify_chain};
use tend::authz::Role;
use tend::crypto::token::new_token;
use tend::db::{DbError, Timestamp, new_id};

#[tokio::test]
async fn a_practice_opens_invites_a_client_and_starts_care() {
    let app = TestApp::new().await;
    let db = app.db();
    let therapist = app.user(Role::Therapist, "Maya@Tend.test").await;
    assert_eq!(
        therapist.email, "maya@tend.test",
        "emails are stored lower-cased"
    );
    assert!(matches!(
        app.db()
            .create_user(tend::accounts::queries::NewUser {
                email: "MAYA@tend.test",
                name: "Again",
                role: Role::Client,
                password_hash: None,
                therapist_id: None
            })
            .await,
        Err(DbError::Conflict)
    ));

    let (_, hash) = new_token();
    let inv = Invitation {
        id: new_id(),
        email: "amara@tend.test".into(),
        name: "Amara".into(),
        role: Role::Client,
        invited_by: therapist.id,
        therapist_id: Some(therapist.id),
        expires_at: Timestamp::now() + time::Duration::days(7),
        accepted_at: None,
    };
    db.create_invitation(&hash, &inv).await.unwrap();
    let found = db.invitation_by_token_hash(&hash).await.unwrap().unwrap();
    assert_eq!(
        (found.role, found.therapist_id),
        (Role::Client, Some(therapist.id))
    );
    let client = db
        .accept_invitation(&found, "Amara N.", "$argon2id$stub")
        .await
        .unwrap();
    assert!(
        matches!(
            db.accept_invitation(&found, "Twice", "x").await,
            Err(DbError::Conflict)
        ),
        "a link works once"
    );
    assert!(
        db.invitation_by_token_hash(&hash)
            .await
            .unwrap()
            .unwrap()
            .accepted_at
            .is_some()
    );

    let caseload = db.caseload(therapist.id).await.unwrap();
    assert_eq!(
        caseload.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![client.id]
    );
    let facts = db.client_facts(client.id).await.unwrap();
    assert_eq!(facts.therapist_ids, vec![therapist.id]);
    db.add_care_relationship(therapist.id, client.id)
        .await
        .unwrap();
    assert_eq!(
        db.caseload(therapist.id).await.unwrap().len(),
        1,
        "adding twice is idempotent"
    );
}

#[tokio::test]
async fn sessions_are_found_by_hash_touched_and_revoked() {
    let app = TestApp::new().await;
    let db = app.db();
    let user = app.user(Role::Client, "ben@tend.test").await;
    let mut ids = Vec::new();
    for kind in ["web", "web", "api"] {
        let (_, hash) = new_token();
        ids.push(
            db.create_session(NewSession {
                token_hash: &hash,
                user_id: user.id,
                kind,
                stage: Stage::Mfa,
                expires_at: Timestamp::now() + time::Duration::hours(1),
                source_ip: Some("127.0.0.1"),
            })
            .await
            .unwrap(),
        );
        let s = db.session_by_token_hash(&hash).await.unwrap().unwrap();
        assert_eq!((s.kind.as_str(), s.stage), (kind, Stage::Mfa));
    }
    let later = Timestamp::now() + time::Duration::minutes(5);
    db.touch_session(ids[0], later).await.unwrap();
    db.set_session_stage(ids[0], Stage::Full).await.unwrap();
    let sessions = db.sessions_of(user.id).await.unwrap();
    let first = sessions.iter().find(|s| s.id == ids[0]).unwrap();
    assert_eq!(
        (first.last_seen_at, first.stage),
        (later, Stage::Full),
        "timestamps round-trip exactly"
    );
    assert_eq!(
        db.delete_sessions_of(user.id, Some(ids[0])).await.unwrap(),
        2
    );
    db.set_password(user.id, "$argon2id$new").await.unwrap();
    assert!(
        db.sessions_of(user.id).await.unwrap().is_empty(),
        "a new password ends every session"
    );
}

#[tokio::test]
async fn recovery_codes_are_single_use() {
    let app = TestApp::new().await;
    let db = app.db();
    let user = app.user(Role::Therapist, "cy@tend.test").await;
    db.replace_recovery_codes(user.id, &["a".into(), "b".into()])
        .await
        .unwrap();
    assert!(db.use_recovery_code(user.id, "a").await.unwrap());
    assert!(!db.use_recovery_code(user.id, "a").await.unwrap());
    assert_eq!(db.recovery_codes_left(user.id).await.unwrap(), 1);
}

#[tokio::test]
async fn the_job_queue_runs_each_job_once_even_with_concurrent_workers() {
    let app = TestApp::new().await;
    let db = app.db().clone();
    for i in 0..20 {
        db.enqueue_sealed(
            new_id(),
            "send_email",
            "x",
            Some(&format!("k{i}")),
            Timestamp::now(),
            None,
        )
        .await
        .unwrap();
    }
    assert_eq!(
        db.enqueue_sealed(
            new_id(),
            "send_email",
            "x",
            Some("k0"),
            Timestamp::now(),
            None
        )
        .await
        .unwrap(),
        None,
        "same idempotency key: no second job"
    );
    let mut workers = Vec::new();
    for _ in 0..6 {
        let db = db.clone();
        workers.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            while let Some(job) = db.claim_job(Timestamp::now()).await.unwrap() {
                mine.push(job.id);
            }
            mine
        }));
    }
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap());
    }
    let unique: HashSet<_> = all.iter().collect();
    assert_eq!(all.len(), 20);
    assert_eq!(unique.len(), 20, "no job was claimed twice");
}

#[tokio::test]
async fn a_job_whose_worker_died_is_claimed_again_after_its_lease() {
    let app = TestApp::new().await;
    let db = app.db();
    let id = db
        .enqueue_sealed(new_id(), "send_email", "x", None, Timestamp::now(), None)
        .await
        .unwrap()
        .unwrap();
    let first = db.claim_job(Timestamp::now()).await.unwrap().unwrap();
    assert_eq!((first.id, first.attempts), (id, 1));
    assert!(
        db.claim_job(Timestamp::now()).await.unwrap().is_none(),
        "leased"
    );
    let after_lease = Timestamp::now() + time::Duration::minutes(6);
    let again = db.claim_job(after_lease).await.unwrap().unwrap();
    assert_eq!((again.id, again.attempts), (id, 2));
    db.fail_job(id, "gave up", None).await.unwrap();
    assert_eq!(db.job_status(id).await.unwrap().unwrap().state, "failed");
    assert!(db.claim_job(after_lease).await.unwrap().is_none());
}

#[tokio::test]
async fn concurrent_audit_appends_keep_one_unbroken_chain() {
    let app = TestApp::new().await;
    let mut tasks = Vec::new();
    for i in 0..40 {
        let audit = app.state.audit.clone();
        tasks.push(tokio::spawn(async move {
            let outcome = if i % 2 == 0 {
                Outcome::Success
            } else {
                Outcome::Denied
            };
            audit
                .record(Event::new(None, "test.event", outcome).on("client", new_id()))
                .await
                .unwrap()
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    // A second appender over the same database (as a second instance would have).
    let other = tend::audit::Audit::new(app.db().clone());
    other
        .record(Event::new(None, "test.other_instance", Outcome::Success))
        .await
        .unwrap();
    match verify_chain(app.db()).await.unwrap() {
        ChainReport::Intact { entries, .. } => assert_eq!(entries, 41),
        broken => panic!("{broken:?}"),
    }
}
