//! Change that means something: reliable change against the published threshold, clinically
//! significant change (reliable and crossing the published cut-off), and a not-on-track flag.
//! Pure functions, no I/O.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::library::Rules;

/// Where a client stands on one instrument, baseline to latest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeStatus {
    /// Reliably improved and moved from the clinical to the non-clinical range.
    Recovered,
    /// Improved by at least the reliable-change threshold.
    ReliablyImproved,
    /// Changed by less than the threshold either way.
    NoReliableChange,
    /// Worsened by at least the reliable-change threshold.
    ReliablyDeteriorated,
    /// The reference gives no reliable-change value for this instrument, so Tend says nothing.
    NotAvailable,
}

impl ChangeStatus {
    /// The status as `measure_summaries.status` stores it (its serialised name), if known.
    pub fn from_stored(stored: &str) -> Option<ChangeStatus> {
        serde_json::from_value(serde_json::Value::String(stored.to_string())).ok()
    }

    /// Plain words for people.
    pub fn describe(self) -> &'static str {
        match self {
            ChangeStatus::Recovered => "recovered",
            ChangeStatus::ReliablyImproved => "reliably improved",
            ChangeStatus::NoReliableChange => "no reliable change",
            ChangeStatus::ReliablyDeteriorated => "reliably deteriorated",
            ChangeStatus::NotAvailable => "no published reliable-change value",
        }
    }
}

/// Whether a score is in the clinical range ("caseness") under the published cut-off.
pub fn is_case(rules: &Rules, score: f64) -> Option<bool> {
    if let Some(cut) = rules.caseness_at_least {
        return Some(score >= cut);
    }
    if let Some(cut) = rules.caseness_at_most {
        return Some(score <= cut);
    }
    None
}

/// Classifies the change from `baseline` to `latest`.
pub fn classify(rules: &Rules, baseline: f64, latest: f64) -> ChangeStatus {
    let Some(rc) = &rules.reliable_change else {
        return ChangeStatus::NotAvailable;
    };
    let delta = latest - baseline;
    let improvement = if rules.higher_is_worse { -delta } else { delta };
    // A tiny tolerance keeps prorated or percentage totals from missing the threshold by
    // floating-point noise.
    if improvement <= -rc.points + 1e-9 {
        return ChangeStatus::ReliablyDeteriorated;
    }
    if improvement < rc.points - 1e-9 {
        return ChangeStatus::NoReliableChange;
    }
    let crossed = match rules.recovered_at_most {
        Some(cut) => latest <= cut,
        None => is_case(rules, baseline) == Some(true) && is_case(rules, latest) == Some(false),
    };
    if crossed {
        ChangeStatus::Recovered
    } else {
        ChangeStatus::ReliablyImproved
    }
}

/// Not on track: reliably deteriorated, or not reliably improved after `patience`
/// administrations (counting the baseline).
pub fn not_on_track(status: ChangeStatus, administrations: usize, patience: usize) -> bool {
    match status {
        ChangeStatus::ReliablyDeteriorated => true,
        ChangeStatus::NoReliableChange => administrations >= patience,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measures::library::Library;

    fn rules(id: &str) -> Rules {
        Library::load()
            .unwrap()
            .instrument(id)
            .unwrap()
            .rules
            .clone()
    }

    #[test]
    fn phq9_uses_the_published_six_points_and_caseness_ten() {
        let r = rules("phq9");
        assert_eq!(
            classify(&r, 15.0, 10.0),
            ChangeStatus::NoReliableChange,
            "5 points is not reliable"
        );
        assert_eq!(
            classify(&r, 15.0, 9.0),
            ChangeStatus::Recovered,
            "6 points and below 10"
        );
        assert_eq!(
            classify(&r, 20.0, 14.0),
            ChangeStatus::ReliablyImproved,
            "6 points but still a case"
        );
        assert_eq!(
            classify(&r, 8.0, 2.0),
            ChangeStatus::ReliablyImproved,
            "not a case at baseline, so not 'recovered'"
        );
        assert_eq!(classify(&r, 10.0, 16.0), ChangeStatus::ReliablyDeteriorated);
        assert_eq!(classify(&r, 10.0, 15.0), ChangeStatus::NoReliableChange);
    }

    #[test]
    fn gad7_uses_four_points_and_caseness_eight() {
        let r = rules("gad7");
        assert_eq!(
            classify(&r, 12.0, 8.0),
            ChangeStatus::ReliablyImproved,
            "8 is still a case"
        );
        assert_eq!(classify(&r, 12.0, 7.0), ChangeStatus::Recovered);
        assert_eq!(classify(&r, 12.0, 9.0), ChangeStatus::NoReliableChange);
        assert_eq!(classify(&r, 5.0, 9.0), ChangeStatus::ReliablyDeteriorated);
    }

    #[test]
    fn who5_is_higher_is_better_with_ten_percentage_points() {
        let r = rules("who5");
        assert_eq!(
            classify(&r, 10.0, 12.0),
            ChangeStatus::NoReliableChange,
            "8 percentage points"
        );
        assert_eq!(
            classify(&r, 10.0, 13.0),
            ChangeStatus::Recovered,
            "12 points and out of poor well-being"
        );
        assert_eq!(classify(&r, 16.0, 13.0), ChangeStatus::ReliablyDeteriorated);
    }

    #[test]
    fn pcl5_recovery_is_a_post_score_of_28_or_less() {
        let r = rules("pcl5");
        assert_eq!(
            classify(&r, 50.0, 33.0),
            ChangeStatus::NoReliableChange,
            "17 points < 18"
        );
        assert_eq!(classify(&r, 50.0, 32.0), ChangeStatus::ReliablyImproved);
        assert_eq!(classify(&r, 46.0, 28.0), ChangeStatus::Recovered);
    }

    #[test]
    fn instruments_without_a_published_value_say_nothing() {
        for id in ["phq2", "gad2", "scs_sf", "cssrs_screener"] {
            assert_eq!(
                classify(&rules(id), 1.0, 5.0),
                ChangeStatus::NotAvailable,
                "{id}"
            );
        }
    }

    #[test]
    fn not_on_track_after_deterioration_or_a_long_plateau() {
        assert!(not_on_track(ChangeStatus::ReliablyDeteriorated, 2, 4));
        assert!(!not_on_track(ChangeStatus::NoReliableChange, 3, 4));
        assert!(not_on_track(ChangeStatus::NoReliableChange, 4, 4));
        assert!(!not_on_track(ChangeStatus::ReliablyImproved, 9, 4));
    }
}
