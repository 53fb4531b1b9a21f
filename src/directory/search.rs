//! Directory search: the query a person (or the API) asks, checked, and the one SQL statement
//! that answers it on either backend.
//!
//! Free text never reaches the full-text engine as syntax: it is cut into plain words (letters
//! and digits only), common words are dropped, and each word is quoted for SQLite FTS5 or
//! given to PostgreSQL's `to_tsquery` as a bare word. So quotes, `NEAR`, `*`, `-`, `:` or `&` in a query
//! are just characters, never operators. Both engines stem with Porter's English stemmer.

use super::vocab::{Facet, facet_word};
use crate::db::Backend;
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

/// The statements that answer a search.
#[derive(Clone, Debug, PartialEq)]
pub struct SearchSql {
    /// The page: the profile columns plus `score` (relevance), `dist2` (squared distance in
    /// degrees, 0 without a location) and `total` (every match, counted in the same pass).
    pub page: String,
    /// Just the count, for a page past the last result (which has no row to carry `total`).
    pub count: String,
    /// Values for `page`'s placeholders; `count` uses the first `count_binds` of them.
    pub binds: Vec<Bind>,
    /// How many of `binds` the count uses.
    pub count_binds: usize,
}

/// The longest beginning of `term` shared by its usual English forms ("panics" and
/// "panicking" → "panic", "grieving" → "griev"), for finding a word in a name or approach
/// statement by substring. Matching itself is the engines' stemming; this only ranks.
pub fn word_root(term: &str) -> &str {
    for suffix in ["ings", "ing", "ies", "es", "ed", "ly", "s"] {
        if let Some(root) = term.strip_suffix(suffix)
            && root.chars().count() >= 3
        {
            return root;
        }
    }
    term
}

/// Points a word earns for appearing in a therapist's name, and in their approach statement.
/// A result contains every word somewhere (all are required), so a word found in neither is
/// in the bio: relevance is "name, then approach statement, then bio", which anyone can check
/// and which both databases compute alike.
pub const NAME_POINTS: i64 = 10;
/// See [`NAME_POINTS`].
pub const APPROACH_POINTS: i64 = 4;

/// The statements for `q` on `backend`.
pub fn build_sql(q: &SearchQuery, backend: Backend) -> SearchSql {
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
    // Words and filters go to the full-text index together, so it intersects their posting
    // lists and the database only ever touches profiles that match all of them. Filters are
    // the `facets` column's words (see `vocab::facet_word`). Ranking is not the engines'
    // (bm25 first reads every posting of every word and filter to weigh them, 10 ms of a
    // 20 ms budget at 100,000 profiles) but `NAME_POINTS` and `APPROACH_POINTS`.
    let facets: Vec<String> = q.tags.iter().map(|t| facet_word(t)).collect();
    match backend {
        Backend::Sqlite if !q.terms.is_empty() || !facets.is_empty() => {
            let mut parts = Vec::new();
            if !q.terms.is_empty() {
                let words: Vec<String> = q.terms.iter().map(|t| format!("\"{t}\"")).collect();
                // Column filters: typed words match the text, filters match the facets.
                parts.push(format!(
                    "{{display_name approach bio}} : ({})",
                    words.join(" ")
                ));
            }
            if !facets.is_empty() {
                parts.push(format!("facets : ({})", facets.join(" ")));
            }
            let n = bind(Bind::Text(parts.join(" AND ")), &mut binds);
            from.push_str(" JOIN directory_fts ON directory_fts.rowid = p.rowid");
            wheres.push(format!("directory_fts MATCH {n}"));
        }
        Backend::Postgres if !q.terms.is_empty() || !facets.is_empty() => {
            let mut queries = Vec::new();
            if !q.terms.is_empty() {
                // Terms are letters and digits only, so this is never tsquery syntax but
                // plain words, each limited to weights A–C: typed words match the text,
                // never a filter's word (weight D).
                let weighted: Vec<String> = q.terms.iter().map(|t| format!("{t}:ABC")).collect();
                let n = bind(Bind::Text(weighted.join(" & ")), &mut binds);
                queries.push(format!("to_tsquery('english', {n})"));
            }
            if !facets.is_empty() {
                let n = bind(Bind::Text(facets.join(" & ")), &mut binds);
                queries.push(format!("to_tsquery('simple', {n})"));
            }
            wheres.push(format!("p.search @@ ({})", queries.join(" && ")));
        }
        _ => {}
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
    // Typed casts: PostgreSQL reads a bare 0.0 as NUMERIC, which would not decode as f64.
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
    let where_sql = wheres.join(" AND ");
    let count_binds = binds.len();
    let count = format!("SELECT COUNT(*) FROM {from} WHERE {where_sql}");

    let find = match backend {
        Backend::Sqlite => "instr",
        Backend::Postgres => "strpos",
    };
    let mut points = Vec::new();
    for term in &q.terms {
        // The root as written mid-sentence and at the start of one (or of a name): two
        // substring probes are cheaper than lower-casing every candidate's text.
        let root = word_root(term);
        let mut chars = root.chars();
        let capital: String = chars
            .next()
            .map(|c| c.to_uppercase().chain(chars).collect())
            .unwrap_or_default();
        let n = bind(Bind::Text(root.to_string()), &mut binds);
        let c = bind(Bind::Text(capital), &mut binds);
        let has =
            |column: &str| format!("({find}(p.{column}, {n}) > 0 OR {find}(p.{column}, {c}) > 0)");
        points.push(format!(
            "CASE WHEN {} THEN {NAME_POINTS} ELSE 0 END + CASE WHEN {} THEN {APPROACH_POINTS} ELSE 0 END",
            has("display_name"),
            has("approach")
        ));
    }
    let score = if points.is_empty() {
        "CAST(0 AS DOUBLE PRECISION)".to_string()
    } else {
        format!("CAST({} AS DOUBLE PRECISION)", points.join(" + "))
    };
    let order = match (q.sort, q.terms.is_empty()) {
        (Sort::Relevance, false) => "score DESC, p.display_name, p.user_id",
        (Sort::Relevance, true) | (Sort::Name, _) => "p.display_name, p.user_id",
        (Sort::Fee, _) => {
            "COALESCE(p.sliding_scale_min_cents, p.fee_cents), p.fee_cents, p.display_name, p.user_id"
        }
        (Sort::Distance, _) => "dist2, p.display_name, p.user_id",
    };
    let limit = bind(Bind::Int(PAGE_SIZE), &mut binds);
    let offset = bind(Bind::Int((q.page - 1) * PAGE_SIZE), &mut binds);
    // The inner query ranks keys and small columns only, with the count riding along as a
    // window (so the index is searched once, not twice); the outer one fetches the page's 20
    // whole rows. Sorting thousands of matches with their bios attached took longer than
    // finding them.
    let page = format!(
        "SELECT {cols}, h.score AS score, h.dist2 AS dist2, h.total AS total FROM (\
         SELECT p.user_id AS hit, {score} AS score, {dist2} AS dist2, COUNT(*) OVER () AS total \
         FROM {from} WHERE {where_sql} ORDER BY {order} LIMIT {limit} OFFSET {offset}\
         ) h JOIN directory_profiles p ON p.user_id = h.hit ORDER BY {order}",
        cols = super::profile::PROFILE_COLUMNS,
    );
    SearchSql {
        page,
        count,
        binds,
        count_binds,
    }
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
        let sql = build_sql(
            &SearchQuery::from_pairs(&pairs("q=x%22y")).unwrap(),
            Backend::Sqlite,
        );
        assert!(sql.page.contains("MATCH $1"));
        assert_eq!(
            sql.binds[0],
            Bind::Text("{display_name approach bio} : (\"x\" \"y\")".into())
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
    fn filters_go_to_the_index_with_the_words() {
        let q = SearchQuery::from_pairs(&pairs("q=grief&concern=grief&language=es")).unwrap();
        let sql = build_sql(&q, Backend::Sqlite);
        assert_eq!(
            sql.binds[0],
            Bind::Text(
                "{display_name approach bio} : (\"grief\") AND facets : (tagconcerngrief taglanguagees)"
                    .into()
            )
        );
        let sql = build_sql(&q, Backend::Postgres);
        assert_eq!(
            sql.binds[1],
            Bind::Text("tagconcerngrief & taglanguagees".into())
        );
        assert_eq!(sql.binds[0], Bind::Text("grief:ABC".into()));
        assert!(
            sql.page
                .contains("p.search @@ (to_tsquery('english', $1) && to_tsquery('simple', $2))")
        );
        let filters_only = SearchQuery::from_pairs(&pairs("modality=video")).unwrap();
        let sql = build_sql(&filters_only, Backend::Sqlite);
        assert_eq!(
            sql.binds[0],
            Bind::Text("facets : (tagmodalityvideo)".into())
        );
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

    #[test]
    fn word_roots_rank_forms_of_a_word_alike() {
        assert_eq!(word_root("panics"), "panic");
        assert_eq!(word_root("grieving"), "griev");
        assert_eq!(word_root("worries"), "worr");
        assert_eq!(word_root("loss"), "los");
        assert_eq!(word_root("is"), "is");
        assert_eq!(word_root("gas"), "gas");
    }

    #[test]
    fn every_bind_is_used_once_per_placeholder() {
        let q =
            SearchQuery::from_pairs(&pairs("q=grief&concern=grief&max_fee=60&lat=51.5&lon=-0.1"))
                .unwrap();
        for backend in [Backend::Sqlite, Backend::Postgres] {
            let sql = build_sql(&q, backend);
            for n in 1..=sql.binds.len() {
                assert!(
                    sql.page.contains(&format!("${n}")),
                    "${n} unused in {}",
                    sql.page
                );
                // PostgreSQL refuses a statement with a parameter it never uses.
                let in_count = sql.count.contains(&format!("${n}"));
                assert_eq!(in_count, n <= sql.count_binds, "${n} in {}", sql.count);
            }
        }
    }
}
