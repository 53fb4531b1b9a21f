//! A therapist's public profile: what is stored, and the pure checks a submitted profile must
//! pass before it is stored (every failure names its field).

use uuid::Uuid;

use super::vocab::{self, Facet};
use crate::db::Timestamp;
use crate::error::FieldError;

/// A stored profile, as the directory shows it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ProfileRow {
    /// The therapist's account.
    pub user_id: Uuid,
    /// URL name, unique.
    pub slug: String,
    /// Name as shown.
    pub display_name: String,
    /// Pronouns, free text.
    pub pronouns: String,
    /// A [`vocab::GENDERS`] slug, or empty.
    pub gender: String,
    /// Qualifications as the therapist writes them.
    pub credentials: String,
    /// Licence or registration number.
    pub licence_number: String,
    /// Where the licence applies.
    pub licence_region: String,
    /// `unverified`, `verified` or `rejected`; set by an admin.
    pub licence_status: String,
    /// About them.
    pub bio: String,
    /// How they work.
    pub approach: String,
    /// Region (state, province, nation) for filtering.
    pub region: String,
    /// Town or city.
    pub city: String,
    /// Practice address for in-person sessions (shown on the profile).
    pub address: String,
    /// Latitude of the practice, for distance.
    pub latitude: Option<f64>,
    /// Longitude of the practice.
    pub longitude: Option<f64>,
    /// Standard fee per session, in cents.
    pub fee_cents: i64,
    /// The lowest sliding-scale fee, when they offer one.
    pub sliding_scale_min_cents: Option<i64>,
    /// Insurers accepted, comma-separated.
    pub insurance: String,
    /// Taking new clients (otherwise requests join the waitlist).
    pub accepting: bool,
    /// IANA time zone of their hours.
    pub time_zone: String,
    /// The therapist chose to list it.
    pub published: bool,
    /// An admin took it down.
    pub hidden: bool,
    /// A photo is stored.
    pub has_photo: bool,
    /// Last change.
    pub updated_at: Timestamp,
}

/// The columns of [`ProfileRow`], for queries.
pub const PROFILE_COLUMNS: &str = "p.user_id, p.slug, p.display_name, p.pronouns, p.gender, \
    p.credentials, p.licence_number, p.licence_region, p.licence_status, p.bio, p.approach, \
    p.region, p.city, p.address, p.latitude, p.longitude, p.fee_cents, p.sliding_scale_min_cents, \
    p.insurance, p.accepting, p.time_zone, p.published, p.hidden, p.has_photo, p.updated_at";

/// A profile with its facet tags.
#[derive(Clone, Debug)]
pub struct Profile {
    /// The stored row.
    pub row: ProfileRow,
    /// `kind:slug` tags.
    pub tags: Vec<String>,
}

impl Profile {
    /// The slugs of one facet, in vocabulary order.
    pub fn slugs(&self, facet: Facet) -> Vec<&'static str> {
        facet
            .terms()
            .iter()
            .filter(|t| self.tags.iter().any(|tag| *tag == facet.tag(t.slug)))
            .map(|t| t.slug)
            .collect()
    }

    /// The labels of one facet, joined for display.
    pub fn labels(&self, facet: Facet) -> String {
        self.slugs(facet)
            .into_iter()
            .map(|s| facet.label(s))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Whether the profile carries `slug` in `facet`.
    pub fn has(&self, facet: Facet, slug: &str) -> bool {
        let tag = facet.tag(slug);
        self.tags.contains(&tag)
    }

    /// The standard fee, formatted.
    pub fn fee(&self, currency: &str) -> String {
        money(self.row.fee_cents, currency)
    }

    /// The sliding-scale floor, formatted.
    pub fn sliding_min(&self, currency: &str) -> Option<String> {
        self.row.sliding_scale_min_cents.map(|c| money(c, currency))
    }

    /// The first two sentences of the bio, for result cards.
    pub fn teaser(&self) -> String {
        let mut out = String::new();
        for (n, sentence) in self.row.bio.split_inclusive(['.', '!', '?']).enumerate() {
            if n == 2 || out.chars().count() > 220 {
                break;
            }
            out.push_str(sentence);
        }
        out.trim().to_string()
    }
}

/// What a therapist submits; checked by [`ProfileInput::validate`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProfileInput {
    /// Name as shown.
    pub display_name: String,
    /// Pronouns.
    pub pronouns: String,
    /// Gender slug or empty.
    pub gender: String,
    /// Qualifications.
    pub credentials: String,
    /// Licence number.
    pub licence_number: String,
    /// Licence region.
    pub licence_region: String,
    /// About them.
    pub bio: String,
    /// How they work.
    pub approach: String,
    /// Region.
    pub region: String,
    /// City.
    pub city: String,
    /// Address for in-person sessions.
    pub address: String,
    /// Latitude text (optional).
    pub latitude: String,
    /// Longitude text (optional).
    pub longitude: String,
    /// Fee text, e.g. `80` or `80.00`.
    pub fee: String,
    /// Sliding-scale floor text, or empty.
    pub sliding_scale_min: String,
    /// Insurers, comma-separated.
    pub insurance: String,
    /// Taking new clients.
    pub accepting: bool,
    /// IANA time zone.
    pub time_zone: String,
    /// Listed in the directory.
    pub published: bool,
    /// Chosen tags, `kind:slug`.
    pub tags: Vec<String>,
}

/// A profile that passed every check, ready to store.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidProfile {
    /// The input, trimmed.
    pub input: ProfileInput,
    /// Latitude.
    pub latitude: Option<f64>,
    /// Longitude.
    pub longitude: Option<f64>,
    /// Fee in cents.
    pub fee_cents: i64,
    /// Sliding-scale floor in cents.
    pub sliding_scale_min_cents: Option<i64>,
    /// Tags, deduplicated and sorted.
    pub tags: Vec<String>,
}

/// Longest bio, in characters.
const BIO_MAX: usize = 3000;
/// Longest approach statement.
const APPROACH_MAX: usize = 1500;
/// Highest fee accepted, in cents (a typo guard, not a policy).
const FEE_MAX_CENTS: i64 = 1_000_000;

impl ProfileInput {
    /// Builds the input from form pairs (checkbox groups repeat their key).
    pub fn from_pairs(pairs: &[(String, String)]) -> ProfileInput {
        let get = |key: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.trim().to_string())
                .unwrap_or_default()
        };
        let mut tags = Vec::new();
        for facet in Facet::ALL {
            for (k, v) in pairs {
                if k == facet.key() {
                    tags.push(facet.tag(v.trim()));
                }
            }
        }
        ProfileInput {
            display_name: get("display_name"),
            pronouns: get("pronouns"),
            gender: get("gender"),
            credentials: get("credentials"),
            licence_number: get("licence_number"),
            licence_region: get("licence_region"),
            bio: get("bio"),
            // The statement's field is not `approach`: that name belongs to the approaches checkboxes.
            approach: get("approach_statement"),
            region: get("region"),
            city: get("city"),
            address: get("address"),
            latitude: get("latitude"),
            longitude: get("longitude"),
            fee: get("fee"),
            sliding_scale_min: get("sliding_scale_min"),
            insurance: get("insurance"),
            accepting: !get("accepting").is_empty(),
            time_zone: get("time_zone"),
            published: !get("published").is_empty(),
            tags,
        }
    }

    /// Checks every field; all failures are returned together.
    pub fn validate(self) -> Result<ValidProfile, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut need = |field: &str, value: &str, max: usize| {
            if value.is_empty() {
                errors.push(FieldError::new(field, "This is required."));
            } else if value.chars().count() > max {
                errors.push(FieldError::new(
                    field,
                    format!("Please keep this under {max} characters."),
                ));
            }
        };
        need("display_name", &self.display_name, 120);
        need("bio", &self.bio, BIO_MAX);
        need("approach_statement", &self.approach, APPROACH_MAX);
        need("time_zone", &self.time_zone, 64);
        for (field, value, max) in [
            ("pronouns", &self.pronouns, 40),
            ("credentials", &self.credentials, 200),
            ("licence_number", &self.licence_number, 60),
            ("licence_region", &self.licence_region, 80),
            ("region", &self.region, 80),
            ("city", &self.city, 80),
            ("address", &self.address, 300),
            ("insurance", &self.insurance, 300),
        ] {
            if value.chars().count() > max {
                errors.push(FieldError::new(
                    field,
                    format!("Please keep this under {max} characters."),
                ));
            }
        }
        if !self.gender.is_empty() && vocab::gender_label(&self.gender).is_none() {
            errors.push(FieldError::new(
                "gender",
                "Please choose one of the options.",
            ));
        }
        if !self.time_zone.is_empty()
            && let Err(e) = super::schedule::parse_time_zone("time_zone", &self.time_zone)
        {
            errors.push(e);
        }
        let mut tags = Vec::new();
        for tag in &self.tags {
            match Facet::parse_tag(tag) {
                Some((facet, slug)) if facet.find(slug).is_some() => tags.push(tag.clone()),
                Some((facet, _)) => errors.push(FieldError::new(
                    facet.key(),
                    "Please choose from the listed options.",
                )),
                None => {}
            }
        }
        tags.sort();
        tags.dedup();
        let count = |facet: Facet| tags.iter().filter(|t| t.starts_with(facet.key())).count();
        if count(Facet::Concern) == 0 {
            errors.push(FieldError::new(
                "concern",
                "Choose at least one thing you help with.",
            ));
        }
        if count(Facet::Language) == 0 {
            errors.push(FieldError::new("language", "Choose at least one language."));
        }
        if count(Facet::Modality) == 0 {
            errors.push(FieldError::new(
                "modality",
                "Choose at least one way of meeting.",
            ));
        }
        if tags.contains(&Facet::Modality.tag("in-person")) && self.address.is_empty() {
            errors.push(FieldError::new(
                "address",
                "Add the address where you see people in person.",
            ));
        }
        let fee_cents = match parse_money("fee", &self.fee) {
            Ok(Some(c)) => c,
            Ok(None) => {
                errors.push(FieldError::new("fee", "This is required."));
                0
            }
            Err(e) => {
                errors.push(e);
                0
            }
        };
        let sliding_scale_min_cents =
            match parse_money("sliding_scale_min", &self.sliding_scale_min) {
                Ok(Some(c)) if c > fee_cents => {
                    errors.push(FieldError::new(
                        "sliding_scale_min",
                        "The lowest sliding-scale fee should not be above your standard fee.",
                    ));
                    None
                }
                Ok(c) => c,
                Err(e) => {
                    errors.push(e);
                    None
                }
            };
        let latitude = parse_coordinate("latitude", &self.latitude, 90.0, &mut errors);
        let longitude = parse_coordinate("longitude", &self.longitude, 180.0, &mut errors);
        if latitude.is_some() != longitude.is_some() {
            errors.push(FieldError::new(
                "longitude",
                "Give both latitude and longitude, or neither.",
            ));
        }
        if errors.is_empty() {
            Ok(ValidProfile {
                input: self,
                latitude,
                longitude,
                fee_cents,
                sliding_scale_min_cents,
                tags,
            })
        } else {
            Err(errors)
        }
    }
}

/// Parses an optional coordinate in `-limit..=limit`.
fn parse_coordinate(
    field: &str,
    text: &str,
    limit: f64,
    errors: &mut Vec<FieldError>,
) -> Option<f64> {
    if text.is_empty() {
        return None;
    }
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && v.abs() <= limit => Some(v),
        _ => {
            errors.push(FieldError::new(
                field,
                format!("Enter a number between -{limit} and {limit}."),
            ));
            None
        }
    }
}

/// Parses an amount like `80`, `80.5`, `80.50` or `$80` into cents; empty is `None`.
pub fn parse_money(field: &str, text: &str) -> Result<Option<i64>, FieldError> {
    let text = text.trim().trim_start_matches(['$', '£', '€']).trim();
    if text.is_empty() {
        return Ok(None);
    }
    if text.starts_with('-') {
        return Err(FieldError::new(field, "Fees can't be below zero."));
    }
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    let bad = || FieldError::new(field, "Enter an amount like 80 or 80.50.");
    if !digits(whole) || !(frac.is_empty() || (digits(frac) && frac.len() <= 2)) {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let frac: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<2}").parse().map_err(|_| bad())?
    };
    let cents = whole.checked_mul(100).and_then(|w| w.checked_add(frac));
    match cents {
        Some(c) if c <= FEE_MAX_CENTS => Ok(Some(c)),
        _ => Err(FieldError::new(field, "That amount looks too large.")),
    }
}

/// Formats cents with the practice's currency symbol: whole amounts without decimals.
pub fn money(cents: i64, currency: &str) -> String {
    if cents % 100 == 0 {
        format!("{currency}{}", cents / 100)
    } else {
        format!("{currency}{}.{:02}", cents / 100, (cents % 100).abs())
    }
}

/// A URL name from a display name: lower-case ASCII words joined by hyphens, plus a short
/// suffix from the id so two people with one name never collide.
pub fn slug_for(name: &str, id: Uuid) -> String {
    let mut slug = String::new();
    for word in name
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let ascii: String = word
            .chars()
            .filter_map(|c| {
                let lower = c.to_ascii_lowercase();
                lower.is_ascii_alphanumeric().then_some(lower)
            })
            .collect();
        if ascii.is_empty() || ascii == "dr" {
            continue;
        }
        if !slug.is_empty() {
            slug.push('-');
        }
        slug.push_str(&ascii);
    }
    let simple = id.simple().to_string();
    let suffix = simple.get(simple.len() - 6..).unwrap_or("");
    if slug.is_empty() {
        format!("therapist-{suffix}")
    } else {
        format!("{slug}-{suffix}")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn good() -> ProfileInput {
        ProfileInput {
            display_name: "Rosa Delgado".into(),
            bio: "I work gently.".into(),
            approach: "Compassion first.".into(),
            fee: "90".into(),
            time_zone: "America/New_York".into(),
            tags: vec![
                "concern:anxiety".into(),
                "language:es".into(),
                "modality:video".into(),
            ],
            ..ProfileInput::default()
        }
    }

    fn fields(errors: Vec<FieldError>) -> Vec<String> {
        errors.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_complete_profile_passes() {
        let valid = good().validate().unwrap();
        assert_eq!(valid.fee_cents, 9000);
        assert_eq!(valid.tags.len(), 3);
    }

    #[test]
    fn each_bad_field_is_named() {
        let mut input = good();
        input.fee = "-5".into();
        input.time_zone = "Mars/Olympus".into();
        input.tags.push("concern:astrology".into());
        input.tags.push("modality:in-person".into());
        input.sliding_scale_min = "abc".into();
        input.latitude = "91".into();
        let errors = fields(input.validate().unwrap_err());
        for field in [
            "fee",
            "time_zone",
            "concern",
            "address",
            "sliding_scale_min",
            "latitude",
        ] {
            assert!(
                errors.iter().any(|f| f == field),
                "{field} not in {errors:?}"
            );
        }
    }

    #[test]
    fn sliding_scale_cannot_exceed_fee() {
        let mut input = good();
        input.sliding_scale_min = "120".into();
        assert_eq!(fields(input.validate().unwrap_err()), ["sliding_scale_min"]);
    }

    #[test]
    fn money_parses_and_formats() {
        assert_eq!(parse_money("fee", "80").unwrap(), Some(8000));
        assert_eq!(parse_money("fee", "$80.5").unwrap(), Some(8050));
        assert_eq!(parse_money("fee", "").unwrap(), None);
        assert!(parse_money("fee", "80.555").is_err());
        assert!(parse_money("fee", "1e9").is_err());
        assert!(parse_money("fee", "99999999999999999").is_err());
        assert_eq!(money(4000, "$"), "$40");
        assert_eq!(money(4050, "£"), "£40.50");
    }

    #[test]
    fn slugs_are_readable_and_distinct() {
        let id = Uuid::nil();
        assert_eq!(slug_for("Dr. Chloé O'Neil", id), "chlo-o-neil-000000");
        assert_eq!(slug_for("李", id), "therapist-000000");
    }
}
