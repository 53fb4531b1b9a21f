//! The shared risk-screening hook for anything a client writes.
//!
//! `screen_text` is the one place client-written text (journal entries, reflections, and
//! later messages and letters) is checked for risk language. Today it is a small,
//! conservative list of phrases that should always reach a person; the messaging-and-safety
//! work replaces its inside with the full screening model without changing its callers. It
//! errs towards flagging: a false alarm costs a check-in, a miss could cost far more.

use crate::measures::scoring::RiskLevel;

/// Phrases that always raise an urgent flag (lower-cased, matched as substrings after
/// collapsing whitespace and straight/curly apostrophes).
const URGENT: [&str; 14] = [
    "kill myself",
    "killing myself",
    "end my life",
    "ending my life",
    "take my own life",
    "suicide",
    "suicidal",
    "want to die",
    "wish i was dead",
    "wish i were dead",
    "better off dead",
    "hurt myself",
    "harm myself",
    "no reason to live",
];

/// Screens a piece of client-written text; `Some(level)` when it should reach a clinician.
pub fn screen_text(text: &str) -> Option<RiskLevel> {
    let normalised: String = text
        .to_lowercase()
        .replace(['\u{2019}', '\u{2018}'], "'")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    URGENT
        .iter()
        .any(|p| normalised.contains(p))
        .then_some(RiskLevel::Urgent)
}

/// Screens text a client wrote, saved as record `source_id`; when it holds risk language,
/// raises an urgent alert for the client's care team (the text itself stays private) and
/// returns true so the caller shows crisis resources and the safety plan at once.
pub async fn screen_and_alert(
    state: &crate::web::AppState,
    client_id: uuid::Uuid,
    text: &str,
    source_id: uuid::Uuid,
) -> bool {
    let risky = screen_text(text).is_some();
    if risky {
        crate::alerts::notify_care_team(state, client_id, "journal_risk", "urgent", source_id)
            .await;
    }
    risky
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn risk_language_is_flagged_whatever_the_case_or_spacing() {
        assert_eq!(
            screen_text("Some days I just WANT   to die."),
            Some(RiskLevel::Urgent)
        );
        assert_eq!(
            screen_text("I've thought about ending my life"),
            Some(RiskLevel::Urgent)
        );
        assert_eq!(
            screen_text("Everyone would be better off dead than me"),
            Some(RiskLevel::Urgent)
        );
    }

    #[test]
    fn ordinary_hard_days_are_not_flagged() {
        assert_eq!(
            screen_text("Work was exhausting and I cried in the car."),
            None
        );
        assert_eq!(screen_text("I felt lonely but called my sister."), None);
    }
}
