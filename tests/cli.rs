#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The `tend` command line, run as a real process against SQLite or PostgreSQL.

mod support;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use tempfile::TempDir;

/// A data directory (and, on PostgreSQL, a throwaway database) for one test.
struct Env {
    dir: TempDir,
    _pg: Option<support::PgDatabase>,
    database_url: Option<String>,
}

async fn env() -> Env {
    let pg = if support::backend_is_postgres() {
        Some(support::PgDatabase::create().await)
    } else {
        None
    };
    let database_url = pg.as_ref().map(|p| p.url.clone());
    Env {
        dir: TempDir::new().unwrap(),
        _pg: pg,
        database_url,
    }
}

impl Env {
    fn tend(&self, args: &[&str], password: Option<&str>, stdin: Option<&str>) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tend"));
        cmd.args(args)
            .env("TEND_DATA_DIR", self.dir.path())
            .env_remove("TEND_PASSWORD")
            .env_remove("DATABASE_URL")
            .env_remove("TEND_MASTER_KEY");
        if let Some(url) = &self.database_url {
            cmd.env("DATABASE_URL", url);
        }
        if let Some(p) = password {
            cmd.env("TEND_PASSWORD", p);
        }
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("run tend");
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        drop(child.stdin.take());
        child.wait_with_output().expect("wait")
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[tokio::test]
async fn admins_create_users_with_passwords_from_the_environment_or_stdin() {
    let env = env().await;
    let o = env.tend(
        &[
            "admin",
            "create-user",
            "--email",
            "maya@tend.test",
            "--name",
            "Maya",
            "--role",
            "therapist",
        ],
        Some(support::PASSWORD),
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("two-step sign-in"));
    let o = env.tend(
        &[
            "admin",
            "create-user",
            "--email",
            "amara@tend.test",
            "--name",
            "Amara",
            "--role",
            "client",
            "--therapist",
            "maya@tend.test",
        ],
        None,
        Some("meadow-copper-violin-42\n"),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let list = stdout(&env.tend(&["admin", "list-users"], None, None));
    assert!(
        list.contains("therapist\tmaya@tend.test") && list.contains("client\tamara@tend.test"),
        "{list}"
    );

    // The client is in Maya's care.
    let state = tend::app::build_state(config_for(&env)).await.unwrap();
    let maya = state
        .db
        .user_by_email("maya@tend.test")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(state.db.caseload(maya.id).await.unwrap().len(), 1);
}

fn config_for(env: &Env) -> tend::config::Config {
    let mut c = tend::config::Config::for_data_dir(env.dir.path().to_path_buf());
    c.database_url = env.database_url.clone();
    c
}

#[tokio::test]
async fn bad_cli_input_fails_clearly() {
    let env = env().await;
    let weak = env.tend(
        &[
            "admin",
            "create-user",
            "--email",
            "a@tend.test",
            "--name",
            "A",
            "--role",
            "admin",
        ],
        Some("password"),
        None,
    );
    assert!(!weak.status.success());
    assert!(stderr(&weak).contains("at least 12 characters"));
    let role = env.tend(
        &[
            "admin",
            "create-user",
            "--email",
            "a@tend.test",
            "--name",
            "A",
            "--role",
            "wizard",
        ],
        Some(support::PASSWORD),
        None,
    );
    assert!(stderr(&role).contains("unknown role `wizard`"));
    let orphan = env.tend(
        &[
            "admin",
            "create-user",
            "--email",
            "c@tend.test",
            "--name",
            "C",
            "--role",
            "client",
            "--therapist",
            "nobody@tend.test",
        ],
        Some(support::PASSWORD),
        None,
    );
    assert!(stderr(&orphan).contains("no therapist with email nobody@tend.test"));
    let ok = env.tend(
        &[
            "admin",
            "create-user",
            "--email",
            "a@tend.test",
            "--name",
            "A",
            "--role",
            "admin",
        ],
        Some(support::PASSWORD),
        None,
    );
    assert!(ok.status.success());
    let dup = env.tend(
        &[
            "admin",
            "create-user",
            "--email",
            "A@tend.test",
            "--name",
            "A",
            "--role",
            "admin",
        ],
        Some(support::PASSWORD),
        None,
    );
    assert!(stderr(&dup).contains("already exists"));
    let missing = env.tend(
        &["admin", "reset-password", "--email", "who@tend.test"],
        Some(support::PASSWORD),
        None,
    );
    assert!(stderr(&missing).contains("no account with email who@tend.test"));
}

#[tokio::test]
async fn reset_password_ends_sessions_and_the_audit_verifies() {
    let env = env().await;
    env.tend(
        &[
            "admin",
            "create-user",
            "--email",
            "a@tend.test",
            "--name",
            "A",
            "--role",
            "admin",
        ],
        Some(support::PASSWORD),
        None,
    );
    let o = env.tend(
        &["admin", "reset-password", "--email", "a@tend.test"],
        Some("meadow-copper-violin-42"),
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let verify = env.tend(&["audit", "verify"], None, None);
    assert!(verify.status.success(), "{}", stderr(&verify));
    assert!(
        stdout(&verify).contains("Audit trail intact: 2 entries"),
        "{}",
        stdout(&verify)
    );
}

#[tokio::test]
async fn audit_verify_exits_non_zero_on_tampering() {
    let env = env().await;
    env.tend(
        &[
            "admin",
            "create-user",
            "--email",
            "a@tend.test",
            "--name",
            "A",
            "--role",
            "admin",
        ],
        Some(support::PASSWORD),
        None,
    );
    let state = tend::app::build_state(config_for(&env)).await.unwrap();
    tend::with_pool!(&state.db, |pool| sqlx::query(
        "UPDATE audit_log SET action = 'nothing.to.see'"
    )
    .execute(pool)
    .await
    .unwrap()
    .rows_affected());
    let verify = env.tend(&["audit", "verify"], None, None);
    assert!(!verify.status.success());
    assert!(stderr(&verify).contains("broken at entry 1"));
}

#[tokio::test]
async fn demo_seeds_a_living_practice_once() {
    let env = env().await;
    let o = env.tend(&["demo"], None, None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("Demo practice created"));
    assert!(stdout(&env.tend(&["demo"], None, None)).contains("already present"));
    // Three practice therapists plus the 40 listed only in the demo directory; twelve current
    // clients and 27 from the practice's year of history.
    let list = stdout(&env.tend(&["admin", "list-users"], None, None));
    let count = |role: &str| {
        list.lines()
            .filter(|l| l.contains(&format!("\t{role}\t")))
            .count()
    };
    assert_eq!(
        (
            count("admin"),
            count("therapist"),
            count("supervisor"),
            count("client")
        ),
        (1, 3 + 40, 1, 12 + 27)
    );
    let code = stdout(&env.tend(&["demo", "--code"], None, None));
    assert_eq!(code.trim().len(), 6);
}

#[tokio::test]
async fn the_demo_never_seeds_a_practice_that_has_its_own_admin() {
    let env = env().await;
    let o = env.tend(
        &[
            "admin",
            "create-user",
            "--email",
            "lead@tend.test",
            "--name",
            "Lead",
            "--role",
            "admin",
        ],
        Some(support::PASSWORD),
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = env.tend(&["demo"], None, None);
    assert!(!o.status.success(), "the demo refuses a real practice");
    assert!(
        stderr(&o).contains("already has its own accounts"),
        "{}",
        stderr(&o)
    );
    let list = stdout(&env.tend(&["admin", "list-users"], None, None));
    assert!(
        !list.contains("admin@tend.example"),
        "no demo account was added"
    );
}

#[tokio::test]
async fn keys_rotate_and_config_redacts_secrets() {
    let env = env().await;
    env.tend(&["demo"], None, None);
    let o = env.tend(&["keys", "rotate"], None, None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("Re-wrapped 1 data keys"));
    let keyfile = std::fs::read_to_string(env.dir.path().join("master.key")).unwrap();
    assert_eq!(keyfile.lines().filter(|l| l.starts_with("mk-")).count(), 2);
    // Demo data sealed before rotation still opens.
    let state = tend::app::build_state(config_for(&env)).await.unwrap();
    let amara = state
        .db
        .user_by_email("amara@tend.example")
        .await
        .unwrap()
        .unwrap();
    let maya = state
        .db
        .user_by_email("maya@tend.example")
        .await
        .unwrap()
        .unwrap();
    let view = tend::care::record::open_record(&state, &maya, amara.id, None)
        .await
        .map_err(|e| e.to_string())
        .unwrap();
    assert!(view.intake.unwrap().contains("anxiety"));

    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tend"));
    let out = cmd
        .arg("config")
        .env("TEND_DATA_DIR", env.dir.path())
        .env("DATABASE_URL", "postgres://tend:hunter2@db.internal/tend")
        .env("TEND_SMTP_URL", "smtp://mail:s3cret@mail.internal:587")
        .output()
        .unwrap();
    let text = stdout(&out);
    assert!(
        text.contains("db.internal") && !text.contains("hunter2") && !text.contains("s3cret"),
        "{text}"
    );
}

/// `tend backup` and `tend restore` from the command line, with the master key in a file:
/// the restored installation needs that file, and its audit trail verifies.
#[tokio::test]
async fn backup_and_restore_from_the_command_line() {
    let source = env().await;
    assert!(source.tend(&["demo"], None, None).status.success());
    let file = source.dir.path().join("practice.backup");
    let file_arg = file.to_str().unwrap();
    let o = source.tend(&["backup", "--out", file_arg], None, None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("encrypted"));

    let target = env().await;
    // Without the master key nothing happens, and the message says what to do.
    let o = target.tend(&["restore", "--from", file_arg], None, None);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("master.key"), "{}", stderr(&o));
    assert!(
        !target.dir.path().join("master.key").exists(),
        "no key was made up"
    );
    std::fs::copy(
        source.dir.path().join("master.key"),
        target.dir.path().join("master.key"),
    )
    .unwrap();
    let o = target.tend(&["restore", "--from", file_arg], None, None);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = target.tend(&["audit", "verify"], None, None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("intact"));
    let o = target.tend(&["admin", "list-users"], None, None);
    assert!(stdout(&o).contains("amara@tend.example"));
}
