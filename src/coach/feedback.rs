//! From the classifier's probabilities and the roadblock rules to what the coach says: the
//! profile of a reply, the evidence for it and a few suggestions. Pure functions.
//!
//! Evidence comes from sentence occlusion: each dimension is scored again without each
//! sentence, and a sentence whose removal moves the score by [`EVIDENCE_SHIFT`] or more is
//! evidence for (or against) it.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Label;
use super::roadblocks::{self, Roadblock};
use super::text::Span;

/// How far a dimension must move without a sentence for that sentence to count as evidence.
pub const EVIDENCE_SHIFT: f32 = 0.1;

/// Words of validation and warmth: acknowledging that a feeling makes sense, thanks, sorrow.
static VALIDATION: LazyLock<Option<Regex>> = LazyLock::new(|| {
    regex::RegexBuilder::new(concat!(
        r"\b(makes (?:a lot of |complete |total )?sense|(?:it's|it is|that's|that is) (?:so |very |completely )?(?:understandable|natural|okay to|ok to|normal to)",
        r"|no wonder|of course you|i'?m (?:so |really |very )?sorry|thank you for (?:telling|sharing|trusting|being)|thanks for (?:telling|sharing)",
        r"|(?:that|this|it) (?:sounds|must be|must have been|seems) (?:really |so |incredibly |very )?(?:hard|painful|difficult|tough|exhausting|frightening|scary|lonely|heavy|overwhelming|upsetting|confusing|frustrating)",
        r"|you(?:'re| are) not alone|took (?:real |a lot of )?courage|i hear (?:you|how|that)|i'?m glad you|anyone would|you(?:'ve| have) been (?:carrying|holding|dealing with) (?:so much|a lot))\b"
    ))
    .case_insensitive(true)
    .build()
    .ok()
});

/// One sentence of the reply, labelled.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct SentenceFeedback {
    /// The sentence.
    pub text: String,
    /// Byte offset in the reply where it starts.
    pub start: usize,
    /// Byte offset just past its end.
    pub end: usize,
    /// The most likely listening behaviour.
    pub label: Label,
    /// The model's probability for that label (0..1).
    pub confidence: f32,
}

/// The gentle profile of a reply, each 0..1.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Dimensions {
    /// Understanding: how clearly the reply reflects what the client said or meant.
    pub reflection: f32,
    /// Exploration: how much it invites the client to say more (open questions most).
    pub exploration: f32,
    /// Warmth and validation: words that accept the feeling, less any roadblocks.
    pub warmth: f32,
}

/// Which sentences move a dimension when left out.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct Evidence {
    /// Sentences (0-based) that raise understanding.
    pub reflection: Vec<usize>,
    /// Sentences that raise exploration.
    pub exploration: Vec<usize>,
    /// Sentences that raise warmth.
    pub warmth: Vec<usize>,
    /// Sentences that lower warmth.
    pub against_warmth: Vec<usize>,
}

/// A concrete suggestion, pointing at the sentences it is about.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Suggestion {
    /// A stable id for the kind of suggestion (`reflect_first`, `roadblock`, …).
    pub kind: String,
    /// What to try, in a sentence or two.
    pub text: String,
    /// Sentences (0-based) the suggestion is about; may be empty.
    pub evidence: Vec<usize>,
}

/// Everything the coach says about one reply.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Feedback {
    /// Each sentence with its label.
    pub sentences: Vec<SentenceFeedback>,
    /// The profile of the reply.
    pub dimensions: Dimensions,
    /// Which sentences the profile rests on.
    pub evidence: Evidence,
    /// Roadblocks to listening found by the rules.
    pub roadblocks: Vec<Roadblock>,
    /// What went well, in plain words.
    pub strengths: Vec<String>,
    /// Two or three things to try (fewer when the reply already does them).
    pub suggestions: Vec<Suggestion>,
}

/// Per-sentence facts the dimensions are computed from.
struct Facts<'a> {
    probs: &'a [Vec<f32>],
    validations: Vec<bool>,
    roadblocks: Vec<usize>,
}

fn p(probs: &[f32], label: Label) -> f32 {
    probs.get(label.index()).copied().unwrap_or(0.0)
}

/// The three dimensions over a subset of sentences (`keep[i]` false leaves sentence i out).
fn score(facts: &Facts, keep: &[bool]) -> Dimensions {
    let kept = || facts.probs.iter().enumerate().filter(|(i, _)| keep[*i]);
    // A sentence with a roadblock ("At least it's over now") may echo the client's words, but
    // it does not show understanding or invite more, so it counts for neither.
    let listening = || kept().filter(|(i, _)| facts.roadblocks[*i] == 0);
    let reflection = listening()
        .map(|(_, pr)| p(pr, Label::ComplexReflection) + 0.7 * p(pr, Label::SimpleReflection))
        .fold(0.0, f32::max);
    let exploration = listening()
        .map(|(_, pr)| p(pr, Label::OpenQuestion) + 0.25 * p(pr, Label::ClosedQuestion))
        .fold(0.0, f32::max);
    let validations = kept().filter(|(i, _)| facts.validations[*i]).count().min(2) as f32;
    let roadblocks: usize = kept().map(|(i, _)| facts.roadblocks[i]).sum();
    // A neutral reply sits at 0.25; validation raises it, each roadblock takes away 40%.
    let warmth = ((0.25 + 0.3 * validations + 0.2 * reflection.min(1.0)).min(1.0))
        * 0.6f32.powi(roadblocks.min(8) as i32);
    Dimensions {
        reflection: reflection.min(1.0),
        exploration: exploration.min(1.0),
        warmth,
    }
}

/// Occlusion: which sentences move each dimension when left out.
fn evidence(facts: &Facts, full: Dimensions) -> Evidence {
    let n = facts.probs.len();
    let mut ev = Evidence::default();
    for i in 0..n {
        let mut keep = vec![true; n];
        keep[i] = false;
        let without = score(facts, &keep);
        if full.reflection - without.reflection >= EVIDENCE_SHIFT {
            ev.reflection.push(i);
        }
        if full.exploration - without.exploration >= EVIDENCE_SHIFT {
            ev.exploration.push(i);
        }
        if full.warmth - without.warmth >= EVIDENCE_SHIFT {
            ev.warmth.push(i);
        }
        // Roadblocks compound, so when there are several each one alone moves warmth little:
        // any clear rise without a sentence counts against it.
        if without.warmth - full.warmth >= EVIDENCE_SHIFT / 2.0 {
            ev.against_warmth.push(i);
        }
    }
    ev
}

fn quote_list(spans: &[Span], indices: &[usize]) -> String {
    let quoted: Vec<String> = indices
        .iter()
        .filter_map(|&i| spans.get(i))
        .map(|s| format!("\"{}\"", s.text))
        .collect();
    quoted.join(", ")
}

/// Builds the feedback for a reply from its sentences, the classifier's probabilities for
/// each (in [`Label::ALL`] order) and the rules.
pub fn compose(spans: &[Span], probs: &[Vec<f32>]) -> Feedback {
    let texts: Vec<&str> = spans.iter().map(|s| s.text.as_str()).collect();
    let found = roadblocks::find(&texts);
    let validations = texts
        .iter()
        .map(|t| {
            VALIDATION
                .as_ref()
                .is_some_and(|re| re.is_match(&t.replace('’', "'")))
        })
        .collect();
    let mut per_sentence = vec![0; spans.len()];
    for r in &found {
        per_sentence[r.sentence] += 1;
    }
    let facts = Facts {
        probs,
        validations,
        roadblocks: per_sentence,
    };
    let dimensions = score(&facts, &vec![true; spans.len()]);
    let evidence = evidence(&facts, dimensions);
    let sentences: Vec<SentenceFeedback> = spans
        .iter()
        .zip(probs)
        .map(|(span, pr)| {
            let (label, confidence) = super::best_label(pr);
            SentenceFeedback {
                text: span.text.clone(),
                start: span.start,
                end: span.end,
                label,
                confidence,
            }
        })
        .collect();
    let (strengths, suggestions) = advise(spans, &sentences, dimensions, &evidence, &found);
    Feedback {
        sentences,
        dimensions,
        evidence,
        roadblocks: found,
        strengths,
        suggestions,
    }
}

/// The strengths and up to three suggestions, most useful first.
fn advise(
    spans: &[Span],
    sentences: &[SentenceFeedback],
    d: Dimensions,
    ev: &Evidence,
    found: &[Roadblock],
) -> (Vec<String>, Vec<Suggestion>) {
    let with = |label: Label| -> Vec<usize> {
        sentences
            .iter()
            .enumerate()
            .filter(|(_, s)| s.label == label)
            .map(|(i, _)| i)
            .collect()
    };
    let closed = with(Label::ClosedQuestion);
    let advice = with(Label::InformationOrAdvice);
    let complex = with(Label::ComplexReflection);
    let simple = with(Label::SimpleReflection);
    let first_reflection = sentences.iter().position(|s| s.label.is_reflection());
    let mut strengths = Vec::new();
    let mut out = Vec::new();

    if d.reflection >= 0.5 {
        strengths.push(if ev.reflection.is_empty() {
            "You reflected what you heard.".to_owned()
        } else {
            format!(
                "You reflected what you heard: {}",
                quote_list(spans, &ev.reflection)
            )
        });
    }
    if d.exploration >= 0.5 {
        strengths.push("You invited them to say more with an open question.".to_owned());
    }
    if d.warmth >= 0.6 {
        strengths.push("Your words accept how they feel.".to_owned());
    }

    if d.reflection < 0.5 {
        if closed.len() >= 2 {
            out.push(Suggestion {
                kind: "reflect_first".to_owned(),
                text: format!(
                    "You asked {} closed questions; try reflecting the feeling you heard first: \"It sounds like…\"",
                    number_word(closed.len())
                ),
                evidence: closed.clone(),
            });
        } else if !advice.is_empty() {
            out.push(Suggestion {
                kind: "reflect_first".to_owned(),
                text: "You moved to information or advice before saying back what you heard. Try reflecting first, so they know you understood: \"It sounds like…\"".to_owned(),
                evidence: advice.clone(),
            });
        } else {
            out.push(Suggestion {
                kind: "reflect_first".to_owned(),
                text: "Try opening with a reflection of what you heard, the feeling or the meaning under their words: \"It sounds like…\" or \"You're wondering whether…\"".to_owned(),
                evidence: Vec::new(),
            });
        }
    }
    let mut seen = Vec::new();
    for r in found {
        if seen.contains(&r.id.as_str()) || seen.len() >= 2 {
            continue;
        }
        seen.push(r.id.as_str());
        let early = r.id == "advising" && first_reflection.is_none_or(|f| f > r.sentence);
        out.push(Suggestion {
            kind: "roadblock".to_owned(),
            text: format!(
                "\"{}\"{}: {} {}",
                r.matched,
                if early {
                    " came before any reflection"
                } else {
                    ""
                },
                r.why,
                r.instead
            ),
            evidence: vec![r.sentence],
        });
    }
    if d.reflection >= 0.5 && complex.is_empty() && !simple.is_empty() {
        out.push(Suggestion {
            kind: "go_deeper".to_owned(),
            text: "Your reflection stays close to their words. Try going one step further: name the feeling underneath, or what this seems to mean to them.".to_owned(),
            evidence: simple,
        });
    }
    if d.exploration < 0.4 && closed.len() < 2 {
        out.push(Suggestion {
            kind: "invite_more".to_owned(),
            text: "An open question could invite them to say more, in their own way: \"What has that been like for you?\"".to_owned(),
            evidence: Vec::new(),
        });
    } else if closed.len() >= 2 && d.reflection >= 0.5 {
        out.push(Suggestion {
            kind: "open_up".to_owned(),
            text: format!(
                "You asked {} closed questions; one open question can do the work of several: \"How has this been for you?\"",
                number_word(closed.len())
            ),
            evidence: closed,
        });
    }
    if d.warmth < 0.4 && found.is_empty() {
        out.push(Suggestion {
            kind: "validate".to_owned(),
            text: "A few words of validation can help them feel heard: \"It makes sense that you feel this way.\"".to_owned(),
            evidence: Vec::new(),
        });
    }
    if sentences.len() > 6 {
        out.push(Suggestion {
            kind: "shorter".to_owned(),
            text: "Long replies can bury the reflection. Try keeping the heart of it to two or three sentences.".to_owned(),
            evidence: Vec::new(),
        });
    }
    out.truncate(3);
    (strengths, out)
}

fn number_word(n: usize) -> String {
    match n {
        2 => "two".into(),
        3 => "three".into(),
        4 => "four".into(),
        5 => "five".into(),
        n => n.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coach::text::sentences;

    /// A one-hot probability row for a label.
    fn row(label: Label) -> Vec<f32> {
        let mut r = vec![0.0; 6];
        r[label.index()] = 1.0;
        r
    }

    fn feedback(reply: &str, labels: &[Label]) -> Feedback {
        let spans = sentences(reply);
        assert_eq!(spans.len(), labels.len(), "{reply}");
        let probs: Vec<Vec<f32>> = labels.iter().map(|&l| row(l)).collect();
        compose(&spans, &probs)
    }

    #[test]
    fn two_closed_questions_without_a_reflection_get_the_reflect_first_suggestion() {
        let f = feedback(
            "Did you sleep at all? Is it every night?",
            &[Label::ClosedQuestion, Label::ClosedQuestion],
        );
        assert_eq!(f.suggestions[0].kind, "reflect_first");
        assert!(f.suggestions[0].text.contains("two closed questions"));
        assert_eq!(f.suggestions[0].evidence, [0, 1]);
        assert!(f.dimensions.reflection < 0.5);
    }

    #[test]
    fn a_complex_reflection_and_open_question_are_strengths_with_evidence() {
        let f = feedback(
            "It sounds like you've been holding everything together alone. That makes sense. What would help most right now?",
            &[Label::ComplexReflection, Label::Other, Label::OpenQuestion],
        );
        assert!(f.dimensions.reflection > 0.9);
        assert!(f.dimensions.exploration > 0.9);
        assert!(f.dimensions.warmth >= 0.6, "{:?}", f.dimensions);
        assert_eq!(f.evidence.reflection, [0]);
        assert_eq!(f.evidence.exploration, [2]);
        // The validation carries warmth; the reflection adds to it too.
        assert!(f.evidence.warmth.contains(&1), "{:?}", f.evidence);
        assert_eq!(f.strengths.len(), 3);
        assert!(f.suggestions.iter().all(|s| s.kind != "reflect_first"));
    }

    #[test]
    fn roadblocks_lower_warmth_and_advice_before_reflection_is_called_early() {
        let f = feedback(
            "Have you tried going to bed earlier? At least you have the weekend.",
            &[Label::InformationOrAdvice, Label::InformationOrAdvice],
        );
        assert!(f.dimensions.warmth < 0.15, "{:?}", f.dimensions);
        assert_eq!(f.roadblocks.len(), 2);
        assert_eq!(f.evidence.against_warmth, [0, 1]);
        assert!(
            f.suggestions
                .iter()
                .any(|s| s.text.contains("came before any reflection"))
        );
        assert!(f.suggestions.len() <= 3);
    }

    #[test]
    fn a_sentence_with_a_roadblock_is_not_counted_as_understanding() {
        let f = feedback(
            "Did you say anything? At least it's over now.",
            &[Label::ClosedQuestion, Label::SimpleReflection],
        );
        assert!(f.dimensions.reflection < 0.1, "{:?}", f.dimensions);
        assert!(f.strengths.is_empty());
        assert_eq!(f.suggestions[0].kind, "reflect_first");
    }

    #[test]
    fn a_simple_reflection_is_invited_to_go_deeper() {
        let f = feedback(
            "You're tired. What's that like?",
            &[Label::SimpleReflection, Label::OpenQuestion],
        );
        assert!(
            f.suggestions
                .iter()
                .any(|s| s.kind == "go_deeper" && s.evidence == [0])
        );
    }

    #[test]
    fn sentence_labels_carry_the_model_confidence() {
        let spans = sentences("So work has been relentless.");
        let probs = vec![vec![0.1, 0.6, 0.1, 0.1, 0.05, 0.05]];
        let f = compose(&spans, &probs);
        assert_eq!(f.sentences[0].label, Label::SimpleReflection);
        assert!((f.sentences[0].confidence - 0.6).abs() < 1e-6);
    }
}
