//! Practice scenarios: client messages written for Tend (`coach/scenarios.json`), across six
//! topics and three levels of difficulty, each with what to practise and one example reply.

use std::sync::LazyLock;

use serde::Deserialize;

/// One scenario.
#[derive(Clone, Debug, Deserialize)]
pub struct Scenario {
    /// Stable id used in URLs and stored attempts.
    pub slug: String,
    /// Short title.
    pub title: String,
    /// One of [`TOPICS`].
    pub topic: String,
    /// One of [`DIFFICULTIES`].
    pub difficulty: String,
    /// What the (fictional) client writes.
    pub client_message: String,
    /// What to practise with it.
    pub focus: String,
    /// One good reply, shown after an attempt.
    pub example_reply: String,
}

/// Topics, in display order: (id, heading).
pub const TOPICS: [(&str, &str); 6] = [
    ("anxiety", "Anxiety"),
    ("depression", "Low mood and depression"),
    ("trauma", "Trauma"),
    ("grief", "Grief and loss"),
    ("self-criticism", "Self-criticism"),
    ("relationships", "Relationships"),
];

/// Difficulty levels, gentlest first.
pub const DIFFICULTIES: [&str; 3] = ["gentle", "moderate", "challenging"];

/// Every scenario, parsed once; the file is checked by tests, so a broken file fails the build's
/// checks rather than a page.
static ALL: LazyLock<Vec<Scenario>> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../../coach/scenarios.json")).unwrap_or_else(|e| {
        tracing::error!(error = %e, "coach/scenarios.json could not be read");
        Vec::new()
    })
});

/// Every scenario, grouped by topic then difficulty.
pub fn all() -> Vec<&'static Scenario> {
    let mut list: Vec<&Scenario> = ALL.iter().collect();
    list.sort_by_key(|s| {
        (
            TOPICS.iter().position(|(t, _)| *t == s.topic),
            DIFFICULTIES.iter().position(|d| *d == s.difficulty),
        )
    });
    list
}

/// One scenario by slug.
pub fn find(slug: &str) -> Option<&'static Scenario> {
    ALL.iter().find(|s| s.slug == slug)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn there_are_at_least_thirty_well_formed_scenarios_across_topics_and_levels() {
        let all = all();
        assert!(all.len() >= 30, "{}", all.len());
        let slugs: HashSet<&str> = all.iter().map(|s| s.slug.as_str()).collect();
        assert_eq!(slugs.len(), all.len(), "slugs are unique");
        for s in &all {
            assert!(TOPICS.iter().any(|(t, _)| *t == s.topic), "{}", s.slug);
            assert!(DIFFICULTIES.contains(&s.difficulty.as_str()), "{}", s.slug);
            assert!(!s.client_message.trim().is_empty() && !s.example_reply.trim().is_empty());
        }
        for (topic, _) in TOPICS {
            for level in DIFFICULTIES {
                assert!(
                    all.iter()
                        .any(|s| s.topic == topic && s.difficulty == level),
                    "{topic} {level}"
                );
            }
        }
        assert!(find("first-day-nerves").is_some());
    }
}
