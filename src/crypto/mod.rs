//! Encryption at rest for clinical and client-authored free text.
//!
//! Envelope encryption: each value is sealed with XChaCha20-Poly1305 under a *data key*; data
//! keys live in the `data_keys` table, each wrapped by a *master key* that never touches the
//! database (a 0600 file in the data directory, or `TEND_MASTER_KEY`). Entry points:
//! [`Sealer::seal`] and [`Sealer::open`]; `tend keys rotate` calls [`Sealer::rotate`].
//!
//! A sealed value is `version(1) || data_key_id(16) || nonce(24) || ciphertext+tag`. The
//! caller's `context` (table, column and row id) is bound as associated data, so a sealed
//! value copied into another row or column fails to open instead of being shown out of place.

mod keyring;
pub mod token;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use chacha20poly1305::aead::{Aead, KeyInit, OsRng, Payload};
use chacha20poly1305::{AeadCore, XChaCha20Poly1305, XNonce};
use tokio::sync::RwLock;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::db::{Db, DbError, Timestamp, new_id};
use crate::with_pool;
pub use keyring::{Keyring, MasterKey};

/// Format version byte at the start of every sealed value.
const VERSION: u8 = 1;
/// Length of an XChaCha20 nonce.
const NONCE_LEN: usize = 24;
/// A 256-bit symmetric key, wiped from memory when dropped.
pub type Key = Zeroizing<[u8; 32]>;

/// Failures of sealing and opening.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// The value is not a sealed value of a known version.
    #[error("sealed value is malformed")]
    Malformed,
    /// Authentication failed: wrong key, wrong context, or the bytes were altered.
    #[error("sealed value failed authentication")]
    Tampered,
    /// The data key named by the value is unknown, or no master key can unwrap it.
    #[error("data key {0} is not available")]
    MissingKey(Uuid),
    /// The master key file could not be read or written.
    #[error("master key file: {0}")]
    KeyFile(String),
    /// The database failed while loading or storing data keys.
    #[error(transparent)]
    Db(#[from] DbError),
}

/// One row of `data_keys`.
#[derive(sqlx::FromRow)]
struct DataKeyRow {
    id: Uuid,
    master_key_id: String,
    wrapped: Vec<u8>,
}

/// Seals and opens free text; cheap to clone and shared by every request.
#[derive(Clone)]
pub struct Sealer {
    inner: Arc<SealerInner>,
}

/// Shared state behind [`Sealer`].
struct SealerInner {
    db: Db,
    keyring: RwLock<Keyring>,
    /// Where the keyring came from, so an unknown master key id can trigger a reload.
    key_file: Option<PathBuf>,
    /// Unwrapped data keys by id.
    cache: RwLock<HashMap<Uuid, Key>>,
    /// The data key new values are sealed with, once known.
    active: RwLock<Option<Uuid>>,
}

impl Sealer {
    /// Creates a sealer over `db` with a loaded keyring.
    pub fn new(db: Db, keyring: Keyring, key_file: Option<PathBuf>) -> Sealer {
        Sealer {
            inner: Arc::new(SealerInner {
                db,
                keyring: RwLock::new(keyring),
                key_file,
                cache: RwLock::new(HashMap::new()),
                active: RwLock::new(None),
            }),
        }
    }

    /// Encrypts `plaintext`, binding it to `context` (for example `"client_records.intake:<id>"`).
    pub async fn seal(&self, context: &str, plaintext: &str) -> Result<Vec<u8>, CryptoError> {
        let (key_id, key) = self.active_key().await?;
        let cipher = XChaCha20Poly1305::new((&*key).into());
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let aad = aad(context, key_id);
        let ciphertext = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: &aad,
                },
            )
            .map_err(|_| CryptoError::Tampered)?;
        let mut out = Vec::with_capacity(1 + 16 + NONCE_LEN + ciphertext.len());
        out.push(VERSION);
        out.extend_from_slice(key_id.as_bytes());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        Ok(out)
    }

    /// Decrypts a value produced by [`Sealer::seal`] with the same `context`.
    pub async fn open(&self, context: &str, sealed: &[u8]) -> Result<String, CryptoError> {
        if sealed.len() < 1 + 16 + NONCE_LEN + 16 || sealed[0] != VERSION {
            return Err(CryptoError::Malformed);
        }
        let key_id = Uuid::from_slice(&sealed[1..17]).map_err(|_| CryptoError::Malformed)?;
        let nonce = XNonce::from_slice(&sealed[17..17 + NONCE_LEN]);
        let key = self.data_key(key_id).await?;
        let cipher = XChaCha20Poly1305::new((&*key).into());
        let aad = aad(context, key_id);
        let plain = cipher
            .decrypt(
                nonce,
                Payload {
                    msg: &sealed[17 + NONCE_LEN..],
                    aad: &aad,
                },
            )
            .map_err(|_| CryptoError::Tampered)?;
        String::from_utf8(plain).map_err(|_| CryptoError::Malformed)
    }

    /// The active data key, creating one on first use.
    async fn active_key(&self) -> Result<(Uuid, Key), CryptoError> {
        if let Some(id) = *self.inner.active.read().await {
            return Ok((id, self.data_key(id).await?));
        }
        let db = &self.inner.db;
        let row: Option<DataKeyRow> = with_pool!(db, |pool| {
            sqlx::query_as(
                "SELECT id, master_key_id, wrapped FROM data_keys WHERE active = TRUE \
                 ORDER BY created_at DESC LIMIT 1",
            )
            .fetch_optional(pool)
            .await
            .map_err(DbError::from)?
        });
        let id = match row {
            Some(row) => row.id,
            None => self.create_data_key().await?,
        };
        *self.inner.active.write().await = Some(id);
        Ok((id, self.data_key(id).await?))
    }

    /// Generates a data key, stores it wrapped under the newest master key, and makes it the
    /// only active one.
    async fn create_data_key(&self) -> Result<Uuid, CryptoError> {
        let id = new_id();
        let key: Key = Zeroizing::new(XChaCha20Poly1305::generate_key(&mut OsRng).into());
        let (master_id, wrapped) = {
            let ring = self.inner.keyring.read().await;
            let master = ring.newest();
            (master.id.clone(), wrap(master, id, &key)?)
        };
        let now = Timestamp::now();
        let db = &self.inner.db;
        with_pool!(db, |pool| {
            let mut tx = pool.begin().await.map_err(DbError::from)?;
            sqlx::query("UPDATE data_keys SET active = FALSE WHERE active = TRUE")
                .execute(&mut *tx)
                .await
                .map_err(DbError::from)?;
            sqlx::query(
                "INSERT INTO data_keys (id, master_key_id, wrapped, active, created_at) \
                 VALUES ($1, $2, $3, TRUE, $4)",
            )
            .bind(id)
            .bind(&master_id)
            .bind(&wrapped)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(DbError::from)?;
            tx.commit().await.map_err(DbError::from)?;
        });
        self.inner.cache.write().await.insert(id, key);
        Ok(id)
    }

    /// Returns the unwrapped data key `id`, loading and unwrapping it on first use.
    async fn data_key(&self, id: Uuid) -> Result<Key, CryptoError> {
        if let Some(key) = self.inner.cache.read().await.get(&id) {
            return Ok(key.clone());
        }
        let db = &self.inner.db;
        let row: Option<DataKeyRow> = with_pool!(db, |pool| {
            sqlx::query_as("SELECT id, master_key_id, wrapped FROM data_keys WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await
                .map_err(DbError::from)?
        });
        let row = row.ok_or(CryptoError::MissingKey(id))?;
        let key = match self.unwrap_with_ring(&row).await {
            Ok(key) => key,
            // Another instance may have rotated the master key: reload it once and retry.
            Err(CryptoError::MissingKey(_)) if self.inner.key_file.is_some() => {
                self.reload_keyring().await?;
                self.unwrap_with_ring(&row).await?
            }
            Err(err) => return Err(err),
        };
        self.inner.cache.write().await.insert(id, key.clone());
        Ok(key)
    }

    /// Unwraps a data key row with the master key it names.
    async fn unwrap_with_ring(&self, row: &DataKeyRow) -> Result<Key, CryptoError> {
        let ring = self.inner.keyring.read().await;
        let master = ring
            .get(&row.master_key_id)
            .ok_or(CryptoError::MissingKey(row.id))?;
        unwrap(master, row.id, &row.wrapped)
    }

    /// Re-reads the master key file.
    async fn reload_keyring(&self) -> Result<(), CryptoError> {
        if let Some(path) = &self.inner.key_file {
            let ring = Keyring::load_file(path)?;
            *self.inner.keyring.write().await = ring;
        }
        Ok(())
    }

    /// Rotates keys without downtime: every data key is re-wrapped under `new_master` in one
    /// transaction, and a fresh data key becomes active for new values. Old values stay
    /// readable (their data keys still exist); running instances keep their unwrapped keys and
    /// reload the keyring when they meet a master key id they do not know.
    ///
    /// Returns how many data keys were re-wrapped.
    pub async fn rotate(&self, new_ring: Keyring) -> Result<usize, CryptoError> {
        let db = &self.inner.db;
        let rows: Vec<DataKeyRow> = with_pool!(db, |pool| {
            sqlx::query_as("SELECT id, master_key_id, wrapped FROM data_keys")
                .fetch_all(pool)
                .await
                .map_err(DbError::from)?
        });
        let mut rewrapped = Vec::with_capacity(rows.len());
        for row in &rows {
            let key = match new_ring.get(&row.master_key_id) {
                Some(master) => unwrap(master, row.id, &row.wrapped)?,
                None => self.unwrap_with_ring(row).await?,
            };
            rewrapped.push((row.id, wrap(new_ring.newest(), row.id, &key)?));
        }
        let master_id = new_ring.newest().id.clone();
        with_pool!(db, |pool| {
            let mut tx = pool.begin().await.map_err(DbError::from)?;
            for (id, wrapped) in &rewrapped {
                sqlx::query("UPDATE data_keys SET master_key_id = $1, wrapped = $2 WHERE id = $3")
                    .bind(&master_id)
                    .bind(wrapped)
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(DbError::from)?;
            }
            tx.commit().await.map_err(DbError::from)?;
        });
        *self.inner.keyring.write().await = new_ring;
        *self.inner.active.write().await = None;
        self.create_data_key().await?;
        Ok(rewrapped.len())
    }
}

/// Associated data: the caller's context and the data key id, so neither can be swapped.
fn aad(context: &str, key_id: Uuid) -> Vec<u8> {
    let mut aad = Vec::with_capacity(context.len() + 24);
    aad.extend_from_slice(b"tend:v1:");
    aad.extend_from_slice(key_id.as_bytes());
    aad.extend_from_slice(context.as_bytes());
    aad
}

/// Encrypts a data key under a master key: `nonce(24) || ciphertext`.
fn wrap(master: &MasterKey, id: Uuid, key: &Key) -> Result<Vec<u8>, CryptoError> {
    let cipher = XChaCha20Poly1305::new((&*master.key).into());
    let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
    let ct = cipher
        .encrypt(
            &nonce,
            Payload {
                msg: key.as_slice(),
                aad: id.as_bytes(),
            },
        )
        .map_err(|_| CryptoError::Tampered)?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&ct);
    Ok(out)
}

/// Decrypts a data key wrapped by [`wrap`].
fn unwrap(master: &MasterKey, id: Uuid, wrapped: &[u8]) -> Result<Key, CryptoError> {
    if wrapped.len() < NONCE_LEN + 16 {
        return Err(CryptoError::Malformed);
    }
    let cipher = XChaCha20Poly1305::new((&*master.key).into());
    let nonce = XNonce::from_slice(&wrapped[..NONCE_LEN]);
    let plain = Zeroizing::new(
        cipher
            .decrypt(
                nonce,
                Payload {
                    msg: &wrapped[NONCE_LEN..],
                    aad: id.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Tampered)?,
    );
    let bytes: [u8; 32] = plain
        .as_slice()
        .try_into()
        .map_err(|_| CryptoError::Malformed)?;
    Ok(Zeroizing::new(bytes))
}
