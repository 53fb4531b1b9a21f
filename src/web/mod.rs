//! The web foundation: shared state, the route table, middleware, extractors and layout.
//!
//! Entry points: [`routes::Route`] (how features declare routes with their access rule),
//! [`middleware`] (session resolution, access enforcement, CSRF cookie, security headers,
//! error rendering), [`extract`] (form and JSON extractors that name the bad field) and
//! [`layout::Layout`] (what every page template shares).

pub mod assets;
pub mod extract;
pub mod health;
pub mod layout;
pub mod middleware;
pub mod ratelimit;
pub mod routes;

use std::sync::Arc;

use crate::audit::Audit;
use crate::config::Config;
use crate::crypto::Sealer;
use crate::db::Db;
use crate::email::Mailer;
use crate::jobs::Wakeup;
use ratelimit::RateLimiter;

/// Everything a request handler may need; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The storage contract.
    pub db: Db,
    /// Encryption at rest for free text.
    pub sealer: Sealer,
    /// The audit trail.
    pub audit: Audit,
    /// Effective configuration.
    pub config: Arc<Config>,
    /// Outgoing email (used by the job worker).
    pub mailer: Mailer,
    /// In-memory rate limits for sign-in, invitations and setup.
    pub limiter: RateLimiter,
    /// Wakes the job worker when a job is enqueued.
    pub wakeup: Wakeup,
    /// Real-time delivery of new messages to open pages (across instances on PostgreSQL).
    pub hub: crate::messaging::hub::Hub,
    /// The practice's crisis lines, cached briefly.
    pub crisis: crate::safety::crisis::Cache,
    /// Fault switches for tests of the safety path (always off in normal running).
    pub faults: Arc<crate::safety::risk::Faults>,
    /// The listening coach's model, loaded on first use.
    pub coach: Arc<crate::coach::Engine>,
    /// Risk screening by meaning (beside the phrase rules), sharing the coach's encoder.
    pub meaning: Arc<crate::safety::meaning::MeaningScreen>,
    /// The directory's in-memory search index, kept current from the database.
    pub directory: crate::directory::queries::DirectoryIndex,
}
