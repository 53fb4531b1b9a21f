//! The directory's search index: listed profiles held in memory, in each Tend process.
//!
//! Why not the databases' full-text engines: at 100,000 profiles, SQLite FTS5 and PostgreSQL's
//! GIN index spent 15–35 ms per search in the median just intersecting posting lists and
//! counting matches, over a 20 ms p99 target (measurements in ARCHITECTURE.md). Held in
//! memory, the same work takes well under a millisecond, the code is the same on both backends
//! (so are stemming, ranking and order), and the database only serves the 20 rows of a page.
//!
//! The index is rebuilt from `directory_profiles` when a process starts and kept current from
//! each row's `version`, which the database itself stamps from one counter on every insert
//! and update (see the `directory_index` migration). Before each search, the process reads the
//! newest version (one index probe) and, when it is newer than the one it has applied, reads
//! the changed rows. So several instances on one PostgreSQL server each see every change
//! before their next search.
//!
//! This module is pure: [`Index`] takes [`Listing`]s and answers [`SearchQuery`]s with slots
//! and counts; `queries` does the I/O.

use std::cmp::Ordering;
use std::collections::HashMap;

use rust_stemmers::{Algorithm, Stemmer};
use unicode_normalization::UnicodeNormalization;
use uuid::Uuid;

use super::search::{APPROACH_POINTS, KM_PER_DEGREE, NAME_POINTS, PAGE_SIZE, SearchQuery, Sort};
use super::vocab::facet_word;

/// What the index needs of one profile (a narrow read of `directory_profiles`).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Listing {
    /// The therapist.
    pub user_id: Uuid,
    /// The database's change stamp for this row.
    pub version: i64,
    /// Listed by its therapist.
    pub published: bool,
    /// Taken down by an admin.
    pub hidden: bool,
    /// Name as shown.
    pub display_name: String,
    /// About them.
    pub bio: String,
    /// How they work.
    pub approach: String,
    /// One word per tag (`vocab::facet_words`).
    pub facets: String,
    /// Region for filtering.
    pub region: String,
    /// Latitude of the practice.
    pub latitude: Option<f64>,
    /// Longitude of the practice.
    pub longitude: Option<f64>,
    /// Standard fee, in cents.
    pub fee_cents: i64,
    /// Lowest sliding-scale fee, in cents.
    pub sliding_scale_min_cents: Option<i64>,
    /// Taking new clients.
    pub accepting: bool,
}

/// The columns of [`Listing`], for queries.
pub const LISTING_COLUMNS: &str = "user_id, version, published, hidden, display_name, bio, approach, \
    facets, region, latitude, longitude, fee_cents, sliding_scale_min_cents, accepting";

/// One listed profile, as searched.
#[derive(Debug)]
struct Doc {
    /// The therapist.
    id: Uuid,
    /// Name as shown: the order of ties.
    name: Box<str>,
    /// Stems of the name, sorted (for ranking).
    name_terms: Box<[u32]>,
    /// Stems of the approach statement, sorted (for ranking).
    approach_terms: Box<[u32]>,
    /// Region, lower-case.
    region: Box<str>,
    /// Location, when given.
    place: Option<(f64, f64)>,
    /// Standard fee, in cents.
    fee_cents: i64,
    /// Lowest sliding-scale fee, in cents.
    sliding_min: Option<i64>,
    /// Taking new clients.
    accepting: bool,
}

impl Doc {
    /// The fee the fee sort and filter compare: the sliding-scale floor when there is one.
    fn lowest_fee(&self) -> i64 {
        self.sliding_min.unwrap_or(self.fee_cents)
    }
}

/// One result: the profile's key with the figures its order came from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ranked {
    /// The therapist.
    pub user_id: Uuid,
    /// Relevance points (0 without words).
    pub score: f64,
    /// Squared distance in degrees (0 without a location).
    pub dist2: f64,
}

/// A page of results and how many there are in all.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Answer {
    /// Every match.
    pub total: i64,
    /// This page's, in order.
    pub page: Vec<Ranked>,
}

/// The in-memory search index. Slots are never reused: a changed profile gets a new slot at
/// the end, so every posting list stays sorted by appending; dead slots are skipped and
/// squeezed out once they outnumber live ones.
pub struct Index {
    /// Profiles by slot; `None` where one was removed or replaced.
    docs: Vec<Option<Doc>>,
    /// Each listed profile's current slot.
    slots: HashMap<Uuid, u32>,
    /// Stem of a word → its id.
    words: HashMap<Box<str>, u32>,
    /// A word as written (lower-case) → its stem's id: profiles repeat the same few thousand
    /// words, so each is folded and stemmed once, not once per use.
    seen: HashMap<Box<str>, u32>,
    /// Word id → the slots whose name, approach statement or bio holds it, ascending.
    postings: Vec<Vec<u32>>,
    /// Filter word (`vocab::facet_word`) → slots, ascending. Apart from `words`, so a typed
    /// word never matches a filter.
    facets: HashMap<Box<str>, Vec<u32>>,
    /// The highest row version applied.
    version: i64,
    /// English stemmer (Porter's second algorithm, as PostgreSQL's 'english' uses).
    stemmer: Stemmer,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index")
            .field("listed", &self.slots.len())
            .field("slots", &self.docs.len())
            .field("words", &self.words.len())
            .field("version", &self.version)
            .finish()
    }
}

impl Default for Index {
    fn default() -> Self {
        Index {
            docs: Vec::new(),
            slots: HashMap::new(),
            words: HashMap::new(),
            seen: HashMap::new(),
            postings: Vec::new(),
            facets: HashMap::new(),
            version: -1,
            stemmer: Stemmer::create(Algorithm::English),
        }
    }
}

/// Lower-case without accents, so "Lucía" and "lucia" are one word.
fn fold(word: &str) -> String {
    word.nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

impl Index {
    /// The highest row version applied; ask the database for rows newer than this.
    pub fn version(&self) -> i64 {
        self.version
    }

    /// How many profiles are listed.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Nothing listed.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The stem `word` is indexed under (typed words go through this too).
    fn stem(&self, word: &str) -> String {
        self.stemmer.stem(&fold(word)).into_owned()
    }

    /// The distinct word ids of `text`, sorted, skipping words a query never keeps.
    fn word_ids(&mut self, text: &str) -> Box<[u32]> {
        let mut ids: Vec<u32> = super::search::terms_unbounded(text)
            .map(|w| self.word_id(w))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids.into_boxed_slice()
    }

    /// The id of the stem of `word` (lower-case), adding it when new.
    fn word_id(&mut self, word: String) -> u32 {
        if let Some(id) = self.seen.get(word.as_str()) {
            return *id;
        }
        let stem = self.stem(&word);
        let id = match self.words.get(stem.as_str()) {
            Some(id) => *id,
            None => {
                let id = u32::try_from(self.postings.len()).unwrap_or(u32::MAX);
                self.words.insert(stem.into_boxed_str(), id);
                self.postings.push(Vec::new());
                id
            }
        };
        self.seen.insert(word.into_boxed_str(), id);
        id
    }

    /// Roughly how many bytes the index holds (its lists, words and profiles), for the
    /// benchmark's report.
    pub fn heap_bytes(&self) -> usize {
        let lists: usize = self
            .postings
            .iter()
            .map(|l| l.capacity() * 4)
            .sum::<usize>()
            + self
                .facets
                .iter()
                .map(|(k, l)| k.len() + l.capacity() * 4)
                .sum::<usize>();
        let words: usize = self
            .words
            .keys()
            .chain(self.seen.keys())
            .map(|k| k.len() + 24)
            .sum();
        let docs: usize = self
            .docs
            .iter()
            .flatten()
            .map(|d| {
                d.name.len() + d.region.len() + (d.name_terms.len() + d.approach_terms.len()) * 4
            })
            .sum::<usize>()
            + self.docs.capacity() * std::mem::size_of::<Option<Doc>>()
            + self.slots.capacity() * 24;
        lists + words + docs
    }

    /// Applies a changed row: indexes it when listed, drops it otherwise. Rows must come in
    /// version order (older versions than the index has are stale and ignored).
    pub fn apply(&mut self, row: &Listing) {
        self.version = self.version.max(row.version);
        self.remove(row.user_id);
        if !row.published || row.hidden {
            return;
        }
        let Ok(slot) = u32::try_from(self.docs.len()) else {
            return;
        };
        let name_terms = self.word_ids(&row.display_name);
        let approach_terms = self.word_ids(&row.approach);
        let mut all = self.word_ids(&row.bio).into_vec();
        all.extend(name_terms.iter().chain(approach_terms.iter()));
        all.sort_unstable();
        all.dedup();
        for id in all {
            if let Some(list) = self.postings.get_mut(id as usize) {
                list.push(slot);
            }
        }
        for word in row.facets.split_whitespace() {
            let list = self.facets.entry(word.into()).or_default();
            if list.last() != Some(&slot) {
                list.push(slot);
            }
        }
        self.docs.push(Some(Doc {
            id: row.user_id,
            name: row.display_name.as_str().into(),
            name_terms,
            approach_terms,
            region: row.region.to_lowercase().into(),
            place: row.latitude.zip(row.longitude),
            fee_cents: row.fee_cents,
            sliding_min: row.sliding_scale_min_cents,
            accepting: row.accepting,
        }));
        self.slots.insert(row.user_id, slot);
    }

    /// Forgets a profile (for example one whose row has gone).
    pub fn remove(&mut self, user_id: Uuid) {
        if let Some(slot) = self.slots.remove(&user_id)
            && let Some(doc) = self.docs.get_mut(slot as usize)
        {
            *doc = None;
        }
        if self.docs.len() > 1024 && self.docs.len() > 2 * self.slots.len() {
            self.compact();
        }
    }

    /// Squeezes out dead slots, renumbering the live ones in order (so lists stay sorted).
    fn compact(&mut self) {
        let mut new_slot = vec![u32::MAX; self.docs.len()];
        let mut next = 0u32;
        for (old, doc) in self.docs.iter().enumerate() {
            if doc.is_some() {
                new_slot[old] = next;
                next += 1;
            }
        }
        let renumber = |list: &mut Vec<u32>| {
            list.retain_mut(|s| {
                *s = new_slot[*s as usize];
                *s != u32::MAX
            });
        };
        self.postings.iter_mut().for_each(renumber);
        self.facets.values_mut().for_each(renumber);
        self.docs.retain(Option::is_some);
        for (slot, doc) in self.docs.iter().enumerate() {
            if let (Some(doc), Ok(slot)) = (doc, u32::try_from(slot)) {
                self.slots.insert(doc.id, slot);
            }
        }
    }

    /// Answers `q`: every match counted, the requested page ranked.
    pub fn search(&self, q: &SearchQuery) -> Answer {
        // The posting lists every match is in: one per word, one per filter.
        let mut lists: Vec<&[u32]> = Vec::new();
        let mut words: Vec<u32> = Vec::new();
        for term in &q.terms {
            match self.words.get(self.stem(term).as_str()) {
                Some(id) => {
                    words.push(*id);
                    lists.push(&self.postings[*id as usize]);
                }
                None => return Answer::default(),
            }
        }
        for tag in &q.tags {
            match self.facets.get(facet_word(tag).as_str()) {
                Some(list) => lists.push(list),
                None => return Answer::default(),
            }
        }
        lists.sort_by_key(|l| l.len());
        let near = q.near.map(|n| {
            let deg = n.within_km / KM_PER_DEGREE;
            let cos = n.latitude.to_radians().cos().max(0.01);
            (n.latitude, n.longitude, cos, deg * deg)
        });
        let mut hits: Vec<(u32, f64, f64)> = Vec::new();
        let mut consider = |slot: u32| {
            let Some(Some(doc)) = self.docs.get(slot as usize) else {
                return;
            };
            if let Some(region) = &q.region
                && *doc.region != **region
            {
                return;
            }
            if let Some(max) = q.max_fee_cents
                && doc.fee_cents > max
                && doc.sliding_min.is_none_or(|m| m > max)
            {
                return;
            }
            if (q.sliding_scale && doc.sliding_min.is_none()) || (q.accepting && !doc.accepting) {
                return;
            }
            let mut dist2 = 0.0;
            if let Some((lat, lon, cos, r2)) = near {
                // An equirectangular approximation, accurate to well under 1% at the
                // distances people travel to a therapist.
                let Some((la, lo)) = doc.place else { return };
                dist2 = (la - lat) * (la - lat) + (lo - lon) * cos * (lo - lon) * cos;
                if dist2 > r2 {
                    return;
                }
            }
            let mut score = 0;
            for w in &words {
                if doc.name_terms.binary_search(w).is_ok() {
                    score += NAME_POINTS;
                }
                if doc.approach_terms.binary_search(w).is_ok() {
                    score += APPROACH_POINTS;
                }
            }
            hits.push((slot, score as f64, dist2));
        };
        match lists.split_first() {
            None => (0..self.docs.len())
                .filter_map(|s| u32::try_from(s).ok())
                .for_each(&mut consider),
            Some((shortest, rest)) => {
                for &slot in *shortest {
                    if rest.iter().all(|l| l.binary_search(&slot).is_ok()) {
                        consider(slot);
                    }
                }
            }
        }
        let total = hits.len();
        let doc = |slot: u32| self.docs[slot as usize].as_ref();
        let order = |a: &(u32, f64, f64), b: &(u32, f64, f64)| -> Ordering {
            let (Some(x), Some(y)) = (doc(a.0), doc(b.0)) else {
                return Ordering::Equal;
            };
            let first = match (q.sort, q.terms.is_empty()) {
                (Sort::Relevance, false) => b.1.total_cmp(&a.1),
                (Sort::Relevance, true) | (Sort::Name, _) => Ordering::Equal,
                (Sort::Fee, _) => x
                    .lowest_fee()
                    .cmp(&y.lowest_fee())
                    .then(x.fee_cents.cmp(&y.fee_cents)),
                (Sort::Distance, _) => a.2.total_cmp(&b.2),
            };
            first
                .then_with(|| x.name.cmp(&y.name))
                .then(x.id.cmp(&y.id))
        };
        let start = usize::try_from((q.page - 1).max(0) * PAGE_SIZE).unwrap_or(usize::MAX);
        let end = start.saturating_add(PAGE_SIZE as usize).min(total);
        let page = if start >= total {
            Vec::new()
        } else {
            // Only the first `end` need ordering: partition, then sort that prefix.
            if end < total {
                hits.select_nth_unstable_by(end, order);
                hits.truncate(end);
            }
            hits.sort_unstable_by(order);
            hits[start..end]
                .iter()
                .filter_map(|&(slot, score, dist2)| {
                    doc(slot).map(|d| Ranked {
                        user_id: d.id,
                        score,
                        dist2,
                    })
                })
                .collect()
        };
        Answer {
            total: i64::try_from(total).unwrap_or(i64::MAX),
            page,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn listing(n: u128, name: &str, approach: &str, bio: &str, facets: &str) -> Listing {
        Listing {
            user_id: Uuid::from_u128(n),
            version: n as i64,
            published: true,
            hidden: false,
            display_name: name.into(),
            bio: bio.into(),
            approach: approach.into(),
            facets: facets.into(),
            region: "Oregon".into(),
            latitude: None,
            longitude: None,
            fee_cents: 10_000,
            sliding_scale_min_cents: None,
            accepting: true,
        }
    }

    fn query(s: &str) -> SearchQuery {
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(s.as_bytes())
            .into_owned()
            .collect();
        SearchQuery::from_pairs(&pairs).unwrap()
    }

    fn names(index: &Index, q: &str) -> Vec<u128> {
        index
            .search(&query(q))
            .page
            .iter()
            .map(|r| r.user_id.as_u128())
            .collect()
    }

    #[test]
    fn words_are_stemmed_folded_and_all_required() {
        let mut index = Index::default();
        index.apply(&listing(
            1,
            "Ana",
            "",
            "I work with people who feel depressed and anxious.",
            "",
        ));
        index.apply(&listing(
            2,
            "Bo",
            "",
            "Grieving a loss takes time; Lucía's group helps.",
            "",
        ));
        assert_eq!(names(&index, "q=depression"), [1]);
        assert_eq!(names(&index, "q=grief+losses"), Vec::<u128>::new());
        assert_eq!(names(&index, "q=grieve+losses"), [2]);
        assert_eq!(names(&index, "q=lucia"), [2]);
        assert_eq!(names(&index, "q=depressed+loss"), Vec::<u128>::new());
        assert_eq!(names(&index, "q=unheard"), Vec::<u128>::new());
    }

    #[test]
    fn name_beats_approach_beats_bio_then_names_break_ties() {
        let mut index = Index::default();
        index.apply(&listing(1, "Cara", "", "Grief work.", ""));
        index.apply(&listing(2, "Abe", "", "Grief work.", ""));
        index.apply(&listing(3, "Dee", "Grief, gently.", "", ""));
        index.apply(&listing(4, "Grief Lane", "", "", ""));
        assert_eq!(names(&index, "q=grief"), [4, 3, 2, 1]);
        assert_eq!(names(&index, "sort=name&q=grief"), [2, 1, 3, 4]);
        let answer = index.search(&query("q=grief"));
        assert_eq!(answer.total, 4);
        assert_eq!(answer.page[0].score, NAME_POINTS as f64);
        assert_eq!(answer.page[1].score, APPROACH_POINTS as f64);
    }

    #[test]
    fn filters_and_typed_words_never_cross() {
        let mut index = Index::default();
        index.apply(&listing(
            1,
            "Ana",
            "",
            "Trauma care.",
            "tagconcerntrauma taglanguagees",
        ));
        index.apply(&listing(2, "Bo", "", "Trauma care.", "tagconcerntrauma"));
        assert_eq!(names(&index, "q=trauma&concern=trauma&language=es"), [1]);
        assert_eq!(names(&index, "concern=trauma"), [1, 2]);
        assert_eq!(names(&index, "q=tagconcerntrauma"), Vec::<u128>::new());
    }

    #[test]
    fn changes_replace_and_hiding_removes() {
        let mut index = Index::default();
        index.apply(&listing(1, "Ana", "", "Grief.", ""));
        let mut changed = listing(1, "Ana", "", "Burnout.", "");
        changed.version = 7;
        index.apply(&changed);
        assert_eq!(index.version(), 7);
        assert_eq!(names(&index, "q=grief"), Vec::<u128>::new());
        assert_eq!(names(&index, "q=burnout"), [1]);
        changed.hidden = true;
        index.apply(&changed);
        assert!(index.is_empty());
        assert_eq!(names(&index, "q=burnout"), Vec::<u128>::new());
    }

    #[test]
    fn compaction_keeps_every_live_profile_findable() {
        let mut index = Index::default();
        for round in 0..3u128 {
            for n in 0..1000u128 {
                let bio = if n % 2 == 0 { "Grief." } else { "Stress." };
                let mut l = listing(n, &format!("T{n:04}"), "", bio, "tagmodalityvideo");
                l.version = (round * 1000 + n) as i64;
                index.apply(&l);
            }
        }
        assert!(index.docs.len() < 3000, "dead slots were squeezed out");
        assert_eq!(index.len(), 1000);
        assert_eq!(index.search(&query("q=grief&modality=video")).total, 500);
        assert_eq!(names(&index, "q=stress")[..2], [1, 3]);
    }

    #[test]
    fn fee_distance_and_pages() {
        let mut index = Index::default();
        for n in 0..45u128 {
            let mut l = listing(n, &format!("T{n:02}"), "", "Stress.", "");
            l.fee_cents = 20_000 - n as i64 * 100;
            l.sliding_scale_min_cents = (n == 40).then_some(1_000);
            l.latitude = Some(45.0 + n as f64 * 0.01);
            l.longitude = Some(-122.0);
            index.apply(&l);
        }
        assert_eq!(names(&index, "sort=fee")[..3], [40, 44, 43]);
        assert_eq!(names(&index, "max_fee=160&sliding_scale=1"), [40]);
        assert_eq!(
            names(&index, "lat=45&lon=-122&within_km=3&sort=distance"),
            [0, 1, 2]
        );
        let last = index.search(&query("page=3"));
        assert_eq!(last.total, 45);
        assert_eq!(last.page.len(), 5);
        assert_eq!(last.page[0].user_id.as_u128(), 40);
        assert!(index.search(&query("page=4")).page.is_empty());
    }
}
