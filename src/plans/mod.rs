//! Treatment plans: what the client and therapist are working on together, how they will know
//! it is working, and what they will do about it.
//!
//! A plan names problems in the client's terms, goals that are specific and measurable (a goal
//! may be linked to a questionnaire with a target score and a date), and interventions (which
//! may be practices from Tend's library, assigned as homework). It is reviewed every few weeks;
//! a review keeps the therapist's words beside the progress the measures showed that day.
//! The client reads their plan; the treating therapist writes it. Every version is kept.
//!
//! Entry points: [`routes`]. The rules here are pure; storage is in [`queries`], pages in
//! [`pages`]. Every read and write goes through [`crate::care::record::authorize`] and is
//! audited.

pub mod demo;
pub mod pages;
pub mod queries;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::Date;

use crate::authz::{ANY_ROLE, THERAPIST};
use crate::error::FieldError;
use crate::measures::change::ChangeStatus;
use crate::measures::library::Library;
use crate::measures::queries::Summary;
use crate::web::routes::Route;

/// Routes of this feature.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/clients/{id}/plan", ANY_ROLE, pages::show),
        Route::get("/clients/{id}/plan/edit", THERAPIST, pages::edit),
        Route::post("/clients/{id}/plan", THERAPIST, pages::save),
        Route::post("/clients/{id}/plan/reviews", THERAPIST, pages::review),
    ]
}

/// Rows the form offers for each list; a plan this long is already a lot to hold in mind.
pub const ROWS: usize = 6;
/// Longest problem, goal or intervention, in characters.
pub const LINE_MAX: usize = 1_000;
/// Longest review note, in characters.
pub const REVIEW_MAX: usize = 10_000;
/// Weeks between reviews when the therapist does not choose.
pub const DEFAULT_REVIEW_WEEKS: u32 = 6;

/// A goal, specific and measurable.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Goal {
    /// In words the client would use.
    pub text: String,
    /// Questionnaire that measures it (`phq9`), if any.
    pub measure: Option<String>,
    /// The score that would mean the goal is reached (total, as the questionnaire scores it).
    pub target: Option<f64>,
    /// `YYYY-MM-DD` to reach it by, if any.
    pub by: Option<String>,
}

/// Something the therapist and client will do.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Intervention {
    /// What, in plain words.
    pub text: String,
    /// A practice from the library assigned as homework (`id`), if any.
    pub practice: Option<String>,
}

impl Intervention {
    /// In one line of words, with the practice's title (for exports and records).
    pub fn sentence(&self) -> String {
        match &self.practice {
            Some(p) if self.text.is_empty() => {
                format!("Practice: {}", crate::practice::library::title_of(p))
            }
            Some(p) => format!(
                "{} (practice: {})",
                self.text,
                crate::practice::library::title_of(p)
            ),
            None => self.text.clone(),
        }
    }
}

/// A plan's content, sealed at rest as one JSON document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanContent {
    /// What the client wants help with.
    pub problems: Vec<String>,
    /// Goals.
    pub goals: Vec<Goal>,
    /// Interventions.
    pub interventions: Vec<Intervention>,
    /// Weeks between reviews.
    pub review_weeks: u32,
    /// `YYYY-MM-DD` when care is planned to end, if agreed.
    pub planned_end: Option<String>,
}

impl Default for PlanContent {
    fn default() -> PlanContent {
        PlanContent {
            problems: Vec::new(),
            goals: Vec::new(),
            interventions: Vec::new(),
            review_weeks: DEFAULT_REVIEW_WEEKS,
            planned_end: None,
        }
    }
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Option<Date> {
    Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

/// Formats a date as `YYYY-MM-DD`.
pub fn format_date(date: Date) -> String {
    let (y, m, d) = date.to_calendar_date();
    format!("{y:04}-{:02}-{d:02}", m as u8)
}

impl PlanContent {
    /// Reads the plan form. Empty rows are skipped; every problem names its field, and the
    /// caller shows the form again with everything typed kept. `practice_ok` says whether a
    /// practice id is in the library.
    pub fn from_fields(
        fields: &BTreeMap<String, String>,
        library: &Library,
        practice_ok: impl Fn(&str) -> bool,
    ) -> Result<PlanContent, Vec<FieldError>> {
        let get = |k: &str| field(fields, k);
        let mut errors = Vec::new();
        let long = |errors: &mut Vec<FieldError>, field: &str, text: &str| {
            if text.chars().count() > LINE_MAX {
                errors.push(FieldError::new(
                    field,
                    format!("Please keep this under {LINE_MAX} characters."),
                ));
            }
        };
        let mut plan = PlanContent::default();
        for i in 1..=ROWS {
            let field = format!("problem_{i}");
            let text = get(&field);
            long(&mut errors, &field, text);
            if !text.is_empty() {
                plan.problems.push(text.to_string());
            }
            let field = format!("intervention_{i}_text");
            let text = get(&field);
            long(&mut errors, &field, text);
            let practice = get(&format!("intervention_{i}_practice"));
            if !practice.is_empty() && !practice_ok(practice) {
                errors.push(FieldError::new(
                    &format!("intervention_{i}_practice"),
                    "Choose one of the listed practices.",
                ));
            }
            if !text.is_empty() || !practice.is_empty() {
                plan.interventions.push(Intervention {
                    text: text.to_string(),
                    practice: (!practice.is_empty()).then(|| practice.to_string()),
                });
            }
            let field = format!("goal_{i}_text");
            long(&mut errors, &field, get(&field));
        }
        for i in 1..=ROWS {
            if let Some(goal) = read_goal(fields, i, library, &mut errors) {
                plan.goals.push(goal);
            }
        }
        plan.review_weeks = match get("review_weeks") {
            "" => DEFAULT_REVIEW_WEEKS,
            v => match v.parse::<u32>() {
                Ok(w @ 1..=52) => w,
                _ => {
                    errors.push(FieldError::new(
                        "review_weeks",
                        "Choose a number of weeks from 1 to 52.",
                    ));
                    DEFAULT_REVIEW_WEEKS
                }
            },
        };
        plan.planned_end = match get("planned_end") {
            "" => None,
            v if parse_date(v).is_some() => Some(v.to_string()),
            _ => {
                errors.push(FieldError::new(
                    "planned_end",
                    "Enter a date like 2027-03-31, or leave it empty.",
                ));
                None
            }
        };
        if errors.is_empty() {
            Ok(plan)
        } else {
            Err(errors)
        }
    }

    /// The form's fields for this plan (to fill the form again).
    pub fn to_fields(&self) -> BTreeMap<String, String> {
        let mut f = BTreeMap::new();
        for (i, p) in self.problems.iter().enumerate() {
            f.insert(format!("problem_{}", i + 1), p.clone());
        }
        for (i, g) in self.goals.iter().enumerate() {
            let n = i + 1;
            f.insert(format!("goal_{n}_text"), g.text.clone());
            f.insert(
                format!("goal_{n}_measure"),
                g.measure.clone().unwrap_or_default(),
            );
            f.insert(
                format!("goal_{n}_target"),
                g.target.map(|t| t.to_string()).unwrap_or_default(),
            );
            f.insert(format!("goal_{n}_by"), g.by.clone().unwrap_or_default());
        }
        for (i, iv) in self.interventions.iter().enumerate() {
            let n = i + 1;
            f.insert(format!("intervention_{n}_text"), iv.text.clone());
            f.insert(
                format!("intervention_{n}_practice"),
                iv.practice.clone().unwrap_or_default(),
            );
        }
        f.insert("review_weeks".into(), self.review_weeks.to_string());
        f.insert(
            "planned_end".into(),
            self.planned_end.clone().unwrap_or_default(),
        );
        f
    }

    /// When the next review falls: `review_weeks` after the last review, or after the plan
    /// was first written when it has not been reviewed yet.
    pub fn next_review(&self, since: Date) -> String {
        format_date(since.saturating_add(time::Duration::weeks(i64::from(self.review_weeks))))
    }
}

/// A form field, trimmed; empty when absent.
fn field<'a>(fields: &'a BTreeMap<String, String>, key: &str) -> &'a str {
    fields.get(key).map_or("", |v| v.trim())
}

/// Reads goal row `i`; `None` when the row is empty.
fn read_goal(
    fields: &BTreeMap<String, String>,
    i: usize,
    library: &Library,
    errors: &mut Vec<FieldError>,
) -> Option<Goal> {
    let text = field(fields, &format!("goal_{i}_text"));
    let measure = field(fields, &format!("goal_{i}_measure"));
    let target = field(fields, &format!("goal_{i}_target"));
    let by = field(fields, &format!("goal_{i}_by"));
    if text.is_empty() && measure.is_empty() && target.is_empty() && by.is_empty() {
        return None;
    }
    let mut goal = Goal {
        text: text.to_string(),
        ..Goal::default()
    };
    if text.is_empty() {
        errors.push(FieldError::new(
            &format!("goal_{i}_text"),
            "Describe the goal in words, so the client knows what it means.",
        ));
    }
    if !measure.is_empty() {
        match library.instrument(measure) {
            Some(inst) => {
                goal.measure = Some(measure.to_string());
                let range = inst.reference.scoring.range.as_deref().unwrap_or(&[]);
                match (target.parse::<f64>(), range) {
                    (Ok(t), [lo, hi]) if t.is_finite() && (*lo..=*hi).contains(&t) => {
                        goal.target = Some(t);
                    }
                    (Ok(t), []) if t.is_finite() => goal.target = Some(t),
                    _ if target.is_empty() => errors.push(FieldError::new(
                        &format!("goal_{i}_target"),
                        "Add the target score that would mean this goal is reached.",
                    )),
                    (_, [lo, hi]) => errors.push(FieldError::new(
                        &format!("goal_{i}_target"),
                        format!("Enter a score from {lo} to {hi}."),
                    )),
                    _ => errors.push(FieldError::new(
                        &format!("goal_{i}_target"),
                        "Enter the target as a number.",
                    )),
                }
            }
            None => errors.push(FieldError::new(
                &format!("goal_{i}_measure"),
                "Choose one of the listed questionnaires.",
            )),
        }
    } else if !target.is_empty() {
        errors.push(FieldError::new(
            &format!("goal_{i}_measure"),
            "Choose the questionnaire this target score is on.",
        ));
    }
    if !by.is_empty() {
        if parse_date(by).is_some() {
            goal.by = Some(by.to_string());
        } else {
            errors.push(FieldError::new(
                &format!("goal_{i}_by"),
                "Enter a date like 2027-03-31, or leave it empty.",
            ));
        }
    }
    Some(goal)
}

/// How a measured goal stands, from the client's questionnaire summary.
#[derive(Clone, Debug, PartialEq)]
pub struct GoalProgress {
    /// The goal's words.
    pub goal: String,
    /// Questionnaire short name.
    pub measure: String,
    /// The target score.
    pub target: f64,
    /// Whether lower scores are better on this questionnaire.
    pub lower_is_better: bool,
    /// First and latest totals with the number of administrations, when any were answered.
    pub scores: Option<(f64, f64, i64)>,
    /// The latest total reaches the target.
    pub met: bool,
    /// Reliable change from first to latest, in plain words.
    pub change: Option<&'static str>,
}

impl GoalProgress {
    /// One line of plain words, as a review keeps it.
    pub fn sentence(&self) -> String {
        let aim = if self.lower_is_better { "≤" } else { "≥" };
        match self.scores {
            None => format!(
                "{}: {} target {aim} {}; not answered yet.",
                self.goal, self.measure, self.target
            ),
            Some((first, latest, n)) => format!(
                "{}: {} {first} → {latest} over {n} administrations, target {aim} {}{}{}.",
                self.goal,
                self.measure,
                self.target,
                if self.met { ", reached" } else { ", not yet" },
                self.change.map(|c| format!("; {c}")).unwrap_or_default(),
            ),
        }
    }
}

/// Progress on each measured goal of `plan`, from the client's `summaries`.
pub fn progress(plan: &PlanContent, summaries: &[Summary], library: &Library) -> Vec<GoalProgress> {
    plan.goals
        .iter()
        .filter_map(|g| {
            let measure = g.measure.as_deref()?;
            let target = g.target?;
            let inst = library.instrument(measure)?;
            let lower_is_better = inst.rules.higher_is_worse;
            let summary = summaries.iter().find(|s| s.instrument == measure);
            let met = summary.is_some_and(|s| {
                if lower_is_better {
                    s.latest_total <= target
                } else {
                    s.latest_total >= target
                }
            });
            Some(GoalProgress {
                goal: g.text.clone(),
                measure: library.short_name(measure),
                target,
                lower_is_better,
                scores: summary.map(|s| (s.baseline_total, s.latest_total, s.administrations)),
                met,
                change: summary
                    .filter(|s| s.administrations > 1)
                    .and_then(|s| ChangeStatus::from_stored(&s.status))
                    .map(ChangeStatus::describe),
            })
        })
        .collect()
}

/// What a review keeps: the therapist's words and the progress lines of that day.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReviewBody {
    /// The therapist's note.
    pub note: String,
    /// [`GoalProgress::sentence`] for each measured goal.
    pub progress: Vec<String>,
}

/// Associated data for a client's sealed plan (every version shares it).
pub fn plan_context(client_id: uuid::Uuid) -> String {
    format!("treatment_plans.content:{client_id}")
}

/// Associated data for a sealed review.
pub fn review_context(review_id: uuid::Uuid) -> String {
    format!("treatment_plan_reviews.body:{review_id}")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::db::Timestamp;

    fn fields(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn library() -> &'static Library {
        Library::get().unwrap()
    }

    #[test]
    fn a_full_form_reads_in_order_and_round_trips() {
        let f = fields(&[
            ("problem_1", " Panic on the train to work "),
            ("problem_3", "Sleeping four hours a night"),
            ("goal_1_text", "Travel to work by train three days a week"),
            ("goal_1_measure", "gad7"),
            ("goal_1_target", "9"),
            ("goal_1_by", "2027-03-31"),
            ("goal_2_text", "Feel rested most mornings"),
            (
                "intervention_1_text",
                "Breathing practice before the journey",
            ),
            ("intervention_1_practice", "breath"),
            ("review_weeks", "4"),
            ("planned_end", "2027-05-01"),
        ]);
        let plan = PlanContent::from_fields(&f, library(), |p| p == "breath").unwrap();
        assert_eq!(
            plan.problems,
            ["Panic on the train to work", "Sleeping four hours a night"]
        );
        assert_eq!(plan.goals.len(), 2);
        assert_eq!(plan.goals[0].measure.as_deref(), Some("gad7"));
        assert_eq!(plan.goals[0].target, Some(9.0));
        assert_eq!(plan.goals[1].measure, None);
        assert_eq!(plan.interventions[0].practice.as_deref(), Some("breath"));
        assert_eq!(plan.review_weeks, 4);
        let again = PlanContent::from_fields(&plan.to_fields(), library(), |_| true).unwrap();
        assert_eq!(again, plan);
    }

    #[test]
    fn bad_rows_name_their_fields() {
        let f = fields(&[
            ("goal_1_measure", "phq9"),
            ("goal_1_target", "40"),
            ("goal_2_text", "Less worry"),
            ("goal_2_target", "5"),
            ("goal_3_text", "Sleep"),
            ("goal_3_measure", "horoscope"),
            ("goal_4_text", "Walk"),
            ("goal_4_by", "next spring"),
            ("intervention_2_practice", "juggling"),
            ("review_weeks", "0"),
            ("planned_end", "31/03/2027"),
        ]);
        let err = PlanContent::from_fields(&f, library(), |_| false).unwrap_err();
        let names: Vec<_> = err.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            names,
            [
                "intervention_2_practice",
                "goal_1_text",
                "goal_1_target",
                "goal_2_measure",
                "goal_3_measure",
                "goal_4_by",
                "review_weeks",
                "planned_end"
            ]
        );
        assert!(err[2].message.contains("0 to 27"), "{}", err[2].message);
        let missing = fields(&[("goal_1_text", "Less low"), ("goal_1_measure", "phq9")]);
        let err = PlanContent::from_fields(&missing, library(), |_| true).unwrap_err();
        assert_eq!(err[0].field, "goal_1_target");
    }

    fn summary(instrument: &str, first: f64, latest: f64, n: i64, status: &str) -> Summary {
        Summary {
            client_id: uuid::Uuid::nil(),
            instrument: instrument.into(),
            baseline_total: first,
            baseline_at: Timestamp::now(),
            latest_total: latest,
            latest_at: Timestamp::now(),
            administrations: n,
            status: status.into(),
            not_on_track: false,
        }
    }

    #[test]
    fn progress_respects_each_scales_direction() {
        let goal = |measure: &str, target: f64| Goal {
            text: format!("Goal on {measure}"),
            measure: Some(measure.into()),
            target: Some(target),
            by: None,
        };
        let plan = PlanContent {
            goals: vec![
                goal("phq9", 9.0),
                goal("who5", 13.0),
                goal("gad7", 4.0),
                Goal {
                    text: "Unmeasured".into(),
                    ..Goal::default()
                },
            ],
            ..PlanContent::default()
        };
        let sums = [
            summary("phq9", 18.0, 8.0, 5, "reliably_improved"),
            summary("who5", 6.0, 12.0, 4, "reliably_improved"),
        ];
        let p = progress(&plan, &sums, library());
        assert_eq!(p.len(), 3, "the unmeasured goal has no progress line");
        assert!(p[0].met && p[0].lower_is_better);
        assert!(
            !p[1].met && !p[1].lower_is_better,
            "WHO-5: higher is better"
        );
        assert_eq!(p[2].scores, None);
        assert!(p[0].sentence().contains("18 → 8 over 5 administrations"));
        assert!(p[0].sentence().contains("reached; reliably improved"));
        assert!(p[1].sentence().contains("≥ 13, not yet"));
        assert!(p[2].sentence().ends_with("not answered yet."));
    }

    #[test]
    fn reviews_fall_every_few_weeks() {
        let plan = PlanContent::default();
        let since = time::macros::date!(2026 - 11 - 27);
        assert_eq!(plan.next_review(since), "2027-01-08");
        assert_eq!(
            parse_date("2027-01-08").map(format_date).as_deref(),
            Some("2027-01-08")
        );
    }
}
