//! Roadblocks to listening: a transparent rule set, each rule with the words it looks for, why
//! they get in the way, and what to try instead. Pure functions.
//!
//! The list follows the classic "roadblocks" idea from person-centred and motivational
//! interviewing training (ordering, moralising, advising, minimising, judging, changing the
//! subject…), in Tend's own words. The rules look at words, not meaning, so each finding says
//! what matched: the person can see why and disagree.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One rule.
struct Rule {
    id: &'static str,
    name: &'static str,
    pattern: &'static str,
    why: &'static str,
    instead: &'static str,
}

/// The rules, in the order findings are reported.
const RULES: [Rule; 9] = [
    Rule {
        id: "ordering",
        name: "Telling them how to feel",
        pattern: r"\b(calm down|relax|cheer up|don'?t (?:be|get) (?:so )?(?:upset|sad|angry|worried|anxious)|stop (?:worrying|crying|thinking about it)|pull yourself together|get over it|snap out of it|move on)\b",
        why: "Telling someone how to feel can sound as if their feelings are a problem to switch off.",
        instead: "Name the feeling you heard and let it be there: \"It sounds like this has you really on edge.\"",
    },
    Rule {
        id: "moralising",
        name: "Should and ought",
        pattern: r"\b(you (?:really )?(?:should|shouldn'?t|ought to|must|need to|have to|had better)|you'?d better)\b",
        why: "\"You should\" puts you above the person and can leave them feeling judged or pushed.",
        instead: "Ask what they think might help, or reflect the pull they feel in both directions.",
    },
    Rule {
        id: "advising",
        name: "Advice",
        pattern: r"\b(why don'?t you|have you (?:tried|thought about|considered)|you (?:could|might) (?:try|want to)|(?:my|some) advice|i (?:would )?(?:suggest|recommend)|if i were you|try to (?:just )?|the best thing (?:is|would be)|what you need is)\b",
        why: "Advice before someone feels understood tends to meet \"yes, but…\" and can close the conversation.",
        instead: "Reflect first; if advice still seems useful, ask permission: \"Would it help to think about options together?\"",
    },
    Rule {
        id: "minimising",
        name: "Minimising",
        pattern: r"\b(at least|it(?:'s| is) not (?:that|so) bad|could be worse|it(?:'s| is) (?:nothing|no big deal)|don'?t worry|no need to worry|look on the bright side|everything happens for a reason|it(?:'ll| will) (?:all )?be (?:fine|okay|ok)|(?:everyone|everybody) (?:feels|goes through))\b",
        why: "Silver linings and reassurance can tell the person their pain is smaller than they feel it is.",
        instead: "Stay with what is hard for a moment: \"That sounds really painful.\"",
    },
    Rule {
        id: "judging",
        name: "Judging",
        pattern: r"\b(you(?:'re| are) (?:overreacting|being (?:silly|dramatic|ridiculous|unreasonable)|too sensitive|wrong)|that(?:'s| was| is) (?:silly|stupid|wrong|your (?:own )?fault|a mistake|ridiculous)|you shouldn'?t have|what were you thinking|your (?:own )?fault)\b",
        why: "Judging words, even mild ones, make it less safe to say the next true thing.",
        instead: "Describe what you heard without a verdict, and wonder with them: \"Part of you wishes it had gone differently.\"",
    },
    Rule {
        id: "why_question",
        name: "\"Why did you…\"",
        pattern: r"\bwhy (?:did|didn'?t|would|wouldn'?t|do|don'?t|are|aren'?t|can'?t) you\b",
        why: "\"Why did you…\" questions can sound like a demand to justify yourself.",
        instead: "Ask about the experience instead: \"What was going on for you then?\"",
    },
    Rule {
        id: "self_focus",
        name: "Turning to yourself",
        pattern: r"\b(i know (?:exactly )?how you feel|(?:the )?same (?:thing )?happened to me|when (?:that|this) happened to me|i(?:'ve| have) been there|i went through (?:the same|that)|that reminds me of (?:when i|my))\b",
        why: "Your own story can pull the attention away from theirs, and no one knows exactly how another feels.",
        instead: "Keep the focus on them: \"I can only imagine; tell me what it has been like for you.\"",
    },
    Rule {
        id: "changing_subject",
        name: "Changing the subject",
        pattern: r"\b(anyway|on another note|by the way|speaking of which|let'?s (?:talk about|move on to) something else|moving on|changing the subject)\b",
        why: "A change of subject can tell the person that what they said was too much to stay with.",
        instead: "Stay with their topic a little longer, or ask whether they want to say more.",
    },
    Rule {
        id: "labelling",
        name: "Labelling or diagnosing",
        pattern: r"\b(you(?:'re| are) (?:just )?(?:being )?(?:paranoid|crazy|lazy|obsessed|a perfectionist|codependent|in denial)|that(?:'s| is) (?:just )?(?:your )?(?:anxiety|depression|ocd) talking)\b",
        why: "A label can make the person feel like a category rather than someone being heard.",
        instead: "Reflect the experience in their words rather than naming what it is.",
    },
];

/// Compiled rules: one case-insensitive regex each.
static COMPILED: LazyLock<Vec<(&'static Rule, Regex)>> = LazyLock::new(|| {
    RULES
        .iter()
        .filter_map(|rule| {
            regex::RegexBuilder::new(rule.pattern)
                .case_insensitive(true)
                .build()
                .ok()
                .map(|re| (rule, re))
        })
        .collect()
});

/// A roadblock found in a reply.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Roadblock {
    /// The rule's id (`ordering`, `moralising`, `advising`, `minimising`, `judging`,
    /// `why_question`, `self_focus`, `changing_subject`, `labelling`).
    pub id: String,
    /// The rule's name.
    pub name: String,
    /// Which sentence (0-based) it is in.
    pub sentence: usize,
    /// The words that matched.
    pub matched: String,
    /// Why it can get in the way of listening.
    pub why: String,
    /// What to try instead.
    pub instead: String,
}

/// Every roadblock in the given sentences, in sentence order.
pub fn find(sentences: &[&str]) -> Vec<Roadblock> {
    let mut found = Vec::new();
    for (index, sentence) in sentences.iter().enumerate() {
        let normal = sentence.replace('’', "'");
        for (rule, re) in COMPILED.iter() {
            if let Some(m) = re.find(&normal) {
                found.push(Roadblock {
                    id: rule.id.to_owned(),
                    name: rule.name.to_owned(),
                    sentence: index,
                    matched: m.as_str().to_owned(),
                    why: rule.why.to_owned(),
                    instead: rule.instead.to_owned(),
                });
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(text: &str) -> Vec<String> {
        find(&[text]).into_iter().map(|r| r.id).collect()
    }

    #[test]
    fn every_rule_compiles() {
        assert_eq!(COMPILED.len(), RULES.len());
    }

    #[test]
    fn finds_each_roadblock_and_says_what_matched() {
        assert_eq!(ids("Just calm down, it will pass."), ["ordering"]);
        assert_eq!(ids("You should talk to her."), ["moralising"]);
        assert_eq!(ids("Have you tried going for a walk?"), ["advising"]);
        assert_eq!(ids("At least you still have a job."), ["minimising"]);
        assert_eq!(ids("I think you're overreacting."), ["judging"]);
        assert_eq!(ids("Why did you say yes?"), ["why_question"]);
        assert_eq!(ids("I know exactly how you feel."), ["self_focus"]);
        assert_eq!(ids("Anyway, how was the weekend?"), ["changing_subject"]);
        assert_eq!(ids("That's just your anxiety talking."), ["labelling"]);
        let found = find(&["Fine.", "Don’t worry about it."]);
        assert_eq!(found[0].sentence, 1);
        assert_eq!(found[0].matched, "Don't worry");
    }

    #[test]
    fn reflections_and_open_questions_are_not_roadblocks() {
        assert!(ids("It sounds like you feel let down by the people closest to you.").is_empty());
        assert!(ids("What was that like for you?").is_empty());
        assert!(ids("You're carrying a lot, and it makes sense that you're tired.").is_empty());
    }
}
