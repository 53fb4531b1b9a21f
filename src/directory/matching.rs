//! Explained matching: a short questionnaire ranks therapists with a score anyone can check,
//! and every result lists the reasons that earned its points.
//!
//! Language, way of meeting and budget are needs: a therapist who cannot meet them is left
//! out. Everything else (what brings the person, times, approach, gender, accepting now, a
//! verified licence) adds points, each with its reason. The score is shown as "n of m" where
//! m is what a therapist meeting every wish would earn.

use super::profile::{Profile, money};
use super::schedule::WeeklyWindow;
use super::vocab::Facet;
use crate::error::FieldError;

/// Points per concern the therapist treats.
const CONCERN_POINTS: u32 = 3;
/// Points per preferred approach they use.
const APPROACH_POINTS: u32 = 2;
/// Points for fitting the budget (fee or sliding scale).
const BUDGET_POINTS: u32 = 2;
/// Points per preferred time of day they offer.
const TIME_POINTS: u32 = 1;
/// Points for the gender asked for.
const GENDER_POINTS: u32 = 2;
/// Points for accepting new clients now.
const ACCEPTING_POINTS: u32 = 2;
/// Points for a licence an admin verified.
const VERIFIED_POINTS: u32 = 1;

/// Parts of the week a person can meet.
pub const TIMES: &[(&str, &str)] = &[
    ("mornings", "Mornings"),
    ("afternoons", "Afternoons"),
    ("evenings", "Evenings"),
    ("weekends", "Weekends"),
];

/// What a person told us.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Answers {
    /// Concern slugs.
    pub concerns: Vec<String>,
    /// Language slugs (any one will do).
    pub languages: Vec<String>,
    /// Modality slugs (any one will do).
    pub modalities: Vec<String>,
    /// Most they can pay per session, in cents.
    pub budget_cents: Option<i64>,
    /// Time slugs from [`TIMES`].
    pub times: Vec<String>,
    /// Approach slugs.
    pub approaches: Vec<String>,
    /// A gender slug, or empty for no preference.
    pub gender: String,
}

impl Answers {
    /// Reads the questionnaire's pairs; unknown choices are errors naming the field.
    pub fn from_pairs(pairs: &[(String, String)]) -> Result<Answers, Vec<FieldError>> {
        let mut a = Answers::default();
        let mut errors = Vec::new();
        for (key, value) in pairs {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            let facet_list =
                |facet: Facet, list: &mut Vec<String>, errors: &mut Vec<FieldError>| {
                    if facet.find(value).is_some() {
                        if !list.iter().any(|v| v == value) {
                            list.push(value.to_string());
                        }
                    } else {
                        errors.push(FieldError::new(
                            facet.key(),
                            "Please choose from the listed options.",
                        ));
                    }
                };
            match key.as_str() {
                "concern" => facet_list(Facet::Concern, &mut a.concerns, &mut errors),
                "language" => facet_list(Facet::Language, &mut a.languages, &mut errors),
                "modality" => facet_list(Facet::Modality, &mut a.modalities, &mut errors),
                "approach" => facet_list(Facet::Approach, &mut a.approaches, &mut errors),
                "time" => {
                    if TIMES.iter().any(|(slug, _)| *slug == value) {
                        a.times.push(value.to_string());
                    } else {
                        errors.push(FieldError::new(
                            "time",
                            "Please choose from the listed times.",
                        ));
                    }
                }
                "gender" => {
                    if super::vocab::gender_label(value).is_some() {
                        a.gender = value.to_string();
                    } else {
                        errors.push(FieldError::new(
                            "gender",
                            "Please choose one of the options.",
                        ));
                    }
                }
                "budget" => match super::profile::parse_money("budget", value) {
                    Ok(v) => a.budget_cents = v,
                    Err(e) => errors.push(e),
                },
                _ => {}
            }
        }
        if errors.is_empty() {
            Ok(a)
        } else {
            Err(errors)
        }
    }

    /// Whether the person answered anything at all.
    pub fn is_empty(&self) -> bool {
        *self == Answers::default()
    }

    /// The highest score a therapist could earn for these answers.
    pub fn max_score(&self) -> u32 {
        count(&self.concerns) * CONCERN_POINTS
            + count(&self.approaches) * APPROACH_POINTS
            + count(&self.times) * TIME_POINTS
            + if self.budget_cents.is_some() {
                BUDGET_POINTS
            } else {
                0
            }
            + if self.gender.is_empty() {
                0
            } else {
                GENDER_POINTS
            }
            + ACCEPTING_POINTS
            + VERIFIED_POINTS
    }
}

/// A list's length as points (lists here are short).
fn count(list: &[String]) -> u32 {
    u32::try_from(list.len()).unwrap_or(u32::MAX)
}

/// One ranked therapist.
#[derive(Clone, Debug)]
pub struct Match {
    /// Index into the candidates given to [`rank`].
    pub index: usize,
    /// Points earned.
    pub score: u32,
    /// Why, in the order the points were earned.
    pub reasons: Vec<String>,
    /// Things worth knowing that earned no points (for example "waitlist only").
    pub notes: Vec<String>,
}

/// Which [`TIMES`] a set of weekly windows offers (in the therapist's own clock).
pub fn times_offered(windows: &[WeeklyWindow]) -> Vec<&'static str> {
    let mut out = Vec::new();
    let mut add = |slug: &'static str, yes: bool| {
        if yes && !out.contains(&slug) {
            out.push(slug);
        }
    };
    for w in windows {
        let weekend = w.weekday >= 5;
        add("weekends", weekend);
        add("mornings", !weekend && w.start_minute < 12 * 60);
        add(
            "afternoons",
            !weekend && w.start_minute < 17 * 60 && w.end_minute > 12 * 60,
        );
        add("evenings", !weekend && w.end_minute > 17 * 60 + 30);
    }
    out
}

/// Ranks candidates (each with its weekly windows) for these answers, best first; those who
/// cannot meet a need are left out. Ties keep the candidates' order.
pub fn rank(
    answers: &Answers,
    candidates: &[(&Profile, &[WeeklyWindow])],
    currency: &str,
) -> Vec<Match> {
    let mut out = Vec::new();
    for (index, (profile, windows)) in candidates.iter().enumerate() {
        let mut reasons = Vec::new();
        let mut notes = Vec::new();
        let mut score = 0;
        // Needs first.
        let speaks: Vec<&String> = answers
            .languages
            .iter()
            .filter(|l| profile.has(Facet::Language, l))
            .collect();
        if !answers.languages.is_empty() && speaks.is_empty() {
            continue;
        }
        let meets: Vec<&String> = answers
            .modalities
            .iter()
            .filter(|m| profile.has(Facet::Modality, m))
            .collect();
        if !answers.modalities.is_empty() && meets.is_empty() {
            continue;
        }
        for c in &answers.concerns {
            if profile.has(Facet::Concern, c) {
                score += CONCERN_POINTS;
                reasons.push(format!("treats {}", Facet::Concern.label(c).to_lowercase()));
            }
        }
        for l in speaks {
            reasons.push(format!("speaks {}", Facet::Language.label(l)));
        }
        if let Some(budget) = answers.budget_cents {
            let fee = profile.row.fee_cents;
            match profile.row.sliding_scale_min_cents {
                _ if fee <= budget => {
                    score += BUDGET_POINTS;
                    reasons.push(format!("fee {} fits your budget", money(fee, currency)));
                }
                Some(min) if min <= budget => {
                    score += BUDGET_POINTS;
                    reasons.push(format!("sliding scale to {}", money(min, currency)));
                }
                _ => continue,
            }
        }
        for m in meets {
            reasons.push(format!(
                "offers {}",
                Facet::Modality.label(m).to_lowercase()
            ));
        }
        let offered = times_offered(windows);
        for t in &answers.times {
            if offered.contains(&t.as_str()) {
                score += TIME_POINTS;
                let label = TIMES
                    .iter()
                    .find(|(slug, _)| slug == t)
                    .map_or(t.as_str(), |(_, l)| *l);
                reasons.push(format!("{} available", label.to_lowercase()));
            }
        }
        for a in &answers.approaches {
            if profile.has(Facet::Approach, a) {
                score += APPROACH_POINTS;
                reasons.push(format!("works with {}", Facet::Approach.label(a)));
            }
        }
        if !answers.gender.is_empty() && profile.row.gender == answers.gender {
            score += GENDER_POINTS;
            reasons.push(format!(
                "{} therapist, as you asked",
                super::vocab::gender_label(&answers.gender)
                    .unwrap_or_default()
                    .to_lowercase()
            ));
        }
        if profile.row.accepting {
            score += ACCEPTING_POINTS;
            reasons.push("accepting new clients".to_string());
        } else {
            notes.push("waitlist only for now".to_string());
        }
        if profile.row.licence_status == "verified" {
            score += VERIFIED_POINTS;
            reasons.push("licence verified".to_string());
        }
        out.push(Match {
            index,
            score,
            reasons,
            notes,
        });
    }
    // Stable: equal scores keep the candidates' order.
    out.sort_by_key(|m| std::cmp::Reverse(m.score));
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::directory::profile::ProfileRow;

    fn profile(tags: &[&str], fee: i64, sliding: Option<i64>, accepting: bool) -> Profile {
        Profile {
            row: ProfileRow {
                user_id: uuid::Uuid::nil(),
                slug: "x".into(),
                display_name: "X".into(),
                pronouns: String::new(),
                gender: "woman".into(),
                credentials: String::new(),
                licence_number: String::new(),
                licence_region: String::new(),
                licence_status: "verified".into(),
                bio: String::new(),
                approach: String::new(),
                region: String::new(),
                city: String::new(),
                address: String::new(),
                latitude: None,
                longitude: None,
                fee_cents: fee,
                sliding_scale_min_cents: sliding,
                insurance: String::new(),
                accepting,
                time_zone: "UTC".into(),
                published: true,
                hidden: false,
                has_photo: false,
                updated_at: crate::db::Timestamp::now(),
            },
            tags: tags.iter().map(|t| t.to_string()).collect(),
        }
    }

    fn answers(q: &str) -> Answers {
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(q.as_bytes())
            .into_owned()
            .collect();
        Answers::from_pairs(&pairs).unwrap()
    }

    #[test]
    fn reasons_explain_every_point() {
        let a = answers("concern=anxiety&language=es&modality=video&budget=40&time=evenings");
        let evening = [WeeklyWindow {
            weekday: 1,
            start_minute: 16 * 60,
            end_minute: 20 * 60,
        }];
        let p = profile(
            &[
                "concern:anxiety",
                "language:es",
                "language:en",
                "modality:video",
            ],
            9000,
            Some(4000),
            true,
        );
        let ranked = rank(&a, &[(&p, &evening)], "$");
        assert_eq!(ranked.len(), 1);
        assert_eq!(
            ranked[0].reasons,
            [
                "treats anxiety",
                "speaks Spanish",
                "sliding scale to $40",
                "offers video",
                "evenings available",
                "accepting new clients",
                "licence verified"
            ]
        );
        assert_eq!(ranked[0].score, 3 + 2 + 1 + 2 + 1);
        assert_eq!(a.max_score(), ranked[0].score);
    }

    #[test]
    fn needs_exclude_and_wishes_order() {
        let a = answers("concern=grief&concern=trauma&language=es&budget=50");
        let both = profile(
            &["concern:grief", "concern:trauma", "language:es"],
            5000,
            None,
            false,
        );
        let one = profile(&["concern:grief", "language:es"], 5000, None, true);
        let no_spanish = profile(&["concern:grief", "concern:trauma"], 5000, None, true);
        let too_dear = profile(&["concern:grief", "language:es"], 9000, Some(6000), true);
        let ranked = rank(
            &a,
            &[
                (&one, &[]),
                (&no_spanish, &[]),
                (&both, &[]),
                (&too_dear, &[]),
            ],
            "$",
        );
        let order: Vec<usize> = ranked.iter().map(|m| m.index).collect();
        assert_eq!(order, [2, 0]);
        assert_eq!(ranked[0].notes, ["waitlist only for now"]);
    }

    #[test]
    fn unknown_choices_are_named() {
        let pairs = vec![
            ("concern".to_string(), "astrology".to_string()),
            ("budget".to_string(), "-1".to_string()),
            ("time".to_string(), "midnight".to_string()),
        ];
        let fields: Vec<String> = Answers::from_pairs(&pairs)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["concern", "budget", "time"]);
    }

    #[test]
    fn times_come_from_windows() {
        let w = |weekday, s: u16, e: u16| WeeklyWindow {
            weekday,
            start_minute: s * 60,
            end_minute: e * 60,
        };
        assert_eq!(times_offered(&[w(0, 9, 12)]), ["mornings"]);
        assert_eq!(
            times_offered(&[w(2, 13, 19), w(5, 10, 12)]),
            ["afternoons", "evenings", "weekends"]
        );
    }
}
