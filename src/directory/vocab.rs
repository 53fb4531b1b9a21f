//! The directory's controlled vocabularies: what a therapist can say they treat, how they work,
//! which languages they speak, how they meet people and whom they see.
//!
//! Slugs are stored (as `kind:slug` tags); labels are shown. A fixed list keeps filters honest
//! (nobody misses "anxiety" because a profile said "anxious feelings") and keeps the search
//! index free of spelling variants.

/// One term: the stored slug and the words people see.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Term {
    /// Stored and used in URLs.
    pub slug: &'static str,
    /// Shown to people.
    pub label: &'static str,
}

/// Shorthand for building the tables below.
const fn t(slug: &'static str, label: &'static str) -> Term {
    Term { slug, label }
}

/// What brings people to therapy.
pub const CONCERNS: &[Term] = &[
    t("anxiety", "Anxiety"),
    t("depression", "Depression and low mood"),
    t("trauma", "Trauma and PTSD"),
    t("grief", "Grief and loss"),
    t("relationships", "Relationships"),
    t("self-esteem", "Self-esteem and self-criticism"),
    t("stress", "Stress and burnout"),
    t("shame", "Shame"),
    t("loneliness", "Loneliness"),
    t("life-changes", "Life changes"),
    t("perinatal", "Pregnancy and new parenthood"),
    t("chronic-illness", "Living with illness or pain"),
    t("identity", "Identity, gender and sexuality"),
    t("anger", "Anger"),
    t("eating", "Eating and body image"),
    t("ocd", "Obsessions and compulsions (OCD)"),
    t("sleep", "Sleep"),
];

/// Ways of working.
pub const APPROACHES: &[Term] = &[
    t("cft", "Compassion-focused therapy"),
    t("msc", "Mindful self-compassion"),
    t("act", "Acceptance and commitment therapy (ACT)"),
    t("cbt", "Cognitive behavioural therapy (CBT)"),
    t("emdr", "EMDR"),
    t("person-centred", "Person-centred"),
    t("mbct", "Mindfulness-based cognitive therapy"),
    t("dbt", "Dialectical behaviour therapy (DBT)"),
    t("psychodynamic", "Psychodynamic"),
    t("schema", "Schema therapy"),
    t("ifs", "Internal family systems"),
    t("narrative", "Narrative therapy"),
    t("somatic", "Somatic approaches"),
];

/// Languages (ISO 639 codes).
pub const LANGUAGES: &[Term] = &[
    t("en", "English"),
    t("es", "Spanish"),
    t("fr", "French"),
    t("de", "German"),
    t("pt", "Portuguese"),
    t("it", "Italian"),
    t("pl", "Polish"),
    t("ar", "Arabic"),
    t("zh", "Chinese"),
    t("hi", "Hindi"),
    t("ur", "Urdu"),
    t("bn", "Bengali"),
    t("pa", "Punjabi"),
    t("tr", "Turkish"),
    t("ru", "Russian"),
    t("uk", "Ukrainian"),
    t("vi", "Vietnamese"),
    t("ko", "Korean"),
    t("ja", "Japanese"),
    t("so", "Somali"),
    t("sw", "Swahili"),
    t("yo", "Yoruba"),
    t("el", "Greek"),
    t("nl", "Dutch"),
    t("he", "Hebrew"),
    t("fa", "Persian"),
    t("ta", "Tamil"),
    t("tl", "Tagalog"),
    t("ro", "Romanian"),
    t("bfi", "British Sign Language"),
    t("ase", "American Sign Language"),
];

/// How sessions happen.
pub const MODALITIES: &[Term] = &[
    t("video", "Video"),
    t("in-person", "In person"),
    t("phone", "Phone"),
    t("messaging", "Messaging"),
];

/// Whom a therapist sees.
pub const AGE_GROUPS: &[Term] = &[
    t("children", "Children (under 13)"),
    t("teens", "Teenagers (13–17)"),
    t("adults", "Adults"),
    t("older", "Older adults (65+)"),
];

/// How a therapist describes their gender (optional; only used when a person asks for it).
pub const GENDERS: &[Term] = &[
    t("woman", "Woman"),
    t("man", "Man"),
    t("non-binary", "Non-binary"),
];

/// A faceted vocabulary and the tag prefix it is stored under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Facet {
    /// [`CONCERNS`]
    Concern,
    /// [`APPROACHES`]
    Approach,
    /// [`LANGUAGES`]
    Language,
    /// [`MODALITIES`]
    Modality,
    /// [`AGE_GROUPS`]
    AgeGroup,
}

impl Facet {
    /// Every facet, in the order forms show them.
    pub const ALL: [Facet; 5] = [
        Facet::Concern,
        Facet::Approach,
        Facet::Language,
        Facet::Modality,
        Facet::AgeGroup,
    ];

    /// The terms of this facet.
    pub fn terms(self) -> &'static [Term] {
        match self {
            Facet::Concern => CONCERNS,
            Facet::Approach => APPROACHES,
            Facet::Language => LANGUAGES,
            Facet::Modality => MODALITIES,
            Facet::AgeGroup => AGE_GROUPS,
        }
    }

    /// The tag prefix and form field name.
    pub fn key(self) -> &'static str {
        match self {
            Facet::Concern => "concern",
            Facet::Approach => "approach",
            Facet::Language => "language",
            Facet::Modality => "modality",
            Facet::AgeGroup => "age",
        }
    }

    /// The facet a stored tag belongs to, and its slug.
    pub fn parse_tag(tag: &str) -> Option<(Facet, &str)> {
        let (key, slug) = tag.split_once(':')?;
        Facet::ALL
            .into_iter()
            .find(|f| f.key() == key)
            .map(|f| (f, slug))
    }

    /// The stored tag for `slug`.
    pub fn tag(self, slug: &str) -> String {
        format!("{}:{slug}", self.key())
    }

    /// The term for `slug`, if it is one of this facet's.
    pub fn find(self, slug: &str) -> Option<&'static Term> {
        self.terms().iter().find(|t| t.slug == slug)
    }

    /// The label for `slug`, or the slug itself for a term no longer in the list.
    pub fn label(self, slug: &str) -> &str {
        self.find(slug).map_or(slug, |t| t.label)
    }
}

/// The one search-index word for a stored tag: `concern:self-esteem` becomes
/// `tagconcernselfesteem`. Letters only, so both full-text engines keep it as one token; the
/// `tag` prefix keeps it apart from any word a person writes. The migration that backfilled
/// `directory_profiles.facets` does the same with `replace`, which is why slugs stay plain.
pub fn facet_word(tag: &str) -> String {
    let mut word = String::from("tag");
    word.extend(tag.chars().filter(char::is_ascii_alphanumeric));
    word
}

/// The `facets` column for a profile's tags: their words, space-separated.
pub fn facet_words(tags: &[String]) -> String {
    tags.iter()
        .map(|t| facet_word(t))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The label of a gender slug, if known.
pub fn gender_label(slug: &str) -> Option<&'static str> {
    GENDERS.iter().find(|t| t.slug == slug).map(|t| t.label)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn slugs_are_unique_and_tag_safe() {
        for facet in Facet::ALL {
            let mut seen = std::collections::BTreeSet::new();
            for term in facet.terms() {
                assert!(seen.insert(term.slug), "{} repeated", term.slug);
                assert!(
                    term.slug
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c == '-'),
                    "{} is not a plain slug",
                    term.slug
                );
            }
        }
    }

    #[test]
    fn every_tag_has_its_own_index_word() {
        let mut seen = std::collections::BTreeSet::new();
        for facet in Facet::ALL {
            for term in facet.terms() {
                let word = facet_word(&facet.tag(term.slug));
                assert!(word.chars().all(|c| c.is_ascii_lowercase()), "{word}");
                assert!(seen.insert(word.clone()), "{word} repeated");
            }
        }
        assert_eq!(
            facet_words(&["concern:self-esteem".into(), "language:en".into()]),
            "tagconcernselfesteem taglanguageen"
        );
    }

    #[test]
    fn tags_round_trip() {
        let tag = Facet::Language.tag("es");
        assert_eq!(tag, "language:es");
        let (facet, slug) = Facet::parse_tag(&tag).unwrap();
        assert_eq!(facet, Facet::Language);
        assert_eq!(facet.label(slug), "Spanish");
        assert_eq!(Facet::parse_tag("colour:blue"), None);
    }
}
