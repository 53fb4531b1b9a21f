//! Demo session notes: a few weeks of Maya's notes for Amara and Ben, so the record has a
//! history to read (signed and shared, signed and private, one addendum, one draft).

use crate::db::new_id;
use crate::web::AppState;

use super::queries::NoteWrite;
use super::{addendum_context, note_context};

/// (client, days ago, template, sections, shared, signed).
type DemoNote = (
    &'static str,
    i64,
    &'static str,
    &'static [(&'static str, &'static str)],
    bool,
    bool,
);

/// The notes, oldest first per client.
const NOTES: &[DemoNote] = &[
    (
        "amara@tend.example",
        21,
        "soap",
        &[
            (
                "subjective",
                "Amara described worry that starts on Sunday evenings and stays through the week, mostly about work and her mum's health. She said she is \"always bracing\".",
            ),
            (
                "objective",
                "Tense at first, softened once we slowed down. GAD-7 15.",
            ),
            (
                "assessment",
                "Worry is serving as a way to feel prepared. She is hard on herself for worrying, which adds a second layer of distress.",
            ),
            (
                "plan",
                "Practise the self-compassion break when the worry wakes her. Next session: what bracing protects her from.",
            ),
        ],
        true,
        true,
    ),
    (
        "amara@tend.example",
        7,
        "dap",
        &[
            (
                "data",
                "Used the self-compassion break four times this week, twice at night. GAD-7 9. Noticed she speaks to herself \"like a strict teacher\".",
            ),
            (
                "assessment",
                "Good engagement with practice; reliable improvement on the GAD-7. The self-critical voice is now something she can notice rather than obey.",
            ),
            (
                "plan",
                "Write a short letter to herself from a kind friend's point of view. Keep the break going.",
            ),
        ],
        false,
        true,
    ),
    (
        "ben@tend.example",
        14,
        "birp",
        &[
            (
                "behaviour",
                "Ben arrived early and apologised for \"wasting my time\". Low energy, flat voice. PHQ-9 12.",
            ),
            (
                "intervention",
                "Reflected the weight he is carrying since the redundancy; gently named the word \"failure\" each time it came up.",
            ),
            (
                "response",
                "He laughed at how often it appeared and said he would not talk to a friend that way.",
            ),
            (
                "plan",
                "Notice the word \"failure\" this week and what happens just before it. One small thing he used to enjoy.",
            ),
        ],
        true,
        true,
    ),
    (
        "ben@tend.example",
        0,
        "free",
        &[(
            "note",
            "Went for a walk with his brother. Still drafting thoughts on the job search worry.",
        )],
        false,
        false,
    ),
];

/// Adds the demo notes (Maya writes them).
pub async fn seed(state: &AppState) -> anyhow::Result<()> {
    let Some(maya) = state.db.user_by_email("maya@tend.example").await? else {
        return Ok(());
    };
    let today = time::OffsetDateTime::now_utc().date();
    for (email, days_ago, template, sections, shared, signed) in NOTES {
        let Some(client) = state.db.user_by_email(email).await? else {
            continue;
        };
        let id = new_id();
        let body: std::collections::BTreeMap<&str, &str> = sections.iter().copied().collect();
        let sealed = state
            .sealer
            .seal(&note_context(id), &serde_json::to_string(&body)?)
            .await?;
        let date = (today - time::Duration::days(*days_ago)).to_string();
        state
            .db
            .create_note(
                id,
                client.id,
                maya.id,
                &NoteWrite {
                    template,
                    session_date: &date,
                    body_sealed: &sealed,
                    appointment_id: None,
                    shared: *shared,
                    sign: *signed,
                },
            )
            .await?;
        if *email == "amara@tend.example" && *days_ago == 21 {
            let addendum = new_id();
            let text =
                "Amara emailed to say the break helped on the night of her mum's appointment.";
            let sealed = state.sealer.seal(&addendum_context(addendum), text).await?;
            state
                .db
                .add_addendum(addendum, id, client.id, maya.id, &sealed)
                .await?;
        }
    }
    Ok(())
}
