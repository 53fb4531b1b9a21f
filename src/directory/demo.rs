//! The demo directory: 40 fictional therapists written for Tend
//! (`directory/demo_profiles.json`), profiles for the demo practice's own therapists, their
//! hours and session types, and upcoming appointments for demo clients.

use serde::Deserialize;
use time::{Duration, OffsetDateTime};

use super::profile::ProfileInput;
use super::queries::NewAppointment;
use super::schedule::{WeeklyWindow, parse_hhmm};
use super::vocab::Facet;
use crate::accounts::queries::NewUser;
use crate::authz::Role;
use crate::db::{Timestamp, new_id};
use crate::web::AppState;

/// The demo profiles, embedded.
const PROFILES: &str = include_str!("../../directory/demo_profiles.json");

/// One weekly window in the file.
#[derive(Deserialize)]
struct Hours {
    /// 0 = Monday.
    weekday: u8,
    /// `HH:MM`.
    start: String,
    /// `HH:MM`.
    end: String,
}

/// One session type in the file.
#[derive(Deserialize)]
struct Offer {
    /// Name.
    name: String,
    /// Minutes.
    minutes: i64,
    /// Modality slug.
    modality: String,
    /// Whole currency units.
    fee: i64,
}

/// One demo therapist.
#[derive(Deserialize)]
struct DemoProfile {
    /// Name.
    name: String,
    /// Pronouns.
    pronouns: String,
    /// Gender slug.
    gender: String,
    /// Qualifications.
    credentials: String,
    /// Licence number.
    licence_number: String,
    /// Licence region.
    licence_region: String,
    /// Whether the practice has verified it.
    verified: bool,
    /// About them.
    bio: String,
    /// How they work.
    approach: String,
    /// Concern slugs.
    concerns: Vec<String>,
    /// Approach slugs.
    approaches: Vec<String>,
    /// Language codes.
    languages: Vec<String>,
    /// Modality slugs.
    modalities: Vec<String>,
    /// Whole currency units.
    fee: i64,
    /// Whole currency units.
    sliding_scale_min: Option<i64>,
    /// Insurers.
    insurance: Vec<String>,
    /// Age-group slugs.
    age_groups: Vec<String>,
    /// Accepting new clients.
    accepting: bool,
    /// IANA zone.
    time_zone: String,
    /// Region.
    region: String,
    /// City.
    city: String,
    /// Latitude.
    latitude: f64,
    /// Longitude.
    longitude: f64,
    /// Address, for in-person.
    address: Option<String>,
    /// Weekly hours.
    availability: Vec<Hours>,
    /// Session types.
    session_types: Vec<Offer>,
}

/// Profiles for the demo practice's own therapists: (email, profile).
fn practice_profiles() -> Vec<(&'static str, DemoProfile)> {
    let base = |name: &str, bio: &str, approach: &str, concerns: &[&str], approaches: &[&str]| {
        DemoProfile {
            name: name.to_string(),
            pronouns: String::new(),
            gender: String::new(),
            credentials: "Licensed therapist".into(),
            licence_number: "DEMO-0001".into(),
            licence_region: "New York".into(),
            verified: true,
            bio: bio.to_string(),
            approach: approach.to_string(),
            concerns: concerns.iter().map(|s| s.to_string()).collect(),
            approaches: approaches.iter().map(|s| s.to_string()).collect(),
            languages: vec!["en".into()],
            modalities: vec!["video".into(), "messaging".into()],
            fee: 120,
            sliding_scale_min: Some(60),
            insurance: Vec::new(),
            age_groups: vec!["adults".into()],
            accepting: true,
            time_zone: "America/New_York".into(),
            region: "New York".into(),
            city: "Brooklyn".into(),
            latitude: 40.68,
            longitude: -73.94,
            address: None,
            availability: [0u8, 1, 2, 3]
                .into_iter()
                .map(|weekday| Hours {
                    weekday,
                    start: "09:00".into(),
                    end: "17:00".into(),
                })
                .collect(),
            session_types: vec![
                Offer {
                    name: "Individual session".into(),
                    minutes: 50,
                    modality: "video".into(),
                    fee: 120,
                },
                Offer {
                    name: "First conversation".into(),
                    minutes: 20,
                    modality: "video".into(),
                    fee: 0,
                },
            ],
        }
    };
    let mut maya = base(
        "Dr. Maya Okafor",
        "I'm a clinical psychologist at Tend. Most of the people I see are worn down by worry or by a harsh inner voice. I'd like therapy with me to feel like a steady place to land, where nothing you bring is too much.",
        "I draw on compassion-focused therapy and mindful self-compassion: we notice the critic, understand why it formed, and practise answering it the way you'd answer a friend.",
        &["anxiety", "self-esteem", "grief", "stress"],
        &["cft", "msc"],
    );
    maya.pronouns = "she/her".into();
    maya.gender = "woman".into();
    maya.credentials = "Clinical Psychologist (PhD)".into();
    let mut daniel = base(
        "Daniel Reyes",
        "I'm a counselor in training at Tend, working under supervision. I came to this work after years as a teacher and I care most about people feeling heard before anything else.",
        "Person-centred at heart, with acceptance and commitment therapy when you'd like tools for hard feelings.",
        &["depression", "life-changes", "loneliness"],
        &["person-centred", "act"],
    );
    daniel.pronouns = "he/him".into();
    daniel.gender = "man".into();
    daniel.languages.push("es".into());
    daniel.licence_number = "DEMO-0002".into();
    daniel.fee = 80;
    daniel.sliding_scale_min = Some(30);
    let mut priya = base(
        "Priya Shah",
        "I'm a trauma-informed therapist at Tend. I work with people rebuilding a sense of safety after frightening or painful experiences, at a pace that feels manageable.",
        "I use EMDR and compassion-focused therapy, always beginning with steadiness and choice.",
        &["trauma", "anxiety", "shame"],
        &["emdr", "cft"],
    );
    priya.pronouns = "she/her".into();
    priya.gender = "woman".into();
    priya.languages.push("hi".into());
    priya.licence_number = "DEMO-0003".into();
    priya.accepting = false;
    vec![
        ("maya@tend.example", maya),
        ("daniel@tend.example", daniel),
        ("priya@tend.example", priya),
    ]
}

/// Seeds the directory. Directory-only therapists get no password: they exist to be found,
/// not to sign in.
pub async fn seed(state: &AppState) -> anyhow::Result<()> {
    let profiles: Vec<DemoProfile> = serde_json::from_str(PROFILES)?;
    let mut practice_ids = Vec::new();
    for (email, profile) in practice_profiles() {
        if let Some(user) = state.db.user_by_email(email).await? {
            store(state, user.id, &profile).await?;
            practice_ids.push(user.id);
        }
    }
    for (n, profile) in profiles.iter().enumerate() {
        let email = format!("directory{:02}@tend.example", n + 1);
        let user = state
            .db
            .create_user(NewUser {
                email: &email,
                name: &profile.name,
                role: Role::Therapist,
                password_hash: None,
                therapist_id: None,
            })
            .await?;
        store(state, user.id, profile).await?;
    }
    seed_appointments(state, &practice_ids).await
}

/// Stores one demo profile with its hours and session types.
async fn store(state: &AppState, user_id: uuid::Uuid, p: &DemoProfile) -> anyhow::Result<()> {
    let mut tags = Vec::new();
    for (facet, list) in [
        (Facet::Concern, &p.concerns),
        (Facet::Approach, &p.approaches),
        (Facet::Language, &p.languages),
        (Facet::Modality, &p.modalities),
        (Facet::AgeGroup, &p.age_groups),
    ] {
        tags.extend(list.iter().map(|s| facet.tag(s)));
    }
    let input = ProfileInput {
        display_name: p.name.clone(),
        pronouns: p.pronouns.clone(),
        gender: p.gender.clone(),
        credentials: p.credentials.clone(),
        licence_number: p.licence_number.clone(),
        licence_region: p.licence_region.clone(),
        bio: p.bio.clone(),
        approach: p.approach.clone(),
        region: p.region.clone(),
        city: p.city.clone(),
        address: p.address.clone().unwrap_or_default(),
        latitude: p.latitude.to_string(),
        longitude: p.longitude.to_string(),
        fee: p.fee.to_string(),
        sliding_scale_min: p
            .sliding_scale_min
            .map(|f| f.to_string())
            .unwrap_or_default(),
        insurance: p.insurance.join(", "),
        accepting: p.accepting,
        time_zone: p.time_zone.clone(),
        published: true,
        tags,
    };
    let valid = input
        .validate()
        .map_err(|e| anyhow::anyhow!("demo profile {} is invalid: {e:?}", p.name))?;
    state.db.save_profile(user_id, &valid).await?;
    if p.verified {
        state.db.set_licence_status(user_id, "verified").await?;
    }
    let mut windows = Vec::new();
    for h in &p.availability {
        windows.push(WeeklyWindow {
            weekday: h.weekday,
            start_minute: parse_hhmm("start", &h.start).map_err(|e| anyhow::anyhow!("{e:?}"))?,
            end_minute: parse_hhmm("end", &h.end).map_err(|e| anyhow::anyhow!("{e:?}"))?,
        });
    }
    super::schedule::validate_windows(&windows)
        .map_err(|e| anyhow::anyhow!("{}: {e:?}", p.name))?;
    state.db.replace_windows(user_id, &windows).await?;
    for o in &p.session_types {
        state
            .db
            .add_session_type(user_id, &o.name, o.minutes, &o.modality, o.fee * 100)
            .await?;
    }
    Ok(())
}

/// Books the next free individual session for each client of the practice's therapists.
async fn seed_appointments(state: &AppState, therapist_ids: &[uuid::Uuid]) -> anyhow::Result<()> {
    for therapist_id in therapist_ids {
        let Some(session) = state
            .db
            .session_types(*therapist_id, true)
            .await?
            .into_iter()
            .find(|s| s.minutes == 50)
        else {
            continue;
        };
        let clients = state.db.caseload(*therapist_id).await?;
        let profile = state.db.profile_for_user(*therapist_id).await?;
        let Some(profile) = profile else { continue };
        let tz = super::schedule::parse_time_zone("time_zone", &profile.row.time_zone)
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let windows = super::pages::weekly_windows(state, *therapist_id)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let now = OffsetDateTime::now_utc();
        let slots = super::schedule::free_slots(
            &tz,
            &windows,
            &[],
            50,
            &[],
            now + Duration::days(1),
            now + Duration::days(15),
            now,
        );
        // Spread clients over the fortnight: every third free hour.
        for (client, slot) in clients.iter().zip(slots.iter().step_by(3)) {
            let appointment = NewAppointment {
                id: new_id(),
                therapist_id: *therapist_id,
                client_id: client.id,
                session_type_id: session.id,
                starts_at: Timestamp::from(slot.start),
                ends_at: Timestamp::from(slot.end),
                modality: session.modality.clone(),
                fee_cents: session.fee_cents,
                room: format!("tend-demo-{}", client.id.simple()),
                by: client.id,
            };
            state
                .db
                .book(&appointment)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
    }
    Ok(())
}
