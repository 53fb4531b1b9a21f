//! Directory search: the query a person (or the API) asks, checked. The in-memory
//! [`index`](super::index) answers it, the same way on either backend.
//!
//! Free text is only ever cut into plain words (letters and digits), with common words
//! dropped: quotes, `NEAR`, `*`, `-`, `:` or `&` in a query are just characters, never
//! operators, and no text reaches SQL.

use super::vocab::Facet;
use crate::error::FieldError;

/// Results per page.
pub const PAGE_SIZE: i64 = 20;
/// The deepest page served (deeper pages are slow and never useful to a person).
pub const MAX_PAGE: i64 = 50;
/// Most words used from a query.
const MAX_TERMS: usize = 8;

/// Words too common to help a search (the same list on both backends, so both see one query).
const STOPWORDS: &[&str] = &[
    "a",
    "about",
    "an",
    "and",
    "are",
    "as",
    "at",
    "be",
    "but",
    "by",
    "can",
    "do",
    "for",
    "from",
    "have",
    "i",
    "in",
    "is",
    "it",
    "me",
    "my",
    "of",
    "on",
    "or",
    "so",
    "that",
    "the",
    "to",
    "who",
    "with",
    "you",
    "your",
    "someone",
    "therapist",
    "help",
];

/// How results are ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    /// Best text match first (name order without text).
    Relevance,
    /// Lowest fee (or sliding-scale floor) first.
    Fee,
    /// By name.
    Name,
    /// Nearest first (needs a location).
    Distance,
}

impl Sort {
    /// The query-string value.
    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Relevance => "relevance",
            Sort::Fee => "fee",
            Sort::Name => "name",
            Sort::Distance => "distance",
        }
    }
}

/// A place and a radius.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Near {
    /// Latitude in degrees.
    pub latitude: f64,
    /// Longitude in degrees.
    pub longitude: f64,
    /// Radius in kilometres.
    pub within_km: f64,
}

/// A checked search.
#[derive(Clone, Debug, PartialEq)]
pub struct SearchQuery {
    /// The text as typed (for redisplay).
    pub text: String,
    /// Plain words used for matching.
    pub terms: Vec<String>,
    /// Required tags (`kind:slug`), all of which must match.
    pub tags: Vec<String>,
    /// Region, compared case-insensitively.
    pub region: Option<String>,
    /// Distance filter.
    pub near: Option<Near>,
    /// Highest fee, in cents; a sliding-scale floor at or under it also matches.
    pub max_fee_cents: Option<i64>,
    /// Only therapists offering a sliding scale.
    pub sliding_scale: bool,
    /// Only therapists accepting new clients.
    pub accepting: bool,
    /// Order.
    pub sort: Sort,
    /// 1-based page.
    pub page: i64,
}

impl Default for SearchQuery {
    fn default() -> Self {
        SearchQuery {
            text: String::new(),
            terms: Vec::new(),
            tags: Vec::new(),
            region: None,
            near: None,
            max_fee_cents: None,
            sliding_scale: false,
            accepting: false,
            sort: Sort::Relevance,
            page: 1,
        }
    }
}

/// Plain words from free text: lower-case runs of letters and digits, without common words,
/// at most eight, each at most 40 characters.
pub fn terms(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for word in terms_unbounded(text) {
        if out.contains(&word) {
            continue;
        }
        out.push(word);
        if out.len() == MAX_TERMS {
            break;
        }
    }
    out
}

/// Every plain word of `text` that a query could keep (lower-case, at most 40 characters,
/// not a common word), repeats included: what the index stores of a profile's text.
pub fn terms_unbounded(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase().chars().take(40).collect::<String>())
        .filter(|w| !STOPWORDS.contains(&w.as_str()))
}

impl SearchQuery {
    /// Reads a query string's pairs. Unknown keys are ignored (so links with tracking junk
    /// still work); bad values are errors naming the field.
    pub fn from_pairs(pairs: &[(String, String)]) -> Result<SearchQuery, Vec<FieldError>> {
        let mut q = SearchQuery::default();
        let mut errors = Vec::new();
        let mut near = (None, None, None);
        for (key, value) in pairs {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            match key.as_str() {
                "q" => {
                    q.text = value.chars().take(200).collect();
                    q.terms = terms(&q.text);
                }
                "region" => q.region = Some(value.to_lowercase()),
                "max_fee" => match super::profile::parse_money("max_fee", value) {
                    Ok(v) => q.max_fee_cents = v,
                    Err(e) => errors.push(e),
                },
                "sliding_scale" => q.sliding_scale = crate::web::extract::is_checked(value),
                "accepting" => q.accepting = crate::web::extract::is_checked(value),
                "sort" => {
                    q.sort = match value {
                        "relevance" => Sort::Relevance,
                        "fee" => Sort::Fee,
                        "name" => Sort::Name,
                        "distance" => Sort::Distance,
                        _ => {
                            errors.push(FieldError::new(
                                "sort",
                                "Sort by relevance, fee, name or distance.",
                            ));
                            Sort::Relevance
                        }
                    }
                }
                "page" => match value.parse::<i64>() {
                    Ok(p) if (1..=MAX_PAGE).contains(&p) => q.page = p,
                    _ => errors.push(FieldError::new(
                        "page",
                        format!("Choose a page from 1 to {MAX_PAGE}."),
                    )),
                },
                "lat" => near.0 = Some(value),
                "lon" => near.1 = Some(value),
                "within_km" => near.2 = Some(value),
                other => {
                    if let Some(facet) = Facet::ALL.into_iter().find(|f| f.key() == other) {
                        if facet.find(value).is_some() {
                            let tag = facet.tag(value);
                            if !q.tags.contains(&tag) {
                                q.tags.push(tag);
                            }
                        } else {
                            errors.push(FieldError::new(
                                facet.key(),
                                format!("“{value}” isn't one of the listed options."),
                            ));
                        }
                    }
                }
            }
        }
        match near {
            (None, None, None) => {}
            (Some(lat), Some(lon), within) => {
                let parse = |field: &str, v: &str, limit: f64| match v.parse::<f64>() {
                    Ok(x) if x.is_finite() && x.abs() <= limit => Ok(x),
                    _ => Err(FieldError::new(
                        field,
                        format!("Enter a number between -{limit} and {limit}."),
                    )),
                };
                let within = match within.map(|w| w.parse::<f64>()) {
                    None => Ok(25.0),
                    Some(Ok(w)) if w.is_finite() && w > 0.0 && w <= 500.0 => Ok(w),
                    Some(_) => Err(FieldError::new(
                        "within_km",
                        "Choose a distance from 1 to 500 km.",
                    )),
                };
                match (parse("lat", lat, 90.0), parse("lon", lon, 180.0), within) {
                    (Ok(latitude), Ok(longitude), Ok(within_km)) => {
                        q.near = Some(Near {
                            latitude,
                            longitude,
                            within_km,
                        })
                    }
                    (a, b, c) => errors.extend([a.err(), b.err(), c.err()].into_iter().flatten()),
                }
            }
            _ => errors.push(FieldError::new(
                "lat",
                "Give both latitude and longitude to search by distance.",
            )),
        }
        if q.sort == Sort::Distance && q.near.is_none() {
            errors.push(FieldError::new(
                "sort",
                "Share a location to sort by distance.",
            ));
        }
        if errors.is_empty() {
            Ok(q)
        } else {
            Err(errors)
        }
    }

    /// The query string that reproduces this search on `page`.
    pub fn to_query_string(&self, page: i64) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        if !self.text.is_empty() {
            s.append_pair("q", &self.text);
        }
        for tag in &self.tags {
            if let Some((facet, slug)) = Facet::parse_tag(tag) {
                s.append_pair(facet.key(), slug);
            }
        }
        if let Some(r) = &self.region {
            s.append_pair("region", r);
        }
        if let Some(n) = &self.near {
            s.append_pair("lat", &n.latitude.to_string());
            s.append_pair("lon", &n.longitude.to_string());
            s.append_pair("within_km", &n.within_km.to_string());
        }
        if let Some(c) = self.max_fee_cents {
            s.append_pair("max_fee", &super::profile::money(c, ""));
        }
        if self.sliding_scale {
            s.append_pair("sliding_scale", "1");
        }
        if self.accepting {
            s.append_pair("accepting", "1");
        }
        if self.sort != Sort::Relevance {
            s.append_pair("sort", self.sort.as_str());
        }
        if page > 1 {
            s.append_pair("page", &page.to_string());
        }
        s.finish()
    }

    /// The selected slug of `facet`, if any (for form redisplay).
    pub fn selected(&self, facet: Facet) -> &str {
        self.tags
            .iter()
            .find_map(|t| match Facet::parse_tag(t) {
                Some((f, slug)) if f == facet => Some(slug),
                _ => None,
            })
            .unwrap_or("")
    }
}

/// How many therapists a search found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Found {
    /// Every match, not just this page's.
    pub total: i64,
}

impl Found {
    /// The heading over the results: "1 therapist", "12,480 therapists".
    pub fn label(self) -> String {
        let digits = self.total.to_string();
        let mut n = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                n.push(',');
            }
            n.push(c);
        }
        if self.total == 1 {
            "1 therapist".into()
        } else {
            format!("{n} therapists")
        }
    }

    /// Pages of results that can be shown (at most [`MAX_PAGE`]).
    pub fn pages(self) -> i64 {
        ((self.total + PAGE_SIZE - 1) / PAGE_SIZE).min(MAX_PAGE)
    }
}

/// Points a word earns for appearing in a therapist's name, and in their approach statement.
/// A result contains every word somewhere (all are required), so a word found in neither is
/// in the bio: relevance is "name, then approach statement, then bio", which anyone can check.
pub const NAME_POINTS: i64 = 10;
/// See [`NAME_POINTS`].
pub const APPROACH_POINTS: i64 = 4;

/// Kilometres per degree of latitude.
pub const KM_PER_DEGREE: f64 = 111.2;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn pairs(s: &str) -> Vec<(String, String)> {
        url::form_urlencoded::parse(s.as_bytes())
            .into_owned()
            .collect()
    }

    #[test]
    fn operators_and_quotes_become_plain_words() {
        assert_eq!(
            terms(r#"grief" OR NEAR(anxiety* -trauma) :: 'self-compassion' & the"#),
            ["grief", "near", "anxiety", "trauma", "self", "compassion"]
        );
        let q = SearchQuery::from_pairs(&pairs("q=%22%29%28*")).unwrap();
        assert!(q.terms.is_empty());
        let q = SearchQuery::from_pairs(&pairs("q=x%22y+the+X")).unwrap();
        assert_eq!(q.terms, ["x", "y"]);
        let long = "a".repeat(50);
        assert_eq!(terms(&long)[0].len(), 40);
        assert_eq!(
            terms("one two three four five six seven eight nine").len(),
            8
        );
    }

    #[test]
    fn filters_are_checked_and_named() {
        let q = SearchQuery::from_pairs(&pairs(
            "q=grief&concern=grief&language=es&modality=video&max_fee=60&sliding_scale=1&accepting=1&page=2&utm_source=x",
        ))
        .unwrap();
        assert_eq!(q.tags.len(), 3);
        assert_eq!(q.max_fee_cents, Some(6000));
        assert_eq!(q.page, 2);
        let err = SearchQuery::from_pairs(&pairs(
            "concern=astrology&max_fee=-3&page=0&lat=1&sort=colour",
        ))
        .unwrap_err();
        let fields: Vec<_> = err.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["concern", "max_fee", "page", "sort", "lat"]);
    }

    #[test]
    fn query_string_round_trips() {
        let original = SearchQuery::from_pairs(&pairs(
            "q=panic+attacks&concern=anxiety&max_fee=45.50&accepting=on&sort=fee&lat=51.5&lon=-0.12&within_km=10",
        ))
        .unwrap();
        let again = SearchQuery::from_pairs(&pairs(&original.to_query_string(3))).unwrap();
        assert_eq!(again.page, 3);
        assert_eq!(SearchQuery { page: 1, ..again }, original);
    }

    #[test]
    fn totals_read_well_and_pages_stop() {
        assert_eq!(Found { total: 1 }.label(), "1 therapist");
        assert_eq!(Found { total: 0 }.label(), "0 therapists");
        assert_eq!(Found { total: 999 }.label(), "999 therapists");
        assert_eq!(Found { total: 12_480 }.label(), "12,480 therapists");
        assert_eq!(Found { total: 1_000_000 }.label(), "1,000,000 therapists");
        assert_eq!(Found { total: 21 }.pages(), 2);
        assert_eq!(Found { total: 12_480 }.pages(), MAX_PAGE);
    }
}
