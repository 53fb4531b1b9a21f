//! Splitting a reply into sentences and telling whether it is English. Pure functions.

/// A sentence of a reply, with where it sits in the text (byte offsets) for highlighting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    /// The sentence, trimmed.
    pub text: String,
    /// Byte offset of its first character in the reply.
    pub start: usize,
    /// Byte offset just past its last character.
    pub end: usize,
}

/// Words after which a full stop does not end a sentence.
const ABBREVIATIONS: [&str; 9] = ["mr", "mrs", "ms", "dr", "e.g", "i.e", "etc", "vs", "st"];

/// Splits text into sentences at `.`, `!`, `?` (and runs of them, with closing quotes or
/// brackets) followed by white space, and at line breaks. Never returns an empty sentence.
pub fn sentences(text: &str) -> Vec<Span> {
    let mut spans = Vec::new();
    let mut start = 0;
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        let boundary_end = if c == '\n' {
            Some(at)
        } else if matches!(c, '.' | '!' | '?' | '…') {
            let mut j = i + 1;
            while j < chars.len()
                && matches!(
                    chars[j].1,
                    '.' | '!' | '?' | '…' | '"' | '\'' | ')' | '”' | '’'
                )
            {
                j += 1;
            }
            let at_end = j >= chars.len();
            let then_space = !at_end && chars[j].1.is_whitespace();
            if (at_end || then_space) && !(c == '.' && ends_with_abbreviation(&text[start..at])) {
                let end = if at_end { text.len() } else { chars[j].0 };
                i = j.saturating_sub(1);
                Some(end)
            } else {
                None
            }
        } else {
            None
        };
        if let Some(end) = boundary_end {
            push(&mut spans, text, start, end);
            start = end;
        }
        i += 1;
    }
    push(&mut spans, text, start, text.len());
    spans
}

fn ends_with_abbreviation(before: &str) -> bool {
    let word = before
        .rsplit(|c: char| c.is_whitespace() || c == '(')
        .next()
        .unwrap_or("")
        .to_lowercase();
    ABBREVIATIONS.contains(&word.as_str())
        || (word.len() == 1 && word.chars().all(char::is_alphabetic))
}

fn push(spans: &mut Vec<Span>, text: &str, start: usize, end: usize) {
    let piece = &text[start..end];
    let trimmed = piece.trim();
    if trimmed.chars().any(char::is_alphanumeric) {
        let lead = piece.len() - piece.trim_start().len();
        spans.push(Span {
            text: trimmed.to_owned(),
            start: start + lead,
            end: start + lead + trimmed.len(),
        });
    }
}

/// Common English function words.
const ENGLISH: &[&str] = &[
    "the", "a", "an", "and", "or", "but", "to", "of", "in", "on", "for", "with", "that", "this",
    "it", "is", "are", "was", "were", "be", "been", "i", "you", "your", "me", "my", "we", "they",
    "he", "she", "what", "how", "so", "if", "not", "no", "do", "does", "did", "have", "has", "had",
    "can", "could", "would", "should", "will", "about", "there", "at", "as", "it's", "i'm",
    "you're", "that's", "just", "really", "very", "from", "by", "after", "before", "out", "up",
    "when", "who", "why", "which", "than", "then", "some", "all", "more", "most", "often",
    "people", "like", "feel", "sounds", "might", "help", "here", "much", "too", "also",
];

/// Common function words of other languages Tend's users may write in (Spanish, French,
/// German, Portuguese, Italian, Dutch), chosen not to be English words too.
const OTHER: &[&str] = &[
    "el", "los", "las", "una", "que", "por", "para", "muy", "pero", "como", "está", "estás", "es",
    "y", "lo", "siento", "le", "les", "des", "et", "est", "je", "tu", "vous", "nous", "pour",
    "avec", "pas", "une", "cela", "c'est", "der", "die", "das", "und", "ist", "nicht", "ich", "du",
    "mit", "sehr", "auch", "ein", "eine", "mir", "não", "você", "com", "uma", "muito", "isso",
    "il", "che", "di", "sono", "per", "della", "het", "een", "niet", "ik", "je", "zijn", "ha",
    "sido", "parece", "klingt", "davon", "mehr",
];

/// Whether a reply is (probably) English, the only language the coach was trained on.
///
/// Two checks, both cheap and explainable: most letters are Latin letters without accents,
/// and common English function words are not outnumbered by those of other European
/// languages. A reply with none of either gets the benefit of the doubt.
pub fn is_english(text: &str) -> bool {
    let letters: Vec<char> = text.chars().filter(|c| c.is_alphabetic()).collect();
    if letters.is_empty() {
        return false;
    }
    let ascii = letters.iter().filter(|c| c.is_ascii_alphabetic()).count();
    if ascii * 10 < letters.len() * 9 {
        return false;
    }
    let words: Vec<String> = text
        .split(|c: char| !(c.is_alphabetic() || c == '\'' || c == '’'))
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase().replace('’', "'"))
        .collect();
    let english = words
        .iter()
        .filter(|w| ENGLISH.contains(&w.as_str()))
        .count();
    let other = words.iter().filter(|w| OTHER.contains(&w.as_str())).count();
    english >= other
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str) -> Vec<String> {
        sentences(text).into_iter().map(|s| s.text).collect()
    }

    #[test]
    fn splits_at_sentence_ends_and_line_breaks() {
        assert_eq!(
            texts("It sounds exhausting. What has helped?! I wonder…\nTell me more"),
            [
                "It sounds exhausting.",
                "What has helped?!",
                "I wonder…",
                "Tell me more"
            ]
        );
    }

    #[test]
    fn keeps_abbreviations_and_decimals_inside_a_sentence() {
        assert_eq!(
            texts("Dr. Lee said 2.5 hours, e.g. after work. Okay?"),
            ["Dr. Lee said 2.5 hours, e.g. after work.", "Okay?"]
        );
    }

    #[test]
    fn offsets_point_at_the_sentence() {
        let reply = "  First one.   Second \"quoted.\" Third";
        for span in sentences(reply) {
            assert_eq!(&reply[span.start..span.end], span.text);
        }
        assert_eq!(sentences(reply).len(), 3);
    }

    #[test]
    fn ignores_empty_and_punctuation_only_pieces() {
        assert!(sentences("  ... \n\n !! ").is_empty());
        assert_eq!(texts("Okay.\n\nThanks."), ["Okay.", "Thanks."]);
    }

    #[test]
    fn tells_english_from_other_languages() {
        assert!(is_english("It sounds like the week has worn you down."));
        assert!(is_english("Okay."));
        assert!(is_english(
            "Cutting out caffeine after lunch often helps people sleep."
        ));
        assert!(is_english("Research shows exercise can lift mood."));
        assert!(!is_english(
            "Lo siento mucho, parece que ha sido una semana muy difícil."
        ));
        assert!(!is_english(
            "Das klingt wirklich anstrengend, erzähl mir mehr davon."
        ));
        assert!(!is_english(
            "Je comprends, cela semble vraiment épuisant pour toi."
        ));
        assert!(!is_english("это звучит очень тяжело"));
        assert!(!is_english("1234 !!!"));
    }
}
