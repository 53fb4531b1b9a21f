//! "Who needs attention today": the caseload's first section, worked out from facts the
//! caseload already has. Pure, so the order is tested without a database.

use std::collections::HashMap;

use uuid::Uuid;

use crate::accounts::queries::CaseloadEntry;
use crate::db::Timestamp;

/// Days after a questionnaire falls due before it counts as overdue (clients get a few days).
pub const OVERDUE_AFTER_DAYS: i64 = 3;

/// One reason, most urgent first (the order of the variants is the order shown).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reason {
    /// Open risk alerts.
    Alerts(i64),
    /// Not on track on at least one questionnaire.
    NotOnTrack,
    /// A message from the client with no reply since this moment.
    MessageWaiting(Timestamp),
    /// Questionnaires overdue.
    Overdue(i64),
    /// The treatment plan's review date has come.
    PlanReviewDue,
}

impl Reason {
    /// The words shown.
    pub fn text(&self) -> String {
        match self {
            Reason::Alerts(1) => "1 open alert".into(),
            Reason::Alerts(n) => format!("{n} open alerts"),
            Reason::NotOnTrack => "not on track".into(),
            Reason::MessageWaiting(since) => format!("message waiting since {}", since.display()),
            Reason::Overdue(1) => "1 questionnaire overdue".into(),
            Reason::Overdue(n) => format!("{n} questionnaires overdue"),
            Reason::PlanReviewDue => "plan review due".into(),
        }
    }
}

/// A client who needs attention, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Attention {
    /// The client.
    pub client_id: Uuid,
    /// Their name.
    pub name: String,
    /// Why, most urgent first.
    pub reasons: Vec<Reason>,
}

impl Attention {
    /// The reasons as one line.
    pub fn summary(&self) -> String {
        self.reasons
            .iter()
            .map(Reason::text)
            .collect::<Vec<_>>()
            .join(" · ")
    }
}

/// Facts about a caseload, per client.
#[derive(Default)]
pub struct Facts {
    /// (not on track, open alerts).
    pub flags: HashMap<Uuid, (bool, i64)>,
    /// Oldest unanswered message.
    pub waiting: HashMap<Uuid, Timestamp>,
    /// Overdue questionnaires.
    pub overdue: HashMap<Uuid, i64>,
    /// Clients whose treatment plan is due for review.
    pub review_due: std::collections::HashSet<Uuid>,
}

/// The clients who need attention, the most urgent first (then the longest waiting, then by
/// name).
pub fn who_needs_attention(clients: &[CaseloadEntry], facts: &Facts) -> Vec<Attention> {
    let mut out: Vec<Attention> = clients
        .iter()
        .filter_map(|c| {
            let mut reasons = Vec::new();
            let (off, alerts) = facts.flags.get(&c.id).copied().unwrap_or_default();
            if alerts > 0 {
                reasons.push(Reason::Alerts(alerts));
            }
            if off {
                reasons.push(Reason::NotOnTrack);
            }
            if let Some(since) = facts.waiting.get(&c.id) {
                reasons.push(Reason::MessageWaiting(*since));
            }
            if let Some(n) = facts.overdue.get(&c.id).filter(|n| **n > 0) {
                reasons.push(Reason::Overdue(*n));
            }
            if facts.review_due.contains(&c.id) {
                reasons.push(Reason::PlanReviewDue);
            }
            (!reasons.is_empty()).then(|| Attention {
                client_id: c.id,
                name: c.name.clone(),
                reasons,
            })
        })
        .collect();
    out.sort_by(|a, b| a.reasons[0].cmp(&b.reasons[0]).then(a.name.cmp(&b.name)));
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn client(name: &str) -> CaseloadEntry {
        CaseloadEntry {
            id: Uuid::now_v7(),
            name: name.into(),
            email: format!("{name}@x.test"),
            started_at: Timestamp::now(),
        }
    }

    #[test]
    fn the_most_urgent_come_first_and_the_settled_not_at_all() {
        let clients = [
            client("Ada"),
            client("Bo"),
            client("Cy"),
            client("Di"),
            client("Ed"),
        ];
        let mut facts = Facts::default();
        facts.overdue.insert(clients[0].id, 2);
        facts.flags.insert(clients[1].id, (true, 0));
        facts.flags.insert(clients[2].id, (false, 1));
        facts.overdue.insert(clients[2].id, 1);
        let early = Timestamp::now();
        facts.waiting.insert(clients[3].id, early);
        facts.flags.insert(clients[4].id, (false, 0));
        facts.review_due.insert(clients[1].id);
        let list = who_needs_attention(&clients, &facts);
        let names: Vec<_> = list.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["Cy", "Bo", "Di", "Ada"], "Ed is fine");
        assert_eq!(list[1].summary(), "not on track · plan review due");
        assert_eq!(list[0].summary(), "1 open alert · 1 questionnaire overdue");
        assert_eq!(list[3].summary(), "2 questionnaires overdue");
        assert!(list[2].summary().starts_with("message waiting since "));
    }
}
