#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The two migration sets must stay twins: same names, same order.

use std::path::Path;

fn names(dir: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(dir))
        .expect("migrations dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn sqlite_and_postgres_migrations_have_identical_names() {
    let sqlite = names("migrations/sqlite");
    let postgres = names("migrations/postgres");
    assert!(!sqlite.is_empty());
    assert_eq!(
        sqlite, postgres,
        "every migration needs a twin with the same name"
    );
}

#[test]
fn embedded_migrators_agree_on_versions_and_descriptions() {
    let s: Vec<_> = tend::db::SQLITE_MIGRATIONS
        .iter()
        .map(|m| (m.version, m.description.to_string()))
        .collect();
    let p: Vec<_> = tend::db::POSTGRES_MIGRATIONS
        .iter()
        .map(|m| (m.version, m.description.to_string()))
        .collect();
    assert_eq!(s, p);
}
