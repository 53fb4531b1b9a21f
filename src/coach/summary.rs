//! The MITI-style summary of a practice transcript: reflection-to-question ratio, share of
//! complex reflections and share of open questions, against published thresholds. Pure
//! functions over labelled sentences; the model labels them (see `super::Engine::summary`).
//!
//! Thresholds:
//! - MITI 4.2.1 (Moyers, Manuel & Ernst 2014, *Motivational Interviewing Treatment Integrity
//!   Coding Manual 4.2.1*; Moyers et al. 2016, J Subst Abuse Treat 65:36–42): reflection to
//!   question ratio fair 1:1, good 2:1; percent complex reflections fair 40%, good 50%.
//! - MITI 4 dropped the open-question summary score, so that line uses MITI 3.1.1 (Moyers,
//!   Martin, Manuel, Miller & Ernst 2010): percent open questions fair 50%, good 70%, and says so.

use serde::Serialize;
use utoipa::ToSchema;

use super::Label;

/// Who spoke a turn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Speaker {
    /// The person seeking help.
    Client,
    /// The person practising listening.
    Therapist,
}

/// One turn of a transcript.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Turn {
    /// Who spoke.
    pub speaker: Speaker,
    /// What they said.
    pub text: String,
}

/// Why a transcript could not be read.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum TranscriptError {
    /// A line before the first speaker label.
    #[error("line {0} has no speaker: start each turn with \"Client:\" or \"Therapist:\"")]
    NoSpeaker(usize),
    /// No therapist turn to summarise.
    #[error("there are no therapist turns to summarise")]
    NoTherapist,
}

const CLIENT_NAMES: [&str; 4] = ["client", "c", "seeker", "person"];
const THERAPIST_NAMES: [&str; 7] = [
    "therapist",
    "t",
    "supporter",
    "counsellor",
    "counselor",
    "trainee",
    "clinician",
];

/// Reads "Client: …" / "Therapist: …" lines (also C:/T:, Seeker:/Supporter:, Counsellor:);
/// a line without a label continues the turn before it. Blank lines are skipped.
pub fn parse(transcript: &str) -> Result<Vec<Turn>, TranscriptError> {
    let mut turns: Vec<Turn> = Vec::new();
    for (n, line) in transcript.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let labelled = line.split_once(':').and_then(|(name, rest)| {
            let name = name.trim().to_lowercase();
            let speaker = if CLIENT_NAMES.contains(&name.as_str()) {
                Speaker::Client
            } else if THERAPIST_NAMES.contains(&name.as_str()) {
                Speaker::Therapist
            } else {
                return None;
            };
            Some((speaker, rest.trim()))
        });
        match (labelled, turns.last_mut()) {
            (Some((speaker, text)), _) => turns.push(Turn {
                speaker,
                text: text.to_owned(),
            }),
            (None, Some(last)) => {
                last.text.push(' ');
                last.text.push_str(line);
            }
            (None, None) => return Err(TranscriptError::NoSpeaker(n + 1)),
        }
    }
    if !turns.iter().any(|t| t.speaker == Speaker::Therapist) {
        return Err(TranscriptError::NoTherapist);
    }
    Ok(turns)
}

/// Where a figure stands against its thresholds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// Below the fair threshold.
    BelowFair,
    /// At or above fair, below good.
    Fair,
    /// At or above good.
    Good,
    /// Nothing to compute (for example no questions at all).
    NotAvailable,
}

/// One summary figure with its thresholds.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Measure {
    /// The figure (a ratio, or a percentage 0..100); absent when it cannot be computed.
    pub value: Option<f32>,
    /// The fair threshold.
    pub fair: f32,
    /// The good threshold.
    pub good: f32,
    /// Where the value stands.
    pub standing: Standing,
    /// Where the thresholds come from.
    pub source: &'static str,
}

fn measure(value: Option<f32>, fair: f32, good: f32, source: &'static str) -> Measure {
    let standing = match value {
        None => Standing::NotAvailable,
        Some(v) if v >= good => Standing::Good,
        Some(v) if v >= fair => Standing::Fair,
        Some(_) => Standing::BelowFair,
    };
    Measure {
        value: value.map(|v| (v * 100.0).round() / 100.0),
        fair,
        good,
        standing,
        source,
    }
}

/// Counts and figures for a transcript.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Summary {
    /// Therapist turns.
    pub therapist_turns: usize,
    /// Therapist sentences labelled.
    pub sentences: usize,
    /// Simple reflections.
    pub simple_reflections: usize,
    /// Complex reflections.
    pub complex_reflections: usize,
    /// Open questions.
    pub open_questions: usize,
    /// Closed questions.
    pub closed_questions: usize,
    /// Reflections per question.
    pub reflection_to_question: Measure,
    /// Complex reflections as a percentage of all reflections.
    pub percent_complex_reflections: Measure,
    /// Open questions as a percentage of all questions.
    pub percent_open_questions: Measure,
}

impl Summary {
    /// Reflections of either kind.
    pub fn reflections_total(&self) -> usize {
        self.simple_reflections + self.complex_reflections
    }

    /// Questions of either kind.
    pub fn questions_total(&self) -> usize {
        self.open_questions + self.closed_questions
    }
}

/// The MITI 4.2.1 source line.
pub const MITI_4: &str = "MITI 4.2.1 (Moyers, Manuel & Ernst 2014)";
/// The MITI 3.1.1 source line (MITI 4 has no open-question threshold).
pub const MITI_3: &str = "MITI 3.1.1 (Moyers et al. 2010); MITI 4 has no open-question threshold";

/// The summary from the labels of every therapist sentence.
pub fn summarise(therapist_turns: usize, labels: &[Label]) -> Summary {
    let count = |l: Label| labels.iter().filter(|&&x| x == l).count();
    let (sr, cr) = (
        count(Label::SimpleReflection),
        count(Label::ComplexReflection),
    );
    let (oq, cq) = (count(Label::OpenQuestion), count(Label::ClosedQuestion));
    let reflections = (sr + cr) as f32;
    let questions = (oq + cq) as f32;
    let ratio = if questions > 0.0 {
        Some(reflections / questions)
    } else if reflections > 0.0 {
        // Reflections and no questions at all: above any threshold, but not a number.
        Some(f32::INFINITY)
    } else {
        None
    };
    let percent = |part: usize, whole: f32| (whole > 0.0).then(|| 100.0 * part as f32 / whole);
    let mut rq = measure(ratio, 1.0, 2.0, MITI_4);
    if rq.value == Some(f32::INFINITY) {
        rq.value = None;
    }
    Summary {
        therapist_turns,
        sentences: labels.len(),
        simple_reflections: sr,
        complex_reflections: cr,
        open_questions: oq,
        closed_questions: cq,
        reflection_to_question: rq,
        percent_complex_reflections: measure(percent(cr, reflections), 40.0, 50.0, MITI_4),
        percent_open_questions: measure(percent(oq, questions), 50.0, 70.0, MITI_3),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_labelled_turns_and_continuation_lines() {
        let turns = parse("Client: I can't sleep.\nit's been weeks\n\nT: Weeks of that.\nC: Yes.")
            .unwrap_or_default();
        assert_eq!(turns.len(), 3);
        assert_eq!(turns[0].text, "I can't sleep. it's been weeks");
        assert_eq!(turns[1].speaker, Speaker::Therapist);
        assert_eq!(
            parse("hello\nClient: hi"),
            Err(TranscriptError::NoSpeaker(1))
        );
        assert_eq!(parse("Client: hi"), Err(TranscriptError::NoTherapist));
    }

    #[test]
    fn figures_stand_against_the_thresholds() {
        use Label::*;
        let labels = [
            ComplexReflection,
            ComplexReflection,
            SimpleReflection,
            OpenQuestion,
            ClosedQuestion,
            Other,
        ];
        let s = summarise(3, &labels);
        assert_eq!(s.reflection_to_question.value, Some(1.5));
        assert_eq!(s.reflection_to_question.standing, Standing::Fair);
        assert_eq!(s.percent_complex_reflections.value, Some(66.67));
        assert_eq!(s.percent_complex_reflections.standing, Standing::Good);
        assert_eq!(s.percent_open_questions.value, Some(50.0));
        assert_eq!(s.percent_open_questions.standing, Standing::Fair);
        let none = summarise(1, &[ClosedQuestion, ClosedQuestion]);
        assert_eq!(none.reflection_to_question.standing, Standing::BelowFair);
        assert_eq!(
            none.percent_complex_reflections.standing,
            Standing::NotAvailable
        );
        let only = summarise(1, &[SimpleReflection]);
        assert_eq!(only.reflection_to_question.standing, Standing::Good);
        assert_eq!(only.reflection_to_question.value, None);
    }
}
