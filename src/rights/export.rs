//! Everything Tend holds about a client, opened and gathered into one document: the JSON
//! export, the readable HTML document and the record page all render this one value, so they
//! never disagree. The FHIR export is built from the same sources in [`fhir_bundle`].
//!
//! What it holds depends on who reads it ([`Reader`]). The client's copy has everything they
//! wrote, shared or not, and every conversation they had. A clinician's view (the treating
//! therapist's copy, or a break-glass read) holds only what the client shared with their
//! therapists and only the reader's own conversations with the client, as everywhere else in
//! Tend. Either way session notes appear when signed and shared with the client: the
//! therapist's private notes stay in the clinical record.

use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::error::{AppError, AppResult};
use crate::measures::change::ChangeStatus;
use crate::measures::library::Library;
use crate::plans::pages::{describe, load_plan, load_reviews};
use crate::web::AppState;

/// The export format's name and version, so a reader can tell what it holds.
pub const FORMAT: &str = "tend-client-export/1";

/// Whose view of the record is gathered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reader {
    /// The client themself.
    Client,
    /// A clinician (by id): shared items and their own conversations only.
    Clinician(Uuid),
}

/// A heading and its text.
#[derive(Clone, Debug, Serialize)]
pub struct Section {
    /// Heading.
    pub heading: String,
    /// Text.
    pub text: String,
}

/// The client.
#[derive(Clone, Debug, Serialize)]
pub struct Person {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Email.
    pub email: String,
    /// When the account was created.
    pub created_at: String,
}

/// A therapist in the client's care.
#[derive(Clone, Debug, Serialize)]
pub struct CareLink {
    /// Name.
    pub therapist: String,
    /// When care began.
    pub started_at: String,
    /// When it ended.
    pub ended_at: Option<String>,
}

/// A session.
#[derive(Clone, Debug, Serialize)]
pub struct Session {
    /// Start.
    pub starts_at: String,
    /// End.
    pub ends_at: String,
    /// Therapist.
    pub therapist: String,
    /// Session type.
    pub session: String,
    /// `booked`, `attended`, …
    pub status: String,
    /// `video`, `in_person`, …
    pub modality: String,
}

/// One answer.
#[derive(Clone, Debug, Serialize)]
pub struct Answer {
    /// Item number.
    pub item: String,
    /// Item wording.
    pub question: String,
    /// Value.
    pub value: Option<i64>,
    /// Option label.
    pub label: Option<String>,
}

/// A submitted questionnaire.
#[derive(Clone, Debug, Serialize)]
pub struct Questionnaire {
    /// Response id.
    pub id: Uuid,
    /// Instrument id.
    pub instrument: String,
    /// Its title.
    pub title: String,
    /// When submitted.
    pub submitted_at: Option<String>,
    /// Total.
    pub total: Option<f64>,
    /// Band.
    pub band: Option<String>,
    /// Answers in item order.
    pub answers: Vec<Answer>,
}

/// First to latest on one questionnaire.
#[derive(Clone, Debug, Serialize)]
pub struct Progress {
    /// Questionnaire name.
    pub questionnaire: String,
    /// First total.
    pub first: f64,
    /// Latest total.
    pub latest: f64,
    /// How many.
    pub administrations: i64,
    /// Reliable change in words.
    pub change: Option<String>,
}

/// A review of the treatment plan.
#[derive(Clone, Debug, Serialize)]
pub struct PlanReview {
    /// When.
    pub when: String,
    /// Who.
    pub by: String,
    /// Note.
    pub note: String,
    /// Progress lines that day.
    pub progress: Vec<String>,
}

/// The treatment plan.
#[derive(Clone, Debug, Serialize)]
pub struct TreatmentPlan {
    /// Version.
    pub version: i64,
    /// Last saved.
    pub updated_at: String,
    /// Planned end.
    pub planned_end: Option<String>,
    /// Problems.
    pub problems: Vec<String>,
    /// Goals in words, with their measure and target.
    pub goals: Vec<String>,
    /// Interventions in words, with any practice.
    pub interventions: Vec<String>,
    /// Reviews, newest first.
    pub reviews: Vec<PlanReview>,
}

/// The safety plan.
#[derive(Clone, Debug, Serialize)]
pub struct SafetyPlan {
    /// Version.
    pub version: i64,
    /// Last saved.
    pub updated_at: String,
    /// Sections.
    pub sections: Vec<Section>,
}

/// A dated addition to a note.
#[derive(Clone, Debug, Serialize)]
pub struct Addendum {
    /// When.
    pub when: String,
    /// Who.
    pub by: String,
    /// Text.
    pub text: String,
}

/// A session note shared with the client.
#[derive(Clone, Debug, Serialize)]
pub struct Note {
    /// Session date.
    pub session_date: String,
    /// Template.
    pub template: String,
    /// Author.
    pub author: String,
    /// When signed.
    pub signed_at: Option<String>,
    /// Sections.
    pub sections: Vec<Section>,
    /// Addenda.
    pub addenda: Vec<Addendum>,
}

/// A message.
#[derive(Clone, Debug, Serialize)]
pub struct Message {
    /// With whom the conversation is.
    pub conversation_with: String,
    /// Sender.
    pub from: String,
    /// When.
    pub sent_at: String,
    /// Text.
    pub text: String,
}

/// A journal entry.
#[derive(Clone, Debug, Serialize)]
pub struct JournalEntry {
    /// When.
    pub written_at: String,
    /// Mood 0–10.
    pub mood: Option<i64>,
    /// Feelings named.
    pub feelings: Vec<String>,
    /// Text.
    pub text: String,
    /// Shared with the therapist.
    pub shared: bool,
}

/// A practice session.
#[derive(Clone, Debug, Serialize)]
pub struct PracticeSession {
    /// When.
    pub completed_at: String,
    /// Practice title.
    pub practice: String,
    /// Minutes.
    pub minutes: i64,
    /// Mood before.
    pub mood_before: Option<i64>,
    /// Mood after.
    pub mood_after: Option<i64>,
    /// Reflection.
    pub reflection: Option<String>,
    /// Shared with the therapist.
    pub shared: bool,
}

/// Homework set by the therapist.
#[derive(Clone, Debug, Serialize)]
pub struct Homework {
    /// Practice title.
    pub practice: String,
    /// The therapist's note.
    pub note: Option<String>,
    /// Repeat interval.
    pub every_days: Option<i64>,
    /// When set.
    pub set_at: String,
}

/// Everything, in one value.
#[derive(Clone, Debug, Serialize)]
pub struct ClientExport {
    /// [`FORMAT`].
    pub format: &'static str,
    /// When it was made.
    pub exported_at: String,
    /// The client.
    pub client: Person,
    /// Intake summary.
    pub intake: Option<String>,
    /// Therapists.
    pub care_team: Vec<CareLink>,
    /// Sessions.
    pub sessions: Vec<Session>,
    /// Questionnaire progress.
    pub progress: Vec<Progress>,
    /// Submitted questionnaires, oldest first.
    pub questionnaires: Vec<Questionnaire>,
    /// Treatment plan.
    pub treatment_plan: Option<TreatmentPlan>,
    /// Safety plan.
    pub safety_plan: Option<SafetyPlan>,
    /// Shared, signed session notes.
    pub session_notes: Vec<Note>,
    /// Messages, by conversation, oldest first.
    pub messages: Vec<Message>,
    /// Journal, newest first.
    pub journal: Vec<JournalEntry>,
    /// Practice, newest first.
    pub practice: Vec<PracticeSession>,
    /// Homework.
    pub homework: Vec<Homework>,
}

/// Opens a sealed value.
async fn open(state: &AppState, context: &str, sealed: &[u8]) -> AppResult<String> {
    Ok(state.sealer.open(context, sealed).await?)
}

/// Gathers and opens what `reader` may see of `client_id`'s record. The caller has authorised
/// and audited the read.
pub async fn collect(state: &AppState, client_id: Uuid, reader: Reader) -> AppResult<ClientExport> {
    let shared_only = reader != Reader::Client;
    let db = &state.db;
    let library = Library::get().map_err(AppError::Internal)?;
    let user = db.user_by_id(client_id).await?.ok_or(AppError::NotFound)?;
    let intake = match db
        .client_record(client_id)
        .await?
        .and_then(|r| r.intake_sealed)
    {
        Some(s) => Some(open(state, &crate::care::record::intake_context(client_id), &s).await?),
        None => None,
    };
    let care_team = db
        .care_team(client_id)
        .await?
        .into_iter()
        .map(|c| CareLink {
            therapist: c.therapist_name,
            started_at: c.started_at.to_rfc3339(),
            ended_at: c.ended_at.map(|t| t.to_rfc3339()),
        })
        .collect();
    let sessions = db
        .appointments_for(
            client_id,
            crate::db::Timestamp::from(time::OffsetDateTime::UNIX_EPOCH),
            i64::MAX,
        )
        .await?
        .into_iter()
        .filter(|a| a.client_id == client_id)
        .map(|a| Session {
            starts_at: a.starts_at.to_rfc3339(),
            ends_at: a.ends_at.to_rfc3339(),
            therapist: a.therapist_name,
            session: a.session_name,
            status: a.status,
            modality: a.modality,
        })
        .collect();
    let progress = db
        .summaries_for(&[client_id])
        .await?
        .into_iter()
        .map(|s| Progress {
            questionnaire: library.short_name(&s.instrument),
            first: s.baseline_total,
            latest: s.latest_total,
            administrations: s.administrations,
            change: ChangeStatus::from_stored(&s.status)
                .filter(|_| s.administrations > 1)
                .map(|c| c.describe().to_string()),
        })
        .collect();
    let questionnaires = db
        .submitted_responses(client_id)
        .await?
        .into_iter()
        .map(|r| questionnaire(&r, library))
        .collect();
    let treatment_plan = match load_plan(state, client_id).await? {
        Some((row, content)) => {
            let (goals, _) = describe(&content, library);
            Some(TreatmentPlan {
                version: row.version,
                updated_at: row.updated_at.to_rfc3339(),
                planned_end: content.planned_end.clone(),
                problems: content.problems.clone(),
                goals: goals
                    .into_iter()
                    .map(|g| match (g.measure, g.by) {
                        (Some(m), Some(by)) => format!("{} ({m}, by {by})", g.text),
                        (Some(m), None) => format!("{} ({m})", g.text),
                        (None, Some(by)) => format!("{} (by {by})", g.text),
                        (None, None) => g.text,
                    })
                    .collect(),
                interventions: content
                    .interventions
                    .iter()
                    .map(crate::plans::Intervention::sentence)
                    .collect(),
                reviews: load_reviews(state, client_id)
                    .await?
                    .into_iter()
                    .map(|r| PlanReview {
                        when: r.when,
                        by: r.author,
                        note: r.note,
                        progress: r.progress,
                    })
                    .collect(),
            })
        }
        None => None,
    };
    let safety_plan = match db.safety_plan(client_id).await? {
        Some(row) => Some(SafetyPlan {
            version: row.version,
            updated_at: row.updated_at.to_rfc3339(),
            sections: crate::safety::pages::open_sections(
                state,
                client_id,
                Some(&row.content_sealed),
            )
            .await?
            .into_iter()
            .map(|s| Section {
                heading: s.heading.to_string(),
                text: s.text,
            })
            .collect(),
        }),
        None => None,
    };
    let mut session_notes = Vec::new();
    for n in db.notes_for(client_id, true).await? {
        let sections = crate::notes::pages::open_sections(state, &n)
            .await?
            .into_iter()
            .map(|s| Section {
                heading: s.heading.to_string(),
                text: s.text,
            })
            .collect();
        let mut addenda = Vec::new();
        for a in db.addenda_for(n.id).await? {
            addenda.push(Addendum {
                when: a.created_at.to_rfc3339(),
                by: a.author_name,
                text: open(state, &crate::notes::addendum_context(a.id), &a.body_sealed).await?,
            });
        }
        session_notes.push(Note {
            session_date: n.session_date,
            template: crate::notes::NoteTemplate::parse(&n.template)
                .map_or("Note", |t| t.label())
                .to_string(),
            author: n.author_name,
            signed_at: n.signed_at.map(|t| t.to_rfc3339()),
            sections,
            addenda,
        });
    }
    let mut messages = Vec::new();
    for c in db.conversations_for(client_id).await? {
        if let Reader::Clinician(id) = reader
            && c.other_id != id
        {
            continue;
        }
        for m in db.latest_messages(c.id, i64::MAX).await? {
            messages.push(Message {
                conversation_with: c.other_name.clone(),
                from: m.sender_name,
                sent_at: m.created_at.to_rfc3339(),
                text: open(
                    state,
                    &crate::messaging::queries::message_context(m.id),
                    &m.body_sealed,
                )
                .await?,
            });
        }
    }
    let mut journal = Vec::new();
    for e in db.entries(client_id, shared_only, i64::MAX).await? {
        journal.push(JournalEntry {
            written_at: e.created_at.to_rfc3339(),
            mood: e.mood,
            feelings: serde_json::from_str(&e.emotions).unwrap_or_default(),
            text: open(
                state,
                &crate::practice::pages::entry_context(e.id),
                &e.text_sealed,
            )
            .await?,
            shared: e.shared,
        });
    }
    let mut practice = Vec::new();
    for c in db.completions(client_id, shared_only, i64::MAX).await? {
        let reflection = match &c.reflection_sealed {
            Some(s) => {
                Some(open(state, &crate::practice::pages::reflection_context(c.id), s).await?)
            }
            None => None,
        };
        practice.push(PracticeSession {
            completed_at: c.completed_at.to_rfc3339(),
            practice: crate::practice::library::title_of(&c.practice_id),
            minutes: c.minutes,
            mood_before: c.mood_before,
            mood_after: c.mood_after,
            reflection,
            shared: c.shared,
        });
    }
    let mut homework = Vec::new();
    for h in db.homework_of(client_id).await? {
        let note = match &h.note_sealed {
            Some(s) => Some(
                open(
                    state,
                    &crate::practice::pages::note_context(client_id, &h.practice_id),
                    s,
                )
                .await?,
            ),
            None => None,
        };
        homework.push(Homework {
            practice: crate::practice::library::title_of(&h.practice_id),
            note,
            every_days: h.every_days,
            set_at: h.created_at.to_rfc3339(),
        });
    }
    Ok(ClientExport {
        format: FORMAT,
        exported_at: crate::db::Timestamp::now().to_rfc3339(),
        client: Person {
            id: user.id,
            name: user.name,
            email: user.email,
            created_at: user.created_at.to_rfc3339(),
        },
        intake,
        care_team,
        sessions,
        progress,
        questionnaires,
        treatment_plan,
        safety_plan,
        session_notes,
        messages,
        journal,
        practice,
        homework,
    })
}

/// One submitted response with its wording and option labels.
fn questionnaire(r: &crate::measures::queries::Response, library: &Library) -> Questionnaire {
    let inst = library.instrument(&r.instrument);
    let values = r.answer_values();
    let answers = match inst {
        Some(inst) => inst
            .reference
            .items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let value = values.get(i).copied().flatten();
                Answer {
                    item: item.n.clone(),
                    question: item.text.clone(),
                    value,
                    label: value.and_then(|v| {
                        inst.options_for(i)
                            .iter()
                            .find(|o| o.value == Some(v))
                            .and_then(|o| o.label.clone())
                    }),
                }
            })
            .collect(),
        None => Vec::new(),
    };
    Questionnaire {
        id: r.id,
        instrument: r.instrument.clone(),
        title: inst.map_or_else(|| r.instrument.clone(), |i| i.reference.title.clone()),
        submitted_at: r.submitted_at.map(|t| t.to_rfc3339()),
        total: r.total,
        band: r.band.clone(),
        answers,
    }
}

/// The client's FHIR R4 Bundle: Patient, questionnaires and responses with their score
/// Observations (from [`crate::measures::fhir::export_bundle`]), plus the treatment plan as a
/// CarePlan with its Goals (targets on LOINC-coded totals where the questionnaire has one).
pub async fn fhir_bundle(state: &AppState, client_id: Uuid) -> AppResult<Value> {
    let library = Library::get().map_err(AppError::Internal)?;
    let user = state
        .db
        .user_by_id(client_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let responses = state.db.submitted_responses(client_id).await?;
    let mut bundle =
        crate::measures::fhir::export_bundle(client_id, &user.name, &responses, library);
    if let Some((row, content)) = load_plan(state, client_id).await? {
        let entries = plan_resources(client_id, &row, &content, library);
        if let Some(list) = bundle["entry"].as_array_mut() {
            list.extend(entries);
        }
    }
    Ok(bundle)
}

/// The treatment plan as FHIR R4 CarePlan and Goal entries.
fn plan_resources(
    client_id: Uuid,
    row: &crate::plans::queries::PlanRow,
    content: &crate::plans::PlanContent,
    library: &Library,
) -> Vec<Value> {
    let patient = format!("urn:uuid:{client_id}");
    let plan_id = Uuid::new_v5(&client_id, b"treatment-plan");
    let mut out = Vec::new();
    let mut goal_refs = Vec::new();
    for (i, g) in content.goals.iter().enumerate() {
        let goal_id = Uuid::new_v5(&plan_id, format!("goal-{i}").as_bytes());
        let mut goal = json!({
            "resourceType": "Goal",
            "id": goal_id.to_string(),
            "lifecycleStatus": "active",
            "description": {"text": g.text},
            "subject": {"reference": patient},
        });
        if let (Some(m), Some(t)) = (&g.measure, g.target) {
            let inst = library.instrument(m);
            let measure = match inst.and_then(|i| i.reference.loinc.total.clone()) {
                Some(code) => {
                    json!({"coding": [{"system": "http://loinc.org", "code": code}], "text": library.short_name(m)})
                }
                None => json!({"text": library.short_name(m)}),
            };
            let lower = inst.is_some_and(|i| i.rules.higher_is_worse);
            let bound = if lower { "high" } else { "low" };
            let mut target = json!({"measure": measure, "detailRange": {bound: {"value": t, "unit": "{score}", "system": "http://unitsofmeasure.org", "code": "{score}"}}});
            if let Some(by) = &g.by {
                target["dueDate"] = json!(by);
            }
            goal["target"] = json!([target]);
        } else if let Some(by) = &g.by {
            goal["target"] = json!([{"dueDate": by}]);
        }
        let url = format!("urn:uuid:{goal_id}");
        goal_refs.push(json!({"reference": url}));
        out.push(json!({"fullUrl": url, "resource": goal}));
    }
    let activities: Vec<Value> = content
        .interventions
        .iter()
        .map(|iv| json!({"detail": {"status": "in-progress", "description": iv.sentence()}}))
        .collect();
    let mut plan = json!({
        "resourceType": "CarePlan",
        "id": plan_id.to_string(),
        "status": "active",
        "intent": "plan",
        "title": "Treatment plan",
        "subject": {"reference": patient},
        "created": row.updated_at.to_rfc3339(),
    });
    if !content.problems.is_empty() {
        plan["note"] = json!(
            content
                .problems
                .iter()
                .map(|p| json!({"text": format!("Problem: {p}")}))
                .collect::<Vec<_>>()
        );
    }
    if let Some(end) = &content.planned_end {
        plan["period"] = json!({"end": end});
    }
    if !goal_refs.is_empty() {
        plan["goal"] = json!(goal_refs);
    }
    if !activities.is_empty() {
        plan["activity"] = json!(activities);
    }
    out.push(json!({"fullUrl": format!("urn:uuid:{plan_id}"), "resource": plan}));
    out
}
