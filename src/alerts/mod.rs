//! The alert ledger: something a clinician must see, tracked from open through acknowledged to
//! resolved, and escalated when nobody acknowledges it in time.
//!
//! Entry points: [`raise`] (idempotent per kind, source and recipient; emails the recipient
//! that an alert is waiting, never its content, and schedules the escalation check),
//! [`escalate_if_open`] (run by the job queue), [`routes`] (the clinician's alert page).
//! Measures raise alerts for risk answers and not-on-track progress; messaging will use the
//! same ledger.

pub mod pages;

use serde::{Deserialize, Serialize};
use time::Duration;
use uuid::Uuid;

use crate::authz::{CLINICIAN, Role};
use crate::db::{Db, DbResult, Timestamp, new_id};
use crate::email::Email;
use crate::error::AppResult;
use crate::jobs::{JobKind, enqueue_at};
use crate::web::AppState;
use crate::web::routes::Route;
use crate::with_pool;

/// How long an urgent alert may stay unacknowledged before it escalates
/// (`TEND_ALERT_ESCALATE_MINUTES`).
pub fn escalate_after(state: &AppState) -> Duration {
    Duration::minutes(state.config.alert_escalate_minutes.max(1))
}

/// Routes of this feature.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/alerts", CLINICIAN, pages::show_alerts),
        Route::post("/alerts/{id}", CLINICIAN, pages::update_alert),
    ]
}

/// What to raise.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct NewAlert {
    /// The client it concerns.
    pub client_id: Uuid,
    /// Who must see it.
    pub recipient_id: Uuid,
    /// A stable kind, e.g. `measure_risk`, `not_on_track`.
    pub kind: String,
    /// `urgent` or `review`.
    pub severity: String,
    /// The record that caused it (a response id).
    pub source_id: Uuid,
}

/// A stored alert as the recipient sees it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AlertRow {
    /// Alert id.
    pub id: Uuid,
    /// The client.
    pub client_id: Uuid,
    /// The client's name.
    pub client_name: String,
    /// Kind.
    pub kind: String,
    /// Severity.
    pub severity: String,
    /// The source record.
    pub source_id: Uuid,
    /// `open`, `acknowledged` or `resolved`.
    pub status: String,
    /// Raised at.
    pub created_at: Timestamp,
    /// Escalated at, if it was.
    pub escalated_at: Option<Timestamp>,
}

impl AlertRow {
    /// Where the clinician can see what raised it.
    pub fn source_link(&self) -> String {
        match self.kind.as_str() {
            "message_risk" => format!("/messages/with/{}", self.client_id),
            "journal_risk" | "reflection_risk" | "letter_risk" => {
                format!("/clients/{}/practice", self.client_id)
            }
            _ => format!("/clients/{}/progress", self.client_id),
        }
    }

    /// Plain words for the kind.
    pub fn describe(&self) -> &'static str {
        match self.kind.as_str() {
            "measure_risk" => "A questionnaire answer about safety needs your attention",
            "not_on_track" => "Progress is not on track",
            "journal_risk" | "reflection_risk" | "letter_risk" | "message_risk" | "text_risk" => {
                if self.severity == "urgent" {
                    "Something the client wrote may mean they are not safe"
                } else {
                    "Something the client wrote may be worth a gentle check-in"
                }
            }
            _ => "Needs your attention",
        }
    }
}

impl Db {
    /// Inserts an alert unless the same one exists; returns its id and whether it is new.
    pub async fn insert_alert(&self, alert: &NewAlert) -> DbResult<(Uuid, bool)> {
        let id = new_id();
        let inserted = with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO alerts (id, client_id, recipient_id, kind, severity, source_id, status, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, 'open', $7) ON CONFLICT (kind, source_id, recipient_id) DO NOTHING",
            )
            .bind(id)
            .bind(alert.client_id)
            .bind(alert.recipient_id)
            .bind(&alert.kind)
            .bind(&alert.severity)
            .bind(alert.source_id)
            .bind(Timestamp::now())
            .execute(pool)
            .await?
            .rows_affected()
        });
        if inserted == 1 {
            return Ok((id, true));
        }
        let existing: Uuid = with_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT id FROM alerts WHERE kind = $1 AND source_id = $2 AND recipient_id = $3",
            )
            .bind(&alert.kind)
            .bind(alert.source_id)
            .bind(alert.recipient_id)
            .fetch_one(pool)
            .await?
        });
        Ok((existing, false))
    }

    /// Whether an alert of `kind` about `source_id` is open or acknowledged (not resolved).
    pub async fn unresolved_alert_for(&self, kind: &str, source_id: Uuid) -> DbResult<bool> {
        let found: Option<i64> = with_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT 1 FROM alerts WHERE kind = $1 AND source_id = $2 AND status <> 'resolved' LIMIT 1",
            )
            .bind(kind)
            .bind(source_id)
            .fetch_optional(pool)
            .await?
        });
        Ok(found.is_some())
    }

    /// Alerts for a recipient, open ones first, newest first.
    pub async fn alerts_for(
        &self,
        recipient_id: Uuid,
        include_resolved: bool,
    ) -> DbResult<Vec<AlertRow>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT a.id, a.client_id, u.name AS client_name, a.kind, a.severity, a.source_id, a.status, a.created_at, a.escalated_at \
                 FROM alerts a JOIN users u ON u.id = a.client_id WHERE a.recipient_id = $1 AND ($2 OR a.status <> 'resolved') \
                 ORDER BY CASE a.status WHEN 'open' THEN 0 WHEN 'acknowledged' THEN 1 ELSE 2 END, a.created_at DESC LIMIT 200",
            )
            .bind(recipient_id)
            .bind(include_resolved)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Open alerts per client for a recipient (for the caseload).
    pub async fn open_alert_counts(&self, recipient_id: Uuid) -> DbResult<Vec<(Uuid, i64)>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as("SELECT client_id, COUNT(*) FROM alerts WHERE recipient_id = $1 AND status = 'open' GROUP BY client_id")
                .bind(recipient_id)
                .fetch_all(pool)
                .await?
        }))
    }

    /// Moves an alert on (`acknowledged` or `resolved`), only for its recipient; true if it moved.
    pub async fn set_alert_status(
        &self,
        id: Uuid,
        recipient_id: Uuid,
        status: &str,
    ) -> DbResult<bool> {
        let now = Timestamp::now();
        let sql = match status {
            "acknowledged" => {
                "UPDATE alerts SET status = 'acknowledged', acknowledged_at = $1 WHERE id = $2 AND recipient_id = $3 AND status = 'open'"
            }
            _ => {
                "UPDATE alerts SET status = 'resolved', resolved_at = $1, acknowledged_at = COALESCE(acknowledged_at, $1) WHERE id = $2 AND recipient_id = $3 AND status <> 'resolved'"
            }
        };
        Ok(with_pool!(self, |pool| sqlx::query(sql)
            .bind(now)
            .bind(id)
            .bind(recipient_id)
            .execute(pool)
            .await?
            .rows_affected())
            == 1)
    }

    /// Marks an open alert escalated; true if it was open and not yet escalated.
    pub async fn mark_escalated(&self, id: Uuid) -> DbResult<bool> {
        Ok(with_pool!(self, |pool| {
            sqlx::query("UPDATE alerts SET escalated_at = $1 WHERE id = $2 AND status = 'open' AND escalated_at IS NULL")
                .bind(Timestamp::now())
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        }) == 1)
    }
}

/// Raises an alert: records it, emails the recipient that something is waiting (no clinical
/// content), and schedules the escalation check. Idempotent.
pub async fn raise(state: &AppState, alert: &NewAlert) -> AppResult<Uuid> {
    let (id, new) = state.db.insert_alert(alert).await?;
    if new {
        if let Some(recipient) = state.db.user_by_id(alert.recipient_id).await? {
            let email = Email {
                to: recipient.email.clone(),
                subject: if alert.severity == "urgent" {
                    "Tend: an urgent alert is waiting for you".into()
                } else {
                    "Tend: an alert is waiting for you".into()
                },
                body: format!(
                    "Hello {},\n\nThere is a new alert for one of your clients in Tend. Please sign in to see it:\n\n{}/alerts\n\nFor privacy, this email never contains clinical details.\n\nTend\n",
                    recipient.name,
                    state.config.base_url()
                ),
                attachment: None,
            };
            enqueue_at(
                state,
                &JobKind::SendEmail(email),
                Some(&format!("alert-email:{id}")),
                Timestamp::now(),
            )
            .await?;
        }
        if alert.severity == "urgent" {
            enqueue_at(
                state,
                &JobKind::EscalateAlert { alert_id: id },
                Some(&format!("alert-escalate:{id}")),
                Timestamp::now() + escalate_after(state),
            )
            .await?;
            if state.config.alert_webhook_url.is_some() {
                enqueue_at(
                    state,
                    &JobKind::AlertWebhook { alert_id: id },
                    Some(&format!("alert-webhook:{id}")),
                    Timestamp::now(),
                )
                .await?;
            }
        }
        state
            .audit
            .record(
                crate::audit::Event::new(None, "alert.raised", crate::audit::Outcome::Success)
                    .on("alert", id),
            )
            .await?;
    }
    Ok(id)
}

/// Raises an alert for every clinician treating `client_id`. Never fails its caller: the
/// client's own action is already saved, so a failure here is logged as an error and the
/// alert is queued for retry through the job queue.
pub async fn notify_care_team(
    state: &AppState,
    client_id: Uuid,
    kind: &str,
    severity: &str,
    source_id: Uuid,
) {
    let therapists = match state.db.client_facts(client_id).await {
        Ok(facts) => facts.therapist_ids,
        Err(err) => {
            tracing::error!(client = %client_id, source = %source_id, kind, error = %err, "could not find the care team for an alert");
            return;
        }
    };
    for therapist in therapists {
        let alert = NewAlert {
            client_id,
            recipient_id: therapist,
            kind: kind.into(),
            severity: severity.into(),
            source_id,
        };
        if let Err(err) = raise(state, &alert).await {
            tracing::error!(client = %client_id, source = %source_id, kind, error = %err, "raising an alert failed; queued for retry");
            let key = format!("raise-alert:{kind}:{source_id}:{therapist}");
            if let Err(err) =
                crate::jobs::enqueue(state, &JobKind::RaiseAlert(alert), Some(&key)).await
            {
                tracing::error!(client = %client_id, source = %source_id, kind, error = %err, "could not queue the alert retry either");
            }
        }
    }
}

/// If the alert is still open, escalates it: the recipient's backup clinician (if they named
/// one) gets the same alert in their ledger, every admin gets an email (ids only), and the
/// alert is marked escalated. Run by the job queue; idempotent.
pub async fn escalate_if_open(state: &AppState, alert_id: Uuid) -> AppResult<()> {
    let Some(alert) = state.db.alert(alert_id).await? else {
        return Ok(());
    };
    if alert.status != "open" {
        return Ok(());
    }
    // The backup first: raising is idempotent, so a retry after a crash is harmless.
    if let Some(backup) = state
        .db
        .messaging_settings(alert.recipient_id)
        .await?
        .and_then(|s| s.backup_clinician_id)
        .filter(|b| *b != alert.recipient_id)
    {
        raise(
            state,
            &NewAlert {
                client_id: alert.client_id,
                recipient_id: backup,
                kind: alert.kind.clone(),
                severity: alert.severity.clone(),
                source_id: alert.source_id,
            },
        )
        .await?;
    }
    if !state.db.mark_escalated(alert_id).await? {
        return Ok(());
    }
    state
        .audit
        .record(
            crate::audit::Event::new(None, "alert.escalated", crate::audit::Outcome::Success)
                .on("alert", alert_id),
        )
        .await?;
    tracing::warn!(alert = %alert_id, "urgent alert unacknowledged; escalating");
    for admin in state.db.list_users(Some(Role::Admin)).await? {
        let email = Email {
            to: admin.email.clone(),
            subject: "Tend: an urgent alert has not been acknowledged".into(),
            body: format!(
                "Hello {},\n\nAn urgent client alert (reference {alert_id}) has been open for more than {} minutes without a clinician acknowledging it. \
                 Please make sure someone on the care team sees it.\n\nTend\n",
                admin.name,
                escalate_after(state).whole_minutes()
            ),
            attachment: None,
        };
        enqueue_at(
            state,
            &JobKind::SendEmail(email),
            Some(&format!("alert-escalated:{alert_id}:{}", admin.id)),
            Timestamp::now(),
        )
        .await?;
    }
    Ok(())
}

/// The fields escalation needs.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct StoredAlert {
    /// The client.
    pub client_id: Uuid,
    /// Who it was raised for.
    pub recipient_id: Uuid,
    /// Kind.
    pub kind: String,
    /// Severity.
    pub severity: String,
    /// Source record.
    pub source_id: Uuid,
    /// Status.
    pub status: String,
    /// Raised at.
    pub created_at: Timestamp,
}

impl Db {
    /// One alert by id.
    pub async fn alert(&self, id: Uuid) -> DbResult<Option<StoredAlert>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT client_id, recipient_id, kind, severity, source_id, status, created_at FROM alerts WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// Open urgent alerts for a clinician (for the banner on every page).
    pub async fn open_urgent_alerts(&self, recipient_id: Uuid) -> DbResult<i64> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM alerts WHERE recipient_id = $1 AND status = 'open' AND severity = 'urgent'",
            )
            .bind(recipient_id)
            .fetch_one(pool)
            .await?
        }))
    }

    /// Stores the sealed note and who resolved an alert.
    pub async fn set_alert_resolution(
        &self,
        id: Uuid,
        sealed_note: &[u8],
        by: Uuid,
    ) -> DbResult<()> {
        with_pool!(self, |pool| {
            sqlx::query("UPDATE alerts SET resolution_sealed = $1, resolved_by = $2 WHERE id = $3")
                .bind(sealed_note)
                .bind(by)
                .bind(id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}

/// What the paging webhook receives: ids and plain facts, never clinical text or names.
#[derive(Serialize)]
struct WebhookPayload {
    event: &'static str,
    alert_id: Uuid,
    severity: String,
    kind: String,
    raised_at: String,
    url: String,
}

/// POSTs an urgent alert to `TEND_ALERT_WEBHOOK_URL`; an error status or network failure is
/// an error, so the job queue retries it.
pub async fn call_webhook(state: &AppState, alert_id: Uuid) -> Result<(), String> {
    let Some(url) = state.config.alert_webhook_url.as_deref() else {
        return Ok(());
    };
    let alert = state
        .db
        .alert(alert_id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the alert no longer exists")?;
    let payload = WebhookPayload {
        event: "tend.alert.urgent",
        alert_id,
        severity: alert.severity,
        kind: alert.kind,
        raised_at: alert.created_at.to_rfc3339(),
        url: format!("{}/alerts", state.config.base_url()),
    };
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        // The page goes only where the operator pointed it: a redirect is an error.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())?;
    let response = client
        .post(url)
        .json(&payload)
        .send()
        .await
        .map_err(|e| format!("webhook unreachable: {e}"))?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("webhook answered {}", response.status()))
    }
}
