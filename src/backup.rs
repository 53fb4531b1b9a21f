//! Backups: `tend backup --out FILE` and `tend restore --from FILE`.
//!
//! A backup is a consistent snapshot of the whole database, encrypted. SQLite's snapshot is
//! `VACUUM INTO` (one read transaction, so writers carry on and the copy is a single moment);
//! PostgreSQL's is `pg_dump` in its custom format (one repeatable-read snapshot). Sealed
//! columns stay sealed inside; the file as a whole is then encrypted with XChaCha20-Poly1305
//! under a key derived from the newest master key, with the header (format, backend, key id)
//! as associated data. Master keys are never in a backup: keep `master.key` (or
//! `TEND_MASTER_KEY`) apart from backups, as the key file says.
//!
//! Restoring refuses, before writing anything, a file that is not a Tend backup, one made
//! under a master key this installation lacks, one damaged or cut short (authentication
//! fails), one of the other backend, and a target that already holds data.

use std::path::Path;

use anyhow::{Context, bail};
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::crypto::Keyring;
use crate::db::{Backend, Db};

/// The first bytes of every backup file.
const MAGIC: &[u8; 8] = b"TENDBAK1";
/// Nonce length of XChaCha20-Poly1305.
const NONCE_LEN: usize = 24;

/// The file key for a master key: a hash of it under a label of its own, so a backup key is
/// never the key that wraps data keys.
fn file_key(master: &[u8; 32]) -> [u8; 32] {
    Sha256::digest([b"tend-backup-v1:".as_slice(), master.as_slice()].concat()).into()
}

/// The byte naming a backend in the header.
fn backend_byte(backend: Backend) -> u8 {
    match backend {
        Backend::Sqlite => b's',
        Backend::Postgres => b'p',
    }
}

/// Encrypts a snapshot of `backend` under the keyring's newest key.
pub fn seal(keyring: &Keyring, backend: Backend, snapshot: &[u8]) -> anyhow::Result<Vec<u8>> {
    let master = keyring.newest();
    let id = master.id.as_bytes();
    let mut header = Vec::with_capacity(MAGIC.len() + 2 + id.len());
    header.extend_from_slice(MAGIC);
    header.push(backend_byte(backend));
    header.push(u8::try_from(id.len()).context("master key id too long")?);
    header.extend_from_slice(id);
    let cipher = XChaCha20Poly1305::new((&file_key(&master.key)).into());
    let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
    let sealed = cipher
        .encrypt(
            &nonce,
            Payload {
                msg: snapshot,
                aad: &header,
            },
        )
        .map_err(|_| anyhow::anyhow!("encrypting the backup failed"))?;
    let mut out = header;
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// Decrypts a backup: its backend and snapshot, or an error that says what is wrong.
pub fn open(keyring: &Keyring, file: &[u8]) -> anyhow::Result<(Backend, Vec<u8>)> {
    let not_ours = || anyhow::anyhow!("This is not a Tend backup file. Nothing was changed.");
    if file.len() < MAGIC.len() + 2 || &file[..MAGIC.len()] != MAGIC {
        return Err(not_ours());
    }
    let backend = match file[MAGIC.len()] {
        b's' => Backend::Sqlite,
        b'p' => Backend::Postgres,
        _ => return Err(not_ours()),
    };
    let id_len = usize::from(file[MAGIC.len() + 1]);
    let header_len = MAGIC.len() + 2 + id_len;
    if file.len() < header_len + NONCE_LEN + 16 {
        bail!("This backup file is cut short. Nothing was changed.");
    }
    let id = std::str::from_utf8(&file[MAGIC.len() + 2..header_len]).map_err(|_| not_ours())?;
    let Some(master) = keyring.get(id) else {
        bail!(
            "This backup was made under master key {id}, which this installation doesn't have \
             (it has {}). Restore with the master key in use when the backup was made. Nothing \
             was changed.",
            keyring.ids().join(", ")
        );
    };
    let cipher = XChaCha20Poly1305::new((&file_key(&master.key)).into());
    let nonce = XNonce::from_slice(&file[header_len..header_len + NONCE_LEN]);
    let snapshot = cipher
        .decrypt(
            nonce,
            Payload {
                msg: &file[header_len + NONCE_LEN..],
                aad: &file[..header_len],
            },
        )
        .map_err(|_| {
            anyhow::anyhow!(
                "This backup file is damaged or incomplete (it fails its integrity check). \
                 Nothing was changed."
            )
        })?;
    Ok((backend, snapshot))
}

/// A consistent snapshot of `db`: a SQLite file, or a `pg_dump` custom-format archive.
pub async fn snapshot(db: &Db, config: &Config) -> anyhow::Result<Vec<u8>> {
    match db {
        Db::Sqlite(pool) => {
            let path = config
                .data_dir
                .join(format!("snapshot-{}.tmp", uuid::Uuid::now_v7().simple()));
            let target = path.to_str().context("snapshot path is not UTF-8")?;
            let taken = sqlx::query("VACUUM INTO $1")
                .bind(target)
                .execute(pool)
                .await
                .context("taking the SQLite snapshot");
            let bytes = taken.and_then(|_| Ok(std::fs::read(&path)?));
            let _ = std::fs::remove_file(&path);
            bytes
        }
        Db::Postgres(_) => {
            let url = config
                .database_url
                .as_deref()
                .context("PostgreSQL needs DATABASE_URL")?;
            let args = ["--format=custom", "--no-owner", "--no-privileges"].map(String::from);
            let out = run_tool("pg_dump", args.to_vec(), url).await?;
            if !out.status.success() {
                bail!(
                    "pg_dump failed: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                );
            }
            Ok(out.stdout)
        }
    }
}

/// The connection URL without its password, and the password: a password on a command line
/// is visible to every local user (`ps`), so it travels in `PGPASSWORD` instead.
fn split_password(url: &str) -> anyhow::Result<(String, Option<String>)> {
    let mut parsed = url::Url::parse(url).context("DATABASE_URL is not a valid URL")?;
    let password = parsed.password().map(|p| {
        // Percent-decoding through the form decoder, with '+' kept literal as in a URL.
        url::form_urlencoded::parse(format!("p={}", p.replace('+', "%2B")).as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    });
    parsed
        .set_password(None)
        .map_err(|()| anyhow::anyhow!("DATABASE_URL cannot hold a password"))?;
    Ok((parsed.to_string(), password))
}

/// Runs one of PostgreSQL's client tools against `url` off the async threads.
async fn run_tool(
    tool: &'static str,
    mut args: Vec<String>,
    url: &str,
) -> anyhow::Result<std::process::Output> {
    let (url, password) = split_password(url)?;
    args.push("--dbname".into());
    args.push(url);
    tokio::task::spawn_blocking(move || {
        let mut cmd = std::process::Command::new(tool);
        cmd.args(args);
        if let Some(p) = password {
            cmd.env("PGPASSWORD", p);
        }
        cmd.output()
    })
    .await?
    .with_context(|| format!("running {tool} (install PostgreSQL's client tools)"))
}

/// `tend backup --out FILE`: snapshot, encrypt, write beside `out` and rename into place.
pub async fn backup(config: &Config, out: &Path) -> anyhow::Result<u64> {
    if out.exists() {
        bail!("{} already exists; choose a new file name.", out.display());
    }
    let (keyring, _) = crate::app::load_keyring(config)?;
    let state = crate::app::build_state(config.clone()).await?;
    // Audited before the snapshot, so the backup itself holds the record of being taken.
    state
        .audit
        .record(crate::audit::Event::new(
            None,
            "cli.backup",
            crate::audit::Outcome::Success,
        ))
        .await?;
    let snap = snapshot(&state.db, config).await?;
    let file = seal(&keyring, state.db.backend(), &snap)?;
    state.db.close().await;
    let partial = out.with_extension("partial");
    write_private(&partial, &file)?;
    std::fs::rename(&partial, out)
        .with_context(|| format!("moving the backup to {}", out.display()))?;
    Ok(file.len() as u64)
}

/// Writes `bytes` to `path`, readable by the owner only, and syncs it to disk.
fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

/// The keyring for restoring: never created, since a new key could open nothing.
fn existing_keyring(config: &Config) -> anyhow::Result<Keyring> {
    if let Some(value) = &config.master_key {
        return Ok(Keyring::from_env_value(value)?);
    }
    let path = config.data_dir.join("master.key");
    if !path.exists() {
        bail!(
            "No master key: put the master.key that was in use when the backup was made into {}, \
             or set TEND_MASTER_KEY. Nothing was changed.",
            config.data_dir.display()
        );
    }
    Ok(Keyring::load_file(&path)?)
}

/// `tend restore --from FILE`: into an empty data directory (SQLite) or an empty database
/// (PostgreSQL). Everything is checked before anything is written.
pub async fn restore(config: &Config, from: &Path) -> anyhow::Result<()> {
    let file = std::fs::read(from).with_context(|| format!("reading {}", from.display()))?;
    let keyring = existing_keyring(config)?;
    let (backend, snap) = open(&keyring, &file)?;
    let target = match &config.database_url {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Backend::Postgres
        }
        _ => Backend::Sqlite,
    };
    if backend != target {
        bail!(
            "This backup is of a {backend:?} database, but this installation uses {target:?}. \
             Nothing was changed."
        );
    }
    match backend {
        Backend::Sqlite => restore_sqlite(config, &snap).await,
        Backend::Postgres => restore_postgres(config, &snap).await,
    }
}

/// Writes the snapshot as the data directory's database, after checking it.
async fn restore_sqlite(config: &Config, snap: &[u8]) -> anyhow::Result<()> {
    // The same reading of the URL as `Db::connect`, so restore writes the file Tend opens.
    let db_path = match &config.database_url {
        Some(url) => {
            use std::str::FromStr;
            sqlx::sqlite::SqliteConnectOptions::from_str(url)?
                .get_filename()
                .to_path_buf()
        }
        None => config.data_dir.join("tend.db"),
    };
    let sibling = |suffix: &str| {
        let mut name = db_path.as_os_str().to_owned();
        name.push(suffix);
        std::path::PathBuf::from(name)
    };
    // A leftover write-ahead log would be replayed onto the restored file.
    let occupied = (db_path.exists() && std::fs::metadata(&db_path)?.len() > 0)
        || sibling("-wal").exists()
        || sibling("-shm").exists();
    if occupied {
        bail!(
            "{} already holds a database (or its -wal/-shm files). Restore into an empty data \
             directory. Nothing was changed.",
            db_path.display()
        );
    }
    std::fs::create_dir_all(db_path.parent().unwrap_or(Path::new(".")))?;
    let partial = db_path.with_extension("restoring");
    let _ = std::fs::remove_file(&partial);
    write_private(&partial, snap)?;
    // The snapshot decrypted, so it is what was written; check it is a sound database too.
    let check = async {
        let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&partial);
        let pool = sqlx::SqlitePool::connect_with(options).await?;
        let verdict: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&pool)
            .await?;
        pool.close().await;
        anyhow::Ok(verdict)
    };
    match check.await {
        Ok(v) if v == "ok" => {}
        other => {
            let _ = std::fs::remove_file(&partial);
            bail!(
                "The restored database fails SQLite's integrity check ({other:?}). Nothing was changed."
            );
        }
    }
    std::fs::rename(&partial, &db_path)?;
    Ok(())
}

/// Loads the archive into the (empty) database with `pg_restore`.
async fn restore_postgres(config: &Config, snap: &[u8]) -> anyhow::Result<()> {
    let url = config
        .database_url
        .as_deref()
        .context("PostgreSQL needs DATABASE_URL")?;
    let db = Db::connect(Some(url), &config.data_dir).await?;
    let tables: i64 = match &db {
        Db::Postgres(pool) => {
            sqlx::query_scalar("SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public'")
                .fetch_one(pool)
                .await?
        }
        Db::Sqlite(_) => 0,
    };
    db.close().await;
    if tables > 0 {
        bail!(
            "The database already has tables. Restore into an empty database. Nothing was changed."
        );
    }
    let archive = std::env::temp_dir().join(format!(
        "tend-restore-{}.dump",
        uuid::Uuid::now_v7().simple()
    ));
    write_private(&archive, snap)?;
    let args = vec![
        "--no-owner".to_string(),
        "--no-privileges".into(),
        "--exit-on-error".into(),
        "--single-transaction".into(),
        archive.display().to_string(),
    ];
    let out = run_tool("pg_restore", args, url).await;
    let _ = std::fs::remove_file(&archive);
    let out = out?;
    if !out.status.success() {
        bail!(
            "pg_restore failed, and its single transaction was rolled back: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn ring(byte: u8) -> Keyring {
        use base64::Engine;
        Keyring::from_env_value(&base64::engine::general_purpose::STANDARD.encode([byte; 32]))
            .unwrap()
    }

    #[test]
    fn passwords_leave_the_command_line() {
        let (url, password) =
            split_password("postgres://tend:s%40f+e@db.example:5432/tend?sslmode=require").unwrap();
        assert_eq!(url, "postgres://tend@db.example:5432/tend?sslmode=require");
        assert_eq!(password.as_deref(), Some("s@f+e"));
        let (url, password) = split_password("postgres://postgres@127.0.0.1/test").unwrap();
        assert_eq!(
            (url.as_str(), password),
            ("postgres://postgres@127.0.0.1/test", None)
        );
    }

    #[test]
    fn a_sealed_snapshot_opens_only_whole_and_under_its_key() {
        let file = seal(&ring(7), Backend::Sqlite, b"SQLite format 3\0...").unwrap();
        assert_eq!(
            open(&ring(7), &file).unwrap(),
            (Backend::Sqlite, b"SQLite format 3\0...".to_vec())
        );
        let wrong = open(&ring(8), &file).unwrap_err().to_string();
        assert!(wrong.contains("master key"), "{wrong}");
        let mut flipped = file.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(
            open(&ring(7), &flipped)
                .unwrap_err()
                .to_string()
                .contains("damaged")
        );
        // The header is authenticated too: calling it a PostgreSQL backup breaks it.
        let mut relabelled = file.clone();
        relabelled[MAGIC.len()] = b'p';
        assert!(
            open(&ring(7), &relabelled)
                .unwrap_err()
                .to_string()
                .contains("damaged")
        );
        assert!(
            open(&ring(7), &file[..20])
                .unwrap_err()
                .to_string()
                .contains("cut short")
        );
        assert!(
            open(&ring(7), b"hello")
                .unwrap_err()
                .to_string()
                .contains("not a Tend backup")
        );
    }
}
