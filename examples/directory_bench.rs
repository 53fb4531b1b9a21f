//! Directory benchmark (`bench/directory`): generates N therapist profiles (default 100,000)
//! with realistic text and tags, then times directory searches with text and three filters
//! (the same `DirectoryIndex::search` the page and API call: the in-memory index brought up to
//! date, ranked and counted, then the page's rows and tags), and booking under contention (tasks racing for the same therapist's slots
//! through `Db::book`).
//! SQLite by default (a fresh file); PostgreSQL when `DATABASE_URL` is set (use a throwaway
//! database: the benchmark fills it).
//!
//! Usage: cargo run --release --example directory_bench [profiles] [queries]

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

#[path = "support/mod.rs"]
mod support;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use tend::db::{Timestamp, new_id};
use tend::directory::queries::{DirectoryIndex, NewAppointment};
use tend::directory::search::SearchQuery;
use tend::directory::vocab::{Facet, LANGUAGES};

/// Words people use about what they're going through and how therapists work.
const TOPICAL: &[&str] = &[
    "grief",
    "loss",
    "anxiety",
    "panic",
    "worry",
    "depression",
    "trauma",
    "shame",
    "compassion",
    "mindfulness",
    "burnout",
    "stress",
    "relationships",
    "self-esteem",
    "loneliness",
    "sleep",
    "anger",
    "parenting",
    "identity",
    "kindness",
    "acceptance",
    "body",
    "breathing",
    "critic",
    "perfectionism",
    "transition",
    "divorce",
    "caregiving",
    "illness",
    "pain",
    "fear",
    "confidence",
];
/// Everyday words around them.
const FILLER: &[&str] = &[
    "I",
    "work",
    "with",
    "people",
    "who",
    "feel",
    "often",
    "we",
    "together",
    "gently",
    "find",
    "ways",
    "to",
    "notice",
    "what",
    "matters",
    "and",
    "build",
    "a",
    "kinder",
    "relationship",
    "yourself",
    "sessions",
    "are",
    "calm",
    "warm",
    "practical",
    "space",
    "slow",
    "pace",
    "listen",
    "your",
    "story",
    "years",
    "experience",
    "adults",
    "families",
    "community",
    "safe",
    "steady",
];

fn sentence(rng: &mut StdRng) -> String {
    let mut words = Vec::new();
    for _ in 0..rng.gen_range(8..16) {
        if rng.gen_bool(0.25) {
            words.push(*TOPICAL.choose(rng).unwrap());
        } else {
            words.push(*FILLER.choose(rng).unwrap());
        }
    }
    format!("{}.", words.join(" "))
}

/// Between `range` distinct items of `list`, chosen at random.
fn pick<'a, T>(rng: &mut StdRng, list: &'a [T], range: std::ops::Range<usize>) -> Vec<&'a T> {
    let k = rng.gen_range(range);
    list.choose_multiple(rng, k).collect()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let queries: usize = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(300);
    let dir = tempfile::tempdir().unwrap();
    let mut config = tend::config::Config::for_data_dir(dir.path().to_path_buf());
    config.database_url = std::env::var("DATABASE_URL").ok();
    let state = tend::app::build_state(config).await.unwrap();
    let db = &state.db;
    let mut rng = StdRng::seed_from_u64(2026);
    let concerns = Facet::Concern.terms();
    let approaches = Facet::Approach.terms();
    let modalities = Facet::Modality.terms();

    let started = Instant::now();
    let now = Timestamp::now();
    let mut first_therapist = None;
    for chunk in 0..n.div_ceil(1000) {
        let rows: Vec<_> = (0..1000.min(n - chunk * 1000))
            .map(|i| {
                let id = new_id();
                let k = chunk * 1000 + i;
                let bio: String = (0..5)
                    .map(|_| sentence(&mut rng))
                    .collect::<Vec<_>>()
                    .join(" ");
                let approach: String = (0..2)
                    .map(|_| sentence(&mut rng))
                    .collect::<Vec<_>>()
                    .join(" ");
                let mut tags = vec![Facet::Language.tag("en")];
                if rng.gen_bool(0.15) {
                    tags.push(
                        Facet::Language.tag(LANGUAGES[rng.gen_range(1..LANGUAGES.len())].slug),
                    );
                }
                for t in pick(&mut rng, concerns, 2..5) {
                    tags.push(Facet::Concern.tag(t.slug));
                }
                for t in pick(&mut rng, approaches, 1..3) {
                    tags.push(Facet::Approach.tag(t.slug));
                }
                for t in pick(&mut rng, modalities, 1..3) {
                    tags.push(Facet::Modality.tag(t.slug));
                }
                tags.sort();
                tags.dedup();
                let facets = tend::directory::vocab::facet_words(&tags);
                let fee: i64 = rng.gen_range(40..220) * 100;
                let sliding = rng.gen_bool(0.3).then_some(fee / 2);
                (
                    id,
                    k,
                    bio,
                    approach,
                    tags,
                    facets,
                    fee,
                    sliding,
                    rng.gen_bool(0.8),
                )
            })
            .collect();
        if first_therapist.is_none() {
            first_therapist = rows.first().map(|r| r.0);
        }
        tend::with_pool!(db, |pool| {
            let mut tx = pool.begin().await.unwrap();
            for (id, k, bio, approach, tags, facets, fee, sliding, accepting) in &rows {
                sqlx::query("INSERT INTO users (id, email, name, role, created_at, updated_at) VALUES ($1, $2, $3, 'therapist', $4, $4)")
                    .bind(id).bind(format!("t{k}@bench.test")).bind(format!("Therapist {k}")).bind(now)
                    .execute(&mut *tx).await.unwrap();
                sqlx::query("INSERT INTO directory_profiles (user_id, slug, display_name, bio, approach, region, fee_cents, sliding_scale_min_cents, accepting, time_zone, published, facets, created_at, updated_at) \
                             VALUES ($1, $2, $3, $4, $5, 'Region', $6, $7, $8, 'America/New_York', TRUE, $10, $9, $9)")
                    .bind(id).bind(format!("therapist-{k}")).bind(format!("Therapist {k}")).bind(bio).bind(approach)
                    .bind(fee).bind(sliding).bind(accepting).bind(now).bind(facets)
                    .execute(&mut *tx).await.unwrap();
                for tag in tags {
                    sqlx::query("INSERT INTO directory_tags (tag, user_id) VALUES ($1, $2)")
                        .bind(tag)
                        .bind(id)
                        .execute(&mut *tx)
                        .await
                        .unwrap();
                }
            }
            tx.commit().await.unwrap();
        });
    }
    // Fresh statistics, as a running system has.
    tend::with_pool!(db, |pool| {
        sqlx::query("ANALYZE").execute(pool).await.unwrap();
    });
    let load_s = started.elapsed().as_secs_f64();

    // The search index, built as `tend serve` builds it at start (timed, with the memory it
    // takes), then kept current before every search as the page and API do.
    let index = DirectoryIndex::default();
    let rss_before = support::rss_kib() as f64 / 1024.0;
    let t = Instant::now();
    index.refresh(db).await.unwrap();
    let index_build_s = t.elapsed().as_secs_f64();
    let index_mb = support::rss_kib() as f64 / 1024.0 - rss_before;
    let index_heap_mb = index.heap_bytes() as f64 / 1_048_576.0;
    assert_eq!(index.len(), n);

    // Searches: one or two topical words plus three filters (concern, language, modality).
    let mut times = Vec::new();
    let mut hits = Vec::new();
    for _ in 0..queries {
        let words: Vec<&str> = pick(&mut rng, TOPICAL, 1..3).into_iter().copied().collect();
        let pairs = vec![
            ("q".to_string(), words.join(" ")),
            (
                "concern".to_string(),
                concerns.choose(&mut rng).unwrap().slug.to_string(),
            ),
            (
                "language".to_string(),
                if rng.gen_bool(0.8) { "en" } else { "es" }.to_string(),
            ),
            ("modality".to_string(), "video".to_string()),
        ];
        let q = SearchQuery::from_pairs(&pairs).unwrap();
        let t = Instant::now();
        let (found, page) = index.search(db, &q).await.unwrap();
        let total = found.total;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        hits.push(total);
        assert!(page.len() as i64 <= total);
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    hits.sort();

    // Booking under contention: 8 tasks race for the same 200 slots of one therapist.
    let therapist = first_therapist.unwrap();
    let session = db
        .add_session_type(therapist, "Session", 50, "video", 9000)
        .await
        .unwrap();
    let mut clients = Vec::new();
    for c in 0..8 {
        let id = new_id();
        tend::with_pool!(db, |pool| {
            sqlx::query("INSERT INTO users (id, email, name, role, created_at, updated_at) VALUES ($1, $2, 'Client', 'client', $3, $3)")
                .bind(id).bind(format!("c{c}@bench.test")).bind(now).execute(pool).await.unwrap();
        });
        clients.push(id);
    }
    let base = time::OffsetDateTime::now_utc() + time::Duration::days(1);
    let t = Instant::now();
    let mut tasks = Vec::new();
    for client in clients {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            let mut won = 0;
            for s in 0..200 {
                let start = base + time::Duration::hours(s);
                let ok = db
                    .book(&NewAppointment {
                        id: new_id(),
                        therapist_id: therapist,
                        client_id: client,
                        session_type_id: session,
                        starts_at: start.into(),
                        ends_at: (start + time::Duration::minutes(50)).into(),
                        modality: "video".into(),
                        fee_cents: 9000,
                        room: "bench".into(),
                        by: client,
                    })
                    .await
                    .is_ok();
                won += usize::from(ok);
            }
            won
        }));
    }
    let mut booked = 0;
    for task in tasks {
        booked += task.await.unwrap();
    }
    let booking_s = t.elapsed().as_secs_f64();
    assert_eq!(booked, 200, "every slot booked exactly once");

    println!(
        "{}",
        serde_json::json!({
            "backend": format!("{:?}", db.backend()),
            "profiles": n,
            "load_seconds": (load_s * 10.0).round() / 10.0,
            "index_build_seconds": (index_build_s * 100.0).round() / 100.0,
            "index_rss_mb": index_mb.round(),
            "index_heap_mb": index_heap_mb.round(),
            "queries": queries,
            "search_ms_p50": (percentile(&times, 0.5) * 100.0).round() / 100.0,
            "search_ms_p99": (percentile(&times, 0.99) * 100.0).round() / 100.0,
            "search_ms_max": (times[times.len() - 1] * 100.0).round() / 100.0,
            "matches_median": hits[hits.len() / 2],
            "booking_attempts": 1600,
            "bookings_won": booked,
            "booking_attempts_per_second": (1600.0 / booking_s).round(),
        })
    );
}
