//! Real-time delivery: tells open pages that a conversation has something new.
//!
//! A [`Hub`] is one in-process broadcast channel. Sending a message publishes its
//! conversation id locally; with PostgreSQL it also runs `pg_notify('tend_messages', …)`, and
//! every instance's listener ([`Hub::spawn_pg_listener`]) republishes notifications from
//! other instances locally, so a message sent through instance A reaches a page connected to
//! instance B. A notification only says "look again": each connected page then reads what it
//! has not seen yet from the database, so a lost or merged notification (a listener reconnect,
//! a lagging receiver) delays delivery until the next event or reconnect, never loses it.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, watch};
use uuid::Uuid;

use crate::db::{Db, DbResult};

/// The PostgreSQL channel instances share.
pub const CHANNEL: &str = "tend_messages";

/// What a connected page hears.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nudge {
    /// Something new in this conversation.
    Conversation(Uuid),
    /// Notifications may have been missed (listener reconnected): everyone looks again.
    Resync,
}

/// The in-process hub; cheap to clone.
#[derive(Clone)]
pub struct Hub {
    tx: broadcast::Sender<Nudge>,
    /// This instance's id, so its own PostgreSQL notifications are not delivered twice.
    instance: Uuid,
    closing: Arc<watch::Sender<bool>>,
}

impl Default for Hub {
    fn default() -> Self {
        let (tx, _) = broadcast::channel(4096);
        let (closing, _) = watch::channel(false);
        Hub {
            tx,
            instance: Uuid::new_v4(),
            closing: Arc::new(closing),
        }
    }
}

impl Hub {
    /// A receiver for every nudge from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Nudge> {
        self.tx.subscribe()
    }

    /// A signal that turns true when the server shuts down (open streams end then).
    pub fn closing(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }

    /// Ends every open stream (graceful shutdown must not wait for them).
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Pages connected to this instance right now.
    pub fn listeners(&self) -> usize {
        self.tx.receiver_count()
    }

    /// Tells every instance that `conversation` has something new.
    pub async fn publish(&self, db: &Db, conversation: Uuid) -> DbResult<()> {
        // Local first: nobody on this instance waits for the database round trip.
        let _ = self.tx.send(Nudge::Conversation(conversation));
        if let Db::Postgres(pool) = db {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(format!("{}:{conversation}", self.instance))
                .execute(pool)
                .await?;
        }
        Ok(())
    }

    /// On PostgreSQL, listens for other instances' notifications until shutdown, reconnecting
    /// after errors (and telling pages to look again, since some may have been missed).
    pub fn spawn_pg_listener(&self, db: &Db) -> Option<tokio::task::JoinHandle<()>> {
        let Db::Postgres(pool) = db else {
            return None;
        };
        let pool = pool.clone();
        let hub = self.clone();
        let mut closing = self.closing();
        Some(tokio::spawn(async move {
            loop {
                let run = hub.listen_once(&pool);
                tokio::select! {
                    result = run => {
                        if let Err(err) = result {
                            tracing::warn!(error = %err, "message listener lost its connection; reconnecting");
                        }
                    }
                    _ = closing.changed() => return,
                }
                let _ = hub.tx.send(Nudge::Resync);
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                    _ = closing.changed() => return,
                }
            }
        }))
    }

    /// One listening session; returns when the connection fails.
    async fn listen_once(&self, pool: &sqlx::PgPool) -> Result<(), sqlx::Error> {
        let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
        listener.listen(CHANNEL).await?;
        // Anything sent while we were not listening: pages look again.
        let _ = self.tx.send(Nudge::Resync);
        loop {
            // `try_recv` returns `None` when the connection dropped (sqlx would reconnect
            // silently inside `recv`, hiding the gap).
            let Some(notification) = listener.try_recv().await? else {
                return Ok(());
            };
            if let Some(nudge) = parse(notification.payload(), self.instance) {
                let _ = self.tx.send(nudge);
            }
        }
    }
}

/// Parses `instance:conversation`; `None` for this instance's own or a malformed payload.
fn parse(payload: &str, own: Uuid) -> Option<Nudge> {
    let (instance, conversation) = payload.split_once(':')?;
    let instance: Uuid = instance.parse().ok()?;
    if instance == own {
        return None;
    }
    conversation.parse().ok().map(Nudge::Conversation)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notifications_from_other_instances_are_delivered_and_own_are_skipped() {
        let own = Uuid::new_v4();
        let other = Uuid::new_v4();
        let conversation = Uuid::new_v4();
        assert_eq!(
            parse(&format!("{other}:{conversation}"), own),
            Some(Nudge::Conversation(conversation))
        );
        assert_eq!(parse(&format!("{own}:{conversation}"), own), None);
        assert_eq!(parse("garbage", own), None);
        assert_eq!(parse(&format!("{other}:not-a-uuid"), own), None);
    }
}
