#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Encryption at rest: a sentinel sentence written through the app appears nowhere in the
//! raw database (SQLite's files, or every row of every PostgreSQL table), keys rotate without
//! losing anything, and tampering is refused.

mod support;

use axum::http::StatusCode;
use support::TestApp;
use tend::authz::Role;
use tend::crypto::{CryptoError, Keyring};
use tend::with_pool;

const SENTINEL: &str = "Sentinel: the violet heron sings at midnight 4417";

/// Everything the database holds, as bytes: SQLite's main file and WAL, or a text dump of
/// every PostgreSQL table (bytea shown as hex).
async fn raw_database(app: &TestApp) -> Vec<u8> {
    match app.db() {
        tend::db::Db::Sqlite(_) => {
            let mut bytes = Vec::new();
            for name in ["tend.db", "tend.db-wal"] {
                if let Ok(b) = std::fs::read(app.dir.path().join(name)) {
                    bytes.extend(b);
                }
            }
            bytes
        }
        tend::db::Db::Postgres(pool) => {
            let tables: Vec<String> = sqlx::query_scalar("SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'").fetch_all(pool).await.unwrap();
            let mut dump = String::new();
            for table in tables {
                let rows: Vec<String> =
                    sqlx::query_scalar(&format!("SELECT t::text FROM {table} t"))
                        .fetch_all(pool)
                        .await
                        .unwrap();
                dump.push_str(&rows.join("\n"));
            }
            dump.into_bytes()
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn clinical_text_is_sealed_in_the_database() {
    let app = TestApp::new().await;
    let therapist = app.user(Role::Therapist, "t@tend.test").await;
    let client = app.client_of(&therapist, "c@tend.test").await;
    let mut t = app.signed_in(&therapist).await;
    t.post_form(
        &format!("/clients/{}/intake", client.id),
        &[("intake", SENTINEL)],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    // It reads back through the app...
    let page = t
        .get(&format!("/clients/{}", client.id))
        .await
        .assert_status(StatusCode::OK);
    assert!(page.body.contains(SENTINEL));
    // ...and appears nowhere in the raw database, as text or as hex.
    if let tend::db::Db::Sqlite(pool) = app.db() {
        sqlx::query("PRAGMA wal_checkpoint(FULL)")
            .execute(pool)
            .await
            .unwrap();
    }
    let raw = raw_database(&app).await;
    assert!(raw.len() > 1000, "the dump has content");
    assert!(
        contains(&raw, b"c@tend.test"),
        "the dump is readable (sanity check of the check)"
    );
    assert!(!contains(&raw, SENTINEL.as_bytes()));
    assert!(!contains(&raw, hex::encode(SENTINEL).as_bytes()));
    assert!(!contains(&raw, b"violet heron"));
}

#[tokio::test]
async fn sealed_values_are_bound_to_their_place() {
    let app = TestApp::new().await;
    let sealer = &app.state.sealer;
    let sealed = sealer
        .seal("client_records.intake:a", "hello")
        .await
        .unwrap();
    assert_eq!(
        sealer
            .open("client_records.intake:a", &sealed)
            .await
            .unwrap(),
        "hello"
    );
    assert!(matches!(
        sealer.open("client_records.intake:b", &sealed).await,
        Err(CryptoError::Tampered)
    ));
    let mut flipped = sealed.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    assert!(matches!(
        sealer.open("client_records.intake:a", &flipped).await,
        Err(CryptoError::Tampered)
    ));
    assert!(matches!(
        sealer.open("client_records.intake:a", b"short").await,
        Err(CryptoError::Malformed)
    ));
}

#[tokio::test]
async fn rotating_keys_keeps_old_values_readable_and_seals_new_ones_under_a_new_key() {
    let app = TestApp::new().await;
    let key_path = app.dir.path().join("master.key");
    let before = app
        .state
        .sealer
        .seal("ctx", "written before rotation")
        .await
        .unwrap();
    let old_ring = Keyring::load_file(&key_path).unwrap();
    let new_ring = Keyring::load_file(&key_path).unwrap().with_new_key();
    new_ring.write_file(&key_path).unwrap();
    let rewrapped = app
        .state
        .sealer
        .rotate(Keyring::load_file(&key_path).unwrap())
        .await
        .unwrap();
    assert_eq!(rewrapped, 1);
    let after = app
        .state
        .sealer
        .seal("ctx", "written after rotation")
        .await
        .unwrap();
    assert_ne!(
        before[1..17],
        after[1..17],
        "a new data key seals new values"
    );
    assert_eq!(
        app.state.sealer.open("ctx", &before).await.unwrap(),
        "written before rotation"
    );

    // Another instance that started before the rotation (old keyring in memory, its own
    // caches) still reads everything: it reloads the key file when it meets the new master id.
    let other = tend::crypto::Sealer::new(app.db().clone(), old_ring, Some(key_path.clone()));
    assert_eq!(
        other.open("ctx", &after).await.unwrap(),
        "written after rotation"
    );
    assert_eq!(
        other.open("ctx", &before).await.unwrap(),
        "written before rotation"
    );
    let masters: Vec<String> = with_pool!(app.db(), |pool| sqlx::query_scalar(
        "SELECT DISTINCT master_key_id FROM data_keys"
    )
    .fetch_all(pool)
    .await
    .unwrap());
    assert_eq!(
        masters,
        vec![Keyring::load_file(&key_path).unwrap().newest().id.clone()],
        "every data key is wrapped by the newest master key"
    );
}

#[tokio::test]
async fn the_master_key_file_is_private_and_refused_when_it_is_not() {
    let app = TestApp::new().await;
    let key_path = app.dir.path().join("master.key");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&key_path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert!(
        matches!(Keyring::load_file(&key_path), Err(CryptoError::KeyFile(msg)) if msg.contains("chmod 600"))
    );
}

#[tokio::test]
async fn a_master_key_from_the_environment_is_used_instead_of_the_file() {
    use base64::Engine;
    let key = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
    let app = TestApp::builder()
        .config(move |c| c.master_key = Some(key))
        .build()
        .await;
    let sealed = app.state.sealer.seal("ctx", "from env").await.unwrap();
    assert_eq!(
        app.state.sealer.open("ctx", &sealed).await.unwrap(),
        "from env"
    );
    assert!(!app.dir.path().join("master.key").exists());
    assert!(Keyring::from_env_value("not base64!").is_err());
    assert!(Keyring::from_env_value("").is_err());
}
