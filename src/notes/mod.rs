//! Session notes: what happened in a session, in the therapist's words, kept safe.
//!
//! A note uses one of four templates (SOAP, DAP, BIRP or free form), may be linked to an
//! appointment, and is sealed at rest as one JSON document of its sections. It stays a draft
//! until the therapist signs it; what a signed note says never changes (the database refuses,
//! whatever code asks) and later thoughts become dated addenda, which never change either.
//! The therapist chooses, note by note, whether the client can read it.
//!
//! Entry points: [`routes`]. Every read and write goes through
//! [`crate::care::record::authorize`] and is audited. The domain rules here are pure; storage
//! is in [`queries`], pages in [`pages`].

pub mod demo;
pub mod pages;
pub mod queries;

use std::collections::BTreeMap;

use uuid::Uuid;

use crate::authz::{ANY_ROLE, THERAPIST};
use crate::error::FieldError;
use crate::web::routes::Route;

/// Routes of this feature.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/clients/{id}/notes", ANY_ROLE, pages::list),
        Route::get("/clients/{id}/notes/new", THERAPIST, pages::new_note),
        Route::post("/clients/{id}/notes", THERAPIST, pages::create),
        Route::get("/clients/{id}/notes/{note}", ANY_ROLE, pages::show),
        Route::post("/clients/{id}/notes/{note}", THERAPIST, pages::update),
        Route::post("/clients/{id}/notes/{note}/share", THERAPIST, pages::share),
        Route::post(
            "/clients/{id}/notes/{note}/addenda",
            THERAPIST,
            pages::add_addendum,
        ),
    ]
}

/// Longest section, in characters.
pub const SECTION_MAX: usize = 20_000;
/// Longest addendum, in characters.
pub const ADDENDUM_MAX: usize = 10_000;

/// One part of a template.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Section {
    /// Form field and JSON key.
    pub field: &'static str,
    /// Heading.
    pub heading: &'static str,
    /// What belongs in it.
    pub hint: &'static str,
}

/// Shorthand for the tables below.
const fn s(field: &'static str, heading: &'static str, hint: &'static str) -> Section {
    Section {
        field,
        heading,
        hint,
    }
}

/// A shared last section: what comes next.
const PLAN: Section = s(
    "plan",
    "Plan",
    "Next steps: practice between sessions, the next session, referrals.",
);

/// SOAP sections.
const SOAP: &[Section] = &[
    s(
        "subjective",
        "Subjective",
        "What the client shared, in their words where it helps: feelings, concerns, events.",
    ),
    s(
        "objective",
        "Objective",
        "What you observed: presentation, affect, engagement, questionnaire scores.",
    ),
    s(
        "assessment",
        "Assessment",
        "Your understanding: progress towards goals, risk, formulation.",
    ),
    PLAN,
];

/// DAP sections.
const DAP: &[Section] = &[
    s(
        "data",
        "Data",
        "What was shared and observed, including questionnaire scores.",
    ),
    s(
        "assessment",
        "Assessment",
        "Your understanding: progress towards goals, risk, formulation.",
    ),
    PLAN,
];

/// BIRP sections.
const BIRP: &[Section] = &[
    s(
        "behaviour",
        "Behaviour",
        "How the client presented and what they brought today.",
    ),
    s(
        "intervention",
        "Intervention",
        "What you offered: reflections, exercises, psychoeducation.",
    ),
    s("response", "Response", "How the client responded to it."),
    PLAN,
];

/// The free-form section.
const FREE: &[Section] = &[s(
    "note",
    "Note",
    "Whatever you want to keep from this session.",
)];

/// A note's structure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoteTemplate {
    /// Subjective, objective, assessment, plan.
    Soap,
    /// Data, assessment, plan.
    Dap,
    /// Behaviour, intervention, response, plan.
    Birp,
    /// One free section.
    Free,
}

impl NoteTemplate {
    /// Every template, in the order offered.
    pub const ALL: [NoteTemplate; 4] = [
        NoteTemplate::Soap,
        NoteTemplate::Dap,
        NoteTemplate::Birp,
        NoteTemplate::Free,
    ];

    /// Stored and used in URLs.
    pub fn slug(self) -> &'static str {
        match self {
            NoteTemplate::Soap => "soap",
            NoteTemplate::Dap => "dap",
            NoteTemplate::Birp => "birp",
            NoteTemplate::Free => "free",
        }
    }

    /// Shown to people.
    pub fn label(self) -> &'static str {
        match self {
            NoteTemplate::Soap => "SOAP",
            NoteTemplate::Dap => "DAP",
            NoteTemplate::Birp => "BIRP",
            NoteTemplate::Free => "Free form",
        }
    }

    /// The template for a slug.
    pub fn parse(slug: &str) -> Option<NoteTemplate> {
        NoteTemplate::ALL.into_iter().find(|t| t.slug() == slug)
    }

    /// Its sections, in order.
    pub fn sections(self) -> &'static [Section] {
        match self {
            NoteTemplate::Soap => SOAP,
            NoteTemplate::Dap => DAP,
            NoteTemplate::Birp => BIRP,
            NoteTemplate::Free => FREE,
        }
    }
}

/// What the therapist asked for with the form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Intent {
    /// Keep it as a draft.
    Save,
    /// Save and sign (lock) it.
    Sign,
}

/// A checked note form.
#[derive(Clone, Debug, PartialEq)]
pub struct NoteInput {
    /// Structure.
    pub template: NoteTemplate,
    /// The session's date, `YYYY-MM-DD`.
    pub session_date: String,
    /// Section texts by field (every section of the template, trimmed).
    pub sections: BTreeMap<String, String>,
    /// Linked appointment, if any.
    pub appointment_id: Option<Uuid>,
    /// Whether the client may read it once signed.
    pub shared: bool,
    /// Save or sign.
    pub intent: Intent,
}

impl NoteInput {
    /// Reads the form; `today` bounds the session date (notes are written after sessions,
    /// a day's grace for time zones). Every problem names its field.
    pub fn from_fields(
        fields: &BTreeMap<String, String>,
        today: time::Date,
    ) -> Result<NoteInput, Vec<FieldError>> {
        let mut errors = Vec::new();
        let get = |k: &str| fields.get(k).map(|v| v.trim()).unwrap_or("");
        let template = NoteTemplate::parse(get("template")).unwrap_or_else(|| {
            errors.push(FieldError::new(
                "template",
                "Choose SOAP, DAP, BIRP or free form.",
            ));
            NoteTemplate::Free
        });
        let format = time::macros::format_description!("[year]-[month]-[day]");
        let session_date = match time::Date::parse(get("session_date"), format) {
            Ok(d) if d <= today.next_day().unwrap_or(today) => get("session_date").to_string(),
            Ok(_) => {
                errors.push(FieldError::new(
                    "session_date",
                    "The session date can't be in the future.",
                ));
                String::new()
            }
            Err(_) => {
                errors.push(FieldError::new(
                    "session_date",
                    "Enter the session's date, like 2026-11-26.",
                ));
                String::new()
            }
        };
        let mut sections = BTreeMap::new();
        for section in template.sections() {
            let text = get(section.field);
            if text.chars().count() > SECTION_MAX {
                errors.push(FieldError::new(
                    section.field,
                    format!(
                        "{} is longer than {SECTION_MAX} characters; please shorten it.",
                        section.heading
                    ),
                ));
            }
            sections.insert(section.field.to_string(), text.to_string());
        }
        let appointment_id = match get("appointment_id") {
            "" => None,
            v => match Uuid::parse_str(v) {
                Ok(id) => Some(id),
                Err(_) => {
                    errors.push(FieldError::new(
                        "appointment_id",
                        "Choose one of the listed appointments.",
                    ));
                    None
                }
            },
        };
        let intent = if get("intent") == "sign" {
            Intent::Sign
        } else {
            Intent::Save
        };
        if intent == Intent::Sign && sections.values().all(|t| t.is_empty()) {
            let first = template.sections()[0].field;
            errors.push(FieldError::new(
                first,
                "Write something before signing: a signed note can't be changed.",
            ));
        }
        let shared = crate::web::extract::is_checked(get("shared"));
        if errors.is_empty() {
            Ok(NoteInput {
                template,
                session_date,
                sections,
                appointment_id,
                shared,
                intent,
            })
        } else {
            Err(errors)
        }
    }
}

/// Associated data for a note's sealed body.
pub fn note_context(note_id: Uuid) -> String {
    format!("session_notes.body:{note_id}")
}

/// Associated data for an addendum's sealed body.
pub fn addendum_context(addendum_id: Uuid) -> String {
    format!("session_note_addenda.body:{addendum_id}")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn today() -> time::Date {
        time::macros::date!(2026 - 11 - 26)
    }

    #[test]
    fn every_template_ends_in_a_plan_or_is_free_and_fields_are_unique() {
        for t in NoteTemplate::ALL {
            assert_eq!(NoteTemplate::parse(t.slug()), Some(t));
            let mut seen = std::collections::BTreeSet::new();
            for s in t.sections() {
                assert!(seen.insert(s.field), "{} repeats {}", t.slug(), s.field);
            }
        }
        let last = |t: NoteTemplate| t.sections().last().unwrap().field;
        assert_eq!(last(NoteTemplate::Soap), "plan");
        assert_eq!(last(NoteTemplate::Birp), "plan");
        assert_eq!(NoteTemplate::Soap.sections().len(), 4);
        assert_eq!(NoteTemplate::Dap.sections().len(), 3);
    }

    #[test]
    fn a_good_form_keeps_only_its_templates_sections() {
        let input = NoteInput::from_fields(
            &fields(&[
                ("template", "dap"),
                ("session_date", "2026-11-26"),
                ("data", "  Slept better this week. "),
                ("subjective", "not a DAP section"),
                ("shared", "on"),
                ("intent", "sign"),
            ]),
            today(),
        )
        .unwrap();
        assert_eq!(input.template, NoteTemplate::Dap);
        assert_eq!(input.sections.len(), 3);
        assert_eq!(input.sections["data"], "Slept better this week.");
        assert!(input.shared);
        assert_eq!(input.intent, Intent::Sign);
    }

    #[test]
    fn bad_forms_name_each_field() {
        let long = "x".repeat(SECTION_MAX + 1);
        let err = NoteInput::from_fields(
            &fields(&[
                ("template", "soap"),
                ("session_date", "2026-12-25"),
                ("objective", &long),
                ("appointment_id", "not-an-id"),
            ]),
            today(),
        )
        .unwrap_err();
        let names: Vec<_> = err.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(names, ["session_date", "objective", "appointment_id"]);
        let err = NoteInput::from_fields(
            &fields(&[("template", "tarot"), ("session_date", "26/11/2026")]),
            today(),
        )
        .unwrap_err();
        let names: Vec<_> = err.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(names, ["template", "session_date"]);
    }

    #[test]
    fn an_empty_note_cannot_be_signed_but_can_be_saved() {
        let base = [("template", "birp"), ("session_date", "2026-11-25")];
        let mut sign = fields(&base);
        sign.insert("intent".into(), "sign".into());
        let err = NoteInput::from_fields(&sign, today()).unwrap_err();
        assert_eq!(err[0].field, "behaviour");
        assert!(NoteInput::from_fields(&fields(&base), today()).is_ok());
    }
}
