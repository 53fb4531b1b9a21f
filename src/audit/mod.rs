//! The audit trail: an append-only, hash-chained record of every read and write of clinical
//! data and every security event.
//!
//! Entry points: [`Audit::record`] (call it from handlers), [`verify_chain`] (`tend audit
//! verify`), [`Db::audit_page`] (the admin page). Each entry stores who, their role, the
//! action, the resource, the UTC time, the source address and the outcome — ids only, never
//! clinical text. `hash = SHA-256(prev_hash || fields)`, so editing or deleting any entry breaks
//! every hash after it. Appends are serialised by a process mutex and by locking the one-row
//! `audit_head` table, so several instances sharing PostgreSQL keep one chain. Appends that
//! arrive while another is being written are written together in the next transaction (group
//! commit): under load one commit serves many requests instead of each waiting its turn for
//! its own (`bench/clinic-day` found audited pages queueing on it).

use std::sync::Arc;

use tokio::sync::oneshot;

use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::authz::Principal;
use crate::db::{Db, DbResult, Timestamp, new_id};
use crate::with_pool;

/// The hash before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// How an audited attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// It happened.
    Success,
    /// The policy refused it.
    Denied,
    /// It was tried and failed (for example a wrong password).
    Failure,
}

impl Outcome {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Denied => "denied",
            Outcome::Failure => "failure",
        }
    }
}

/// One thing to record.
#[derive(Clone, Debug)]
pub struct Event {
    /// Who did it (`None` for anonymous attempts).
    pub actor: Option<Principal>,
    /// A stable dotted name, e.g. `auth.sign_in` or `client_record.read`.
    pub action: &'static str,
    /// The kind of record touched, if any.
    pub resource_type: Option<&'static str>,
    /// The record's id, if any.
    pub resource_id: Option<Uuid>,
    /// The request's source address.
    pub source_ip: Option<String>,
    /// How it ended.
    pub outcome: Outcome,
}

impl Event {
    /// An event with no resource.
    pub fn new(actor: Option<Principal>, action: &'static str, outcome: Outcome) -> Event {
        Event {
            actor,
            action,
            resource_type: None,
            resource_id: None,
            source_ip: None,
            outcome,
        }
    }

    /// Names the record touched.
    pub fn on(mut self, resource_type: &'static str, resource_id: Uuid) -> Event {
        self.resource_type = Some(resource_type);
        self.resource_id = Some(resource_id);
        self
    }

    /// Adds the source address.
    pub fn from_ip(mut self, ip: Option<&str>) -> Event {
        self.source_ip = ip.map(str::to_string);
        self
    }
}

/// A stored entry.
#[derive(Clone, Debug, sqlx::FromRow, Serialize)]
pub struct Entry {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// Entry id.
    pub id: Uuid,
    /// When (UTC).
    pub at: Timestamp,
    /// Who.
    pub actor_id: Option<Uuid>,
    /// Their role at the time.
    pub actor_role: Option<String>,
    /// What.
    pub action: String,
    /// Kind of record.
    pub resource_type: Option<String>,
    /// Which record.
    pub resource_id: Option<Uuid>,
    /// From where.
    pub source_ip: Option<String>,
    /// How it ended.
    pub outcome: String,
    /// Hash of the previous entry.
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

impl Entry {
    /// Recomputes this entry's hash from its fields and `prev_hash`.
    pub fn compute_hash(&self) -> String {
        let opt_uuid = |v: Option<Uuid>| v.map(|u| u.to_string()).unwrap_or_default();
        let fields = [
            self.prev_hash.clone(),
            self.seq.to_string(),
            self.id.to_string(),
            self.at.to_text(),
            opt_uuid(self.actor_id),
            self.actor_role.clone().unwrap_or_default(),
            self.action.clone(),
            self.resource_type.clone().unwrap_or_default(),
            opt_uuid(self.resource_id),
            self.source_ip.clone().unwrap_or_default(),
            self.outcome.clone(),
        ];
        let mut hasher = Sha256::new();
        for field in fields {
            // Length-prefix each field so no two different entries serialise alike.
            hasher.update((field.len() as u64).to_be_bytes());
            hasher.update(field.as_bytes());
        }
        hex::encode(hasher.finalize())
    }
}

/// An append waiting for the next batch, and where its entry goes.
type Pending = (Event, oneshot::Sender<Option<Entry>>);

/// Appends to the audit trail; shared by every request.
#[derive(Clone)]
pub struct Audit {
    db: Db,
    /// Held by whoever is writing a batch.
    lock: Arc<Mutex<()>>,
    /// Appends not yet taken into a batch.
    pending: Arc<std::sync::Mutex<Vec<Pending>>>,
}

/// Columns selected for [`Entry`].
const ENTRY_COLUMNS: &str = "seq, id, at, actor_id, actor_role, action, resource_type, resource_id, source_ip, outcome, prev_hash, hash";

impl Audit {
    /// An appender over `db`.
    pub fn new(db: Db) -> Audit {
        Audit {
            db,
            lock: Arc::new(Mutex::new(())),
            pending: Arc::new(std::sync::Mutex::new(Vec::new())),
        }
    }

    /// Records that `who` viewed a list drawn from many records (a caseload, alerts, the
    /// practice report): every access decision is logged, not only single-record reads.
    pub async fn viewed(
        &self,
        who: crate::authz::Principal,
        action: &'static str,
        ip: Option<&str>,
    ) -> DbResult<()> {
        self.record(Event::new(Some(who), action, Outcome::Success).from_ip(ip))
            .await?;
        Ok(())
    }

    /// Appends one entry, durably, before returning it. A failure here is returned, never
    /// swallowed: callers treat an unrecorded access as a failed request.
    pub async fn record(&self, event: Event) -> DbResult<Entry> {
        let (sender, receiver) = oneshot::channel();
        self.take_pending().push((event.clone(), sender));
        // Whoever gets the lock writes everything pending, in one transaction, in a task of its
        // own: a request dropped mid-write (its client went away) cannot cancel others' entries.
        let guard = Arc::clone(&self.lock).lock_owned().await;
        let batch = std::mem::take(&mut *self.take_pending());
        if batch.is_empty() {
            drop(guard);
        } else {
            let audit = self.clone();
            tokio::spawn(async move {
                let _guard = guard;
                let events: Vec<&Event> = batch.iter().map(|(e, _)| e).collect();
                match audit.append(&events).await {
                    Ok(entries) => {
                        for ((_, sender), entry) in batch.into_iter().zip(entries) {
                            let _ = sender.send(Some(entry));
                        }
                    }
                    // Each waiter retries alone below, and so gets its own error.
                    Err(_) => {
                        for (_, sender) in batch {
                            let _ = sender.send(None);
                        }
                    }
                }
            });
        }
        match receiver.await {
            Ok(Some(entry)) => Ok(entry),
            _ => {
                let _guard = self.lock.lock().await;
                let mut entries = self.append(&[&event]).await?;
                entries
                    .pop()
                    .ok_or_else(|| crate::db::DbError::Corrupt("no audit entry written".into()))
            }
        }
    }

    /// The pending appends (a poisoned lock still holds plain data).
    fn take_pending(&self) -> std::sync::MutexGuard<'_, Vec<Pending>> {
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Writes `events` after the chain's head in one transaction; the caller holds the lock.
    async fn append(&self, events: &[&Event]) -> DbResult<Vec<Entry>> {
        let insert = "INSERT INTO audit_log (seq, id, at, actor_id, actor_role, action, resource_type, resource_id, \
                      source_ip, outcome, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
        let db = &self.db;
        with_pool!(db, |pool| {
            let mut tx = pool.begin().await?;
            // Writing the head row first takes the lock that serialises appends (see the
            // migration's comment on audit_head).
            let (mut last_seq, mut last_hash): (i64, String) =
                sqlx::query_as("UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash")
                    .fetch_one(&mut *tx)
                    .await?;
            let mut entries = Vec::with_capacity(events.len());
            for event in events {
                let entry = new_entry(event, last_seq, last_hash);
                sqlx::query(insert)
                    .bind(entry.seq)
                    .bind(entry.id)
                    .bind(entry.at)
                    .bind(entry.actor_id)
                    .bind(&entry.actor_role)
                    .bind(&entry.action)
                    .bind(&entry.resource_type)
                    .bind(entry.resource_id)
                    .bind(&entry.source_ip)
                    .bind(&entry.outcome)
                    .bind(&entry.prev_hash)
                    .bind(&entry.hash)
                    .execute(&mut *tx)
                    .await?;
                (last_seq, last_hash) = (entry.seq, entry.hash.clone());
                entries.push(entry);
            }
            sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
                .bind(last_seq)
                .bind(&last_hash)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(entries)
        })
    }
}

/// Builds the next entry after `(last_seq, last_hash)`, hash included.
fn new_entry(event: &Event, last_seq: i64, last_hash: String) -> Entry {
    let mut entry = Entry {
        seq: last_seq + 1,
        id: new_id(),
        at: Timestamp::now(),
        actor_id: event.actor.map(|a| a.id),
        actor_role: event.actor.map(|a| a.role.as_str().to_string()),
        action: event.action.to_string(),
        resource_type: event.resource_type.map(str::to_string),
        resource_id: event.resource_id,
        source_ip: event.source_ip.clone(),
        outcome: event.outcome.as_str().to_string(),
        prev_hash: last_hash,
        hash: String::new(),
    };
    entry.hash = entry.compute_hash();
    entry
}

/// Result of checking the whole chain.
#[derive(Debug, PartialEq, Eq)]
pub enum ChainReport {
    /// Every entry links and hashes correctly; the head hash can be noted elsewhere so a
    /// later truncation of the newest entries is detectable too.
    Intact {
        /// Number of entries.
        entries: i64,
        /// Hash of the newest entry.
        head: String,
    },
    /// The first entry that does not check out, and why.
    Broken {
        /// Sequence number where the chain breaks.
        seq: i64,
        /// What is wrong.
        reason: String,
    },
}

/// Walks the chain from the first entry, in pages, checking sequence, links and hashes.
pub async fn verify_chain(db: &Db) -> DbResult<ChainReport> {
    let sql =
        format!("SELECT {ENTRY_COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 1000");
    let mut prev_hash = GENESIS.to_string();
    let mut expected_seq = 1;
    loop {
        let page: Vec<Entry> = with_pool!(db, |pool| {
            sqlx::query_as(&sql)
                .bind(expected_seq - 1)
                .fetch_all(pool)
                .await?
        });
        if page.is_empty() {
            let (head_seq, head_hash): (i64, String) = with_pool!(db, |pool| {
                sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
                    .fetch_one(pool)
                    .await?
            });
            let last = expected_seq - 1;
            if head_seq != last || head_hash != prev_hash {
                return Ok(ChainReport::Broken {
                    seq: last + 1,
                    reason: format!(
                        "the newest entries are missing: the chain ends at {last} but its head records {head_seq}"
                    ),
                });
            }
            return Ok(ChainReport::Intact {
                entries: last,
                head: prev_hash,
            });
        }
        for entry in page {
            if entry.seq != expected_seq {
                return Ok(ChainReport::Broken {
                    seq: expected_seq,
                    reason: format!("entry {expected_seq} is missing"),
                });
            }
            if entry.prev_hash != prev_hash {
                return Ok(ChainReport::Broken {
                    seq: entry.seq,
                    reason: "does not link to the entry before it".into(),
                });
            }
            if entry.compute_hash() != entry.hash {
                return Ok(ChainReport::Broken {
                    seq: entry.seq,
                    reason: "its contents were changed after it was written".into(),
                });
            }
            prev_hash = entry.hash;
            expected_seq += 1;
        }
    }
}

/// Filters for the admin audit page.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct AuditFilter {
    /// Only this action (exact).
    pub action: Option<String>,
    /// Only entries by this actor.
    pub actor_id: Option<Uuid>,
    /// Only entries about this resource.
    pub resource_id: Option<Uuid>,
    /// Only this outcome.
    pub outcome: Option<String>,
    /// Entries older than this sequence number (paging backwards).
    pub before: Option<i64>,
}

impl Db {
    /// Newest entries matching `filter`, at most `limit`.
    pub async fn audit_page(&self, filter: &AuditFilter, limit: i64) -> DbResult<Vec<Entry>> {
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM audit_log WHERE ($1 IS NULL OR action = $1) AND ($2 IS NULL OR actor_id = $2) \
             AND ($3 IS NULL OR resource_id = $3) AND ($4 IS NULL OR outcome = $4) AND ($5 IS NULL OR seq < $5) \
             ORDER BY seq DESC LIMIT $6"
        );
        let non_empty =
            |v: &Option<String>| v.as_deref().filter(|s| !s.is_empty()).map(str::to_string);
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(&sql)
                .bind(non_empty(&filter.action))
                .bind(filter.actor_id)
                .bind(filter.resource_id)
                .bind(non_empty(&filter.outcome))
                .bind(filter.before)
                .bind(limit)
                .fetch_all(pool)
                .await?
        }))
    }
}
