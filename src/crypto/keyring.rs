//! Master keys: where they come from and how a new one is added.
//!
//! The keyring is a list of master keys, newest first. From a file (`master.key` in the data
//! directory, mode 0600) it is one `id base64key` line per key; from `TEND_MASTER_KEY` it is
//! comma-separated base64 keys, newest first, with ids derived from the key bytes. Older keys
//! stay in the ring so values wrapped under them remain readable until rotation re-wraps them.

use std::io::Write;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::{KeyInit, OsRng};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::{CryptoError, Key};

/// One master key and its stable id.
pub struct MasterKey {
    /// Short id stored beside each wrapped data key.
    pub id: String,
    /// The key bytes.
    pub key: Key,
}

/// Master keys, newest first; never empty.
pub struct Keyring {
    keys: Vec<MasterKey>,
}

impl Keyring {
    /// The key new data keys are wrapped with.
    pub fn newest(&self) -> &MasterKey {
        // The constructors refuse an empty ring, so index 0 exists.
        &self.keys[0]
    }

    /// The key with this id, if the ring holds it.
    pub fn get(&self, id: &str) -> Option<&MasterKey> {
        self.keys.iter().find(|k| k.id == id)
    }

    /// Ids of all keys, newest first.
    pub fn ids(&self) -> Vec<String> {
        self.keys.iter().map(|k| k.id.clone()).collect()
    }

    /// Parses `TEND_MASTER_KEY`: comma-separated base64 32-byte keys, newest first.
    pub fn from_env_value(value: &str) -> Result<Keyring, CryptoError> {
        let mut keys = Vec::new();
        for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let key = decode_key(part)?;
            keys.push(MasterKey {
                id: derived_id(&key),
                key,
            });
        }
        Keyring::from_keys(keys)
    }

    /// Reads the key file, refusing one that others can read.
    pub fn load_file(path: &Path) -> Result<Keyring, CryptoError> {
        check_private(path)?;
        let text = Zeroizing::new(
            std::fs::read_to_string(path).map_err(|e| CryptoError::KeyFile(e.to_string()))?,
        );
        let mut keys = Vec::new();
        for line in text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            let (id, b64) = line
                .split_once(' ')
                .ok_or_else(|| CryptoError::KeyFile("expected `id base64key` lines".into()))?;
            keys.push(MasterKey {
                id: id.to_string(),
                key: decode_key(b64.trim())?,
            });
        }
        Keyring::from_keys(keys)
    }

    /// Loads the key file, creating it with one fresh key (mode 0600) when it does not exist.
    pub fn load_or_create_file(path: &Path) -> Result<Keyring, CryptoError> {
        if !path.exists() {
            let ring = Keyring::from_keys(vec![MasterKey::generate()])?;
            ring.write_file(path)?;
        }
        Keyring::load_file(path)
    }

    /// Returns a ring with a freshly generated key in front of these.
    pub fn with_new_key(self) -> Keyring {
        let mut keys = vec![MasterKey::generate()];
        keys.extend(self.keys);
        Keyring { keys }
    }

    /// Writes the ring to `path` atomically with mode 0600 (write a temporary file, then
    /// rename), so a crash mid-write never leaves a truncated key file.
    pub fn write_file(&self, path: &Path) -> Result<(), CryptoError> {
        let err = |e: std::io::Error| CryptoError::KeyFile(e.to_string());
        let tmp = path.with_extension("key.tmp");
        let mut text = Zeroizing::new(String::from(
            "# Tend master keys, newest first. Keep this file secret and backed up apart from\n\
             # the database: without it, sealed data cannot be read.\n",
        ));
        for key in &self.keys {
            text.push_str(&format!(
                "{} {}\n",
                key.id,
                STANDARD.encode(key.key.as_slice())
            ));
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp).map_err(err)?;
        file.write_all(text.as_bytes()).map_err(err)?;
        file.sync_all().map_err(err)?;
        std::fs::rename(&tmp, path).map_err(err)?;
        Ok(())
    }

    /// Wraps a list of keys, refusing an empty one.
    fn from_keys(keys: Vec<MasterKey>) -> Result<Keyring, CryptoError> {
        if keys.is_empty() {
            return Err(CryptoError::KeyFile("no master key found".into()));
        }
        Ok(Keyring { keys })
    }
}

impl MasterKey {
    /// A new random key with a random-looking id derived from it.
    pub fn generate() -> MasterKey {
        let key: Key = Zeroizing::new(XChaCha20Poly1305::generate_key(&mut OsRng).into());
        MasterKey {
            id: derived_id(&key),
            key,
        }
    }
}

/// A short, stable id that reveals nothing useful about the key.
fn derived_id(key: &Key) -> String {
    let digest = Sha256::digest([b"tend-master-key-id:".as_slice(), key.as_slice()].concat());
    format!("mk-{}", hex::encode(&digest[..6]))
}

/// Decodes one base64 key and checks its length.
fn decode_key(b64: &str) -> Result<Key, CryptoError> {
    let bytes = Zeroizing::new(
        STANDARD
            .decode(b64)
            .map_err(|_| CryptoError::KeyFile("a key is not valid base64".into()))?,
    );
    let arr: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| CryptoError::KeyFile("a master key must be 32 bytes".into()))?;
    Ok(Zeroizing::new(arr))
}

/// Refuses a key file that group or others can read.
fn check_private(path: &Path) -> Result<(), CryptoError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path).map_err(|e| CryptoError::KeyFile(e.to_string()))?;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(CryptoError::KeyFile(format!(
                "{} is readable by others; run `chmod 600` on it",
                path.display()
            )));
        }
    }
    Ok(())
}
