//! Scoring exactly as the authors publish: totals, reversed items, subscales, bands, the
//! published missing-item rules, risk items and flags. Pure functions, no I/O.

use serde::Serialize;
use utoipa::ToSchema;

use super::library::{Aggregate, Instrument};

/// A subscale score.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct SubscaleScore {
    /// Stable id (`B`, `self_kindness`).
    pub id: String,
    /// Label.
    pub label: String,
    /// Score (`None` when one of its items is missing).
    pub score: Option<f64>,
}

/// How urgently a risk answer needs a person.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RiskLevel {
    /// A clinician should review (for example PCL-5 item 16, or an unanswered risk item).
    Review,
    /// Crisis resources now and an urgent alert (PHQ-9 item 9, CORE-10 item 6, any positive C-SSRS answer).
    Urgent,
}

/// The result of scoring one completed (or partly completed) form.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct Score {
    /// Instrument id.
    pub instrument: String,
    /// Total (sum or mean as published); `None` when incomplete beyond the published rule or categorical.
    pub total: Option<f64>,
    /// WHO-5 percentage score.
    pub percentage: Option<f64>,
    /// Published band label for the total (or the C-SSRS risk category).
    pub band: Option<String>,
    /// Subscale scores, where published.
    pub subscales: Vec<SubscaleScore>,
    /// Whether every scored item was answered.
    pub complete: bool,
    /// Whether missing items were prorated under the published rule.
    pub prorated: bool,
    /// The most urgent risk level any answer reached.
    pub risk: Option<RiskLevel>,
    /// Machine-readable flags (for example `item_9_positive`, `provisional_ptsd`).
    pub flags: Vec<String>,
}

/// Why a set of answers cannot be scored.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScoreError {
    /// The number of answers does not match the items.
    #[error("expected {expected} answers (one per item, in order), got {got}")]
    WrongCount {
        /// Items on the form.
        expected: usize,
        /// Answers sent.
        got: usize,
    },
    /// An answer is not one of the item's options.
    #[error("item {item}: {value} is not an allowed answer ({allowed})")]
    OutOfRange {
        /// Item number.
        item: String,
        /// The value sent.
        value: i64,
        /// Allowed values, in words.
        allowed: String,
    },
    /// An item was answered that does not apply given earlier answers (C-SSRS).
    #[error("item {item} applies only when {condition}")]
    NotApplicable {
        /// Item number.
        item: String,
        /// When it applies.
        condition: String,
    },
}

/// Scores `answers` (one per item in order, `None` for missing; trailing unscored items may
/// be left off). For unscored items with unvalued options, the answer is the option's
/// position.
pub fn score(inst: &Instrument, answers: &[Option<i64>]) -> Result<Score, ScoreError> {
    let items = &inst.reference.items;
    let required = items
        .iter()
        .rposition(|i| i.scored != Some(false))
        .map_or(0, |p| p + 1);
    if answers.len() < required || answers.len() > items.len() {
        return Err(ScoreError::WrongCount {
            expected: items.len(),
            got: answers.len(),
        });
    }
    for (index, answer) in answers.iter().enumerate() {
        if let Some(value) = answer {
            check_option(inst, index, *value)?;
        }
    }
    match inst.rules.categorical.as_deref() {
        Some("cssrs") => score_cssrs(inst, answers),
        _ => Ok(score_total(inst, answers)),
    }
}

/// Checks one answer against its item's options.
fn check_option(inst: &Instrument, index: usize, value: i64) -> Result<(), ScoreError> {
    let options = inst.options_for(index);
    let valued: Vec<i64> = options.iter().filter_map(|o| o.value).collect();
    let allowed_ok = if valued.is_empty() {
        (0..options.len() as i64).contains(&value)
    } else {
        valued.contains(&value)
    };
    if allowed_ok {
        return Ok(());
    }
    let allowed = if valued.is_empty() {
        format!("0 to {}", options.len().saturating_sub(1))
    } else {
        let (lo, hi) = (
            valued.iter().min().copied().unwrap_or(0),
            valued.iter().max().copied().unwrap_or(0),
        );
        format!("{lo} to {hi}")
    };
    Err(ScoreError::OutOfRange {
        item: inst.reference.items[index].n.clone(),
        value,
        allowed,
    })
}

/// The value an item contributes after reversing.
fn item_value(inst: &Instrument, n: u32, answers: &[Option<i64>]) -> Option<f64> {
    let raw = answers.get(inst.position(n)?).copied().flatten()?;
    let value = match inst.rules.reverse_from {
        Some(from) if inst.rules.reverse_items.contains(&n) => from - raw,
        _ => raw,
    };
    Some(value as f64)
}

/// Sum or mean of present values.
fn combine(values: &[f64], aggregate: Aggregate) -> f64 {
    let sum: f64 = values.iter().sum();
    match aggregate {
        Aggregate::Mean if !values.is_empty() => sum / values.len() as f64,
        _ => sum,
    }
}

/// Rounds to two decimals for display and comparison stability.
fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Scores a summed or averaged instrument.
fn score_total(inst: &Instrument, answers: &[Option<i64>]) -> Score {
    let rules = &inst.rules;
    let values: Vec<Option<f64>> = rules
        .scored_items
        .iter()
        .map(|n| item_value(inst, *n, answers))
        .collect();
    let present: Vec<f64> = values.iter().flatten().copied().collect();
    let missing: Vec<u32> = rules
        .scored_items
        .iter()
        .zip(&values)
        .filter(|(_, v)| v.is_none())
        .map(|(n, _)| *n)
        .collect();
    let complete = missing.is_empty();
    let may_prorate = !missing.is_empty()
        && missing.len() <= rules.missing.prorate_max
        && !missing
            .iter()
            .any(|n| rules.missing.never_impute.contains(n));
    let total = if complete {
        Some(combine(&present, rules.aggregate))
    } else if may_prorate {
        // The published rules substitute each missing item with the mean of the answered
        // ones, which for a sum is the same as scaling the sum up.
        let n = rules.scored_items.len() as f64;
        let mean = combine(&present, Aggregate::Mean);
        Some(match rules.aggregate {
            Aggregate::Mean => mean,
            _ => mean * n,
        })
    } else {
        None
    };
    let total = total.map(round2);
    let band = total.and_then(|t| band_for(inst, t));
    let subscales = rules
        .subscales
        .iter()
        .map(|s| {
            let vals: Vec<Option<f64>> = s
                .items
                .iter()
                .map(|n| item_value(inst, *n, answers))
                .collect();
            let score = vals.iter().all(Option::is_some).then(|| {
                round2(combine(
                    &vals.iter().flatten().copied().collect::<Vec<_>>(),
                    s.aggregate,
                ))
            });
            SubscaleScore {
                id: s.id.clone(),
                label: s.label.clone(),
                score,
            }
        })
        .collect();
    let mut flags = Vec::new();
    let mut risk = None;
    for rule in &rules.risk {
        match answers
            .get(inst.position(rule.item).unwrap_or(usize::MAX))
            .copied()
            .flatten()
        {
            Some(v) if v >= rule.at_least => {
                flags.push(format!("item_{}_positive", rule.item));
                let level = if rule.level == "urgent" {
                    RiskLevel::Urgent
                } else {
                    RiskLevel::Review
                };
                risk = risk.max(Some(level));
            }
            Some(_) => {}
            None => {
                // A missing risk answer is not reassurance: a clinician should follow up.
                flags.push(format!("item_{}_unanswered", rule.item));
                risk = risk.max(Some(RiskLevel::Review));
            }
        }
    }
    if let Some(flag) = &rules.item_flag {
        let n_items = rules.scored_items.len();
        if values
            .iter()
            .take(n_items)
            .flatten()
            .any(|v| *v <= flag.at_most as f64)
        {
            flags.push(flag.flag.clone());
        }
    }
    if let Some(rule) = &rules.provisional_dsm5
        && complete
    {
        let met = rule.clusters.iter().all(|(cluster, needed)| {
            rules
                .subscales
                .iter()
                .find(|s| &s.id == cluster)
                .is_some_and(|s| {
                    s.items
                        .iter()
                        .filter(|n| {
                            item_value(inst, **n, answers)
                                .is_some_and(|v| v >= rule.endorsed_at_least as f64)
                        })
                        .count()
                        >= *needed
                })
        });
        if met {
            flags.push("provisional_ptsd".into());
        }
    }
    if !complete && total.is_none() {
        flags.push("incomplete".into());
    }
    Score {
        instrument: inst.id().to_string(),
        percentage: total
            .zip(rules.percentage_factor)
            .map(|(t, f)| round2(t * f)),
        total,
        band,
        subscales,
        complete,
        prorated: !complete && total.is_some(),
        risk,
        flags,
    }
}

/// The published band containing `total`: the band with the greatest minimum not above it,
/// so fractional totals (means, prorated sums) fall into exactly one band.
pub fn band_for(inst: &Instrument, total: f64) -> Option<String> {
    inst.reference
        .scoring
        .bands
        .iter()
        .filter(|b| b.min.is_some_and(|min| min <= total + 1e-9))
        .max_by(|a, b| {
            a.min
                .partial_cmp(&b.min)
                .unwrap_or(std::cmp::Ordering::Equal)
        })
        .map(|b| b.label.clone())
}

/// For a form a person fills in: clears answers to follow-up questions that do not apply
/// given earlier answers (C-SSRS items 3–5 without Yes to 2; 6a without Yes to 6), so
/// changing an earlier answer never leaves a stale follow-up behind. Integrations calling the
/// scorer directly get a clear error instead.
pub fn clear_not_applicable(inst: &Instrument, answers: &mut [Option<i64>]) {
    if inst.rules.categorical.as_deref() != Some("cssrs") {
        return;
    }
    let pos = |label: &str| inst.reference.items.iter().position(|i| i.n == label);
    for (item, parent) in [("3", "2"), ("4", "2"), ("5", "2"), ("6a", "6")] {
        let parent_yes = pos(parent).and_then(|p| answers.get(p).copied().flatten()) == Some(1);
        if let (false, Some(p)) = (parent_yes, pos(item))
            && let Some(slot) = answers.get_mut(p)
        {
            *slot = None;
        }
    }
}

/// C-SSRS screener: the most severe positive answer decides the category (reference §9).
/// Answers: 1 = Yes, 0 = No, `None` = not answered (or not applicable).
fn score_cssrs(inst: &Instrument, answers: &[Option<i64>]) -> Result<Score, ScoreError> {
    let at = |label: &str| {
        inst.reference
            .items
            .iter()
            .position(|i| i.n == label)
            .and_then(|p| answers.get(p).copied().flatten())
    };
    let yes = |label: &str| at(label) == Some(1);
    // Items 3–5 apply only after Yes to 2; 6a only after Yes to 6.
    for (item, parent) in [("3", "2"), ("4", "2"), ("5", "2"), ("6a", "6")] {
        if at(item).is_some() && !yes(parent) {
            return Err(ScoreError::NotApplicable {
                item: item.into(),
                condition: format!("item {parent} is Yes"),
            });
        }
    }
    let mut needed = vec!["1", "2", "6"];
    if yes("2") {
        needed.extend(["3", "4", "5"]);
    }
    if yes("6") {
        needed.push("6a");
    }
    let unanswered: Vec<&str> = needed.iter().copied().filter(|n| at(n).is_none()).collect();
    let band = if yes("4") || yes("5") || yes("6a") {
        Some("high")
    } else if yes("3") || (yes("6") && at("6a") == Some(0)) {
        Some("moderate")
    } else if yes("1") || yes("2") {
        Some("low")
    } else if unanswered.is_empty() {
        Some("no risk identified on screen")
    } else {
        None
    };
    // Only a complete screen can lower the category; missing answers never count as No.
    let band = match band {
        Some(b) if unanswered.is_empty() || b == "high" => Some(b),
        _ => None,
    };
    let any_yes = ["1", "2", "3", "4", "5", "6", "6a"].iter().any(|n| yes(n));
    let mut flags = Vec::new();
    let mut risk = None;
    if any_yes {
        flags.push("cssrs_positive".to_string());
        risk = Some(RiskLevel::Urgent);
    }
    if band == Some("high") {
        flags.push("cssrs_high".to_string());
    }
    if !unanswered.is_empty() {
        flags.push("risk_item_unanswered".to_string());
        risk = risk.max(Some(RiskLevel::Review));
    }
    Ok(Score {
        instrument: inst.id().to_string(),
        total: None,
        percentage: None,
        band: band.map(str::to_string),
        subscales: Vec::new(),
        complete: unanswered.is_empty(),
        prorated: false,
        risk,
        flags,
    })
}
