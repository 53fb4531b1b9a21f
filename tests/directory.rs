#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The directory end to end on the current backend: profiles, search (page and API agree,
//! operators never break it), matching, requests and the waitlist, photos, hours, booking
//! (one winner under contention), moving and cancelling within the policy, attendance,
//! reminders with calendar files, the private feed, video links and the admin's page.

mod support;

use axum::http::StatusCode;
use support::{TestApp, Visitor};
use tend::accounts::queries::User;
use tend::authz::Role;
use tend::directory::profile::ProfileInput;
use tend::directory::queries::DirectoryIndex;
use tend::directory::schedule::WeeklyWindow;
use time::{Duration, OffsetDateTime};

/// A valid profile input with these tags.
fn input(name: &str, bio: &str, tags: &[&str], fee: &str) -> ProfileInput {
    ProfileInput {
        display_name: name.into(),
        bio: bio.into(),
        approach: "Gentle, steady and curious.".into(),
        fee: fee.into(),
        time_zone: "America/New_York".into(),
        region: "New York".into(),
        accepting: true,
        published: true,
        tags: tags.iter().map(|t| t.to_string()).collect(),
        ..ProfileInput::default()
    }
}

/// Stores a profile for a new therapist and returns them.
async fn therapist_with(app: &TestApp, email: &str, p: ProfileInput) -> User {
    let t = app.user(Role::Therapist, email).await;
    app.db()
        .save_profile(t.id, &p.validate().unwrap())
        .await
        .unwrap();
    t
}

/// Tess Rowan, a listed therapist who treats grief by video in English, as t@x.test.
async fn tess(app: &TestApp) -> User {
    therapist_with(
        app,
        "t@x.test",
        input(
            "Tess Rowan",
            "I work with grief.",
            &["concern:grief", "language:en", "modality:video"],
            "80",
        ),
    )
    .await
}

/// The slugs of an API search.
async fn api_slugs(v: &mut Visitor<'_>, query: &str) -> Vec<String> {
    let r = v
        .get(&format!("/api/v1/directory/search?{query}"))
        .await
        .assert_status(StatusCode::OK);
    r.json()["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["slug"].as_str().unwrap().to_string())
        .collect()
}

/// The profile links of a search page, in order.
fn page_slugs(body: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(body);
    let sel = scraper::Selector::parse(".therapist-card h3 a").unwrap();
    doc.select(&sel)
        .map(|a| {
            a.value()
                .attr("href")
                .unwrap()
                .trim_start_matches("/directory/t/")
                .to_string()
        })
        .collect()
}

#[tokio::test]
async fn search_page_and_api_agree_and_never_break() {
    let app = TestApp::new().await;
    let ana_input = input(
        "Ana Grief",
        "I walk beside people in grief and loss.",
        &[
            "concern:grief",
            "language:en",
            "language:es",
            "modality:video",
        ],
        "60",
    );
    let ana = therapist_with(&app, "a@x.test", ana_input.clone()).await;
    therapist_with(
        &app,
        "b@x.test",
        input(
            "Ben Worry",
            "Anxiety and panic are my focus; grief too sometimes.",
            &[
                "concern:anxiety",
                "concern:grief",
                "language:en",
                "modality:video",
            ],
            "150",
        ),
    )
    .await;
    let mut hidden = input(
        "Cy Hidden",
        "Grief work.",
        &["concern:grief", "language:en", "modality:video"],
        "50",
    );
    hidden.published = false;
    therapist_with(&app, "c@x.test", hidden).await;
    let mut v = app.visitor();

    // Text with filters: page and API list the same therapists in the same order.
    for q in [
        "q=grief",
        "q=grief&language=es",
        "q=grieving&modality=video&max_fee=100",
        "concern=grief&sort=fee",
        "sort=name",
    ] {
        let api = api_slugs(&mut v, q).await;
        let page = v
            .get(&format!("/directory?{q}"))
            .await
            .assert_status(StatusCode::OK);
        assert_eq!(page_slugs(&page.body), api, "{q}");
    }
    assert_eq!(
        api_slugs(&mut v, "q=grief").await.len(),
        2,
        "unpublished profiles never show"
    );
    assert_eq!(api_slugs(&mut v, "q=grief&language=es").await.len(), 1);
    assert_eq!(api_slugs(&mut v, "q=grief&max_fee=100").await.len(), 1);
    // Stemming: "panics" finds a bio that says "panic".
    assert_eq!(api_slugs(&mut v, "q=panics").await.len(), 1);
    // Filters narrow words and stand alone; typed words never match a filter's index word.
    let ben = api_slugs(&mut v, "q=panics").await;
    assert_eq!(api_slugs(&mut v, "q=grief&concern=anxiety").await, ben);
    assert_eq!(api_slugs(&mut v, "concern=grief").await.len(), 2);
    assert_eq!(api_slugs(&mut v, "q=tagconcerngrief").await.len(), 0);
    // Saving a profile rewrites its filter words with its tags.
    let mut changed = ana_input;
    changed.tags.retain(|t| t != "concern:grief");
    changed.tags.push("concern:loneliness".into());
    app.db()
        .save_profile(ana.id, &changed.validate().unwrap())
        .await
        .unwrap();
    assert_eq!(api_slugs(&mut v, "concern=grief").await, ben);
    assert_eq!(api_slugs(&mut v, "q=grief&language=es").await.len(), 1);
    let r = v.get("/api/v1/directory/search?concern=grief").await;
    assert_eq!(r.json()["total"].as_i64(), Some(1));

    // Relevance: a word in the name, then in the approach statement, then only in the bio.
    let mut dee = input(
        "Dee Lowe",
        "I listen.",
        &["concern:stress", "language:en", "modality:phone"],
        "70",
    );
    dee.approach = "Grief work, at your pace.".into();
    therapist_with(&app, "d@x.test", dee).await;
    let ana = api_slugs(&mut v, "q=ana").await;
    let dee = api_slugs(&mut v, "q=dee").await;
    let expected: Vec<String> = [ana, dee, ben.clone()].concat();
    assert_eq!(api_slugs(&mut v, "q=grief").await, expected);
    // A page past the end still knows how many there are.
    let r = v.get("/api/v1/directory/search?q=grief&page=3").await;
    assert_eq!(r.json()["total"].as_i64(), Some(3));
    assert_eq!(r.json()["results"].as_array().map(Vec::len), Some(0));

    // Operators and quotes are plain text, never syntax.
    for nasty in [
        "%22",
        "grief%22%20OR%20%22",
        "NEAR(grief%20anxiety)",
        "*",
        "grief%20-anxiety",
        "a:b%20%26%20c%20%7C%20!d",
        "%27%3B%20DROP%20TABLE%20users%3B--",
    ] {
        v.get(&format!("/directory?q={nasty}"))
            .await
            .assert_status(StatusCode::OK);
        v.get(&format!("/api/v1/directory/search?q={nasty}"))
            .await
            .assert_status(StatusCode::OK);
    }

    // Bad filters name their field.
    let r = v
        .get("/api/v1/directory/search?concern=astrology&max_fee=-5&page=0")
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.body.clone();
    for field in ["concern", "max_fee", "page"] {
        assert!(body.contains(field), "{field} missing from {body}");
    }
    v.get("/directory?max_fee=abc")
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn profiles_are_validated_saved_and_shown() {
    let app = TestApp::new().await;
    let t = app.user(Role::Therapist, "maya@x.test").await;
    let mut v = app.signed_in(&t).await;
    let r = v
        .post_form(
            "/directory/profile",
            &[
                ("display_name", "Maya"),
                ("bio", "Hello."),
                ("approach_statement", "Kindly."),
                ("fee", "-10"),
                ("time_zone", "Mars/Base"),
                ("concern", "anxiety"),
                ("modality", "in-person"),
                ("language", "en"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("be below zero"), "{}", r.body);
    assert!(r.body.contains("Mars/Base"));
    assert!(r.body.contains("Add the address"));
    assert!(
        app.db().profile_for_user(t.id).await.unwrap().is_none(),
        "nothing half-saved"
    );

    let r = v
        .post_form(
            "/directory/profile",
            &[
                ("display_name", "Maya Okafor"),
                ("bio", "I help with worry."),
                ("approach_statement", "Kindly."),
                ("fee", "90"),
                ("sliding_scale_min", "40"),
                ("time_zone", "Europe/London"),
                ("concern", "anxiety"),
                ("modality", "video"),
                ("language", "en"),
                ("accepting", "1"),
                ("published", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let p = app.db().profile_for_user(t.id).await.unwrap().unwrap();
    assert_eq!(p.row.fee_cents, 9000);
    assert_eq!(p.row.licence_status, "unverified");
    let page = app
        .visitor()
        .get(&format!("/directory/t/{}", p.row.slug))
        .await
        .assert_status(StatusCode::OK);
    assert!(page.body.contains("Maya Okafor") && page.body.contains("sliding scale from $40"));

    // Admin verifies and hides; hidden profiles 404 for the public.
    let admin = app.user(Role::Admin, "admin@x.test").await;
    let mut a = app.signed_in(&admin).await;
    a.post_form(
        &format!("/admin/directory/{}", t.id),
        &[("action", "verify")],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    assert_eq!(
        app.db()
            .profile_for_user(t.id)
            .await
            .unwrap()
            .unwrap()
            .row
            .licence_status,
        "verified"
    );
    a.post_form(&format!("/admin/directory/{}", t.id), &[("action", "hide")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    app.visitor()
        .get(&format!("/directory/t/{}", p.row.slug))
        .await
        .assert_status(StatusCode::NOT_FOUND);
    v.get(&format!("/directory/t/{}", p.row.slug))
        .await
        .assert_status(StatusCode::OK);
    assert!(
        a.get("/admin/directory")
            .await
            .body
            .contains("hidden by the practice")
    );
}

/// Posts a multipart body to the photo upload.
async fn upload_photo(v: &mut Visitor<'_>, body: Vec<u8>) -> support::TestResponse {
    v.request(
        axum::http::Method::POST,
        "/directory/profile/photo",
        Some(&format!("multipart/form-data; boundary={BOUNDARY}")),
        body,
    )
    .await
}

/// The multipart boundary the photo tests use.
const BOUNDARY: &str = "XyZ";

/// A multipart body with the CSRF token and one file.
fn multipart(csrf: &str, file: &[u8]) -> Vec<u8> {
    let boundary = BOUNDARY;
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"me.png\"\r\nContent-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    body
}

#[tokio::test]
async fn photos_are_resized_and_bad_files_refused() {
    let app = TestApp::new().await;
    let t = tess(&app).await;
    let mut v = app.signed_in(&t).await;
    v.get("/directory/profile")
        .await
        .assert_status(StatusCode::OK);
    let csrf = v.cookies.get("tend_csrf").cloned().unwrap();
    let r = upload_photo(&mut v, multipart(&csrf, b"not an image at all")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("isn"), "{}", r.body);

    let r = upload_photo(&mut v, multipart(&csrf, &vec![0u8; 6 * 1024 * 1024])).await;
    assert!(
        r.status == StatusCode::UNPROCESSABLE_ENTITY || r.status == StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        r.status
    );

    let mut png = Vec::new();
    image::RgbImage::from_pixel(900, 600, image::Rgb([200, 120, 90]))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let r = upload_photo(&mut v, multipart("wrong-token", &png)).await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "a photo without the page's token is refused"
    );
    let r = upload_photo(&mut v, multipart(&csrf, &png)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let (jpeg, _) = app.db().photo(t.id).await.unwrap().unwrap();
    let img = image::load_from_memory(&jpeg).unwrap();
    assert_eq!((img.width(), img.height()), (400, 400));
    let r = app
        .visitor()
        .get(&format!("/directory/photos/{}", t.id))
        .await
        .assert_status(StatusCode::OK);
    assert_eq!(r.headers["content-type"], "image/jpeg");
}

#[tokio::test]
async fn requests_reach_the_therapist_who_accepts_or_declines_kindly() {
    let app = TestApp::new().await;
    let t = tess(&app).await;
    therapist_with(
        &app,
        "o@x.test",
        input(
            "Olu Other",
            "Grief and loss.",
            &["concern:grief", "language:en", "modality:video"],
            "70",
        ),
    )
    .await;
    let slug = app
        .db()
        .profile_for_user(t.id)
        .await
        .unwrap()
        .unwrap()
        .row
        .slug;
    let mut visitor = app.visitor();
    visitor
        .get(&format!("/directory/t/{slug}/request"))
        .await
        .assert_status(StatusCode::OK);
    let r = visitor
        .post_form(
            &format!("/directory/t/{slug}/request"),
            &[("name", ""), ("email", "nope"), ("message", "hi")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = visitor
        .post_form(
            &format!("/directory/t/{slug}/request"),
            &[
                ("name", "Sam Lee"),
                ("email", "sam@x.test"),
                ("message", "Since my dad died I can't stop crying at work."),
            ],
        )
        .await
        .assert_status(StatusCode::OK);
    assert!(r.body.contains("on its way"));
    assert!(
        !r.body.contains("crisis-heading"),
        "no crisis block for ordinary sadness"
    );
    let r = app
        .visitor()
        .post_form(
            &format!("/directory/t/{slug}/request"),
            &[
                ("name", "Jo"),
                ("email", "jo@x.test"),
                (
                    "message",
                    "I want to kill myself, I have a plan for tonight.",
                ),
            ],
        )
        .await
        .assert_status(StatusCode::OK);
    assert!(
        r.body.contains("crisis-heading"),
        "crisis lines shown at once"
    );
    app.drain_jobs().await;
    let mail = app.outbox().join("\n");
    assert!(mail.contains("Someone asked to work with you on Tend"));
    assert!(
        !mail.contains("crying at work"),
        "emails never carry what people wrote"
    );

    let mut tv = app.signed_in(&t).await;
    let page = tv
        .get("/directory/requests")
        .await
        .assert_status(StatusCode::OK);
    assert!(
        page.body.contains("crying at work"),
        "the therapist reads it in the app"
    );
    let first_urgent = page.body.find("Jo").unwrap() < page.body.find("Sam Lee").unwrap();
    assert!(first_urgent, "urgent requests come first");
    assert!(
        page.body.contains("/directory/t/olu-other"),
        "the decline template suggests colleagues"
    );
    let requests = app.db().requests_for(t.id).await.unwrap();
    let sam = requests.iter().find(|r| r.name == "Sam Lee").unwrap();
    let jo = requests.iter().find(|r| r.name == "Jo").unwrap();
    tv.post_form(
        &format!("/directory/requests/{}", sam.id),
        &[("action", "accept")],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    tv.post_form(
        &format!("/directory/requests/{}", sam.id),
        &[("action", "accept")],
    )
    .await
    .assert_status(StatusCode::CONFLICT);
    tv.post_form(
        &format!("/directory/requests/{}", jo.id),
        &[
            ("action", "decline"),
            (
                "note",
                "I'm so sorry I can't offer a place. Olu may be a good fit.",
            ),
        ],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    app.drain_jobs().await;
    let mail = app.outbox().join("\n");
    assert!(
        mail.contains("/invitations/"),
        "accepting sends an invitation"
    );
    assert!(mail.contains("Olu may be a good fit"));

    // Another therapist cannot act on it.
    let other = app.user(Role::Therapist, "x@x.test").await;
    app.signed_in(&other)
        .await
        .post_form(
            &format!("/directory/requests/{}", jo.id),
            &[("action", "accept")],
        )
        .await
        .assert_status(StatusCode::NOT_FOUND);

    // Not accepting: the same form joins the waitlist.
    let mut p = input(
        "Tess Rowan",
        "I work with grief.",
        &["concern:grief", "language:en", "modality:video"],
        "80",
    );
    p.accepting = false;
    app.db()
        .save_profile(t.id, &p.validate().unwrap())
        .await
        .unwrap();
    let r = app
        .visitor()
        .post_form(
            &format!("/directory/t/{slug}/request"),
            &[("name", "Kim"), ("email", "kim@x.test")],
        )
        .await
        .assert_status(StatusCode::OK);
    assert!(r.body.contains("on the waitlist"));
    assert!(
        app.db()
            .requests_for(t.id)
            .await
            .unwrap()
            .iter()
            .any(|r| r.name == "Kim" && r.waitlist)
    );
}

#[tokio::test]
async fn matching_explains_every_result() {
    let app = TestApp::new().await;
    let mut p = input(
        "Lucia Soto",
        "Worry and panic.",
        &[
            "concern:anxiety",
            "language:en",
            "language:es",
            "modality:video",
        ],
        "120",
    );
    p.sliding_scale_min = "40".into();
    let t = therapist_with(&app, "l@x.test", p).await;
    app.db()
        .replace_windows(
            t.id,
            &[WeeklyWindow {
                weekday: 2,
                start_minute: 17 * 60,
                end_minute: 20 * 60,
            }],
        )
        .await
        .unwrap();
    therapist_with(
        &app,
        "e@x.test",
        input(
            "English Only",
            "Worry.",
            &["concern:anxiety", "language:en", "modality:video"],
            "50",
        ),
    )
    .await;
    let r = app
        .visitor()
        .get("/directory/match?concern=anxiety&language=es&budget=40&time=evenings&modality=video")
        .await
        .assert_status(StatusCode::OK);
    assert!(r.body.contains("treats anxiety · speaks Spanish · sliding scale to $40 · offers video · evenings available"), "{}", r.body);
    assert!(
        !r.body.contains("English Only"),
        "a language need leaves others out"
    );
    app.visitor()
        .get("/directory/match?concern=astrology")
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
}

/// A therapist in New York with Monday–Sunday 09:00–17:00 and a 50-minute video session,
/// and `n` clients. Returns (therapist, session type id, clients).
async fn practice(app: &TestApp, n: usize) -> (User, uuid::Uuid, Vec<User>) {
    let t = tess(app).await;
    let windows: Vec<WeeklyWindow> = (0..7)
        .map(|d| WeeklyWindow {
            weekday: d,
            start_minute: 9 * 60,
            end_minute: 17 * 60,
        })
        .collect();
    app.db().replace_windows(t.id, &windows).await.unwrap();
    let st = app
        .db()
        .add_session_type(t.id, "Individual session", 50, "video", 9000)
        .await
        .unwrap();
    let mut clients = Vec::new();
    for i in 0..n {
        clients.push(app.client_of(&t, &format!("c{i}@x.test")).await);
    }
    (t, st, clients)
}

/// The first slot value (Unix seconds) on a booking page.
fn first_slot(body: &str) -> String {
    let doc = scraper::Html::parse_document(body);
    let sel = scraper::Selector::parse("button.slot").unwrap();
    doc.select(&sel)
        .next()
        .expect("a free slot")
        .value()
        .attr("value")
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn two_clients_booking_one_slot_at_once_exactly_one_wins() {
    let app = TestApp::new().await;
    let (t, st, clients) = practice(&app, 2).await;
    let mut a = app.signed_in(&clients[0]).await;
    let mut b = app.signed_in(&clients[1]).await;
    let page = a
        .get(&format!("/appointments/book/{}?type={st}", t.id))
        .await
        .assert_status(StatusCode::OK);
    let slot = first_slot(&page.body);
    b.get(&format!("/appointments/book/{}?type={st}", t.id))
        .await;
    let st_s = st.to_string();
    let path = format!("/appointments/book/{}", t.id);
    let fields = [("session_type", st_s.as_str()), ("start", slot.as_str())];
    let (ra, rb) = tokio::join!(a.post_form(&path, &fields), b.post_form(&path, &fields));
    let mut statuses = [ra.status, rb.status];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::SEE_OTHER, StatusCode::UNPROCESSABLE_ENTITY],
        "{} / {}",
        ra.body,
        rb.body
    );
    let loser = if ra.status == StatusCode::SEE_OTHER {
        rb
    } else {
        ra
    };
    assert!(loser.body.contains("choose another"), "{}", loser.body);

    // The storage contract alone, many at once: exactly one row.
    let start = OffsetDateTime::now_utc() + Duration::days(3);
    let mut tasks = Vec::new();
    for i in 0..8 {
        let db = app.db().clone();
        let client = clients[i % 2].id;
        let therapist = t.id;
        tasks.push(tokio::spawn(async move {
            db.book(&tend::directory::queries::NewAppointment {
                id: tend::db::new_id(),
                therapist_id: therapist,
                client_id: client,
                session_type_id: st,
                starts_at: start.into(),
                ends_at: (start + Duration::minutes(50)).into(),
                modality: "video".into(),
                fee_cents: 9000,
                room: format!("r{i}"),
                by: client,
            })
            .await
            .is_ok()
        }));
    }
    let mut wins = 0;
    for task in tasks {
        if task.await.unwrap() {
            wins += 1;
        }
    }
    assert_eq!(wins, 1);
}

#[tokio::test]
async fn bookings_follow_hours_and_the_change_policy() {
    let app = TestApp::builder()
        .config(|c| {
            c.jitsi_url = Some("https://meet.example.org/".into());
            c.cancel_window_hours = 24;
        })
        .build()
        .await;
    let (t, st, clients) = practice(&app, 1).await;
    let st_s = st.to_string();
    let mut c = app.signed_in(&clients[0]).await;
    c.post_form("/appointments/time-zone", &[("time_zone", "Mars/Base")])
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    c.post_form("/appointments/time-zone", &[("time_zone", "Europe/London")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let path = format!("/appointments/book/{}", t.id);
    let past = (OffsetDateTime::now_utc() - Duration::hours(3))
        .unix_timestamp()
        .to_string();
    let r = c
        .post_form(&path, &[("session_type", &st_s), ("start", &past)])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("already passed"));
    // 03:00 in New York is outside 09:00–17:00.
    let tomorrow = OffsetDateTime::now_utc() + Duration::days(2);
    let night = tomorrow
        .replace_time(time::Time::from_hms(8, 0, 0).unwrap())
        .unix_timestamp()
        .to_string();
    let r = c
        .post_form(&path, &[("session_type", &st_s), ("start", &night)])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("t free in your therapist"), "{}", r.body);
    // Someone else's therapist: 404.
    let stranger = app.user(Role::Therapist, "s@x.test").await;
    c.get(&format!("/appointments/book/{}", stranger.id))
        .await
        .assert_status(StatusCode::NOT_FOUND);

    // Book three days out, then move it; the video link uses the configured base.
    let page = c
        .get(&format!("/appointments/book/{}?type={st}&week=0", t.id))
        .await;
    let doc = scraper::Html::parse_document(&page.body);
    let sel = scraper::Selector::parse("button.slot").unwrap();
    let slots: Vec<i64> = doc
        .select(&sel)
        .map(|b| b.value().attr("value").unwrap().parse().unwrap())
        .collect();
    let far: Vec<i64> = slots
        .iter()
        .copied()
        .filter(|s| *s > OffsetDateTime::now_utc().unix_timestamp() + 3 * 86_400)
        .collect();
    let first = far[0].to_string();
    c.post_form(&path, &[("session_type", &st_s), ("start", &first)])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let list = c.get("/appointments").await.assert_status(StatusCode::OK);
    assert!(
        list.body.contains("https://meet.example.org/tend-"),
        "{}",
        list.body
    );
    assert!(list.body.contains("Europe/London"));
    let appt = app
        .db()
        .appointments_for(clients[0].id, tend::db::Timestamp::now(), 500)
        .await
        .unwrap()
        .remove(0);
    let next = far[1].to_string();
    c.post_form(
        &format!("/appointments/{}/reschedule", appt.id),
        &[("start", &next)],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    let moved = app.db().appointment(appt.id).await.unwrap().unwrap();
    assert_eq!(moved.starts_at.inner().unix_timestamp(), far[1]);
    assert_eq!(moved.sequence, 1);
    // The therapist's caseload shows the client's next session, at its new time.
    let next_sessions = app.db().next_sessions(t.id).await.unwrap();
    assert_eq!(next_sessions, [(clients[0].id, moved.starts_at)]);
    let caseload = app.signed_in(&t).await.get("/clients").await;
    assert!(
        caseload.body.contains(&moved.starts_at.display()),
        "{}",
        caseload.body
    );

    // Reminders: queued for the new time; the one for the old time sends nothing.
    app.drain_jobs().await;
    let before = app.outbox().len();
    tend::directory::booking::send_reminder(&app.state, appt.id, far[0], 24)
        .await
        .unwrap();
    assert_eq!(
        app.outbox().len(),
        before,
        "a moved session's old reminder stays quiet"
    );
    tend::directory::booking::send_reminder(&app.state, appt.id, far[1], 1)
        .await
        .unwrap();
    let mails = app.outbox();
    assert_eq!(mails.len(), before + 1);
    let reminder = mails
        .iter()
        .find(|m| m.contains("Reminder: your session"))
        .unwrap();
    assert!(reminder.contains("text/calendar") && reminder.contains("session.ics"));

    // Within the policy window a client cannot cancel; the therapist can.
    let soon = OffsetDateTime::now_utc() + Duration::hours(5);
    let id = tend::db::new_id();
    app.db()
        .book(&tend::directory::queries::NewAppointment {
            id,
            therapist_id: t.id,
            client_id: clients[0].id,
            session_type_id: st,
            starts_at: soon.into(),
            ends_at: (soon + Duration::minutes(50)).into(),
            modality: "video".into(),
            fee_cents: 9000,
            room: "room".into(),
            by: clients[0].id,
        })
        .await
        .unwrap();
    let r = c
        .post_form(&format!("/appointments/{id}/cancel"), &[])
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("24 hours"));
    let mut tv = app.signed_in(&t).await;
    tv.post_form(&format!("/appointments/{id}/cancel"), &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    assert_eq!(
        app.db().appointment(id).await.unwrap().unwrap().status,
        "cancelled"
    );
    // Attendance only after the start.
    tv.post_form(
        &format!("/appointments/{}/attendance", appt.id),
        &[("status", "no_show")],
    )
    .await
    .assert_status(StatusCode::UNPROCESSABLE_ENTITY);

    // The private feed parses as iCalendar; the file goes to the independent validator.
    let r = c
        .post_form("/appointments/feed", &[])
        .await
        .assert_status(StatusCode::OK);
    let doc = scraper::Html::parse_document(&r.body);
    let url = doc
        .select(&scraper::Selector::parse("code.break").unwrap())
        .next()
        .unwrap()
        .text()
        .collect::<String>();
    let path = url.trim_start_matches("http://tend.test");
    let feed = app.visitor().get(path).await.assert_status(StatusCode::OK);
    assert!(
        feed.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/calendar")
    );
    assert!(feed.body.starts_with("BEGIN:VCALENDAR\r\n"));
    assert!(feed.body.contains(&format!("UID:{}@tend", appt.id)));
    assert!(feed.body.contains("SEQUENCE:1"));
    assert!(feed.body.contains("STATUS:CANCELLED"));
    let therapist_feed = {
        let r = tv.post_form("/appointments/feed", &[]).await;
        let doc = scraper::Html::parse_document(&r.body);
        let url = doc
            .select(&scraper::Selector::parse("code.break").unwrap())
            .next()
            .unwrap()
            .text()
            .collect::<String>();
        app.visitor()
            .get(url.trim_start_matches("http://tend.test"))
            .await
            .body
    };
    assert!(
        !therapist_feed.contains("C0"),
        "therapists' feeds carry initials, not client names"
    );
    app.visitor()
        .get("/calendar/not-a-token.ics")
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("ics");
    std::fs::create_dir_all(&out).unwrap();
    let backend = if support::backend_is_postgres() {
        "postgres"
    } else {
        "sqlite"
    };
    std::fs::write(out.join(format!("{backend}-client-feed.ics")), &feed.body).unwrap();
    std::fs::write(
        out.join(format!("{backend}-therapist-feed.ics")),
        &therapist_feed,
    )
    .unwrap();
}

#[tokio::test]
async fn hours_days_away_and_session_types_are_edited_with_clear_errors() {
    let app = TestApp::new().await;
    let t = tess(&app).await;
    let mut v = app.signed_in(&t).await;
    v.post_form(
        "/directory/hours/windows",
        &[("weekday", "1"), ("start", "09:00"), ("end", "12:00")],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    let r = v
        .post_form(
            "/directory/hours/windows",
            &[("weekday", "1"), ("start", "11:00"), ("end", "13:00")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("overlap"), "{}", r.body);
    assert_eq!(
        app.db().windows(t.id).await.unwrap().len(),
        1,
        "nothing half-saved"
    );
    let window = app.db().windows(t.id).await.unwrap().remove(0).id;
    let other = app.user(Role::Therapist, "o@x.test").await;
    app.signed_in(&other)
        .await
        .post_form(&format!("/directory/hours/windows/{window}/delete"), &[])
        .await
        .assert_status(StatusCode::NOT_FOUND);
    v.post_form(&format!("/directory/hours/windows/{window}/delete"), &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    assert!(app.db().windows(t.id).await.unwrap().is_empty());

    let r = v
        .post_form(
            "/directory/hours/exceptions",
            &[("date", "2020-01-01"), ("kind", "off")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("already passed"));
    let next_year = format!("{}-06-01", OffsetDateTime::now_utc().year() + 1);
    v.post_form(
        "/directory/hours/exceptions",
        &[("date", &next_year), ("kind", "off")],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    let exception = app
        .db()
        .exceptions(t.id, "2000-01-01")
        .await
        .unwrap()
        .remove(0)
        .id;
    v.post_form(
        &format!("/directory/hours/exceptions/{exception}/delete"),
        &[],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);

    let r = v
        .post_form(
            "/directory/hours/session-types",
            &[
                ("name", "Session"),
                ("minutes", "5"),
                ("modality", "video"),
                ("fee", "-1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("10 to 240 minutes") && r.body.contains("below zero"));
    v.post_form(
        "/directory/hours/session-types",
        &[
            ("name", "Session"),
            ("minutes", "50"),
            ("modality", "video"),
            ("fee", "90"),
        ],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    let st = app
        .db()
        .session_types(t.id, true)
        .await
        .unwrap()
        .remove(0)
        .id;
    v.post_form(&format!("/directory/hours/session-types/{st}/retire"), &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    assert!(app.db().session_types(t.id, true).await.unwrap().is_empty());
}

/// Profiles saved before the facets migration (20261126000009) are found by their filters
/// after it: the migration fills in `facets` from the tags and rebuilds the index.
#[tokio::test]
async fn the_facets_migration_fills_in_existing_profiles() {
    use tend::directory::search::SearchQuery;
    let dir = tempfile::tempdir().unwrap();
    let pg = if support::backend_is_postgres() {
        Some(support::PgDatabase::create().await)
    } else {
        None
    };
    let db = tend::db::Db::connect(pg.as_ref().map(|p| p.url.as_str()), dir.path())
        .await
        .unwrap();
    // The migrations up to the one before, as a practice that last upgraded then has them.
    let folder = match db.backend() {
        tend::db::Backend::Sqlite => "migrations/sqlite",
        tend::db::Backend::Postgres => "migrations/postgres",
    };
    let earlier = dir.path().join("earlier");
    std::fs::create_dir(&earlier).unwrap();
    for entry in
        std::fs::read_dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(folder)).unwrap()
    {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.as_str() < "20261126000009" {
            std::fs::copy(&path, earlier.join(&name)).unwrap();
        }
    }
    let migrator = sqlx::migrate::Migrator::new(earlier.as_path())
        .await
        .unwrap();
    let id = uuid::Uuid::now_v7();
    let now = tend::db::Timestamp::now();
    tend::with_pool!(&db, |pool| {
        migrator.run(pool).await.unwrap();
        sqlx::query("INSERT INTO users (id, email, name, role, created_at, updated_at) VALUES ($1, 'old@x.test', 'Old', 'therapist', $2, $2)")
            .bind(id).bind(now).execute(pool).await.unwrap();
        sqlx::query("INSERT INTO directory_profiles (user_id, slug, display_name, bio, approach, region, fee_cents, accepting, time_zone, published, created_at, updated_at) \
                     VALUES ($1, 'olive-ash', 'Olive Ash', 'Grief, gently.', 'Slowly.', 'Region', 5000, TRUE, 'UTC', TRUE, $2, $2)")
            .bind(id).bind(now).execute(pool).await.unwrap();
        for tag in ["concern:self-esteem", "language:en", "modality:in-person"] {
            sqlx::query("INSERT INTO directory_tags (tag, user_id) VALUES ($1, $2)")
                .bind(tag)
                .bind(id)
                .execute(pool)
                .await
                .unwrap();
        }
    });
    db.migrate().await.unwrap();
    for (query, expected) in [
        ("concern=self-esteem&modality=in-person", 1),
        ("q=grief&concern=self-esteem&language=en", 1),
        ("q=grief&modality=video", 0),
    ] {
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let (found, hits) = DirectoryIndex::default()
            .search(&db, &SearchQuery::from_pairs(&pairs).unwrap())
            .await
            .unwrap();
        assert_eq!(
            (found.total, hits.len()),
            (expected, expected as usize),
            "{query}"
        );
    }
}

/// The slugs `index` finds for `query`.
async fn index_slugs(app: &TestApp, index: &DirectoryIndex, query: &str) -> Vec<String> {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let q = tend::directory::search::SearchQuery::from_pairs(&pairs).unwrap();
    let (found, hits) = index.search(app.db(), &q).await.unwrap();
    assert_eq!(found.total, hits.len() as i64, "{query}");
    hits.into_iter().map(|h| h.profile.row.slug).collect()
}

#[tokio::test]
async fn every_instance_sees_each_change_by_its_next_search() {
    const TAGS: &[&str] = &["concern:stress", "language:en", "modality:video"];
    let app = TestApp::new().await;
    let tess = tess(&app).await;
    // Two processes' indexes over one database, each built on its first search.
    let (one, two) = (DirectoryIndex::default(), DirectoryIndex::default());
    let tess_slug = index_slugs(&app, &one, "q=grief").await;
    assert_eq!(tess_slug.len(), 1);
    assert_eq!(index_slugs(&app, &two, "q=grief").await, tess_slug);

    // A change saved anywhere (here straight through storage) is found by both.
    let mut changed = input(
        "Tess Rowan",
        "I work with burnout.",
        &["concern:stress", "language:en", "modality:video"],
        "80",
    );
    app.db()
        .save_profile(tess.id, &changed.clone().validate().unwrap())
        .await
        .unwrap();
    for index in [&one, &two] {
        assert!(index_slugs(&app, index, "q=grief").await.is_empty());
        assert_eq!(
            index_slugs(&app, index, "q=burnouts&concern=stress").await,
            tess_slug
        );
    }

    // A new therapist, an admin hiding one, and unpublishing: each reaches both.
    let ana = therapist_with(
        &app,
        "a@x.test",
        input("Ana Quill", "Burnout and rest.", TAGS, "60"),
    )
    .await;
    assert_eq!(index_slugs(&app, &two, "q=burnout").await.len(), 2);
    app.db().set_profile_hidden(ana.id, true).await.unwrap();
    assert_eq!(index_slugs(&app, &one, "q=burnout").await, tess_slug);
    changed.published = false;
    app.db()
        .save_profile(tess.id, &changed.validate().unwrap())
        .await
        .unwrap();
    assert!(index_slugs(&app, &two, "q=burnout").await.is_empty());
    assert!(index_slugs(&app, &one, "").await.is_empty());

    // Writers racing each get their own version, and an index that saw the last of them
    // has every one.
    let mut racers = Vec::new();
    for n in 0..6 {
        let t = app.user(Role::Therapist, &format!("r{n}@x.test")).await;
        let db = app.db().clone();
        let p = input(&format!("Racer {n}"), "Sleep and rest.", TAGS, "50");
        racers.push(tokio::spawn(async move {
            db.save_profile(t.id, &p.validate().unwrap()).await.unwrap()
        }));
    }
    for r in racers {
        r.await.unwrap();
    }
    assert_eq!(index_slugs(&app, &one, "q=sleep").await.len(), 6);

    // Each write got a newer version than the last, so nothing is skipped.
    let newest = app.db().listings_since(-1, 1000).await.unwrap();
    let versions: Vec<i64> = newest.iter().map(|l| l.version).collect();
    assert!(versions.windows(2).all(|w| w[0] < w[1]), "{versions:?}");
    assert!(
        app.db()
            .listings_since(versions[versions.len() - 1], 1000)
            .await
            .unwrap()
            .is_empty()
    );
}
