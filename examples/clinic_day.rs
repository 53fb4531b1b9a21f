//! The clinic-day load generator (`bench/clinic-day`): plays a day of Tend over real HTTP
//! against one or more running `tend serve` instances (round robin, as a load balancer
//! would) and, in the same run, against a minimal hello-world: the machine's ceiling.
//!
//! Usage: `clinic_day <hello-url> <tend-url>[,<tend-url>…] <seconds-per-phase>`, with
//! `TEND_DATA_DIR` and `DATABASE_URL` naming the instances' data (the demo practice). It adds
//! 200 clients to the demo therapists and signs sessions in directly in the database, then:
//! 1. saturation: 32 connections in a closed loop, hello-world first, then the clinic-day mix;
//! 2. the mix offered at a fixed rate (an open loop, so a slow answer cannot slow the offered
//!    load) of 50%, 70% and 90% of that saturation, reporting p50 and p99 of every request,
//!    timed from when it was due.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::Rng;
use reqwest::StatusCode;
use tend::accounts::queries::NewUser;
use tend::authz::Role;

#[path = "support/mod.rs"]
mod support;
use support::session;

/// Connections in the closed-loop (saturation) phases.
const CONNECTIONS: usize = 32;
/// Clients the generator adds to the demo practice (each with two signed-in sessions).
const EXTRA_CLIENTS: usize = 200;

/// What one client's browser holds: its session, a letter draft, a questionnaire and its
/// conversation with its therapist.
struct ClientSession {
    token: String,
    draft: uuid::Uuid,
    draft_version: i64,
    assignment: uuid::Uuid,
    conversation: uuid::Uuid,
}

/// A therapist's session and the clients whose records they open.
struct TherapistSession {
    token: String,
    clients: Vec<uuid::Uuid>,
}

/// Everything the actions need, shared by every task.
struct Clinic {
    http: reqwest::Client,
    urls: Vec<String>,
    next_url: AtomicU64,
    clients: Mutex<VecDeque<ClientSession>>,
    therapists: Vec<TherapistSession>,
    /// The CSRF token every form carries (as cookie and field, in Tend's token format).
    csrf: String,
    /// Demo clients with passwords, for sign-ins.
    sign_in_emails: Vec<String>,
    times: Mutex<Vec<(&'static str, Duration)>>,
    /// Ordinary messages the risk screen answered with crisis help.
    flagged: AtomicU64,
    failures: Mutex<Vec<String>>,
}

/// The day's actions and their weights (out of 100), from a client's, a therapist's and a
/// visitor's point of view.
const MIX: &[(&str, u32)] = &[
    ("client home", 20),
    ("letter autosave", 20),
    ("journal page", 5),
    ("questionnaire (form, then submit)", 8),
    ("message thread", 10),
    ("message send", 4),
    ("caseload", 10),
    ("client record", 6),
    ("directory search", 15),
    ("sign-in (form, then password)", 2),
];

/// Search words visitors type.
const SEARCHES: &[&str] = &[
    "/directory?q=anxiety",
    "/directory?q=grief",
    "/directory?q=trauma&accepting=1",
    "/directory?q=depression&sliding_scale=1",
    "/directory?q=self-compassion",
    "/directory",
];

impl Clinic {
    /// The next instance, round robin.
    fn url(&self) -> &str {
        let n = self.next_url.fetch_add(1, Ordering::Relaxed) as usize;
        &self.urls[n % self.urls.len()]
    }

    /// Sends one request, records its time from `due`, and checks its status.
    async fn send(
        &self,
        name: &'static str,
        due: Instant,
        request: reqwest::RequestBuilder,
        expect: StatusCode,
    ) -> Option<String> {
        let outcome = match request.send().await {
            Ok(response) => {
                let status = response.status();
                let body = response.text().await.unwrap_or_default();
                // A message the risk screen flagged is answered with the conversation and
                // crisis help (200) instead of a redirect: counted, not a failure.
                if name == "message send" && status == StatusCode::OK {
                    self.flagged.fetch_add(1, Ordering::Relaxed);
                }
                (status == expect || (name == "message send" && status == StatusCode::OK))
                    .then_some(body)
                    .ok_or_else(|| format!("{name}: {status} (expected {expect})"))
            }
            Err(err) => Err(format!("{name}: {err}")),
        };
        let elapsed = due.elapsed();
        match outcome {
            Ok(body) => {
                lock(&self.times).push((name, elapsed));
                Some(body)
            }
            Err(failure) => {
                lock(&self.failures).push(failure);
                None
            }
        }
    }

    /// GET with a session cookie.
    fn get(&self, path: &str, token: Option<&str>) -> reqwest::RequestBuilder {
        let request = self.http.get(format!("{}{path}", self.url()));
        match token {
            Some(token) => request.header("cookie", format!("tend_session={token}")),
            None => request,
        }
    }

    /// A form POST with a session (when given) and a matching CSRF cookie and field.
    fn post_form(
        &self,
        path: &str,
        token: Option<&str>,
        fields: &[(&str, &str)],
    ) -> reqwest::RequestBuilder {
        let csrf = self.csrf.as_str();
        let mut body = url::form_urlencoded::Serializer::new(String::new());
        body.append_pair("csrf", csrf);
        for (k, v) in fields {
            body.append_pair(k, v);
        }
        let cookie = match token {
            Some(token) => format!("tend_session={token}; tend_csrf={csrf}"),
            None => format!("tend_csrf={csrf}"),
        };
        self.http
            .post(format!("{}{path}", self.url()))
            .header("cookie", cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.finish())
    }

    /// Plays one action of the mix, due at `due`.
    async fn act(&self, action: &'static str, due: Instant) {
        let ok = StatusCode::OK;
        let see_other = StatusCode::SEE_OTHER;
        match action {
            "caseload" | "client record" => {
                let n = rand::thread_rng().gen_range(0..self.therapists.len());
                let therapist = &self.therapists[n];
                let path = if action == "caseload" {
                    "/clients".to_string()
                } else {
                    let c = rand::thread_rng().gen_range(0..therapist.clients.len());
                    format!("/clients/{}", therapist.clients[c])
                };
                self.send(action, due, self.get(&path, Some(&therapist.token)), ok)
                    .await;
            }
            "directory search" => {
                let path = SEARCHES[rand::thread_rng().gen_range(0..SEARCHES.len())];
                let visit = self.get(path, None).header("x-forwarded-for", visitor());
                self.send(action, due, visit, ok).await;
            }
            "sign-in (form, then password)" => {
                let n = rand::thread_rng().gen_range(0..self.sign_in_emails.len());
                let ip = visitor();
                let form = self.get("/login", None).header("x-forwarded-for", &ip);
                if self.send("sign-in form", due, form, ok).await.is_some() {
                    let post = self
                        .post_form(
                            "/login",
                            None,
                            &[
                                ("email", &self.sign_in_emails[n]),
                                ("password", tend::demo::DEMO_PASSWORD),
                            ],
                        )
                        .header("x-forwarded-for", &ip);
                    self.send("sign-in password", Instant::now(), post, see_other)
                        .await;
                }
            }
            _ => {
                // Client actions: take a session no other task is using.
                let Some(mut client) = lock(&self.clients).pop_front() else {
                    lock(&self.failures).push("no free client session".into());
                    return;
                };
                self.client_act(action, due, &mut client).await;
                lock(&self.clients).push_back(client);
            }
        }
    }

    /// A client's action on their own session.
    async fn client_act(&self, action: &'static str, due: Instant, client: &mut ClientSession) {
        let (ok, see_other) = (StatusCode::OK, StatusCode::SEE_OTHER);
        let token = Some(client.token.as_str());
        match action {
            "client home" => {
                self.send(action, due, self.get("/", token), ok).await;
            }
            "journal page" => {
                self.send(action, due, self.get("/journal", token), ok)
                    .await;
            }
            "message thread" => {
                let path = format!("/messages/{}", client.conversation);
                self.send(action, due, self.get(&path, token), ok).await;
            }
            "message send" => {
                let path = format!("/messages/{}", client.conversation);
                let key = uuid::Uuid::new_v4().to_string();
                let body = "Thank you for today. I tried the breathing practice twice and it helped a little.";
                let post = self.post_form(&path, token, &[("body", body), ("client_key", &key)]);
                self.send(action, due, post, see_other).await;
            }
            "letter autosave" => {
                let text = format!(
                    "Dear me, this week was hard and you kept going anyway. Save {}.",
                    client.draft_version
                );
                let body = serde_json::json!({"text": text, "version": client.draft_version});
                let post = self
                    .http
                    .post(format!("{}/api/v1/drafts/{}", self.url(), client.draft))
                    .header("cookie", format!("tend_session={}", client.token))
                    .json(&body);
                if self.send(action, due, post, ok).await.is_some() {
                    client.draft_version += 1;
                }
            }
            _ => {
                // A questionnaire: open the form (which starts a response), then submit it.
                let path = format!("/measures/assignments/{}", client.assignment);
                let Some(form) = self
                    .send("questionnaire form", due, self.get(&path, token), ok)
                    .await
                else {
                    return;
                };
                let (Some(response), Some(version)) = (
                    between(&form, "action=\"/measures/responses/", "\""),
                    between(&form, "name=\"version\" value=\"", "\""),
                ) else {
                    lock(&self.failures).push("questionnaire form without a response".into());
                    return;
                };
                let mut fields: Vec<(String, String)> = (1..=9)
                    .map(|i| {
                        (
                            format!("item_{i}"),
                            (if i == 9 { 0 } else { i % 3 }).to_string(),
                        )
                    })
                    .collect();
                fields.push(("version".into(), version.to_string()));
                fields.push(("action".into(), "submit".into()));
                let fields: Vec<(&str, &str)> = fields
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                let post =
                    self.post_form(&format!("/measures/responses/{response}"), token, &fields);
                self.send("questionnaire submit", Instant::now(), post, see_other)
                    .await;
            }
        }
    }
}

/// A visitor's address as the practice's proxy reports it: visitors come from many places
/// (Tend's per-address limits are for one address, not a whole city).
fn visitor() -> String {
    let mut rng = rand::thread_rng();
    format!(
        "10.{}.{}.{}",
        rng.gen_range(0..=255),
        rng.gen_range(0..=255),
        rng.gen_range(1..=254)
    )
}

/// The text between `start` and the next `end`.
fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let len = text[from..].find(end)?;
    Some(&text[from..from + len])
}

/// Locks, shrugging off poisoning (a panicked task leaves plain data behind).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Picks an action by weight.
fn pick() -> &'static str {
    let total: u32 = MIX.iter().map(|(_, w)| w).sum();
    let mut roll = rand::thread_rng().gen_range(0..total);
    for (name, weight) in MIX {
        if roll < *weight {
            return name;
        }
        roll -= weight;
    }
    MIX[0].0
}

/// Adds the generator's clients to the demo practice and signs everyone in.
async fn prepare(state: &tend::web::AppState, urls: Vec<String>) -> Clinic {
    let mut therapists = Vec::new();
    let mut therapist_ids = Vec::new();
    for email in ["maya", "daniel", "priya"] {
        let user = state
            .db
            .user_by_email(&format!("{email}@tend.example"))
            .await
            .unwrap()
            .expect("the demo practice (run `tend demo` first)");
        therapist_ids.push(user.id);
        therapists.push(TherapistSession {
            token: session(state, user.id, "web").await,
            clients: Vec::new(),
        });
    }
    let mut clients = VecDeque::new();
    let run = uuid::Uuid::new_v4().simple().to_string();
    for n in 0..EXTRA_CLIENTS {
        let t = n % therapist_ids.len();
        let user = state
            .db
            .create_user(NewUser {
                email: &format!("day-{}-{n}@clinic.test", &run[..8]),
                name: &format!("Day Client {n}"),
                role: Role::Client,
                password_hash: None,
                therapist_id: Some(therapist_ids[t]),
            })
            .await
            .unwrap();
        therapists[t].clients.push(user.id);
        state.db.ensure_conversations(user.id).await.unwrap();
        let conversation = state.db.conversations_for(user.id).await.unwrap()[0].id;
        for _ in 0..2 {
            let draft = uuid::Uuid::now_v7();
            let sealed = state
                .sealer
                .seal(&format!("drafts.content:{draft}"), "")
                .await
                .unwrap();
            state
                .db
                .create_draft(draft, user.id, &sealed)
                .await
                .unwrap();
            let assignment = state
                .db
                .assign_measure(user.id, therapist_ids[t], "phq9", Some(14))
                .await
                .unwrap();
            clients.push_back(ClientSession {
                token: session(state, user.id, "web").await,
                draft,
                draft_version: 1,
                assignment,
                conversation,
            });
        }
    }
    let sign_in_emails = ["amara", "ben", "chloe", "dev", "elena", "farah", "george"]
        .iter()
        .map(|n| format!("{n}@tend.example"))
        .collect();
    Clinic {
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(256)
            .tcp_nodelay(true)
            .build()
            .unwrap(),
        urls,
        csrf: tend::crypto::token::new_token().0,
        next_url: AtomicU64::new(0),
        clients: Mutex::new(clients),
        therapists,
        sign_in_emails,
        times: Mutex::new(Vec::new()),
        flagged: AtomicU64::new(0),
        failures: Mutex::new(Vec::new()),
    }
}

/// Closed loop: `CONNECTIONS` tasks each play actions back to back for `seconds`; returns
/// completed requests per second.
async fn saturate(clinic: &Arc<Clinic>, seconds: f64) -> f64 {
    lock(&clinic.times).clear();
    let end = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let clinic = clinic.clone();
            tokio::spawn(async move {
                while Instant::now() < end {
                    clinic.act(pick(), Instant::now()).await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    lock(&clinic.times).len() as f64 / started.elapsed().as_secs_f64()
}

/// The hello-world's closed-loop request rate, with the same client and connections.
async fn ceiling(hello: &str, seconds: f64) -> f64 {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .tcp_nodelay(true)
        .build()
        .unwrap();
    let count = Arc::new(AtomicU64::new(0));
    let end = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let (http, count, url) = (http.clone(), count.clone(), format!("{hello}/healthz"));
            tokio::spawn(async move {
                while Instant::now() < end {
                    let r = http.get(&url).send().await.unwrap();
                    assert_eq!(r.status(), StatusCode::OK);
                    let _ = r.bytes().await;
                    count.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    count.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

/// Open loop: starts actions at a fixed rate for `seconds`, whatever the answers' speed.
/// `requests_per_action` converts the target request rate into actions.
async fn offer(clinic: &Arc<Clinic>, request_rate: f64, requests_per_action: f64, seconds: f64) {
    lock(&clinic.times).clear();
    let actions_per_second = request_rate / requests_per_action;
    let gap = Duration::from_secs_f64(1.0 / actions_per_second);
    let start = tokio::time::Instant::now();
    let total = (actions_per_second * seconds) as u64;
    let mut tasks = Vec::with_capacity(total as usize);
    for n in 0..total {
        let due = start + gap * n as u32;
        tokio::time::sleep_until(due).await;
        let clinic = clinic.clone();
        let due = due.into_std();
        tasks.push(tokio::spawn(async move { clinic.act(pick(), due).await }));
    }
    for task in tasks {
        task.await.unwrap();
    }
}

/// p50 and p99 in milliseconds.
fn percentiles(mut times: Vec<Duration>) -> (f64, f64) {
    if times.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    times.sort();
    let at = |p: f64| {
        times[((times.len() as f64 * p).ceil() as usize).saturating_sub(1)].as_secs_f64() * 1e3
    };
    (at(0.50), at(0.99))
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, hello, urls, seconds] = args.as_slice() else {
        eprintln!("usage: clinic_day <hello-url> <tend-url>[,<tend-url>…] <seconds>");
        std::process::exit(2);
    };
    let seconds: f64 = seconds.parse().unwrap();
    let urls: Vec<String> = urls.split(',').map(str::to_string).collect();
    let data_dir = std::env::var("TEND_DATA_DIR").unwrap_or_else(|_| "./tend-data".into());
    let mut config = tend::config::Config::for_data_dir(data_dir.into());
    config.database_url = std::env::var("DATABASE_URL").ok();
    let state = tend::app::build_state(config).await.unwrap();
    let clinic = Arc::new(prepare(&state, urls.clone()).await);
    drop(state);

    let hello_rate = ceiling(hello, seconds).await;
    saturate(&clinic, seconds.min(3.0)).await; // warm-up: caches, pools, the directory index
    lock(&clinic.failures).clear();
    let saturation = saturate(&clinic, seconds).await;
    let saturation_failures = std::mem::take(&mut *lock(&clinic.failures));
    // Two-step actions (a form, then its submission) send two requests.
    let weight = |two_step: bool| -> f64 {
        MIX.iter()
            .filter(|(n, _)| n.contains("then") == two_step)
            .map(|(_, w)| f64::from(*w))
            .sum()
    };
    let requests_per_action = 1.0 + weight(true) / (weight(true) + weight(false));
    println!(
        "instances {}  hello-world ceiling {hello_rate:.0} req/s  clinic-day saturation {saturation:.0} req/s ({:.0}% of the ceiling)",
        urls.len(),
        100.0 * saturation / hello_rate
    );
    if !saturation_failures.is_empty() {
        println!("  failures at saturation: {}", saturation_failures.len());
    }
    for share in [0.5, 0.7, 0.9] {
        let rate = saturation * share;
        clinic.flagged.store(0, Ordering::Relaxed);
        let began = Instant::now();
        offer(&clinic, rate, requests_per_action, seconds).await;
        let elapsed = began.elapsed().as_secs_f64();
        let times = std::mem::take(&mut *lock(&clinic.times));
        let done = times.len();
        let (p50, p99) = percentiles(times.iter().map(|(_, t)| *t).collect());
        let failures = std::mem::take(&mut *lock(&clinic.failures));
        let sends = times.iter().filter(|(n, _)| *n == "message send").count();
        let flagged = clinic.flagged.swap(0, Ordering::Relaxed);
        println!(
            "  at {:>3.0}% ({rate:>6.0} req/s offered): {:>6.0} req/s answered, p50 {p50:>6.2} ms, p99 {p99:>7.2} ms, failures {}, ordinary messages answered with crisis help {flagged}/{sends}",
            share * 100.0,
            done as f64 / elapsed,
            failures.len()
        );
        let mut kinds: Vec<&String> = failures.iter().collect();
        kinds.sort();
        kinds.dedup();
        for kind in kinds {
            let n = failures.iter().filter(|f| *f == kind).count();
            println!("      {n} × {kind}");
        }
        if share == 0.7 {
            let mut names: Vec<&str> = times.iter().map(|(n, _)| *n).collect();
            names.sort();
            names.dedup();
            for name in names {
                let (p50, p99) = percentiles(
                    times
                        .iter()
                        .filter(|(n, _)| *n == name)
                        .map(|(_, t)| *t)
                        .collect(),
                );
                println!("      {name:<28} p50 {p50:>6.2} ms  p99 {p99:>7.2} ms");
            }
        }
    }
}
