//! Configuration: the only module that reads the environment (through clap's `env`).
//!
//! Every flag of `tend serve` is also a `TEND_…` variable; `DATABASE_URL` chooses PostgreSQL.
//! `tend config` prints [`Config::redacted`].

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

/// Settings shared by every subcommand.
#[derive(Args, Clone, Debug)]
pub struct Config {
    /// Folder for the SQLite database, master key, email outbox and uploads (created).
    #[arg(
        long,
        env = "TEND_DATA_DIR",
        default_value = "./tend-data",
        global = true
    )]
    pub data_dir: PathBuf,

    /// PostgreSQL URL (`postgres://…`) for practices running several instances; SQLite in the
    /// data directory when unset.
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,

    /// Address to listen on.
    #[arg(
        long,
        env = "TEND_LISTEN",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub listen: SocketAddr,

    /// The address people use to reach Tend, for links in emails. `https://` turns on Secure
    /// cookies and HSTS.
    #[arg(long, env = "TEND_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// Master key(s), base64, newest first, comma-separated. When unset, `master.key` in the
    /// data directory is used (created with mode 0600 on first start).
    #[arg(long, env = "TEND_MASTER_KEY", hide_env_values = true, global = true)]
    pub master_key: Option<String>,

    /// SMTP server for outgoing email, e.g. `smtp://user:pass@mail.example.org:587?tls=required`.
    /// When unset, emails are written to `outbox/` in the data directory.
    #[arg(long, env = "TEND_SMTP_URL", hide_env_values = true, global = true)]
    pub smtp_url: Option<String>,

    /// Sender address for outgoing email.
    #[arg(
        long,
        env = "TEND_MAIL_FROM",
        default_value = "Tend <tend@localhost>",
        global = true
    )]
    pub mail_from: String,

    /// Minutes of inactivity before a clinician's or admin's session ends.
    #[arg(
        long,
        env = "TEND_STAFF_IDLE_MINUTES",
        default_value_t = 30,
        global = true
    )]
    pub staff_idle_minutes: i64,

    /// Minutes of inactivity before a client's session ends.
    #[arg(
        long,
        env = "TEND_CLIENT_IDLE_MINUTES",
        default_value_t = 60,
        global = true
    )]
    pub client_idle_minutes: i64,

    /// Hours after which any session ends, active or not.
    #[arg(
        long,
        env = "TEND_SESSION_MAX_HOURS",
        default_value_t = 12,
        global = true
    )]
    pub session_max_hours: i64,

    /// Administrations without reliable improvement after which a client counts as not on
    /// track (reliable deterioration always does).
    #[arg(
        long,
        env = "TEND_NOT_ON_TRACK_AFTER",
        default_value_t = 4,
        global = true
    )]
    pub not_on_track_after: usize,

    /// Take the client address from the last `X-Forwarded-For` entry, the one your reverse
    /// proxy appends (only behind your own proxy, which must append it).
    #[arg(long, env = "TEND_TRUST_PROXY", default_value_t = false, global = true)]
    pub trust_proxy: bool,

    /// Run background jobs in this process (turn off for web-only instances).
    #[arg(long, env = "TEND_RUN_JOBS", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub run_jobs: bool,

    /// Log format: `pretty` for people, `json` for collectors.
    #[arg(long, env = "TEND_LOG_FORMAT", default_value = "pretty", global = true)]
    pub log_format: String,

    /// Minutes an urgent alert may stay unacknowledged before it escalates to the backup
    /// clinician and the practice admins.
    #[arg(
        long,
        env = "TEND_ALERT_ESCALATE_MINUTES",
        default_value_t = 30,
        global = true
    )]
    pub alert_escalate_minutes: i64,

    /// Optional URL that receives a JSON POST (ids only, never clinical text) for every
    /// urgent alert, for SMS or paging gateways.
    #[arg(long, env = "TEND_ALERT_WEBHOOK_URL", global = true)]
    pub alert_webhook_url: Option<String>,

    /// Minutes a message may stay unread before its recipient gets an email that something is
    /// waiting (never the message itself).
    #[arg(
        long,
        env = "TEND_MESSAGE_NOTIFY_MINUTES",
        default_value_t = 10,
        global = true
    )]
    pub message_notify_minutes: i64,

    /// Crisis resources shown to clients: `us`, `uk-ie` or `other` puts that region first;
    /// add the practice's own lines with the admin page.
    #[arg(long, env = "TEND_CRISIS_REGION", default_value = "us", global = true)]
    pub crisis_region: String,

    /// Directory of the listening coach's model (`config.json`, `tokenizer.json`,
    /// `model.safetensors`); default `coach/model` in the working directory or source tree.
    #[arg(long, env = "TEND_COACH_MODEL", global = true)]
    pub coach_model: Option<PathBuf>,

    /// The risk screen's meaning model (`head.json`, trained by `tend safety train` for the
    /// coach's encoder); default `safety/model/head.json` in the working directory or source
    /// tree. Without it, risk screening runs on the phrase rules alone (logged as an error).
    #[arg(long, env = "TEND_SAFETY_MODEL", global = true)]
    pub safety_model: Option<PathBuf>,

    /// Base URL of the practice's (ideally self-hosted) Jitsi Meet, e.g.
    /// `https://meet.example.org`; each video appointment gets an unguessable room there.
    /// Unset: video appointments say the practice will share the link.
    #[arg(long, env = "TEND_JITSI_URL", global = true)]
    pub jitsi_url: Option<String>,

    /// Hours before a session after which a client can no longer cancel or move it themselves
    /// (they are asked to message their therapist instead).
    #[arg(
        long,
        env = "TEND_CANCEL_WINDOW_HOURS",
        default_value_t = 24,
        global = true
    )]
    pub cancel_window_hours: i64,

    /// Currency symbol shown beside fees in the directory (one currency per practice).
    #[arg(long, env = "TEND_CURRENCY_SYMBOL", default_value = "$", global = true)]
    pub currency_symbol: String,

    /// Days a clinical record is kept after its client asks for deletion, before it is purged
    /// (records law sets this: often 7 years for adults, longer for minors). The account closes
    /// at once either way.
    #[arg(
        long,
        env = "TEND_RECORD_RETENTION_DAYS",
        default_value_t = 2557,
        global = true
    )]
    pub record_retention_days: i64,

    /// Seconds a client has to send a request's headers (and how long an idle kept-alive
    /// connection stays open); a client that stalls loses the connection.
    #[arg(
        long,
        env = "TEND_HEADER_TIMEOUT_SECONDS",
        default_value_t = 10,
        global = true
    )]
    pub header_timeout_seconds: u64,

    /// Seconds for a whole request, its body and Tend's answer, after which it gets a 503;
    /// message streams, once open, are not cut.
    #[arg(
        long,
        env = "TEND_REQUEST_TIMEOUT_SECONDS",
        default_value_t = 30,
        global = true
    )]
    pub request_timeout_seconds: u64,

    /// Connections served at once; beyond it new ones wait in the system's queue until one
    /// closes. Keep it under the process's open-file limit (`ulimit -n`).
    #[arg(
        long,
        env = "TEND_MAX_CONNECTIONS",
        default_value_t = 10_000,
        global = true
    )]
    pub max_connections: usize,
}

impl Config {
    /// A configuration for tests and tools: defaults everywhere, this data directory.
    pub fn for_data_dir(data_dir: PathBuf) -> Config {
        Config {
            data_dir,
            database_url: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            public_url: None,
            master_key: None,
            smtp_url: None,
            mail_from: "Tend <tend@localhost>".into(),
            staff_idle_minutes: 30,
            client_idle_minutes: 60,
            session_max_hours: 12,
            not_on_track_after: 4,
            trust_proxy: false,
            run_jobs: true,
            log_format: "pretty".into(),
            alert_escalate_minutes: 30,
            alert_webhook_url: None,
            message_notify_minutes: 10,
            crisis_region: "us".into(),
            coach_model: None,
            safety_model: None,
            jitsi_url: None,
            cancel_window_hours: 24,
            currency_symbol: "$".into(),
            record_retention_days: 2557,
            header_timeout_seconds: 10,
            request_timeout_seconds: 30,
            max_connections: 10_000,
        }
    }

    /// Whether people reach Tend over TLS (cookies get `Secure`, responses get HSTS).
    pub fn served_over_tls(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    }

    /// A warning when people will reach Tend over plain HTTP from other machines: it listens
    /// on an address other than loopback and `TEND_PUBLIC_URL` is not `https://`, so session
    /// cookies go without `Secure` and nothing asks browsers for HTTPS. On loopback (a laptop,
    /// or behind a proxy on the same machine that sets `TEND_PUBLIC_URL`) there is nothing to say.
    pub fn plain_http_warning(&self) -> Option<String> {
        if self.served_over_tls() || self.listen.ip().is_loopback() {
            return None;
        }
        Some(format!(
            "Tend is listening on {} without HTTPS: health data and sign-in cookies would cross \
             the network unencrypted. Put Tend behind a TLS-terminating proxy and set \
             TEND_PUBLIC_URL=https://your.host (see README.md, \"Running it for a practice\").",
            self.listen
        ))
    }

    /// The base URL for links in emails, without a trailing slash.
    pub fn base_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => format!("http://{}", self.listen),
        }
    }

    /// The effective configuration as `KEY=value` lines with secrets redacted.
    pub fn redacted(&self) -> Vec<(String, String)> {
        let secret = |v: &Option<String>| match v {
            Some(_) => "(set, redacted)".to_string(),
            None => "(unset)".to_string(),
        };
        vec![
            ("TEND_DATA_DIR".into(), self.data_dir.display().to_string()),
            (
                "DATABASE_URL".into(),
                redact_url(self.database_url.as_deref()),
            ),
            ("TEND_LISTEN".into(), self.listen.to_string()),
            (
                "TEND_PUBLIC_URL".into(),
                self.public_url.clone().unwrap_or_else(|| "(unset)".into()),
            ),
            ("TEND_MASTER_KEY".into(), secret(&self.master_key)),
            ("TEND_SMTP_URL".into(), redact_url(self.smtp_url.as_deref())),
            ("TEND_MAIL_FROM".into(), self.mail_from.clone()),
            (
                "TEND_STAFF_IDLE_MINUTES".into(),
                self.staff_idle_minutes.to_string(),
            ),
            (
                "TEND_CLIENT_IDLE_MINUTES".into(),
                self.client_idle_minutes.to_string(),
            ),
            (
                "TEND_SESSION_MAX_HOURS".into(),
                self.session_max_hours.to_string(),
            ),
            (
                "TEND_NOT_ON_TRACK_AFTER".into(),
                self.not_on_track_after.to_string(),
            ),
            ("TEND_TRUST_PROXY".into(), self.trust_proxy.to_string()),
            ("TEND_RUN_JOBS".into(), self.run_jobs.to_string()),
            ("TEND_LOG_FORMAT".into(), self.log_format.clone()),
            (
                "TEND_ALERT_ESCALATE_MINUTES".into(),
                self.alert_escalate_minutes.to_string(),
            ),
            (
                "TEND_ALERT_WEBHOOK_URL".into(),
                redact_url(self.alert_webhook_url.as_deref()),
            ),
            (
                "TEND_MESSAGE_NOTIFY_MINUTES".into(),
                self.message_notify_minutes.to_string(),
            ),
            ("TEND_CRISIS_REGION".into(), self.crisis_region.clone()),
            (
                "TEND_COACH_MODEL".into(),
                self.coach_model.as_ref().map_or_else(
                    || "(default: coach/model)".into(),
                    |p| p.display().to_string(),
                ),
            ),
            (
                "TEND_SAFETY_MODEL".into(),
                self.safety_model.as_ref().map_or_else(
                    || "(default: safety/model/head.json)".into(),
                    |p| p.display().to_string(),
                ),
            ),
            (
                "TEND_JITSI_URL".into(),
                self.jitsi_url.clone().unwrap_or_else(|| "(unset)".into()),
            ),
            (
                "TEND_CANCEL_WINDOW_HOURS".into(),
                self.cancel_window_hours.to_string(),
            ),
            ("TEND_CURRENCY_SYMBOL".into(), self.currency_symbol.clone()),
            (
                "TEND_RECORD_RETENTION_DAYS".into(),
                self.record_retention_days.to_string(),
            ),
        ]
    }
}

/// Hides the password in a URL, keeping host and database visible for troubleshooting.
fn redact_url(url: Option<&str>) -> String {
    let Some(url) = url else {
        return "(unset)".into();
    };
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("redacted"));
            }
            parsed.to_string()
        }
        Err(_) => "(set, unparseable, redacted)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_on_a_shared_address_is_warned_about() {
        let mut config = Config::for_data_dir(PathBuf::from("data"));
        config.listen = "127.0.0.1:8080".parse().unwrap_or_else(|_| unreachable!());
        assert_eq!(config.plain_http_warning(), None);
        config.listen = "0.0.0.0:8080".parse().unwrap_or_else(|_| unreachable!());
        let warning = config.plain_http_warning().unwrap_or_default();
        assert!(warning.contains("without HTTPS"), "{warning}");
        config.public_url = Some("http://tend.example.org".into());
        assert!(config.plain_http_warning().is_some());
        config.public_url = Some("https://tend.example.org".into());
        assert_eq!(config.plain_http_warning(), None);
    }

    #[test]
    fn passwords_in_urls_are_redacted() {
        let shown = redact_url(Some("postgres://tend:hunter2@db.internal/tend"));
        assert!(!shown.contains("hunter2"));
        assert!(shown.contains("db.internal"));
    }
}
