//! Directory search: the query a person (or the API) asks, checked, and the one SQL statement
//! that answers it on either backend.
//!
//! Free text never reaches the full-text engine as syntax: it is cut into plain words (letters
//! and digits only), common words are dropped, and each word is quoted for SQLite FTS5 or
//! passed to PostgreSQL's `plainto_tsquery`. So quotes, `NEAR`, `*`, `-`, `:` or `&` in a query
//! are just characters, never operators. Both engines stem with Porter's English stemmer.

use super::vocab::Facet;
use crate::db::Backend;
use crate::error::FieldError;

/// Results per page.
pub const PAGE_SIZE: i64 = 20;
/// The deepest page served (deeper pages are slow and never useful to a person).
pub const MAX_PAGE: i64 = 250;
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
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let word: String = word.to_lowercase().chars().take(40).collect();
        if STOPWORDS.contains(&word.as_str()) || out.contains(&word) {
            continue;
        }
        out.push(word);
        if out.len() == MAX_TERMS {
            break;
        }
    }
    out
}

/// Whether a checkbox-style value is on.
fn is_on(value: &str) -> bool {
    matches!(value, "1" | "true" | "on" | "yes")
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
                "sliding_scale" => q.sliding_scale = is_on(value),
                "accepting" => q.accepting = is_on(value),
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

/// A value bound into the search statement.
#[derive(Clone, Debug, PartialEq)]
pub enum Bind {
    /// Text.
    Text(String),
    /// Integer.
    Int(i64),
    /// Real number.
    Float(f64),
}

/// The statement: `(count_sql, page_sql, binds)`; `page_sql` selects the profile columns plus
/// `score` and `dist2` (squared distance in degrees, 0 without a location).
pub fn build_sql(q: &SearchQuery, backend: Backend) -> (String, String, Vec<Bind>) {
    let mut binds: Vec<Bind> = Vec::new();
    let bind = |b: Bind, binds: &mut Vec<Bind>| {
        binds.push(b);
        format!("${}", binds.len())
    };
    let mut from = String::from("directory_profiles p");
    let mut wheres = vec![
        "p.published = TRUE".to_string(),
        "p.hidden = FALSE".to_string(),
    ];
    // Typed casts: PostgreSQL reads a bare 0.0 as NUMERIC and ts_rank_cd returns REAL, and
    // both would fail to decode as f64.
    let mut score = "CAST(0 AS DOUBLE PRECISION)".to_string();
    if !q.terms.is_empty() {
        match backend {
            Backend::Sqlite => {
                let fts: Vec<String> = q.terms.iter().map(|t| format!("\"{t}\"")).collect();
                let n = bind(Bind::Text(fts.join(" ")), &mut binds);
                from.push_str(" JOIN directory_fts ON directory_fts.rowid = p.rowid");
                wheres.push(format!("directory_fts MATCH {n}"));
                // bm25 is lower-is-better; negate so both backends sort score descending.
                score = "-bm25(directory_fts, 10.0, 4.0, 1.0)".into();
            }
            Backend::Postgres => {
                let n = bind(Bind::Text(q.terms.join(" ")), &mut binds);
                wheres.push(format!("p.search @@ plainto_tsquery('english', {n})"));
                score = format!(
                    "CAST(ts_rank_cd(p.search, plainto_tsquery('english', {n})) AS DOUBLE PRECISION)"
                );
            }
        }
    }
    for tag in &q.tags {
        let n = bind(Bind::Text(tag.clone()), &mut binds);
        // A correlated EXISTS is one primary-key probe per candidate; `IN (SELECT …)` made
        // SQLite build a temporary list of every profile with the tag (all English
        // speakers, say) for each query.
        wheres.push(format!(
            "EXISTS (SELECT 1 FROM directory_tags t WHERE t.tag = {n} AND t.user_id = p.user_id)"
        ));
    }
    if let Some(region) = &q.region {
        let n = bind(Bind::Text(region.clone()), &mut binds);
        wheres.push(format!("lower(p.region) = {n}"));
    }
    if let Some(max) = q.max_fee_cents {
        let n = bind(Bind::Int(max), &mut binds);
        wheres.push(format!(
            "(p.fee_cents <= {n} OR (p.sliding_scale_min_cents IS NOT NULL AND p.sliding_scale_min_cents <= {n}))"
        ));
    }
    if q.sliding_scale {
        wheres.push("p.sliding_scale_min_cents IS NOT NULL".into());
    }
    if q.accepting {
        wheres.push("p.accepting = TRUE".into());
    }
    let mut dist2 = "CAST(0 AS DOUBLE PRECISION)".to_string();
    if let Some(near) = q.near {
        // An equirectangular approximation: plain arithmetic both databases have, accurate
        // to well under 1% at the distances people travel to a therapist.
        let deg = near.within_km / KM_PER_DEGREE;
        let cos = near.latitude.to_radians().cos().max(0.01);
        let lat = bind(Bind::Float(near.latitude), &mut binds);
        let lon = bind(Bind::Float(near.longitude), &mut binds);
        let k = bind(Bind::Float(cos), &mut binds);
        let r2 = bind(Bind::Float(deg * deg), &mut binds);
        dist2 = format!(
            "((p.latitude - {lat}) * (p.latitude - {lat}) + (p.longitude - {lon}) * {k} * (p.longitude - {lon}) * {k})"
        );
        wheres.push("p.latitude IS NOT NULL AND p.longitude IS NOT NULL".into());
        wheres.push(format!("{dist2} <= {r2}"));
    }
    let order = match (q.sort, q.terms.is_empty()) {
        (Sort::Relevance, false) => "score DESC, p.display_name, p.user_id",
        (Sort::Relevance, true) | (Sort::Name, _) => "p.display_name, p.user_id",
        (Sort::Fee, _) => {
            "COALESCE(p.sliding_scale_min_cents, p.fee_cents), p.fee_cents, p.display_name, p.user_id"
        }
        (Sort::Distance, _) => "dist2, p.display_name, p.user_id",
    };
    let where_sql = wheres.join(" AND ");
    let count_sql = format!("SELECT COUNT(*) FROM {from} WHERE {where_sql}");
    let limit = bind(Bind::Int(PAGE_SIZE), &mut binds);
    let offset = bind(Bind::Int((q.page - 1) * PAGE_SIZE), &mut binds);
    let page_sql = format!(
        "SELECT {cols}, {score} AS score, {dist2} AS dist2 FROM {from} WHERE {where_sql} ORDER BY {order} LIMIT {limit} OFFSET {offset}",
        cols = super::profile::PROFILE_COLUMNS,
    );
    (count_sql, page_sql, binds)
}

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
        let (_, sql, binds) = build_sql(
            &SearchQuery::from_pairs(&pairs("q=x%22y")).unwrap(),
            Backend::Sqlite,
        );
        assert!(sql.contains("MATCH $1"));
        assert_eq!(binds[0], Bind::Text("\"x\" \"y\"".into()));
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
    fn every_bind_is_used_once_per_placeholder() {
        let q =
            SearchQuery::from_pairs(&pairs("q=grief&concern=grief&max_fee=60&lat=51.5&lon=-0.1"))
                .unwrap();
        for backend in [Backend::Sqlite, Backend::Postgres] {
            let (count, page, binds) = build_sql(&q, backend);
            for n in 1..=binds.len() {
                assert!(page.contains(&format!("${n}")), "${n} unused in {page}");
            }
            assert!(!count.contains(&format!("${}", binds.len())));
        }
    }
}
