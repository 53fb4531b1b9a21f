//! What happens when a client writes something: screen it, alert the care team, and tell the
//! caller whether to show crisis resources — without ever failing the save.
//!
//! [`screen_and_alert`] runs after the text is stored. If screening itself fails, the client
//! still sees crisis resources (we cannot tell, so we assume they may need them), and the
//! screening is queued as a job that retries with backoff until it succeeds; the pending and
//! failed jobs are listed for admins on `/admin/jobs`. If raising the alert fails,
//! [`crate::alerts::notify_care_team`] queues that retry. Both failures are logged as errors.

use std::sync::atomic::{AtomicBool, Ordering};

use uuid::Uuid;

use super::screen::{Level, Screening, read};
use crate::jobs::JobKind;
use crate::web::AppState;

/// Switches that make parts of the safety path fail on purpose, so tests can prove the
/// failure is loud and retried. Always off in normal running.
#[derive(Debug, Default)]
pub struct Faults {
    /// Screening fails as if its module crashed.
    pub screening: AtomicBool,
}

/// Where a screened text came from.
#[derive(Clone, Copy, Debug)]
pub struct Source {
    /// `message`, `journal`, `reflection` or `letter` (the alert kind is `<kind>_risk`).
    pub kind: &'static str,
    /// The stored record's id.
    pub id: Uuid,
}

/// What the caller should do now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RiskOutcome {
    /// The level found, or `None` when screening failed (see `screened`).
    pub level: Level,
    /// Whether screening ran; when it did not, a retry is queued.
    pub screened: bool,
    /// Show crisis resources and the safety plan in this response.
    pub show_help: bool,
}

impl RiskOutcome {
    /// The value stored beside the text: the level, or `unscreened`.
    pub fn stored_level(&self) -> &'static str {
        if self.screened {
            self.level.as_str()
        } else {
            "unscreened"
        }
    }
}

/// The phrase rules on `text` and what they leave for the meaning screen to read (see
/// [`super::screen::read`]), unless the fault switch is on; `Err` when they could not run.
fn by_rules(state: &AppState, text: &str) -> Result<(Screening, Option<String>), String> {
    if state.faults.screening.load(Ordering::Relaxed) {
        return Err("screening is unavailable (injected fault)".into());
    }
    // A panic inside the rules must not lose the client's text or the help they need.
    std::panic::catch_unwind(|| read(text)).map_err(|_| "screening panicked".to_string())
}

/// Screens `text` with the phrase rules and by meaning, unless the fault switch is on; `Err`
/// when screening could not run (the caller shows crisis resources and queues a retry).
pub async fn try_screen(state: &AppState, text: &str) -> Result<Screening, String> {
    let (mut screening, for_meaning) = by_rules(state, text)?;
    let for_meaning = for_meaning.unwrap_or_else(|| text.to_owned());
    if let Some(signal) = state.meaning.signal(for_meaning).await? {
        screening.add(signal);
    }
    Ok(screening)
}

/// Screens text a client wrote (already saved as `source`); raises an alert for their care
/// team when it holds risk (`urgent` → urgent alert, `concern` → review alert); answers
/// whether to show crisis resources now. Never fails its caller.
pub async fn screen_and_alert(
    state: &AppState,
    client_id: Uuid,
    text: &str,
    source: Source,
) -> RiskOutcome {
    alert_on(
        state,
        client_id,
        text,
        source,
        try_screen(state, text).await,
    )
    .await
}

/// How often, at most, a draft being written is read by the meaning screen.
pub const DRAFT_MEANING_EVERY_SECONDS: i64 = 10;

/// Screens a letter draft, which is saved every few seconds while it is written: the phrase
/// rules now, in the save's response (they take well under a millisecond), and the meaning
/// screen in the background. Encoding the text on every save would put the encoder in the
/// path of every autosave (at 200 writers saving each second it took autosave's p99 from 3 to
/// 58 ms and fell a minute behind); instead each draft gets at most one `screen_draft` job per
/// [`DRAFT_MEANING_EVERY_SECONDS`], due at the end of that span, which reads the draft's
/// newest text when it runs, so every save is read by meaning within about that long. The
/// job is durable and retried like any other. Help is also shown while an earlier screening
/// of this draft has an alert that is not yet resolved.
pub async fn screen_draft_and_alert(
    state: &AppState,
    client_id: Uuid,
    text: &str,
    source: Source,
) -> RiskOutcome {
    let rules = by_rules(state, text).map(|(screening, _)| screening);
    let mut outcome = alert_on(state, client_id, text, source, rules).await;
    let now = crate::db::Timestamp::now();
    let span = now.inner().unix_timestamp() / DRAFT_MEANING_EVERY_SECONDS;
    if state.meaning.problem().is_none() && state.meaning.first_in_span(source.id, span) {
        let job = JobKind::ScreenDraft {
            client_id,
            draft_id: source.id,
        };
        let key = format!("screen-draft:{}:{span}", source.id);
        // Due when the span ends, so the job reads whatever the last save of the span wrote.
        let due =
            time::OffsetDateTime::from_unix_timestamp((span + 1) * DRAFT_MEANING_EVERY_SECONDS)
                .map_or(now, crate::db::Timestamp::from);
        if let Err(error) = crate::jobs::enqueue_at(state, &job, Some(&key), due).await {
            // Loud, and the client is shown help: we cannot promise this text will be read.
            tracing::error!(client = %client_id, draft = %source.id, %error, "could not queue screening a draft by meaning");
            outcome.show_help = true;
        }
    }
    let kind = format!("{}_risk", source.kind);
    match state.db.unresolved_alert_for(&kind, source.id).await {
        Ok(flagged) => outcome.show_help |= flagged,
        Err(error) => {
            tracing::error!(draft = %source.id, %error, "could not read the draft's alerts; showing help");
            outcome.show_help = true;
        }
    }
    outcome
}

/// The `screen_draft` job: screens the draft's newest text, rules and meaning, and alerts on
/// what it finds.
pub async fn screen_draft_now(
    state: &AppState,
    client_id: Uuid,
    draft_id: Uuid,
) -> Result<(), String> {
    let Some(row) = state.db.draft(draft_id).await.map_err(|e| e.to_string())? else {
        return Ok(()); // Deleted since: nothing left to screen.
    };
    if row.client_id != client_id {
        return Ok(());
    }
    let text = state
        .sealer
        .open(
            &crate::practice::drafts::draft_context(draft_id),
            &row.content_sealed,
        )
        .await
        .map_err(|e| e.to_string())?;
    retry_screening(state, client_id, "letter", draft_id, &text).await
}

/// The second half of [`screen_and_alert`], for callers that screened before storing (to
/// store the level with the text): alerts on `screening`, or queues a retry when it failed.
pub async fn alert_on(
    state: &AppState,
    client_id: Uuid,
    text: &str,
    source: Source,
    screening: Result<Screening, String>,
) -> RiskOutcome {
    match screening {
        Ok(screening) => {
            alert_for(state, client_id, source, screening.level).await;
            RiskOutcome {
                level: screening.level,
                screened: true,
                show_help: screening.level != Level::None,
            }
        }
        Err(error) => {
            tracing::error!(client = %client_id, source = %source.id, kind = source.kind, %error, "risk screening failed; showing crisis resources and queueing a retry");
            let job = JobKind::ScreenText {
                client_id,
                source_kind: source.kind.to_string(),
                source_id: source.id,
                text: text.to_string(),
            };
            let key = format!("screen:{}:{}", source.kind, source.id);
            if let Err(err) = crate::jobs::enqueue(state, &job, Some(&key)).await {
                tracing::error!(client = %client_id, source = %source.id, error = %err, "could not queue the screening retry either");
            }
            RiskOutcome {
                level: Level::None,
                screened: false,
                show_help: true,
            }
        }
    }
}

/// Raises the alert a level calls for.
async fn alert_for(state: &AppState, client_id: Uuid, source: Source, level: Level) {
    let severity = match level {
        Level::Urgent => "urgent",
        Level::Concern => "review",
        Level::None => return,
    };
    let kind = format!("{}_risk", source.kind);
    crate::alerts::notify_care_team(state, client_id, &kind, severity, source.id).await;
}

/// The job behind a failed screening: screens again and alerts; fails (and so retries) while
/// screening still fails.
pub async fn retry_screening(
    state: &AppState,
    client_id: Uuid,
    kind: &str,
    source_id: Uuid,
    text: &str,
) -> Result<(), String> {
    let screening = try_screen(state, text).await?;
    let kind: &'static str = match kind {
        "message" => "message",
        "journal" => "journal",
        "reflection" => "reflection",
        "letter" => "letter",
        _ => "text",
    };
    alert_for(
        state,
        client_id,
        Source {
            kind,
            id: source_id,
        },
        screening.level,
    )
    .await;
    // A message keeps `unscreened` as its stored level (messages are immutable); the alert
    // ledger records what the retry found.
    Ok(())
}
