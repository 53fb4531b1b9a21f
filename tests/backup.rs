#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Backup and restore on the current backend: the round trip is exact, table by table and
//! byte by byte, sealed fields included and still readable; a backup taken while writes go on
//! is one consistent moment; and a backup under another master key, a damaged file, or a
//! target that already holds data are refused with nothing written.

mod support;

use std::path::Path;

use base64::Engine;
use sqlx::Row;
use support::{PgDatabase, backend_is_postgres};
use tend::accounts::queries::NewUser;
use tend::authz::Role;
use tend::config::Config;
use tend::db::Db;

/// A master key as `TEND_MASTER_KEY` holds it.
fn key(byte: u8) -> String {
    base64::engine::general_purpose::STANDARD.encode([byte; 32])
}

/// A configuration over a fresh data directory (and a fresh PostgreSQL database when testing
/// PostgreSQL).
async fn fresh(dir: &Path, master: u8) -> (Config, Option<PgDatabase>) {
    let mut config = Config::for_data_dir(dir.to_path_buf());
    config.master_key = Some(key(master));
    let pg = if backend_is_postgres() {
        let pg = PgDatabase::create().await;
        config.database_url = Some(pg.url.clone());
        Some(pg)
    } else {
        None
    };
    (config, pg)
}

/// Every row of every table, as raw bytes, sorted: two databases with equal dumps hold the
/// same data.
async fn dump(config: &Config) -> Vec<(String, Vec<Vec<Option<Vec<u8>>>>)> {
    let db = Db::connect(config.database_url.as_deref(), &config.data_dir)
        .await
        .unwrap();
    let tables: Vec<String> = tend::with_pool!(&db, |pool| {
        let sql = match db.backend() {
            tend::db::Backend::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            }
            tend::db::Backend::Postgres => {
                "SELECT tablename::TEXT FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            }
        };
        sqlx::query_scalar(sql).fetch_all(pool).await.unwrap()
    });
    let mut out = Vec::new();
    for table in tables {
        let mut rows: Vec<Vec<Option<Vec<u8>>>> = tend::with_pool!(&db, |pool| {
            sqlx::query(&format!("SELECT * FROM {table}"))
                .fetch_all(pool)
                .await
                .unwrap()
                .iter()
                .map(|row| {
                    (0..row.len())
                        .map(|i| row.try_get_unchecked::<Option<Vec<u8>>, _>(i).unwrap())
                        .collect()
                })
                .collect()
        });
        rows.sort();
        out.push((table, rows));
    }
    db.close().await;
    out
}

#[tokio::test]
async fn a_backup_restores_exactly_and_its_sealed_fields_still_open() {
    let a = tempfile::tempdir().unwrap();
    let (config, _pg) = fresh(a.path(), 1).await;
    let state = tend::app::build_state(config.clone()).await.unwrap();
    tend::demo::seed(&state).await.unwrap();
    let amara = state
        .db
        .user_by_email("amara@tend.example")
        .await
        .unwrap()
        .unwrap();
    let notes = state.db.notes_for(amara.id, false).await.unwrap();
    assert!(!notes.is_empty(), "the demo writes notes");
    state.db.close().await;

    let file = a.path().join("tend.backup");
    tend::backup::backup(&config, &file).await.unwrap();
    let before = dump(&config).await;
    assert!(
        before
            .iter()
            .any(|(t, rows)| t == "session_notes" && !rows.is_empty())
    );
    // Encrypted as a whole: no name from the demo appears in the file.
    let bytes = std::fs::read(&file).unwrap();
    assert!(!bytes.windows(5).any(|w| w == b"Amara"));

    let b = tempfile::tempdir().unwrap();
    let (target, _pg_b) = fresh(b.path(), 1).await;
    tend::backup::restore(&target, &file).await.unwrap();
    let after = dump(&target).await;
    assert_eq!(before.len(), after.len());
    for ((t1, r1), (t2, r2)) in before.iter().zip(&after) {
        assert_eq!(t1, t2);
        assert_eq!(r1, r2, "table {t1} differs after the round trip");
    }
    // The restored installation opens sealed fields and carries on.
    let restored = tend::app::build_state(target.clone()).await.unwrap();
    let note = &restored.db.notes_for(amara.id, false).await.unwrap()[0];
    let body = restored
        .sealer
        .open(&tend::notes::note_context(note.id), &note.body_sealed)
        .await
        .unwrap();
    assert!(
        body.contains("self-compassion") || body.contains("letter"),
        "{body}"
    );

    // A second restore into the now-full target is refused and changes nothing.
    let again = tend::backup::restore(&target, &file).await.unwrap_err();
    assert!(again.to_string().contains("Nothing was changed"), "{again}");
    restored.db.close().await;
    assert_eq!(dump(&target).await, after);
}

#[tokio::test]
async fn bad_backups_are_refused_before_anything_is_written() {
    let a = tempfile::tempdir().unwrap();
    let (config, _pg) = fresh(a.path(), 1).await;
    let state = tend::app::build_state(config.clone()).await.unwrap();
    state.db.close().await;
    let file = a.path().join("tend.backup");
    tend::backup::backup(&config, &file).await.unwrap();
    assert!(
        tend::backup::backup(&config, &file).await.is_err(),
        "an existing file is never overwritten"
    );

    // A leftover write-ahead log in the target would be replayed onto the restored file.
    if !backend_is_postgres() {
        let d = tempfile::tempdir().unwrap();
        let (leftover, _) = fresh(d.path(), 1).await;
        std::fs::write(d.path().join("tend.db-wal"), b"an old log").unwrap();
        let err = tend::backup::restore(&leftover, &file).await.unwrap_err();
        assert!(err.to_string().contains("-wal"), "{err}");
        assert!(!d.path().join("tend.db").exists());
    }
    // Another master key.
    let b = tempfile::tempdir().unwrap();
    let (other_key, _pg_b) = fresh(b.path(), 2).await;
    let err = tend::backup::restore(&other_key, &file).await.unwrap_err();
    assert!(err.to_string().contains("master key"), "{err}");
    // A damaged file.
    let mut bytes = std::fs::read(&file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    let damaged = a.path().join("damaged.backup");
    std::fs::write(&damaged, &bytes).unwrap();
    let c = tempfile::tempdir().unwrap();
    let (target, _pg_c) = fresh(c.path(), 1).await;
    let err = tend::backup::restore(&target, &damaged).await.unwrap_err();
    assert!(err.to_string().contains("damaged"), "{err}");
    // Nothing was written: no database file, or an empty PostgreSQL database.
    for t in [&other_key, &target] {
        if backend_is_postgres() {
            assert!(dump(t).await.is_empty(), "no tables were created");
        } else {
            assert!(!t.data_dir.join("tend.db").exists());
            assert!(!t.data_dir.join("tend.restoring").exists());
        }
    }
    // A backup of the other backend.
    let keyring = tend::crypto::Keyring::from_env_value(&key(1)).unwrap();
    let other_backend =
        match tend::db::Db::connect(config.database_url.as_deref(), &config.data_dir)
            .await
            .unwrap()
            .backend()
        {
            tend::db::Backend::Sqlite => tend::db::Backend::Postgres,
            tend::db::Backend::Postgres => tend::db::Backend::Sqlite,
        };
    let sealed = tend::backup::seal(&keyring, other_backend, b"whatever").unwrap();
    std::fs::write(&damaged, sealed).unwrap();
    let err = tend::backup::restore(&target, &damaged).await.unwrap_err();
    assert!(
        err.to_string().contains("but this installation uses"),
        "{err}"
    );
    // A file that isn't a backup at all.
    std::fs::write(&damaged, b"PGDMP not ours").unwrap();
    let err = tend::backup::restore(&target, &damaged).await.unwrap_err();
    assert!(err.to_string().contains("not a Tend backup"), "{err}");
}

#[tokio::test]
async fn a_backup_taken_during_writes_is_one_consistent_moment() {
    let a = tempfile::tempdir().unwrap();
    let (config, _pg) = fresh(a.path(), 1).await;
    let state = tend::app::build_state(config.clone()).await.unwrap();
    // Each write adds a client and their care relationship in one transaction: a torn
    // snapshot would hold a client without one.
    let therapist = state
        .db
        .create_user(NewUser {
            email: "t@x.test",
            name: "T",
            role: Role::Therapist,
            password_hash: None,
            therapist_id: None,
        })
        .await
        .unwrap();
    let db = state.db.clone();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut n = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let email = format!("load{n}@x.test");
                db.create_user(NewUser {
                    email: &email,
                    name: "Load",
                    role: Role::Client,
                    password_hash: None,
                    therapist_id: Some(therapist.id),
                })
                .await
                .unwrap();
                n += 1;
            }
            n
        })
    };
    // Let some writes land first (without sleeping: wait until they are visible).
    loop {
        let n: i64 = tend::with_pool!(&state.db, |pool| sqlx::query_scalar(
            "SELECT COUNT(*) FROM users WHERE email LIKE 'load%'"
        )
        .fetch_one(pool)
        .await
        .unwrap());
        if n >= 20 {
            break;
        }
        tokio::task::yield_now().await;
    }
    let file = a.path().join("busy.backup");
    tend::backup::backup(&config, &file).await.unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let written = writer.await.unwrap();

    let b = tempfile::tempdir().unwrap();
    let (target, _pg_b) = fresh(b.path(), 1).await;
    tend::backup::restore(&target, &file).await.unwrap();
    let restored = Db::connect(target.database_url.as_deref(), &target.data_dir)
        .await
        .unwrap();
    let (users, records): (i64, i64) = tend::with_pool!(&restored, |pool| {
        let users = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE email LIKE 'load%'")
            .fetch_one(pool)
            .await
            .unwrap();
        let records = sqlx::query_scalar(
            "SELECT COUNT(*) FROM care_relationships r JOIN users u ON u.id = r.client_id WHERE u.email LIKE 'load%'",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        (users, records)
    });
    assert!(users >= 20, "the writes before the backup are in it");
    assert!(users <= i64::from(written));
    assert_eq!(
        users, records,
        "every client with their relationship, none half-written"
    );
}
