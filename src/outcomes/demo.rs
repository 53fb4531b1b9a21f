//! A year of practice history for the demo, so the practice report, the retention curve and
//! the dropout count have something to say: 27 fictional earlier clients, nine per therapist,
//! who began care between two and twelve months ago. Each came fortnightly, answered a
//! questionnaire at each session and had a treatment plan; most finished (recovered or
//! reliably improved), some are still working on it, a few got worse, and three stopped
//! coming before their planned end.
//!
//! Everything goes through the same storage calls as real use (sessions marked attended keep
//! the last contact; summaries are refreshed as after a submission); only the dates are set
//! in the past directly, as nothing else can.

use time::Duration;
use uuid::Uuid;

use crate::accounts::queries::NewUser;
use crate::authz::Role;
use crate::db::versioned::{PlanDates, Versioned};
use crate::db::{Timestamp, new_id};
use crate::directory::queries::NewAppointment;
use crate::measures::library::Library;
use crate::plans::{Goal, Intervention, PlanContent, format_date, plan_context};
use crate::web::AppState;

/// How a course of care went.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Course {
    /// Reliably improved and out of the clinical range; care ended as planned.
    Recovered,
    /// Reliably improved, still in the clinical range; care ended as planned.
    Improved,
    /// Little change; still in care.
    Stuck,
    /// Reliably worse; still in care.
    Worse,
    /// Came twice, then stopped before the planned end.
    DroppedOut,
}

impl Course {
    /// The course for the `i`th history client: four in nine recover, two improve, and one
    /// each stays the same, gets worse or drops out.
    fn of(i: usize) -> Course {
        match i % 9 {
            0..=3 => Course::Recovered,
            4 | 5 => Course::Improved,
            6 => Course::Stuck,
            7 => Course::Worse,
            _ => Course::DroppedOut,
        }
    }

    /// First and last totals on PHQ-9 (`phq9`) or GAD-7, nudged by `k` (0–2).
    fn totals(self, phq9: bool, k: i64) -> (i64, i64) {
        let (first, last) = match (self, phq9) {
            (Course::Recovered, true) => (17, 5),
            (Course::Recovered, false) => (14, 4),
            (Course::Improved, true) => (19, 12),
            (Course::Improved, false) => (16, 10),
            (Course::Stuck, true) => (15, 14),
            (Course::Stuck, false) => (12, 11),
            (Course::Worse, true) => (11, 18),
            (Course::Worse, false) => (9, 15),
            (Course::DroppedOut, true) => (16, 15),
            (Course::DroppedOut, false) => (13, 13),
        };
        (first + k, last + k)
    }
}

/// The earlier clients (fictional).
const NAMES: [&str; 27] = [
    "Aisha Karim",
    "Bruno Meyer",
    "Carmen Ortiz",
    "Dmitri Volkov",
    "Esi Boateng",
    "Felix Andersen",
    "Grace O'Neill",
    "Hiro Tanaka",
    "Ines Duarte",
    "Jonah Reid",
    "Keira Walsh",
    "Luis Romero",
    "Mei Lin",
    "Nadia Hamdan",
    "Owen Price",
    "Priyanka Rao",
    "Quinn Taylor",
    "Rosa Marquez",
    "Samir Aziz",
    "Tessa Moore",
    "Uma Pillai",
    "Victor Lang",
    "Wren Ellis",
    "Yara Saleh",
    "Zoe Fontaine",
    "Adam Kowalski",
    "Bea Hughes",
];

/// Seeds the history (once: `demo::seed` runs only on an empty practice).
pub async fn seed(state: &AppState, password_hash: &str) -> anyhow::Result<()> {
    let library = Library::get().map_err(anyhow::Error::msg)?;
    let mut therapists = Vec::new();
    for email in [
        "maya@tend.example",
        "daniel@tend.example",
        "priya@tend.example",
    ] {
        let Some(t) = state.db.user_by_email(email).await? else {
            return Ok(());
        };
        let Some(session) = state
            .db
            .session_types(t.id, true)
            .await?
            .into_iter()
            .find(|s| s.minutes == 50)
        else {
            return Ok(());
        };
        therapists.push((t.id, session));
    }
    let now = Timestamp::now();
    for (i, name) in NAMES.iter().enumerate() {
        // Rotate by cohort so each therapist has someone on every course.
        let (therapist, session) = &therapists[(i + i / 9) % therapists.len()];
        let course = Course::of(i);
        let email = format!(
            "{}@earlier.tend.example",
            name.to_lowercase().replace([' ', '\''], ".")
        );
        let client = state
            .db
            .create_user(NewUser {
                email: &email,
                name,
                role: Role::Client,
                password_hash: Some(password_hash),
                therapist_id: Some(*therapist),
            })
            .await?;
        // Dropouts began recently (their planned end is still ahead); the rest are spread
        // over the year.
        let began_days = if course == Course::DroppedOut {
            84 + 7 * (i as i64 % 4)
        } else {
            70 + (i as i64 * 41) % 290
        };
        let began = now - Duration::days(began_days);
        let fortnights = (began_days / 14).min(match course {
            Course::DroppedOut => 2,
            Course::Recovered | Course::Improved => 8 + i as i64 % 5,
            Course::Stuck | Course::Worse => 26,
        });
        let phq9 = i % 2 == 0;
        let inst = library
            .instrument(if phq9 { "phq9" } else { "gad7" })
            .ok_or_else(|| anyhow::anyhow!("instrument missing"))?;
        let (first, last) = course.totals(phq9, i as i64 % 3);
        for k in 0..fortnights {
            let at = began + Duration::days(14 * k) + Duration::hours(9 + i as i64 % 8);
            let appointment = NewAppointment {
                id: new_id(),
                therapist_id: *therapist,
                client_id: client.id,
                session_type_id: session.id,
                starts_at: at,
                ends_at: at + Duration::minutes(50),
                modality: session.modality.clone(),
                fee_cents: session.fee_cents,
                room: format!("tend-demo-{}", client.id.simple()),
                by: *therapist,
            };
            state
                .db
                .book(&appointment)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            state
                .db
                .set_appointment_status(appointment.id, "attended", *therapist)
                .await?;
            // Straight from first to last, with a small wobble on the way.
            let steps = (fortnights - 1).max(1);
            let wobble = if k > 0 && k < fortnights - 1 {
                (k % 3) - 1
            } else {
                0
            };
            let total = first + (last - first) * k / steps + wobble;
            submit(
                state,
                inst,
                client.id,
                total.max(0),
                at + Duration::minutes(55),
            )
            .await?;
        }
        crate::measures::respond::refresh_summary(state, client.id, inst)
            .await
            .map_err(|e| anyhow::anyhow!(e.to_string()))?;
        let finished = matches!(course, Course::Recovered | Course::Improved);
        let last_session = began + Duration::days(14 * (fortnights - 1).max(0));
        crate::with_pool!(&state.db, |pool| {
            sqlx::query(
                "UPDATE care_relationships SET started_at = $1, ended_at = $2 WHERE client_id = $3",
            )
            .bind(began)
            .bind(finished.then(|| last_session + Duration::days(1)))
            .bind(client.id)
            .execute(pool)
            .await?;
        });
        plan(
            state,
            inst.id(),
            client.id,
            *therapist,
            began,
            course,
            first,
        )
        .await?;
    }
    Ok(())
}

/// Stores one scored submission at `at`.
async fn submit(
    state: &AppState,
    inst: &crate::measures::library::Instrument,
    client_id: Uuid,
    total: i64,
    at: Timestamp,
) -> anyhow::Result<()> {
    use crate::measures::respond::{flags_json, stored};
    let answers = crate::demo::answers_for(inst, total, 0);
    let scored = crate::measures::scoring::score(inst, &answers)
        .map_err(|e| anyhow::anyhow!(e.to_string()))?;
    let flags = flags_json(&scored).map_err(|e| anyhow::anyhow!(e.to_string()))?;
    state
        .db
        .insert_submitted(
            client_id,
            inst.id(),
            &serde_json::to_string(&answers)?,
            &stored(&scored, &flags),
            at,
            "demo",
        )
        .await?;
    Ok(())
}

/// The plan each history client had: a measured goal, two interventions, a planned end
/// twenty weeks after they began.
async fn plan(
    state: &AppState,
    instrument: &str,
    client_id: Uuid,
    therapist: Uuid,
    began: Timestamp,
    course: Course,
    first: i64,
) -> anyhow::Result<()> {
    let (problem, goal, practice) = if instrument == "phq9" {
        (
            "Low most days; stopped seeing friends",
            "Back to seeing a friend each week and enjoying some of it",
            "self-compassion-break",
        )
    } else {
        (
            "Worry that takes over evenings and sleep",
            "Evenings that belong to me again: worry kept to a set time",
            "slow-breathing",
        )
    };
    let target: f64 = if instrument == "phq9" { 9.0 } else { 7.0 };
    let planned_end = format_date(began.inner().date() + Duration::weeks(20));
    let content = PlanContent {
        problems: vec![problem.to_string()],
        goals: vec![Goal {
            text: goal.to_string(),
            measure: Some(instrument.to_string()),
            target: Some(target.min(first as f64 - 1.0)),
            by: Some(planned_end.clone()),
        }],
        interventions: vec![
            Intervention {
                text: "Weekly practice between sessions".into(),
                practice: Some(practice.to_string()),
            },
            Intervention {
                text: "Noticing and answering the self-critical voice kindly".into(),
                practice: None,
            },
        ],
        review_weeks: 6,
        planned_end: Some(planned_end.clone()),
    };
    let sealed = state
        .sealer
        .seal(&plan_context(client_id), &serde_json::to_string(&content)?)
        .await?;
    // Ongoing plans fall due for review six weeks on; the stuck ones are overdue, which the
    // caseload shows.
    let next_review = match course {
        Course::Stuck => format_date(Timestamp::now().inner().date() - Duration::days(3)),
        _ => format_date(Timestamp::now().inner().date() + Duration::weeks(6)),
    };
    state
        .db
        .save_versioned(
            Versioned::TreatmentPlan,
            client_id,
            &sealed,
            0,
            therapist,
            Some(&PlanDates {
                planned_end: Some(planned_end),
                next_review: Some(next_review),
            }),
        )
        .await?;
    Ok(())
}
