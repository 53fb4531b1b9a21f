//! `tend demo`: a small, living practice so a newcomer can sign in as every role.
//!
//! Everyone here is fictional. All demo accounts share one password, and the staff accounts
//! share one published two-step secret (`tend demo --code` prints the current code). Never
//! use demo data for real people.

use std::fmt;

use crate::accounts::password::hash_password;
use crate::accounts::queries::NewUser;
use crate::accounts::signin::totp_context;
use crate::accounts::totp;
use crate::audit::{Event, Outcome};
use crate::authz::Role;
use crate::care::record::intake_context;
use crate::web::AppState;

/// The password of every demo account.
pub const DEMO_PASSWORD: &str = "tend-demo-practice";
/// The two-step secret of every demo staff account (published; demo only).
pub const DEMO_TOTP_SECRET: &[u8; 20] = b"tend-demo-totp-key!!";

/// Staff: (name, email, role).
const STAFF: [(&str, &str, Role); 5] = [
    ("Morgan Ellis", "admin@tend.example", Role::Admin),
    ("Dr. Maya Okafor", "maya@tend.example", Role::Therapist),
    ("Daniel Reyes", "daniel@tend.example", Role::Therapist),
    ("Priya Shah", "priya@tend.example", Role::Therapist),
    ("Helen Brooks", "helen@tend.example", Role::Supervisor),
];

/// Clients: (name, email, therapist email, intake summary). Fictional people and stories.
const CLIENTS: [(&str, &str, &str, &str); 12] = [
    (
        "Amara Nwosu",
        "amara@tend.example",
        "maya@tend.example",
        "Amara came to therapy after months of worry that wakes her at night. She would like to feel more in control of her anxiety and to be gentler with herself when it rises.",
    ),
    (
        "Ben Carter",
        "ben@tend.example",
        "maya@tend.example",
        "Ben has felt low since a redundancy last spring. He wants to get back to the things he used to enjoy and to stop calling himself a failure.",
    ),
    (
        "Chloé Martin",
        "chloe@tend.example",
        "maya@tend.example",
        "Chloé is grieving her grandmother, who raised her. She'd like space to remember her and to find her footing again.",
    ),
    (
        "Dev Patel",
        "dev@tend.example",
        "maya@tend.example",
        "Dev describes burnout from years of long hours. He hopes to notice his limits earlier and to rest without guilt.",
    ),
    (
        "Elena Popescu",
        "elena@tend.example",
        "maya@tend.example",
        "Elena is working through memories of a difficult childhood. She wants to feel safe in her body and to treat her younger self with kindness.",
    ),
    (
        "Farah Haddad",
        "farah@tend.example",
        "daniel@tend.example",
        "Farah notices a harsh inner critic at work and at home. She'd like to learn to speak to herself the way she speaks to friends.",
    ),
    (
        "George Lin",
        "george@tend.example",
        "daniel@tend.example",
        "George has panic attacks on busy trains. He wants to be able to travel to see his family again.",
    ),
    (
        "Hana Sato",
        "hana@tend.example",
        "daniel@tend.example",
        "Hana recently moved country and feels lonely. She hopes to build connection and ease the low mood that came with the move.",
    ),
    (
        "Isaac Mensah",
        "isaac@tend.example",
        "daniel@tend.example",
        "Isaac and his partner argue often, and he withdraws. He wants to understand his reactions and to stay present in hard conversations.",
    ),
    (
        "Julia Novak",
        "julia@tend.example",
        "priya@tend.example",
        "Julia survived a car accident last year and still startles easily. She wants to sleep through the night and drive again.",
    ),
    (
        "Kofi Asante",
        "kofi@tend.example",
        "priya@tend.example",
        "Kofi feels stuck and flat most days. He'd like to find some energy and small things to look forward to.",
    ),
    (
        "Lena Fischer",
        "lena@tend.example",
        "priya@tend.example",
        "Lena is a new parent with constant worry about getting things wrong. She hopes to feel good enough, as she is.",
    ),
];

/// What seeding did.
pub struct SeedReport {
    /// Whether anything was created (false when the demo was already there).
    pub created: bool,
}

impl fmt::Display for SeedReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.created {
            writeln!(f, "Demo practice created.")?;
        } else {
            writeln!(f, "Demo practice already present; nothing changed.")?;
        }
        writeln!(f, "Every demo account's password: {DEMO_PASSWORD}")?;
        writeln!(
            f,
            "Staff sign in with a two-step code too: run `tend demo --code` (or add secret {} to an authenticator app).",
            totp::secret_base32(DEMO_TOTP_SECRET)
        )?;
        writeln!(
            f,
            "Admin: admin@tend.example · Therapists: maya@, daniel@, priya@tend.example · Supervisor: helen@tend.example · Clients: amara@, ben@ … lena@tend.example"
        )
    }
}

/// The current two-step code for the demo staff accounts.
pub fn current_code() -> String {
    let now = u64::try_from(time::OffsetDateTime::now_utc().unix_timestamp()).unwrap_or(0);
    totp::code_at(DEMO_TOTP_SECRET, now)
}

/// Seeds the demo practice unless its admin already exists.
pub async fn seed(state: &AppState) -> anyhow::Result<SeedReport> {
    if state.db.user_by_email(STAFF[0].1).await?.is_some() {
        return Ok(SeedReport { created: false });
    }
    // A practice with its own admin is real: the demo's published password and two-step
    // secret must never be added to it.
    if state.db.has_admin().await? {
        anyhow::bail!(
            "this practice already has its own accounts, so the demo adds none (its admin has a \
             published password); use an empty data directory or database for the demo"
        );
    }
    // One hash for all: demo accounts share a password, and Argon2 is slow on purpose.
    let hash = hash_password(DEMO_PASSWORD).map_err(anyhow::Error::msg)?;
    let mut staff_ids = std::collections::HashMap::new();
    for (name, email, role) in STAFF {
        let user = state
            .db
            .create_user(NewUser {
                email,
                name,
                role,
                password_hash: Some(&hash),
                therapist_id: None,
            })
            .await?;
        let sealed = state
            .sealer
            .seal(&totp_context(user.id), &hex::encode(DEMO_TOTP_SECRET))
            .await?;
        state.db.set_totp(user.id, Some(&sealed), true).await?;
        staff_ids.insert(email, user.id);
    }
    if let (Some(helen), Some(daniel)) = (
        staff_ids.get("helen@tend.example"),
        staff_ids.get("daniel@tend.example"),
    ) {
        state.db.add_supervision(*helen, *daniel).await?;
    }
    for (name, email, therapist, intake) in CLIENTS {
        let therapist_id = staff_ids.get(therapist).copied();
        let user = state
            .db
            .create_user(NewUser {
                email,
                name,
                role: Role::Client,
                password_hash: Some(&hash),
                therapist_id,
            })
            .await?;
        let sealed = state.sealer.seal(&intake_context(user.id), intake).await?;
        state
            .db
            .save_intake(user.id, &sealed, therapist_id.unwrap_or(user.id))
            .await?;
    }
    seed_measures(state).await?;
    seed_practice(state).await?;
    seed_messages(state).await?;
    seed_coach(state).await?;
    crate::notes::demo::seed(state).await?;
    crate::directory::demo::seed(state).await?;
    crate::plans::demo::seed(state).await?;
    crate::outcomes::demo::seed(state, &hash).await?;
    state
        .audit
        .record(Event::new(None, "demo.seeded", Outcome::Success))
        .await?;
    Ok(SeedReport { created: true })
}

/// Questionnaire histories, one week apart, ending today: (client, instrument, totals, item 9
/// of the last PHQ-9, whether a new one is due now).
const HISTORIES: [(&str, &str, &[i64], bool); 12] = [
    ("amara@tend.example", "gad7", &[15, 13, 11, 9, 8, 6], true),
    ("ben@tend.example", "phq9", &[16, 14, 12, 10, 8, 6], false),
    ("chloe@tend.example", "phq9", &[12, 13, 11, 12, 12], false),
    ("dev@tend.example", "phq9", &[8, 10, 12, 15], false),
    ("elena@tend.example", "pcl5", &[52, 48, 41, 35, 30], false),
    ("farah@tend.example", "phq9", &[14, 12, 9, 8], false),
    ("george@tend.example", "gad7", &[14, 12, 9, 7, 5], false),
    ("hana@tend.example", "phq9", &[13, 14], false),
    ("isaac@tend.example", "who5", &[8, 10, 12, 14, 16], false),
    ("julia@tend.example", "pcl5", &[45, 44, 46, 43], false),
    ("kofi@tend.example", "phq9", &[19, 17, 15, 13], false),
    ("lena@tend.example", "gad7", &[11], true),
];

/// Answers in item order that add up to `total`, filling items evenly; PHQ-9 item 9 is set
/// separately (Hana's most recent form answers it with 1).
pub(crate) fn answers_for(
    inst: &crate::measures::library::Instrument,
    total: i64,
    item9: i64,
) -> Vec<Option<i64>> {
    let scored = &inst.rules.scored_items;
    let max = inst
        .reference
        .options
        .iter()
        .filter_map(|o| o.value)
        .max()
        .unwrap_or(3);
    let min = inst
        .reference
        .options
        .iter()
        .filter_map(|o| o.value)
        .min()
        .unwrap_or(0);
    let mut answers = vec![None; inst.reference.items.len()];
    let fill: Vec<u32> = scored
        .iter()
        .copied()
        .filter(|n| !(inst.id() == "phq9" && *n == 9))
        .collect();
    let mut left = total - item9;
    for (k, n) in fill.iter().enumerate() {
        let remaining = (fill.len() - k) as i64;
        let v = ((left + remaining - 1) / remaining).clamp(min, max);
        left -= v;
        if let Some(pos) = inst.position(*n) {
            answers[pos] = Some(v);
        }
    }
    if inst.id() == "phq9" {
        answers[8] = Some(item9);
    }
    answers
}

/// Gives each demo client a history: improving, recovered, stuck, deteriorating, and one
/// recent item-9 answer that raises an urgent alert for her therapist.
async fn seed_measures(state: &AppState) -> anyhow::Result<()> {
    use crate::measures::library::Library;
    use crate::measures::respond::{after_submission, flags_json, stored};
    let library = Library::get().map_err(anyhow::Error::msg)?;
    let now = crate::db::Timestamp::now();
    for (email, instrument, totals, due_now) in HISTORIES {
        let Some(client) = state.db.user_by_email(email).await? else {
            continue;
        };
        let Some(inst) = library.instrument(instrument) else {
            continue;
        };
        let therapist = state
            .db
            .client_facts(client.id)
            .await?
            .therapist_ids
            .first()
            .copied()
            .unwrap_or(client.id);
        let weeks = totals.len() as i64;
        for (i, total) in totals.iter().enumerate() {
            let last = i as i64 == weeks - 1;
            let item9 = i64::from(last && email == "hana@tend.example");
            let answers = answers_for(inst, *total, item9);
            let scored = crate::measures::scoring::score(inst, &answers)
                .map_err(|e| anyhow::anyhow!(e.to_string()))?;
            let flags = flags_json(&scored).map_err(|e| anyhow::anyhow!(e.to_string()))?;
            let at = now - time::Duration::weeks(weeks - 1 - i as i64) - time::Duration::hours(2);
            let json = serde_json::to_string(&answers)?;
            let id = state
                .db
                .insert_submitted(
                    client.id,
                    inst.id(),
                    &json,
                    &stored(&scored, &flags),
                    at,
                    "demo",
                )
                .await?;
            if last {
                after_submission(state, client.id, inst, id, &scored).await;
            }
        }
        let assignment = state
            .db
            .assign_measure(client.id, therapist, inst.id(), Some(7))
            .await?;
        if !due_now {
            with_next_due(state, assignment, now + time::Duration::days(3)).await?;
        }
    }
    Ok(())
}

/// Sets an assignment's next due date (demo only).
async fn with_next_due(
    state: &AppState,
    id: uuid::Uuid,
    at: crate::db::Timestamp,
) -> anyhow::Result<()> {
    crate::with_pool!(&state.db, |pool| {
        sqlx::query("UPDATE measure_assignments SET next_due_at = $1 WHERE id = $2")
            .bind(at)
            .bind(id)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// Homework, practice and a few journal entries (fictional), some shared with the therapist.
async fn seed_practice(state: &AppState) -> anyhow::Result<()> {
    use crate::practice::pages::{record_completion, save_entry};
    let Some(amara) = state.db.user_by_email("amara@tend.example").await? else {
        return Ok(());
    };
    let Some(maya) = state.db.user_by_email("maya@tend.example").await? else {
        return Ok(());
    };
    let note = state
        .sealer
        .seal(
            &format!("homework.note:{}:self-compassion-break", amara.id),
            "When the worry wakes you, try this before reaching for your phone.",
        )
        .await?;
    state
        .db
        .add_homework(
            amara.id,
            maya.id,
            "self-compassion-break",
            Some(&note),
            Some(1),
        )
        .await?;
    let completions = [
        (
            "self-compassion-break",
            5,
            3,
            6,
            "Hard to say the kind part, but my shoulders dropped.",
            true,
        ),
        ("slow-breathing", 4, 4, 6, "", false),
    ];
    for (practice, minutes, before, after, reflection, shared) in completions {
        let Some(practice) = crate::practice::library::find(practice) else {
            continue;
        };
        record_completion(
            state,
            &amara,
            practice,
            minutes,
            (Some(before), Some(after)),
            reflection,
            shared,
            None,
        )
        .await
        .map_err(|e| anyhow::anyhow!(e.to_string()))?;
    }
    let entries = [
        (
            Some(4),
            vec!["anxious".to_string(), "tired".to_string()],
            "Woke at 4 again. Tried the breathing; it helped a little.",
            true,
        ),
        (
            Some(6),
            vec!["hopeful".to_string()],
            "Lunch with Sam. I laughed properly for the first time in ages.",
            false,
        ),
    ];
    for (mood, emotions, text, shared) in entries {
        save_entry(state, &amara, mood, &emotions, text, shared, None)
            .await
            .map_err(|e| anyhow::anyhow!(e.to_string()))?;
    }
    Ok(())
}

/// Daniel's practice replies to three scenarios over the past weeks, scored by the coach, with
/// a comment from Helen, his supervisor. Skipped (with a log line) if the coach is off.
async fn seed_coach(state: &AppState) -> anyhow::Result<()> {
    const REPLIES: [(&str, &str, i64); 3] = [
        (
            "first-day-nerves",
            "Have you thought about planning your outfit the night before? At least you've done this before.",
            21,
        ),
        (
            "first-day-nerves",
            "It sounds like part of you knows you can do this. What do you picture happening?",
            12,
        ),
        (
            "first-day-nerves",
            "Part of you knows you've handled new starts before, and another part has been bracing for Monday all week. What feels most uncertain when you picture walking in?",
            3,
        ),
    ];
    let (Some(daniel), Some(helen)) = (
        state.db.user_by_email("daniel@tend.example").await?,
        state.db.user_by_email("helen@tend.example").await?,
    ) else {
        return Ok(());
    };
    let mut last = None;
    for (slug, reply, days_ago) in REPLIES {
        let Some(scenario) = crate::coach::scenarios::find(slug) else {
            continue;
        };
        let feedback = match state
            .coach
            .feedback(scenario.client_message.clone(), reply.to_owned())
            .await
        {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(error = %e, "demo practice replies skipped: the coach is off");
                return Ok(());
            }
        };
        let when = crate::db::Timestamp::now() - time::Duration::days(days_ago);
        let id = crate::coach::save_attempt(state, daniel.id, slug, reply, &feedback, when)
            .await
            .map_err(|e| anyhow::anyhow!(e.to_string()))?;
        last = Some(id);
    }
    if let Some(attempt) = last {
        let body = "This one really lands: you held both the confidence and the dread without choosing between them. Next time, try letting the reflection breathe before the question.";
        crate::coach::save_comment(state, attempt, helen.id, body)
            .await
            .map_err(|e| anyhow::anyhow!(e.to_string()))?;
    }
    Ok(())
}

/// A short conversation between Amara and Maya, Maya's office hours and reply note, and a
/// supervision conversation between Helen and Daniel.
async fn seed_messages(state: &AppState) -> anyhow::Result<()> {
    use crate::messaging::queries::MessagingSettings;
    let (Some(amara), Some(maya)) = (
        state.db.user_by_email("amara@tend.example").await?,
        state.db.user_by_email("maya@tend.example").await?,
    ) else {
        return Ok(());
    };
    state
        .db
        .save_messaging_settings(
            maya.id,
            &MessagingSettings {
                office_hours: "Monday to Thursday, 9am to 5pm".into(),
                reply_note: "Thank you for writing. I read messages during office hours and usually reply within one working day. If you are in crisis or not safe, please don't wait for me: use the \"Need help now?\" link, or call your local emergency number.".into(),
                backup_clinician_id: state.db.user_by_email("priya@tend.example").await?.map(|u| u.id),
            },
        )
        .await?;
    state.db.ensure_conversations(amara.id).await?;
    let Some(conversation) = state
        .db
        .conversations_for(amara.id)
        .await?
        .into_iter()
        .next()
    else {
        return Ok(());
    };
    let Some(conversation) = state.db.conversation(conversation.id).await? else {
        return Ok(());
    };
    let lines: [(&crate::accounts::queries::User, &str); 3] = [
        (
            &amara,
            "I tried the self-compassion break before my presentation. My hands still shook, but I didn't call myself stupid afterwards. That felt new.",
        ),
        (
            &maya,
            "That is a real change, Amara: noticing the shaking and staying kind to yourself anyway. I'd love to hear more on Tuesday.",
        ),
        (&amara, "Thank you. See you Tuesday."),
    ];
    for (n, (sender, text)) in lines.iter().enumerate() {
        crate::messaging::send(
            state,
            sender,
            &conversation,
            text,
            &format!("demo-{n}"),
            None,
        )
        .await
        .map_err(|e| anyhow::anyhow!(e.to_string()))?;
    }
    Ok(())
}
