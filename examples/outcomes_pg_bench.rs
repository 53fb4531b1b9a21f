//! The practice outcomes report on PostgreSQL at scale (`bench/outcomes-pg`). Target: the
//! whole report (`GET /outcomes`) in at most 2 s with 1,000,000 clients.
//!
//! 1. Connects to `DATABASE_URL` (PostgreSQL only; migrations run on connect). When the
//!    database holds fewer than N client users (default 1,000,000), it generates the rest of a
//!    practice in SQL (`INSERT … SELECT` over `generate_series`, one transaction): 500
//!    therapists under one clinical lead, each client in care with one of them (started over
//!    two years, some discharged, some moved from another therapist, some drifting out of
//!    touch), PHQ-9 and GAD-7 summaries with every change status, treatment plans with a
//!    planned end for most, and a few past sessions per client (mostly attended, some missed
//!    or cancelled) plus some booked ahead. Then `VACUUM (ANALYZE)`.
//! 2. Times `GET /outcomes` through the whole router, signed in as the clinical lead, exactly as
//!    a browser's request costs Tend (session, the four reads run together, audit, template):
//!    p50, p99 and max over the runs (default 20).
//! 3. Times each of the report's four reads alone and writes their `EXPLAIN (ANALYZE, BUFFERS)`
//!    plans to `target/outcomes_pg_plans.txt`.
//!
//! Usage: DATABASE_URL=postgres://… cargo run --release --example outcomes_pg_bench [clients] [runs]

// The shared harness (`support`) unwraps: a benchmark that cannot set up should stop loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

/// The harness the benchmark examples share: a signed-in session through the whole router.
#[path = "support/mod.rs"]
mod support;

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use sqlx::PgPool;
use tend::accounts::queries::NewUser;
use tend::authz::Role;
use tend::db::{Db, Timestamp};
use tend::outcomes::RETENTION_WEEKS;

/// Clients when no count is given: the issue's target size.
const DEFAULT_CLIENTS: i64 = 1_000_000;
/// Timed reports when no count is given.
const DEFAULT_RUNS: usize = 20;
/// The issue's target for the whole report.
const TARGET: Duration = Duration::from_secs(2);
/// The clinical lead (supervisor) who reads the report; found again on later runs.
const LEAD_EMAIL: &str = "lead@outcomes.bench.test";
/// Where the query plans go (under the build folder, so they are never committed).
const PLANS_FILE: &str = "target/outcomes_pg_plans.txt";
/// Therapists in the generated practice (about 2,000 clients each at 1,000,000).
const THERAPISTS: i64 = 500;

/// One step of generating the practice: what it makes (printed with its time) and its SQL.
/// `{from}`, `{to}`, `{batch}`, `{therapists}` and `{lead}` are replaced by numbers and a fixed
/// address before it runs; nothing from outside reaches the SQL.
struct Step {
    /// What the step makes.
    what: &'static str,
    /// The statement.
    sql: &'static str,
}

/// The practice, generated in the database: sending a million rows one by one from Rust would
/// take far longer than making them where they land. Every step runs in one transaction on one
/// connection (the `pg_temp` helpers and temporary tables live there), so a failure leaves
/// nothing half made.
const STEPS: &[Step] = &[
    Step {
        what: "helpers",
        // UUIDv7 as `db::new_id` makes them (time-ordered, so ids sort as rows were created),
        // an Argon2id-shaped PHC string (no one signs in with it; the column only needs a
        // plausible value), a sealed-shaped blob the size of a sealed treatment plan (version,
        // data key id, nonce, 800 bytes; no key opens it, and the report never reads it, but
        // it gives the plans table its real width), and a standard normal draw (Box–Muller)
        // for questionnaire scores.
        sql: r#"
SET LOCAL work_mem = '256MB';
CREATE FUNCTION pg_temp.uuid7(ts timestamptz) RETURNS uuid LANGUAGE sql VOLATILE AS $f$
  SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
    PLACING substring(int8send(floor(extract(epoch FROM ts) * 1000)::bigint) FROM 3) FROM 1 FOR 6),
    52, 1), 53, 1), 'hex')::uuid
$f$;
CREATE FUNCTION pg_temp.phc() RETURNS text LANGUAGE sql VOLATILE AS $f$
  SELECT '$argon2id$v=19$m=19456,t=2,p=1$'
    || rtrim(encode(decode(md5(random()::text), 'hex'), 'base64'), '=') || '$'
    || rtrim(encode(decode(md5(random()::text) || md5(random()::text), 'hex'), 'base64'), '=')
$f$;
CREATE FUNCTION pg_temp.sealed() RETURNS bytea LANGUAGE sql VOLATILE AS $f$
  SELECT '\x01'::bytea || uuid_send(gen_random_uuid())
    || decode(md5(random()::text) || substr(md5(random()::text), 1, 16), 'hex')
    || decode(repeat(md5(random()::text), 50), 'hex')
$f$;
CREATE FUNCTION pg_temp.normal() RETURNS double precision LANGUAGE sql VOLATILE AS $f$
  SELECT sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())
$f$;
"#,
    },
    Step {
        what: "therapists, session types, supervisions",
        // Made once; a later, larger run reuses them. Names repeat (20 × 25 combinations), as
        // the report must cope with: it groups by id and only shows the name.
        sql: r#"
INSERT INTO users (id, email, name, role, password_hash, created_at, updated_at, time_zone)
SELECT pg_temp.uuid7(t.at), format('therapist%s@outcomes.bench.test', k),
       (ARRAY['Ada','Ben','Carmen','Dev','Elena','Farid','Grace','Hugo','Ines','Jonah','Kemi',
              'Liam','Maya','Nikhil','Olga','Pablo','Quinn','Rosa','Sami','Tove'])[1 + k % 20]
       || ' ' ||
       (ARRAY['Abbott','Baptiste','Chen','Dubois','Eriksen','Fofana','Garcia','Haddad','Ito',
              'Jensen','Kowalski','Lindqvist','Moreau','Nakamura','Okafor','Patel','Quispe',
              'Rossi','Santos','Tanaka','Ueda','Varga','Weber','Xu','Yilmaz'])[1 + (k / 20) % 25],
       'therapist', pg_temp.phc(), t.at, t.at, 'America/New_York'
FROM generate_series(1, {therapists}) k,
     LATERAL (SELECT now() - interval '3 years' + k * interval '1 hour') t(at)
ON CONFLICT (email) DO NOTHING;
CREATE TEMP TABLE bench_therapists ON COMMIT DROP AS
SELECT row_number() OVER (ORDER BY u.email) - 1 AS k, u.id, u.created_at
FROM users u WHERE u.role = 'therapist' AND u.email LIKE 'therapist%@outcomes.bench.test';
ANALYZE bench_therapists;
INSERT INTO session_types (id, therapist_id, name, minutes, modality, fee_cents, active, created_at)
SELECT pg_temp.uuid7(t.created_at), t.id, 'Individual session', 50, 'video',
       9000 + (t.k % 9) * 1000, TRUE, t.created_at
FROM bench_therapists t
WHERE NOT EXISTS (SELECT 1 FROM session_types s WHERE s.therapist_id = t.id);
INSERT INTO supervisions (id, supervisor_id, trainee_id, started_at)
SELECT pg_temp.uuid7(t.created_at), l.id, t.id, t.created_at
FROM bench_therapists t, users l WHERE l.email = '{lead}' AND t.k < 40
ON CONFLICT DO NOTHING;
"#,
    },
    Step {
        what: "plan of the new clients (every draw made once)",
        // Kinds of client, by share: new (3%: invited in the last three weeks, no contact
        // yet), discharged (17%), moved from another therapist (3%), drifting (13%: last
        // contact anywhere since care began, so many are out of touch) and engaged (64%:
        // last contact a few days ago, exponentially distributed, mean 9 days). The latest
        // session is the latest contact, or up to 6 days before it when a message came after.
        sql: r#"
CREATE TEMP TABLE bench_plan ON COMMIT DROP AS
WITH draws AS (
  SELECT i, floor(random() * (SELECT count(*) FROM bench_therapists))::int AS tk,
         random() AS r_start, random() AS r_kind, random() AS r_gap, random() AS r_msg,
         random() AS r_sess, random() AS r_book, random() AS r_adm, random() AS r_gad,
         random() AS r_pw, random() AS r_len, random() AS r_plan, random() AS r_end
  FROM generate_series({from}, {to}) i
), kinds AS (
  SELECT d.*,
    CASE WHEN r_kind < 0.03 THEN 'new' WHEN r_kind < 0.20 THEN 'ended'
         WHEN r_kind < 0.23 THEN 'transferred' WHEN r_kind < 0.36 THEN 'drifting'
         ELSE 'engaged' END AS kind
  FROM draws d
), starts AS (
  SELECT k.*, CASE WHEN kind = 'new' THEN now() - r_start * interval '21 days'
                   ELSE now() - interval '2 hours' - r_start * interval '730 days' END AS started_at
  FROM kinds k
), contact AS (
  SELECT s.*,
    CASE WHEN kind = 'ended' THEN least(now() - interval '1 day',
      started_at + (6 + r_len * 34) * interval '1 week') END AS ended_at,
    CASE kind
      WHEN 'new' THEN NULL::timestamptz
      WHEN 'ended' THEN least(now() - interval '1 day',
        started_at + (6 + r_len * 34) * interval '1 week') - r_gap * interval '7 days'
      WHEN 'drifting' THEN now() - r_gap * (now() - started_at)
      ELSE now() - least(-ln(1 - r_gap) * interval '9 days', now() - started_at)
    END AS contact_at
  FROM starts s
), latest AS (
  SELECT x.*, greatest(x.started_at, x.last_contact_at
           - CASE WHEN r_msg < 0.3 THEN r_msg * 20 * interval '1 day' ELSE interval '0' END)
           AS last_session_at
  FROM (SELECT c.*, CASE WHEN c.contact_at IS NOT NULL
                         THEN greatest(c.contact_at, c.started_at) END AS last_contact_at
        FROM contact c) x
)
SELECT c.i, pg_temp.uuid7(c.started_at - interval '1 day') AS client_id, t.id AS therapist_id,
  st.id AS session_type_id, st.fee_cents, c.tk, c.kind, c.started_at, c.ended_at,
  c.last_contact_at, c.last_session_at,
  -- One to eight weekly sessions back from the latest, none before care began.
  CASE WHEN c.last_contact_at IS NULL THEN 0
       ELSE least(1 + floor(r_sess * 8)::int,
                  1 + floor(extract(epoch FROM c.last_session_at - c.started_at) / 604800)::int)
  END AS sessions,
  c.kind IN ('engaged', 'new') AND r_book < 0.05 AS booked,
  -- Questionnaires about every two weeks while in contact, up to 12; a baseline only when new.
  CASE WHEN c.last_contact_at IS NULL THEN 1
       ELSE 1 + floor(r_adm * least(12,
              1 + extract(epoch FROM c.last_contact_at - c.started_at) / 1209600))::int
  END AS adm,
  r_gad < 0.75 AS has_gad, r_pw < 0.92 AS has_password,
  -- A treatment plan for seven in ten clients seen at least once, one in five revised once,
  -- planned to end 12 to 26 weeks after care began.
  c.kind <> 'new' AND r_plan < 0.7 AS has_plan,
  CASE WHEN r_plan < 0.14 THEN 2 ELSE 1 END AS plan_versions,
  c.started_at + (12 + r_end * 14) * interval '1 week' AS planned_end
FROM latest c JOIN bench_therapists t ON t.k = c.tk
JOIN session_types st ON st.therapist_id = t.id;
"#,
    },
    Step {
        what: "client users",
        // In order of joining, as a practice that grew over two years wrote them.
        sql: r#"
INSERT INTO users (id, email, name, role, password_hash, created_at, updated_at, time_zone)
SELECT client_id, format('client%s.{batch}@outcomes.bench.test', i), format('Client %s', i),
       'client', CASE WHEN has_password THEN pg_temp.phc() END,
       started_at - interval '1 day', started_at - interval '1 day', 'America/New_York'
FROM bench_plan ORDER BY started_at;
"#,
    },
    Step {
        what: "care relationships",
        // Clients who moved also have an earlier, ended relationship with the next therapist,
        // so they count for both, as the per-therapist lines count them.
        sql: r#"
INSERT INTO care_relationships (id, therapist_id, client_id, started_at, ended_at, last_contact_at)
SELECT pg_temp.uuid7(started_at), therapist_id, client_id, started_at, ended_at, last_contact_at
FROM bench_plan ORDER BY started_at;
INSERT INTO care_relationships (id, therapist_id, client_id, started_at, ended_at, last_contact_at)
SELECT pg_temp.uuid7(p.started_at - interval '120 days'), t.id, p.client_id,
       p.started_at - interval '120 days', p.started_at, p.started_at - interval '10 days'
FROM bench_plan p JOIN bench_therapists t ON t.k = (p.tk + 1) % (SELECT count(*) FROM bench_therapists)
WHERE p.kind = 'transferred' ORDER BY p.started_at;
"#,
    },
    Step {
        what: "measure summaries (PHQ-9 every client, GAD-7 three in four)",
        // As `measures::respond::refresh_summary` writes them: whole-number totals, the status
        // by `change::classify` with the published thresholds (PHQ-9: 6 points, caseness 10;
        // GAD-7: 4 points, caseness 8; recovered = reliably improved from caseness to below
        // it), stored by its serialised name, and not on track = reliably deteriorated, or no
        // reliable change after 4 administrations (the default `not_on_track_after`).
        // Baselines are drawn around a clinical mean, and the latest improves by about 42% of
        // the baseline once six or more administrations in (spread 40%): roughly 39% recovered,
        // 12% reliably improved, 43% no reliable change and 6% reliably deteriorated.
        sql: r#"
INSERT INTO measure_summaries (client_id, instrument, baseline_total, baseline_at, latest_total,
                               latest_at, administrations, status, not_on_track)
SELECT client_id, instrument, base, started_at, latest, latest_at, adm, status,
       status = 'reliably_deteriorated' OR (status = 'no_reliable_change' AND adm >= 4)
FROM (
  SELECT x.*, CASE
      WHEN base - latest <= -points THEN 'reliably_deteriorated'
      WHEN base - latest < points THEN 'no_reliable_change'
      WHEN base >= caseness AND latest < caseness THEN 'recovered'
      ELSE 'reliably_improved' END AS status
  FROM (
    SELECT p.client_id, p.started_at, p.adm, m.instrument, m.points, m.caseness, b.base,
           least(p.started_at + (p.adm - 1) * interval '14 days',
                 coalesce(p.last_contact_at, p.started_at)) AS latest_at,
           CASE WHEN p.adm = 1 THEN b.base
                ELSE least(m.top, greatest(0, round(b.base
                       * (1 - 0.42 * least(1, p.adm / 6.0) - 0.4 * pg_temp.normal())))) END AS latest
    FROM bench_plan p
    CROSS JOIN (VALUES ('phq9', 27, 6, 10, 16.0, 5.0), ('gad7', 21, 4, 8, 13.0, 4.0))
      AS m(instrument, top, points, caseness, mean, spread)
    CROSS JOIN LATERAL (SELECT least(m.top, greatest(0,
      round(m.mean + m.spread * pg_temp.normal()))) AS base) b
    WHERE m.instrument = 'phq9' OR p.has_gad
  ) x
) y ORDER BY started_at, instrument;
"#,
    },
    Step {
        what: "treatment plans and their versions",
        // Written two weeks into care and, when revised, again at ten weeks; every version
        // kept, as `plans::queries` keeps them. Dates in the clear as the app stores them.
        sql: r#"
CREATE TEMP TABLE bench_plans ON COMMIT DROP AS
SELECT client_id, therapist_id, plan_versions, planned_end,
       least(now(), started_at + CASE WHEN plan_versions = 2 THEN interval '10 weeks'
                                      ELSE interval '2 weeks' END) AS plan_at,
       least(now(), started_at + interval '2 weeks') AS first_at
FROM bench_plan WHERE has_plan;
INSERT INTO treatment_plans (client_id, content_sealed, version, planned_end, next_review,
                             updated_by, updated_at)
SELECT client_id, pg_temp.sealed(), plan_versions,
       to_char((planned_end AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD'),
       to_char(((plan_at + interval '6 weeks') AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD'),
       therapist_id, plan_at
FROM bench_plans ORDER BY plan_at;
INSERT INTO treatment_plan_versions (client_id, version, content_sealed, updated_by, created_at)
SELECT client_id, v, pg_temp.sealed(), therapist_id, CASE WHEN v = 1 THEN first_at ELSE plan_at END
FROM bench_plans CROSS JOIN LATERAL generate_series(1, plan_versions) v
ORDER BY 5;
"#,
    },
    Step {
        what: "past appointments (80% attended, 10% missed, 10% cancelled)",
        // Written in time order, as they were booked; an attended or missed session has had
        // its status changed once (`sequence` 1), as `set_appointment_status` does.
        sql: r#"
INSERT INTO appointments (id, therapist_id, client_id, session_type_id, starts_at, ends_at,
                          status, modality, fee_cents, room, sequence, created_at, updated_at,
                          changed_by)
SELECT pg_temp.uuid7(at - interval '7 days'), therapist_id, client_id, session_type_id, at,
       at + interval '50 minutes',
       CASE WHEN j = 0 OR r < 0.8 THEN 'attended' WHEN r < 0.9 THEN 'no_show' ELSE 'cancelled' END,
       'video', fee_cents, 'tend-' || substr(md5(random()::text), 1, 24), 1,
       at - interval '7 days', at + interval '1 hour', therapist_id
FROM (
  SELECT p.therapist_id, p.client_id, p.session_type_id, p.fee_cents, j, random() AS r,
         p.last_session_at - j * interval '7 days' AS at
  FROM bench_plan p CROSS JOIN LATERAL generate_series(0, p.sessions - 1) j
) a ORDER BY at;
"#,
    },
    Step {
        what: "booked appointments (one in twenty engaged or new clients)",
        // A free slot each: weekdays' eight hours from tomorrow, after any already booked
        // (only one booking may hold a therapist's slot).
        sql: r#"
INSERT INTO appointments (id, therapist_id, client_id, session_type_id, starts_at, ends_at,
                          status, modality, fee_cents, room, sequence, created_at, updated_at,
                          changed_by)
SELECT pg_temp.uuid7(now()), therapist_id, client_id, session_type_id, at,
       at + interval '50 minutes', 'booked', 'video', fee_cents,
       'tend-' || substr(md5(random()::text), 1, 24), 0, now(), now(), client_id
FROM (
  SELECT p.*, date_trunc('day', now()) + (1 + s / 8) * interval '1 day'
              + (9 + s % 8) * interval '1 hour' AS at
  FROM (SELECT p.*, row_number() OVER (PARTITION BY therapist_id ORDER BY i) - 1
               + (SELECT count(*) FROM appointments x
                  WHERE x.therapist_id = p.therapist_id AND x.status = 'booked') AS s
        FROM bench_plan p WHERE booked) p
) a
ON CONFLICT DO NOTHING;
"#,
    },
];

/// The practice-wide counts, as `Db::outcome_counts` sends them.
const OUTCOME_COUNTS_SQL: &str = "SELECT instrument, status, COUNT(*) FROM measure_summaries \
     WHERE administrations >= 2 GROUP BY instrument, status ORDER BY instrument, status";

/// The per-therapist counts, as `Db::outcome_counts_by_therapist` sends them.
const BY_THERAPIST_SQL: &str = "SELECT u.name, t.instrument, t.status, t.n FROM ( \
     SELECT c.therapist_id, s.instrument, s.status, COUNT(*) AS n \
     FROM measure_summaries s \
     JOIN care_relationships c ON c.client_id = s.client_id \
     WHERE s.administrations >= 2 \
     GROUP BY c.therapist_id, s.instrument, s.status \
     ) t JOIN users u ON u.id = t.therapist_id \
     ORDER BY u.name, t.therapist_id, t.instrument, t.status";

/// Attendance, contact and dropout per therapist, as `Db::engagement` sends it (`$1`: the
/// out-of-touch cut-off; `$2`: today, `YYYY-MM-DD`, against each plan's planned end).
const ENGAGEMENT_SQL: &str = "SELECT u.name AS therapist, c.in_care, c.out_of_touch, c.dropped_out, \
                   COALESCE(a.attended, 0) AS attended, COALESCE(a.no_shows, 0) AS no_shows \
                 FROM (SELECT c.therapist_id, \
                     SUM(CASE WHEN c.ended_at IS NULL THEN 1 ELSE 0 END) AS in_care, \
                     SUM(CASE WHEN c.ended_at IS NULL AND c.started_at < $1 \
                       AND (c.last_contact_at IS NULL OR c.last_contact_at < $1) THEN 1 ELSE 0 END) AS out_of_touch, \
                     SUM(CASE WHEN c.ended_at IS NULL AND c.started_at < $1 \
                       AND (c.last_contact_at IS NULL OR c.last_contact_at < $1) AND p.client_id IS NOT NULL \
                       THEN 1 ELSE 0 END) AS dropped_out \
                   FROM care_relationships c \
                   LEFT JOIN (SELECT client_id FROM treatment_plans WHERE planned_end > $2) p ON p.client_id = c.client_id \
                   GROUP BY c.therapist_id) c \
                 JOIN users u ON u.id = c.therapist_id \
                 LEFT JOIN (SELECT therapist_id, \
                     SUM(CASE WHEN status = 'attended' THEN 1 ELSE 0 END) AS attended, \
                     SUM(CASE WHEN status = 'no_show' THEN 1 ELSE 0 END) AS no_shows \
                   FROM appointments WHERE status IN ('attended', 'no_show') GROUP BY therapist_id) a \
                   ON a.therapist_id = c.therapist_id \
                 ORDER BY u.name, c.therapist_id";

/// The retention sums as `Db::retention` builds them for PostgreSQL (`$1`…`$5`: the cut-offs).
fn retention_sql() -> String {
    let weeks = "date_part('epoch', last_contact_at - started_at) / 604800.0";
    let mut sums = Vec::new();
    for (i, k) in RETENTION_WEEKS.iter().enumerate() {
        let cut = i + 1;
        sums.push(format!(
            "COALESCE(SUM(CASE WHEN started_at <= ${cut} THEN 1 ELSE 0 END), 0)"
        ));
        sums.push(format!(
            "COALESCE(SUM(CASE WHEN started_at <= ${cut} AND last_contact_at IS NOT NULL \
             AND {weeks} >= {k} THEN 1 ELSE 0 END), 0)"
        ));
    }
    format!("SELECT {} FROM care_relationships", sums.join(", "))
}

/// The copies above must be the SQL the app sends, or their plans prove nothing: each static
/// one must appear in `src/outcomes/queries.rs` once Rust's line continuations are joined.
/// Returns the names of any that drifted.
fn drifted_queries() -> Vec<&'static str> {
    let source = include_str!("../src/outcomes/queries.rs");
    // A `\` at a line's end drops the newline and the next line's leading whitespace.
    let mut joined = String::with_capacity(source.len());
    let mut lines = source.lines().peekable();
    while let Some(line) = lines.next() {
        if let Some(kept) = line.strip_suffix('\\') {
            joined.push_str(kept);
            if let Some(next) = lines.peek_mut() {
                *next = next.trim_start();
            }
        } else {
            joined.push_str(line);
            joined.push('\n');
        }
    }
    [
        ("outcome_counts", OUTCOME_COUNTS_SQL),
        ("outcome_counts_by_therapist", BY_THERAPIST_SQL),
        ("engagement", ENGAGEMENT_SQL),
    ]
    .into_iter()
    .filter(|(_, sql)| !joined.contains(sql))
    .map(|(name, _)| name)
    .collect()
}

/// rustc processes running now, and the one-minute load average: another build on this
/// machine's few cores slows every timing, so the report says so beside its numbers.
fn machine_load() -> String {
    let rustc = std::fs::read_dir("/proc")
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| {
                    std::fs::read_to_string(e.path().join("comm"))
                        .is_ok_and(|comm| comm.trim() == "rustc")
                })
                .count()
        })
        .unwrap_or(0);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load = load.split_whitespace().next().unwrap_or("?");
    format!("{rustc} rustc processes, load average {load}")
}

/// Generates `count` clients numbered from `first` (with their care, summaries and sessions)
/// in one transaction, printing each step's time; then `VACUUM (ANALYZE)`.
async fn generate(pool: &PgPool, first: i64, count: i64) -> anyhow::Result<()> {
    let started = Instant::now();
    // Tags the new clients' addresses, so a later top-up never collides with them.
    let batch = Timestamp::now().inner().unix_timestamp();
    let mut tx = pool.begin().await?;
    for step in STEPS {
        let t = Instant::now();
        let sql = step
            .sql
            .replace("{from}", &first.to_string())
            .replace("{to}", &(first + count - 1).to_string())
            .replace("{batch}", &batch.to_string())
            .replace("{therapists}", &THERAPISTS.to_string())
            .replace("{lead}", LEAD_EMAIL);
        sqlx::raw_sql(&sql)
            .execute(&mut *tx)
            .await
            .with_context(|| format!("generating {}", step.what))?;
        println!("  {:<62} {:>7.1} s", step.what, t.elapsed().as_secs_f64());
    }
    let t = Instant::now();
    tx.commit().await?;
    println!("  {:<62} {:>7.1} s", "commit", t.elapsed().as_secs_f64());
    let inserted = started.elapsed();
    // VACUUM as well as ANALYZE: autovacuum would have set the visibility map of a running
    // practice's tables (so counts read the covering index alone) and may be off on a bench
    // server; doing it now also keeps it from starting in the middle of the timings.
    let t = Instant::now();
    sqlx::raw_sql(
        "VACUUM (ANALYZE) users, care_relationships, measure_summaries, appointments, \
         session_types, supervisions, treatment_plans, treatment_plan_versions",
    )
    .execute(pool)
    .await?;
    let vacuum = t.elapsed();
    println!(
        "  {:<62} {:>7.1} s",
        "VACUUM (ANALYZE)",
        vacuum.as_secs_f64()
    );
    println!(
        "generated {count} clients in {:.1} s ({:.1} s inserting, {:.1} s VACUUM (ANALYZE))",
        started.elapsed().as_secs_f64(),
        inserted.as_secs_f64(),
        vacuum.as_secs_f64()
    );
    Ok(())
}

/// Prints how much the report reads: rows per table and the database's size.
async fn print_volume(pool: &PgPool) -> anyhow::Result<()> {
    let row: (i64, i64, i64, i64, i64, i64, i64, i64, String) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM users WHERE role = 'client'), \
                (SELECT COUNT(*) FROM users WHERE role = 'therapist'), \
                (SELECT COUNT(*) FROM care_relationships), \
                (SELECT COUNT(*) FROM care_relationships WHERE ended_at IS NULL), \
                (SELECT COUNT(*) FROM measure_summaries), \
                (SELECT COUNT(*) FROM appointments WHERE status = 'attended'), \
                (SELECT COUNT(*) FROM appointments), \
                (SELECT COUNT(*) FROM treatment_plans), \
                pg_size_pretty(pg_database_size(current_database()))",
    )
    .fetch_one(pool)
    .await?;
    println!(
        "clients {}, therapists {}, care relationships {} ({} in care), measure summaries {}, \
         appointments {} ({} attended), treatment plans {}; database {}",
        row.0, row.1, row.2, row.3, row.4, row.6, row.5, row.7, row.8
    );
    Ok(())
}

/// Today as the page gives it to `Db::engagement` (`YYYY-MM-DD`, UTC).
fn today(now: Timestamp) -> String {
    tend::plans::format_date(now.inner().date())
}

/// Runs `EXPLAIN (ANALYZE, BUFFERS)` of each of the report's reads with the values the page
/// binds, appends the plans to `out`, and prints each one's execution time.
async fn explain_all(pool: &PgPool, now: Timestamp, out: &mut String) -> anyhow::Result<()> {
    let since = now - time::Duration::days(tend::outcomes::pages::DEFAULT_OUT_OF_TOUCH_DAYS);
    let cuts: Vec<Timestamp> = RETENTION_WEEKS
        .iter()
        .map(|k| now - time::Duration::weeks(*k))
        .collect();
    let retention = retention_sql();
    let queries: [(&str, &str, Vec<Timestamp>); 4] = [
        ("outcome_counts", OUTCOME_COUNTS_SQL, vec![]),
        ("outcome_counts_by_therapist", BY_THERAPIST_SQL, vec![]),
        ("engagement", ENGAGEMENT_SQL, vec![since]),
        ("retention", &retention, cuts),
    ];
    for (name, sql, binds) in queries {
        let explain = format!("EXPLAIN (ANALYZE, BUFFERS) {sql}");
        let mut q = sqlx::query_scalar::<_, String>(&explain);
        for b in binds {
            q = q.bind(b);
        }
        // Engagement's second value: today as the page passes it.
        if name == "engagement" {
            q = q.bind(today(now));
        }
        let lines = q.fetch_all(pool).await?;
        writeln!(out, "=== {name}\n{sql}\n")?;
        for line in &lines {
            writeln!(out, "{line}")?;
        }
        writeln!(out)?;
        let total = lines
            .iter()
            .find(|l| l.starts_with("Execution Time"))
            .map_or("", String::as_str);
        println!("  EXPLAIN ANALYZE {name:<30} {total}");
    }
    Ok(())
}

/// Generates the practice when it is short of clients, then times the report and its reads.
#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let clients: i64 = args
        .next()
        .map(|a| a.parse())
        .transpose()
        .context("clients must be a number")?
        .unwrap_or(DEFAULT_CLIENTS);
    let runs: usize = args
        .next()
        .map(|a| a.parse())
        .transpose()
        .context("runs must be a number")?
        .unwrap_or(DEFAULT_RUNS)
        .max(1);
    let url = std::env::var("DATABASE_URL").unwrap_or_default();
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        bail!("DATABASE_URL must be a postgres:// URL (this benchmark fills that database)");
    }

    // The data directory holds only the master key and outbox; nothing here is sealed.
    let dir = tempfile::TempDir::new_in("target")?;
    let mut config = tend::config::Config::for_data_dir(dir.path().to_path_buf());
    config.database_url = Some(url);
    let state = tend::app::build_state(config).await?;
    let Db::Postgres(pool) = &state.db else {
        bail!("DATABASE_URL did not open PostgreSQL");
    };
    let drifted = drifted_queries();
    if !drifted.is_empty() {
        bail!(
            "the SQL copied here for EXPLAIN no longer matches src/outcomes/queries.rs: {}",
            drifted.join(", ")
        );
    }

    // The clinical lead who reads the report, made through the app as an admin would.
    let lead = match state.db.user_by_email(LEAD_EMAIL).await? {
        Some(user) => user,
        None => {
            state
                .db
                .create_user(NewUser {
                    email: LEAD_EMAIL,
                    name: "Clinical Lead",
                    role: Role::Supervisor,
                    password_hash: None,
                    therapist_id: None,
                })
                .await?
        }
    };

    println!("## Data");
    let have: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'client'")
        .fetch_one(pool)
        .await?;
    if have < clients {
        println!(
            "generating {} clients (the database holds {have})",
            clients - have
        );
        generate(pool, have + 1, clients - have).await?;
    } else {
        println!("the database already holds {have} clients; nothing generated");
    }
    print_volume(pool).await?;

    // The whole page through the router, signed in: session lookup, the four reads run
    // together, the audit append and the template, as a browser's request costs Tend.
    let session = support::SignedIn::new(&state, lead.id).await;
    println!(
        "\n## Practice outcomes report (GET /outcomes, PostgreSQL, {have_now} clients)",
        have_now = have.max(clients)
    );
    println!("before the timings: {}", machine_load());
    // The first request warms the caches after generation or a restart; reported apart.
    let first = session.get("/outcomes").await;
    println!(
        "first request (warms the caches; not counted): {:.0} ms",
        first.as_secs_f64() * 1000.0
    );
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        times.push(session.get("/outcomes").await);
    }
    println!("after the timings: {}", machine_load());
    let worst = times.iter().max().copied().unwrap_or_default();
    support::report("practice outcomes (/outcomes, every client)", times);
    println!(
        "target: ≤ {} s — {}",
        TARGET.as_secs(),
        if worst <= TARGET {
            "met (max)"
        } else {
            "NOT met (max)"
        }
    );

    // Each read alone, as the page awaits it (three times: the spread shows the noise).
    println!("\n## Each read alone (ms, three runs)");
    let now = Timestamp::now();
    let since = now - time::Duration::days(tend::outcomes::pages::DEFAULT_OUT_OF_TOUCH_DAYS);
    for (name, which) in [
        ("outcome_counts", 0),
        ("outcome_counts_by_therapist", 1),
        ("engagement", 2),
        ("retention", 3),
    ] {
        let mut ms = Vec::new();
        for _ in 0..3 {
            let t = Instant::now();
            match which {
                0 => drop(state.db.outcome_counts().await?),
                1 => drop(state.db.outcome_counts_by_therapist().await?),
                2 => drop(state.db.engagement(since, &today(now)).await?),
                _ => drop(state.db.retention(now).await?),
            }
            ms.push(format!("{:.0}", t.elapsed().as_secs_f64() * 1000.0));
        }
        println!("  {name:<30} {}", ms.join(" / "));
    }

    println!("\n## Plans (EXPLAIN (ANALYZE, BUFFERS), written to {PLANS_FILE})");
    let mut plans = String::new();
    writeln!(
        plans,
        "Practice outcomes report on PostgreSQL, {} clients, plans at {}\n",
        have.max(clients),
        now
    )?;
    explain_all(pool, now, &mut plans).await?;
    std::fs::write(PLANS_FILE, plans).context(PLANS_FILE)?;
    Ok(())
}
