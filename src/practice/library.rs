//! The practice library: Tend's own guided practices, embedded and checked at start.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// The library file.
const FILE: &str = include_str!("../../practices/practices.json");

/// One guided step.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Step {
    /// Suggested length.
    pub seconds: u32,
    /// What to do, in Tend's words.
    pub text: String,
}

/// A practice.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Practice {
    /// Stable id used in URLs and the API.
    pub id: String,
    /// Title.
    pub title: String,
    /// `mindfulness`, `self_compassion` or `grounding`.
    pub kind: String,
    /// What it is for.
    pub purpose: String,
    /// Approximate length.
    pub minutes: u32,
    /// Whether the breathing pacer accompanies it.
    pub pacer: bool,
    /// The published protocol it follows, where it follows one.
    pub source: Option<String>,
    /// The steps.
    pub steps: Vec<Step>,
}

impl Practice {
    /// The kind in plain words.
    pub fn kind_label(&self) -> &'static str {
        match self.kind.as_str() {
            "self_compassion" => "Self-compassion",
            "grounding" => "Grounding",
            _ => "Mindfulness",
        }
    }
}

/// Every practice, parsed and checked once.
pub fn all() -> Result<&'static [Practice], String> {
    static LIB: OnceLock<Result<Vec<Practice>, String>> = OnceLock::new();
    LIB.get_or_init(|| {
        let practices: Vec<Practice> =
            serde_json::from_str(FILE).map_err(|e| format!("practices/practices.json: {e}"))?;
        let mut ids = std::collections::HashSet::new();
        for p in &practices {
            if !ids.insert(p.id.clone()) {
                return Err(format!("practice id {} appears twice", p.id));
            }
            if p.steps.is_empty()
                || !matches!(
                    p.kind.as_str(),
                    "mindfulness" | "self_compassion" | "grounding"
                )
            {
                return Err(format!("practice {} needs steps and a known kind", p.id));
            }
        }
        Ok(practices)
    })
    .as_deref()
    .map_err(Clone::clone)
}

/// One practice by id.
pub fn find(id: &str) -> Option<&'static Practice> {
    all().ok()?.iter().find(|p| p.id == id)
}

/// A practice's title, or its id when the library no longer has it (an old plan or record
/// may name a practice since retired).
pub fn title_of(id: &str) -> String {
    find(id).map_or_else(|| id.to_string(), |p| p.title.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_library_has_at_least_twelve_practices_with_sources_where_published() {
        let lib = all().unwrap();
        assert!(lib.len() >= 12);
        assert!(
            find("self-compassion-break")
                .unwrap()
                .source
                .as_deref()
                .unwrap()
                .contains("Neff & Germer")
        );
        assert!(
            find("breathing-space")
                .unwrap()
                .source
                .as_deref()
                .unwrap()
                .contains("Mindfulness-Based Cognitive Therapy")
        );
        for p in lib {
            let seconds: u32 = p.steps.iter().map(|s| s.seconds).sum();
            assert!(
                seconds.div_ceil(60).abs_diff(p.minutes) <= 1,
                "{}: steps add up to its stated length",
                p.id
            );
        }
    }
}
