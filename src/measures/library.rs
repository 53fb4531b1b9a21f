//! The instrument library: the reference files and Tend's scoring rules, embedded in the
//! binary, parsed and cross-checked once at start.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

/// Each reference file, by instrument id. Embedded so Tend needs no files beside it.
const REFERENCE_FILES: [(&str, &str); 9] = [
    ("phq9", include_str!("../../instruments/phq9.json")),
    ("gad7", include_str!("../../instruments/gad7.json")),
    ("phq2", include_str!("../../instruments/phq2.json")),
    ("gad2", include_str!("../../instruments/gad2.json")),
    ("pcl5", include_str!("../../instruments/pcl5.json")),
    ("who5", include_str!("../../instruments/who5.json")),
    ("scs_sf", include_str!("../../instruments/scs_sf.json")),
    ("core10", include_str!("../../instruments/core10.json")),
    (
        "cssrs_screener",
        include_str!("../../instruments/cssrs_screener.json"),
    ),
];
/// Tend's machine-readable scoring rules.
const SCORING_FILE: &str = include_str!("../../instruments/scoring.json");

/// An answer option as the reference gives it.
#[derive(Clone, Debug, Deserialize)]
pub struct AnswerOption {
    /// The scored value (`None` for unscored items' options).
    pub value: Option<i64>,
    /// The wording; `None` where the published form labels only the ends of a scale.
    pub label: Option<String>,
    /// LOINC answer code, where one exists.
    pub loinc_answer: Option<String>,
}

/// One item as the reference gives it.
#[derive(Clone, Debug, Deserialize)]
pub struct Item {
    /// Item number as printed (a number, or for example "6a").
    #[serde(deserialize_with = "item_number")]
    pub n: String,
    /// Verbatim wording.
    pub text: String,
    /// LOINC code of the item.
    pub loinc: Option<String>,
    /// Whether the item is scored (absent means scored).
    pub scored: Option<bool>,
    /// Item-specific options (otherwise the instrument's).
    pub options: Option<Vec<AnswerOption>>,
    /// Shown only when another answer is given (C-SSRS), as the reference words it.
    pub enable_when: Option<String>,
    /// Explanatory text printed with the item.
    pub help_text: Option<String>,
}

/// Reads an item number that is either a JSON number or a string.
fn item_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let value = serde_json::Value::deserialize(d)?;
    match value {
        serde_json::Value::Number(n) => Ok(n.to_string()),
        serde_json::Value::String(s) => Ok(s),
        other => Err(serde::de::Error::custom(format!(
            "item number must be a number or string, got {other}"
        ))),
    }
}

/// A severity band.
#[derive(Clone, Debug, Deserialize)]
pub struct Band {
    /// Lowest score in the band (`None` for categorical bands).
    pub min: Option<f64>,
    /// Highest score in the band.
    pub max: Option<f64>,
    /// The published label.
    pub label: String,
    /// For categorical instruments, the rule in words.
    pub rule: Option<String>,
}

/// The parts of a reference file's `scoring` section Tend reads.
#[derive(Clone, Debug, Deserialize)]
pub struct ReferenceScoring {
    /// The method in the reference's words.
    pub method: String,
    /// Score range, where one exists.
    pub range: Option<Vec<f64>>,
    /// Severity bands (empty where none are published).
    #[serde(default)]
    pub bands: Vec<Band>,
    /// Verification of the bands.
    pub bands_verification: Option<String>,
    /// Why there are no bands, where that applies.
    pub bands_note: Option<String>,
    /// The missing-item rule in the reference's words.
    pub missing_rule: Option<String>,
}

/// Licence facts.
#[derive(Clone, Debug, Deserialize)]
pub struct License {
    /// Short status.
    pub status: String,
    /// The licence statement as published.
    pub statement: String,
}

/// Instructions shown above the items; each instrument publishes a different subset.
/// Verification marks live beside them in the file and decide what may be shown.
#[derive(Clone, Debug, Deserialize)]
pub struct Instructions {
    /// A heading printed above the form.
    pub heading: Option<String>,
    /// A header line (SCS-SF).
    pub header: Option<String>,
    /// The instruction paragraph.
    pub instruction: Option<String>,
    /// The question stem.
    pub stem: Option<String>,
    /// Verification of the instructions, as the reference marks it.
    pub verification: Option<String>,
}

/// LOINC codes of the panel and total score.
#[derive(Clone, Debug, Deserialize)]
pub struct Loinc {
    /// Panel code.
    pub panel: Option<String>,
    /// Total-score code.
    pub total: Option<String>,
}

/// A reference file.
#[derive(Clone, Debug, Deserialize)]
pub struct Reference {
    /// Instrument id.
    pub id: String,
    /// Full title.
    pub title: String,
    /// Instructions.
    pub instructions: Instructions,
    /// Options shared by the items.
    #[serde(default)]
    pub options: Vec<AnswerOption>,
    /// Items in order.
    pub items: Vec<Item>,
    /// Scoring facts.
    pub scoring: ReferenceScoring,
    /// Licence.
    pub license: License,
    /// LOINC codes.
    pub loinc: Loinc,
    /// Source keys.
    #[serde(default)]
    pub sources: Vec<String>,
}

/// How item values combine.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Aggregate {
    /// Add the item values.
    Sum,
    /// Average the item values.
    Mean,
    /// Not a numeric total (C-SSRS).
    None,
}

/// A published missing-item rule.
#[derive(Clone, Debug, Deserialize)]
pub struct MissingRule {
    /// How many scored items may be missing and prorated (0 = incomplete forms are not scored).
    pub prorate_max: usize,
    /// Items that are never imputed: if missing, the form is incomplete.
    pub never_impute: Vec<u32>,
    /// Where the rule comes from.
    pub source: String,
}

/// A risk trigger on one item.
#[derive(Clone, Debug, Deserialize)]
pub struct RiskRule {
    /// Item number.
    pub item: u32,
    /// Triggered when the answer is at least this.
    pub at_least: i64,
    /// `urgent` (crisis resources and urgent alert) or `review` (clinician review).
    pub level: String,
}

/// A subscale.
#[derive(Clone, Debug, Deserialize)]
pub struct Subscale {
    /// Stable id.
    pub id: String,
    /// Label.
    pub label: String,
    /// Items (after reversing).
    pub items: Vec<u32>,
    /// How they combine.
    pub aggregate: Aggregate,
}

/// The published reliable-change threshold, in raw score points.
#[derive(Clone, Debug, Deserialize)]
pub struct ReliableChange {
    /// Minimum change in points that counts as reliable.
    pub points: f64,
    /// Where it comes from.
    pub source: String,
}

/// PCL-5's provisional DSM-5 rule.
#[derive(Clone, Debug, Deserialize)]
pub struct ProvisionalRule {
    /// Items rated at least this count as endorsed.
    pub endorsed_at_least: i64,
    /// Endorsed items needed per cluster (subscale id).
    pub clusters: BTreeMap<String, usize>,
}

/// A flag raised by any single item at or below a value (WHO-5).
#[derive(Clone, Debug, Deserialize)]
pub struct ItemFlag {
    /// Raised when any item is at most this.
    pub at_most: i64,
    /// The flag's name.
    pub flag: String,
}

/// Tend's scoring rules for one instrument (`instruments/scoring.json`).
#[derive(Clone, Debug, Deserialize)]
pub struct Rules {
    /// On unless an admin turns it off; off until an admin confirms permission otherwise.
    pub enabled_by_default: bool,
    /// Categorical scoring scheme instead of a total (`cssrs`).
    pub categorical: Option<String>,
    /// Items that count towards the total.
    pub scored_items: Vec<u32>,
    /// Reverse-scored items.
    #[serde(default)]
    pub reverse_items: Vec<u32>,
    /// Reverse as `reverse_from - value`.
    pub reverse_from: Option<i64>,
    /// How the total combines items.
    pub aggregate: Aggregate,
    /// Direction of the scale.
    pub higher_is_worse: bool,
    /// WHO-5: percentage = raw × this.
    pub percentage_factor: Option<f64>,
    /// Subscales.
    #[serde(default)]
    pub subscales: Vec<Subscale>,
    /// PCL-5 provisional rule.
    pub provisional_dsm5: Option<ProvisionalRule>,
    /// Single-item flag.
    pub item_flag: Option<ItemFlag>,
    /// Missing-item rule.
    pub missing: MissingRule,
    /// Risk triggers.
    #[serde(default)]
    pub risk: Vec<RiskRule>,
    /// Reliable change, where published.
    pub reliable_change: Option<ReliableChange>,
    /// "Case" when total ≥ this (higher-is-worse scales).
    pub caseness_at_least: Option<f64>,
    /// "Case" when total ≤ this (higher-is-better scales).
    pub caseness_at_most: Option<f64>,
    /// Clinically significant when the follow-up total is ≤ this (PCL-5).
    pub recovered_at_most: Option<f64>,
}

/// One instrument: reference facts plus scoring rules.
#[derive(Clone, Debug)]
pub struct Instrument {
    /// The reference file.
    pub reference: Reference,
    /// Tend's rules.
    pub rules: Rules,
}

impl Instrument {
    /// The id (`phq9`).
    pub fn id(&self) -> &str {
        &self.reference.id
    }

    /// The options for item `index` (0-based).
    pub fn options_for(&self, index: usize) -> &[AnswerOption] {
        self.reference
            .items
            .get(index)
            .and_then(|i| i.options.as_deref())
            .unwrap_or(&self.reference.options)
    }

    /// The 0-based position of item number `n`.
    pub fn position(&self, n: u32) -> Option<usize> {
        let label = n.to_string();
        self.reference.items.iter().position(|i| i.n == label)
    }
}

/// Every instrument Tend ships, by id.
#[derive(Debug)]
pub struct Library {
    instruments: BTreeMap<String, Instrument>,
}

impl Library {
    /// The library, parsed and checked on first use.
    pub fn get() -> Result<&'static Library, String> {
        static LIBRARY: OnceLock<Result<Library, String>> = OnceLock::new();
        LIBRARY
            .get_or_init(Library::load)
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Parses the embedded files and checks them against each other.
    pub fn load() -> Result<Library, String> {
        let mut rules: BTreeMap<String, serde_json::Value> = serde_json::from_str(SCORING_FILE)
            .map_err(|e| format!("instruments/scoring.json: {e}"))?;
        rules.remove("_comment");
        let mut instruments = BTreeMap::new();
        for (id, text) in REFERENCE_FILES {
            let reference: Reference =
                serde_json::from_str(text).map_err(|e| format!("instruments/{id}.json: {e}"))?;
            let rule_value = rules
                .remove(id)
                .ok_or_else(|| format!("instruments/scoring.json has no rules for {id}"))?;
            let rule: Rules = serde_json::from_value(rule_value)
                .map_err(|e| format!("instruments/scoring.json, {id}: {e}"))?;
            let instrument = Instrument {
                reference,
                rules: rule,
            };
            validate(id, &instrument)?;
            instruments.insert(id.to_string(), instrument);
        }
        if let Some(extra) = rules.keys().next() {
            return Err(format!(
                "instruments/scoring.json has rules for unknown instrument {extra}"
            ));
        }
        Ok(Library { instruments })
    }

    /// One instrument.
    pub fn instrument(&self, id: &str) -> Option<&Instrument> {
        self.instruments.get(id)
    }

    /// The short name of instrument `id` ("PHQ-9"), or the id itself when unknown.
    pub fn short_name(&self, id: &str) -> String {
        self.instrument(id)
            .map_or(id, |i| short_title(&i.reference.title))
            .to_string()
    }

    /// All instruments in id order.
    pub fn all(&self) -> impl Iterator<Item = &Instrument> {
        self.instruments.values()
    }
}

/// Checks one instrument's rules against its reference file.
fn validate(id: &str, inst: &Instrument) -> Result<(), String> {
    let err = |what: String| Err(format!("instrument {id}: {what}"));
    if inst.reference.id != id {
        return err(format!("file declares id {}", inst.reference.id));
    }
    let r = &inst.rules;
    let all_items = r
        .scored_items
        .iter()
        .chain(&r.reverse_items)
        .chain(&r.missing.never_impute)
        .chain(r.risk.iter().map(|x| &x.item))
        .chain(r.subscales.iter().flat_map(|s| &s.items));
    for n in all_items {
        if inst.position(*n).is_none() {
            return err(format!(
                "rules name item {n}, which the reference does not have"
            ));
        }
    }
    for n in &r.scored_items {
        let pos = inst.position(*n).unwrap_or_default();
        if inst.reference.items[pos].scored == Some(false) {
            return err(format!(
                "item {n} is scored by the rules but unscored in the reference"
            ));
        }
        if inst.options_for(pos).iter().any(|o| o.value.is_none()) {
            return err(format!("item {n} has options without values"));
        }
    }
    if !r.reverse_items.is_empty() && r.reverse_from.is_none() {
        return err("reverse items without reverse_from".into());
    }
    // Numeric bands must be ordered, non-overlapping and inside the range.
    let bands: Vec<&Band> = inst
        .reference
        .scoring
        .bands
        .iter()
        .filter(|b| b.min.is_some())
        .collect();
    for pair in bands.windows(2) {
        if pair[0].min >= pair[1].min || pair[0].max >= pair[1].min {
            return err(format!(
                "bands `{}` and `{}` are out of order or overlap",
                pair[0].label, pair[1].label
            ));
        }
    }
    if let (Some(range), Some(first), Some(last)) =
        (&inst.reference.scoring.range, bands.first(), bands.last())
        && (first.min != range.first().copied() || last.max != range.last().copied())
    {
        return err("bands do not span the score range".into());
    }
    if r.categorical.is_none() && r.aggregate == Aggregate::None {
        return err("a non-categorical instrument needs an aggregate".into());
    }
    Ok(())
}

/// "PHQ-9" from "Patient Health Questionnaire-9 (PHQ-9)"; the whole title when it has no
/// abbreviation in brackets.
pub fn short_title(title: &str) -> &str {
    title
        .rsplit_once('(')
        .and_then(|(_, rest)| rest.strip_suffix(')'))
        .filter(|s| !s.is_empty())
        .unwrap_or(title)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_library_loads_and_checks_out() {
        let lib = Library::load().unwrap();
        assert_eq!(lib.all().count(), 9);
        let phq9 = lib.instrument("phq9").unwrap();
        assert_eq!(
            phq9.reference.items[8].text,
            "Thoughts that you would be better off dead or of hurting yourself in some way"
        );
        assert_eq!(phq9.reference.scoring.bands.len(), 5);
        assert_eq!(
            lib.instrument("cssrs_screener").unwrap().reference.items[6].n,
            "6a"
        );
    }

    #[test]
    fn enabled_by_default_matches_the_licences() {
        let lib = Library::load().unwrap();
        let on: Vec<&str> = lib
            .all()
            .filter(|i| i.rules.enabled_by_default)
            .map(|i| i.id())
            .collect();
        assert_eq!(on, ["gad2", "gad7", "pcl5", "phq2", "phq9", "who5"]);
    }
}
