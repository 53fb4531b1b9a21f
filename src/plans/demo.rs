//! Treatment plans for the demo practice's current clients, written in Tend's voice, with a
//! review for the two who have been coming longest.

use crate::db::Timestamp;
use crate::db::versioned::{PlanDates, Versioned};
use crate::web::AppState;

use super::{
    Goal, Intervention, PlanContent, ReviewBody, format_date, plan_context, review_context,
};

/// (client, problem, goal, questionnaire, target, interventions with their practice, a review).
type DemoPlan = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    f64,
    [(&'static str, Option<&'static str>); 2],
    Option<&'static str>,
);

/// The plans.
const PLANS: [DemoPlan; 6] = [
    (
        "amara@tend.example",
        "Worry that wakes her at 4 a.m. and follows her into work",
        "Sleep through most nights and start the workday without dread",
        "gad7",
        5.0,
        [
            (
                "Notice the worry, name it, and return to the breath",
                Some("slow-breathing"),
            ),
            (
                "Answer the inner critic the way she would a friend",
                Some("self-compassion-break"),
            ),
        ],
        Some(
            "Amara is sleeping better and noticed she was kinder to herself after a hard meeting. We'll keep the practice going and start spacing sessions out.",
        ),
    ),
    (
        "ben@tend.example",
        "Low mood since the redundancy; days without a shape",
        "A week with a few things he looks forward to, and enjoys most of them",
        "phq9",
        9.0,
        [
            ("Plan one small, valued activity a day", None),
            (
                "A compassionate letter about the job loss",
                Some("compassionate-letter"),
            ),
        ],
        Some(
            "Ben has had three good weeks in a row. He says the letter was the hardest and most useful part.",
        ),
    ),
    (
        "chloe@tend.example",
        "Feeling flat and stuck, even on good days",
        "Notice and name small moments of pleasure each day",
        "phq9",
        9.0,
        [
            ("Three good things, written each evening", None),
            ("Mindful walk twice a week", Some("mindful-walking")),
        ],
        None,
    ),
    (
        "elena@tend.example",
        "Flashbacks and being on guard since the accident",
        "Drive to her sister's without pulling over",
        "pcl5",
        28.0,
        [
            ("Grounding when memories come", Some("five-senses")),
            ("Graded practice with driving, at her pace", None),
        ],
        None,
    ),
    (
        "hana@tend.example",
        "Exhaustion and hopelessness after months of caring for her mother",
        "Ask for help with care at least once a week, and keep one evening for herself",
        "phq9",
        9.0,
        [
            ("Keep the safety plan close and review it together", None),
            (
                "Kindness towards herself when she feels she has failed",
                Some("self-compassion-break"),
            ),
        ],
        None,
    ),
    (
        "isaac@tend.example",
        "Running on empty since starting the new role",
        "Energy for the things he enjoys at weekends",
        "who5",
        17.0,
        [
            ("A short body scan before bed", Some("body-scan")),
            ("One lunch break a day away from the desk", None),
        ],
        None,
    ),
];

/// Writes each plan as its client's treating therapist.
pub async fn seed(state: &AppState) -> anyhow::Result<()> {
    let today = Timestamp::now().inner().date();
    for (email, problem, goal, measure, target, interventions, review) in PLANS {
        let Some(client) = state.db.user_by_email(email).await? else {
            continue;
        };
        let Some(therapist) = state
            .db
            .client_facts(client.id)
            .await?
            .therapist_ids
            .first()
            .copied()
        else {
            continue;
        };
        let planned_end = format_date(today + time::Duration::weeks(12));
        let content = PlanContent {
            problems: vec![problem.to_string()],
            goals: vec![Goal {
                text: goal.to_string(),
                measure: Some(measure.to_string()),
                target: Some(target),
                by: Some(planned_end.clone()),
            }],
            interventions: interventions
                .iter()
                .map(|(text, practice)| Intervention {
                    text: text.to_string(),
                    practice: practice.map(str::to_string),
                })
                .collect(),
            review_weeks: 6,
            planned_end: Some(planned_end.clone()),
        };
        let sealed = state
            .sealer
            .seal(&plan_context(client.id), &serde_json::to_string(&content)?)
            .await?;
        let dates = PlanDates {
            planned_end: Some(planned_end),
            next_review: Some(content.next_review(today)),
        };
        let version = state
            .db
            .save_versioned(
                Versioned::TreatmentPlan,
                client.id,
                &sealed,
                0,
                therapist,
                Some(&dates),
            )
            .await?;
        if let Some(note) = review {
            let summaries = state.db.summaries_for(&[client.id]).await?;
            let library = crate::measures::library::Library::get().map_err(anyhow::Error::msg)?;
            let body = ReviewBody {
                note: note.to_string(),
                progress: super::progress(&content, &summaries, library)
                    .iter()
                    .map(super::GoalProgress::sentence)
                    .collect(),
            };
            let id = crate::db::new_id();
            let sealed = state
                .sealer
                .seal(&review_context(id), &serde_json::to_string(&body)?)
                .await?;
            let next = content.next_review(today);
            state
                .db
                .add_plan_review(id, client.id, therapist, version, &sealed, &next)
                .await?;
        }
    }
    Ok(())
}
