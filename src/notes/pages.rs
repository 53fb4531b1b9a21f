//! Session note pages: the list, writing and signing, reading, sharing and addenda.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use uuid::Uuid;

use super::queries::{Change, NoteRow, NoteWrite};
use super::{ADDENDUM_MAX, Intent, NoteInput, NoteTemplate, addendum_context, note_context};
use crate::audit::Event;
use crate::authz::Role;
use crate::care::record::{Access, authorize, client_name};
use crate::db::{Timestamp, new_id};
use crate::error::{AppError, AppResult, FieldError};
use crate::web::AppState;
use crate::web::extract::{Form, Page, Signed, check_len};
use crate::web::layout::{Errors, Layout};

/// One section as shown or edited.
pub struct SectionView {
    /// Field name.
    pub field: &'static str,
    /// Heading.
    pub heading: &'static str,
    /// Hint.
    pub hint: &'static str,
    /// Text.
    pub text: String,
}

/// A note in the list.
pub struct NoteLine {
    /// Id.
    pub id: Uuid,
    /// `YYYY-MM-DD`.
    pub session_date: String,
    /// Template label.
    pub template: &'static str,
    /// Author.
    pub author: String,
    /// Signed (locked).
    pub signed: bool,
    /// The client may read it.
    pub shared: bool,
}

/// The list page.
#[derive(Template)]
#[template(path = "notes/list.html")]
struct ListPage {
    layout: Layout,
    client_id: Uuid,
    client_name: String,
    own: bool,
    can_write: bool,
    templates: Vec<(&'static str, &'static str)>,
    notes: Vec<NoteLine>,
}

/// The writing page (new note or draft).
#[derive(Template)]
#[template(path = "notes/edit.html")]
struct EditPage {
    layout: Layout,
    client_id: Uuid,
    client_name: String,
    /// `None` for a new note.
    note_id: Option<Uuid>,
    template: &'static str,
    template_label: &'static str,
    session_date: String,
    sections: Vec<SectionView>,
    shared: bool,
    appointment_id: String,
    appointments: Vec<(String, String)>,
    /// The linked appointment is not among `appointments` (kept so saving never drops it).
    appointment_unlisted: bool,
    errors: Errors,
}

/// The reading page (a signed note, or anyone's note but the author's own draft).
#[derive(Template)]
#[template(path = "notes/show.html")]
struct ShowPage {
    layout: Layout,
    client_id: Uuid,
    client_name: String,
    own: bool,
    note_id: Uuid,
    template_label: &'static str,
    session_date: String,
    author: String,
    signed_at: Option<String>,
    shared: bool,
    is_author: bool,
    can_write: bool,
    sections: Vec<SectionView>,
    /// (who, when, text).
    addenda: Vec<(String, String, String)>,
    /// Text for the addendum box (kept when a signed note's edit was refused).
    addendum_draft: String,
    notice: Option<String>,
    errors: Errors,
}

/// Today's date in UTC.
fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

/// A note's template, or an error for a stored value Tend doesn't know.
fn template_of(row: &NoteRow) -> AppResult<NoteTemplate> {
    NoteTemplate::parse(&row.template)
        .ok_or_else(|| AppError::Internal(format!("unknown note template {}", row.template)))
}

/// Opens a note's sealed body into its section texts.
async fn open_content(state: &AppState, row: &NoteRow) -> AppResult<BTreeMap<String, String>> {
    let json = state
        .sealer
        .open(&note_context(row.id), &row.body_sealed)
        .await?;
    serde_json::from_str(&json).map_err(|e| AppError::Internal(e.to_string()))
}

/// Opens a note's sections.
pub async fn open_sections(state: &AppState, row: &NoteRow) -> AppResult<Vec<SectionView>> {
    Ok(views(template_of(row)?, &open_content(state, row).await?))
}

/// A template's sections filled from `content`.
fn views(template: NoteTemplate, content: &BTreeMap<String, String>) -> Vec<SectionView> {
    template
        .sections()
        .iter()
        .map(|s| SectionView {
            field: s.field,
            heading: s.heading,
            hint: s.hint,
            text: content.get(s.field).cloned().unwrap_or_default(),
        })
        .collect()
}

/// The appointments a note could belong to, as select options.
async fn appointment_options(
    state: &AppState,
    client_id: Uuid,
    therapist_id: Uuid,
) -> AppResult<Vec<(String, String)>> {
    Ok(state
        .db
        .appointments_to_note(client_id, therapist_id)
        .await?
        .into_iter()
        .map(|(id, at)| (id.to_string(), at.display()))
        .collect())
}

/// The values on the writing page.
struct Draft {
    /// `None` for a new note.
    note_id: Option<Uuid>,
    template: NoteTemplate,
    session_date: String,
    content: BTreeMap<String, String>,
    shared: bool,
    appointment_id: String,
    errors: Vec<FieldError>,
}

/// Renders the writing page titled `title` for `draft`.
async fn render_edit(
    state: &AppState,
    page: &Page,
    client_id: Uuid,
    therapist_id: Uuid,
    title: &str,
    draft: Draft,
) -> AppResult<String> {
    let appointments = appointment_options(state, client_id, therapist_id).await?;
    let appointment_unlisted = !draft.appointment_id.is_empty()
        && !appointments
            .iter()
            .any(|(id, _)| *id == draft.appointment_id);
    Ok(EditPage {
        layout: page.layout(title),
        client_name: client_name(state, client_id).await?,
        client_id,
        note_id: draft.note_id,
        template: draft.template.slug(),
        template_label: draft.template.label(),
        session_date: draft.session_date,
        sections: views(draft.template, &draft.content),
        shared: draft.shared,
        appointment_id: draft.appointment_id,
        appointments,
        appointment_unlisted,
        errors: Errors(draft.errors),
    }
    .render()?)
}

/// `GET /clients/{id}/notes`: the therapist sees every note; the client sees the signed notes
/// shared with them.
pub async fn list(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let (grant, event) =
        authorize(&state, &current.user, id, Access::Read, page.ip.as_deref()).await?;
    let own = current.user.id == id;
    state
        .audit
        .record(Event {
            action: "session_notes.list",
            ..event
        })
        .await?;
    let notes = state
        .db
        .notes_for(id, own)
        .await?
        .into_iter()
        .map(|n| NoteLine {
            id: n.id,
            template: NoteTemplate::parse(&n.template).map_or("Note", |t| t.label()),
            session_date: n.session_date,
            author: n.author_name,
            signed: n.signed_at.is_some(),
            shared: n.shared,
        })
        .collect();
    let html = ListPage {
        layout: page.layout(if own {
            "Notes shared with you"
        } else {
            "Session notes"
        }),
        client_name: client_name(&state, id).await?,
        client_id: id,
        own,
        can_write: grant.allows_write() && current.user.role == Role::Therapist,
        templates: NoteTemplate::ALL
            .into_iter()
            .map(|t| (t.slug(), t.label()))
            .collect(),
        notes,
    }
    .render()?;
    Ok(Html(html).into_response())
}

/// Query of the new-note page.
#[derive(serde::Deserialize)]
pub struct NewQuery {
    /// Template slug.
    template: Option<String>,
    /// Appointment to link.
    appointment: Option<String>,
}

/// `GET /clients/{id}/notes/new?template=soap`
pub async fn new_note(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Path(id): Path<Uuid>,
    Query(q): Query<NewQuery>,
) -> AppResult<Response> {
    authorize(&state, &current.user, id, Access::Write, page.ip.as_deref()).await?;
    let template = q
        .template
        .as_deref()
        .and_then(NoteTemplate::parse)
        .unwrap_or(NoteTemplate::Soap);
    let draft = Draft {
        note_id: None,
        template,
        session_date: today().to_string(),
        content: BTreeMap::new(),
        shared: false,
        appointment_id: q.appointment.unwrap_or_default(),
        errors: Vec::new(),
    };
    let title = format!("New {} note", template.label());
    let html = render_edit(&state, &page, id, current.user.id, &title, draft).await?;
    Ok(Html(html).into_response())
}

/// Checks a note form, including that a linked appointment is this client's with this
/// therapist. On failure, the form again with every word kept and each problem named.
async fn checked_input(
    state: &AppState,
    page: &Page,
    client_id: Uuid,
    therapist_id: Uuid,
    note_id: Option<Uuid>,
    fields: &BTreeMap<String, String>,
) -> AppResult<Result<NoteInput, Response>> {
    let errors = match NoteInput::from_fields(fields, today()) {
        Ok(input) => match input.appointment_id {
            Some(a)
                if !state
                    .db
                    .appointment_belongs(a, client_id, therapist_id)
                    .await? =>
            {
                vec![FieldError::new(
                    "appointment_id",
                    "Choose one of the listed appointments.",
                )]
            }
            _ => return Ok(Ok(input)),
        },
        Err(errors) => errors,
    };
    let template = fields
        .get("template")
        .and_then(|t| NoteTemplate::parse(t))
        .unwrap_or(NoteTemplate::Free);
    let get = |k: &str| fields.get(k).cloned().unwrap_or_default();
    let draft = Draft {
        note_id,
        template,
        session_date: get("session_date"),
        content: fields.clone(),
        shared: crate::web::extract::is_checked(&get("shared")),
        appointment_id: get("appointment_id"),
        errors,
    };
    let title = format!("{} note", template.label());
    let html = render_edit(state, page, client_id, therapist_id, &title, draft).await?;
    Ok(Err(
        (StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response()
    ))
}

/// Seals a note's sections.
async fn seal_body(state: &AppState, note_id: Uuid, input: &NoteInput) -> AppResult<Vec<u8>> {
    let json =
        serde_json::to_string(&input.sections).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(state.sealer.seal(&note_context(note_id), &json).await?)
}

/// What to store for a checked form and its sealed body.
fn write_of<'a>(input: &'a NoteInput, sealed: &'a [u8]) -> NoteWrite<'a> {
    NoteWrite {
        template: input.template.slug(),
        session_date: &input.session_date,
        body_sealed: sealed,
        appointment_id: input.appointment_id,
        shared: input.shared,
        sign: input.intent == Intent::Sign,
    }
}

/// The audit action for saving with `intent`.
fn saved_action(intent: Intent, new: bool) -> &'static str {
    match (intent, new) {
        (Intent::Sign, _) => "session_note.sign",
        (Intent::Save, true) => "session_note.create",
        (Intent::Save, false) => "session_note.update",
    }
}

/// `POST /clients/{id}/notes`: a new draft, or a new signed note.
pub async fn create(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Path(id): Path<Uuid>,
    Form(fields): Form<BTreeMap<String, String>>,
) -> AppResult<Response> {
    let (_, event) =
        authorize(&state, &current.user, id, Access::Write, page.ip.as_deref()).await?;
    let input = match checked_input(&state, &page, id, current.user.id, None, &fields).await? {
        Ok(input) => input,
        Err(form) => return Ok(form),
    };
    let note_id = new_id();
    let sealed = seal_body(&state, note_id, &input).await?;
    state
        .db
        .create_note(note_id, id, current.user.id, &write_of(&input, &sealed))
        .await?;
    state
        .audit
        .record(Event {
            action: saved_action(input.intent, true),
            ..event
        })
        .await?;
    Ok(Redirect::to(&format!("/clients/{id}/notes/{note_id}")).into_response())
}

/// Renders a note for reading, with `notice` and the addendum box holding `addendum_draft`.
#[allow(clippy::too_many_arguments)]
async fn render_show(
    state: &AppState,
    page: &Page,
    reader: Uuid,
    can_write: bool,
    row: NoteRow,
    notice: Option<String>,
    addendum_draft: String,
    errors: Vec<FieldError>,
) -> AppResult<String> {
    let sections = open_sections(state, &row).await?;
    let mut addenda = Vec::new();
    for a in state.db.addenda_for(row.id).await? {
        let text = state
            .sealer
            .open(&addendum_context(a.id), &a.body_sealed)
            .await?;
        addenda.push((a.author_name, a.created_at.display(), text));
    }
    let template = template_of(&row)?;
    Ok(ShowPage {
        layout: page.layout(&format!("Session note, {}", row.session_date)),
        client_name: client_name(state, row.client_id).await?,
        client_id: row.client_id,
        own: reader == row.client_id,
        note_id: row.id,
        template_label: template.label(),
        session_date: row.session_date.clone(),
        author: row.author_name.clone(),
        signed_at: row.signed_at.map(Timestamp::display),
        shared: row.shared,
        is_author: reader == row.author_id,
        can_write: can_write && row.signed_at.is_some(),
        sections,
        addenda,
        addendum_draft,
        notice,
        errors: Errors(errors),
    }
    .render()?)
}

/// `GET /clients/{id}/notes/{note}`: the author's draft opens for writing; anything else
/// reads. A client sees only signed notes shared with them.
pub async fn show(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Path((id, note_id)): Path<(Uuid, Uuid)>,
) -> AppResult<Response> {
    let (grant, event) =
        authorize(&state, &current.user, id, Access::Read, page.ip.as_deref()).await?;
    let row = state.db.note(note_id, id).await?;
    let own = current.user.id == id;
    let row = match row {
        Some(row) if !own || (row.shared && row.signed_at.is_some()) => row,
        _ => {
            state
                .audit
                .record(Event {
                    action: "session_note.read",
                    outcome: crate::audit::Outcome::Denied,
                    ..event
                })
                .await?;
            return Err(AppError::NotFound);
        }
    };
    // Record the read before showing anything.
    state
        .audit
        .record(Event {
            action: "session_note.read",
            ..event
        })
        .await?;
    let can_write = grant.allows_write() && current.user.role == Role::Therapist;
    if row.signed_at.is_none() && row.author_id == current.user.id {
        let template = template_of(&row)?;
        let draft = Draft {
            note_id: Some(row.id),
            template,
            content: open_content(&state, &row).await?,
            session_date: row.session_date,
            shared: row.shared,
            appointment_id: row
                .appointment_id
                .map(|a| a.to_string())
                .unwrap_or_default(),
            errors: Vec::new(),
        };
        let title = format!("{} note (draft)", template.label());
        let html = render_edit(&state, &page, id, current.user.id, &title, draft).await?;
        return Ok(Html(html).into_response());
    }
    let html = render_show(
        &state,
        &page,
        current.user.id,
        can_write,
        row,
        None,
        String::new(),
        Vec::new(),
    )
    .await?;
    Ok(Html(html).into_response())
}

/// `POST /clients/{id}/notes/{note}`: saves or signs a draft. A signed note is refused with
/// the note shown again, the attempted changes kept in the addendum box.
pub async fn update(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Path((id, note_id)): Path<(Uuid, Uuid)>,
    Form(fields): Form<BTreeMap<String, String>>,
) -> AppResult<Response> {
    let (_, event) =
        authorize(&state, &current.user, id, Access::Write, page.ip.as_deref()).await?;
    let input =
        match checked_input(&state, &page, id, current.user.id, Some(note_id), &fields).await? {
            Ok(input) => input,
            Err(form) => return Ok(form),
        };
    let sealed = seal_body(&state, note_id, &input).await?;
    let change = state
        .db
        .update_draft_note(note_id, id, current.user.id, &write_of(&input, &sealed))
        .await?;
    match change {
        Change::Done => {
            state
                .audit
                .record(Event {
                    action: saved_action(input.intent, false),
                    ..event
                })
                .await?;
            Ok(Redirect::to(&format!("/clients/{id}/notes/{note_id}")).into_response())
        }
        Change::WrongState => {
            record_refusal(&state, event).await?;
            let row = state
                .db
                .note(note_id, id)
                .await?
                .ok_or(AppError::NotFound)?;
            let signed = open_sections(&state, &row).await?;
            // Keep what they wrote: every section that differs, ready to add as an addendum.
            let attempted: Vec<String> = signed
                .iter()
                .filter_map(|s| {
                    let new = input.sections.get(s.field)?;
                    (new != &s.text && !new.is_empty()).then(|| format!("{}: {new}", s.heading))
                })
                .collect();
            let html = render_show(
                &state,
                &page,
                current.user.id,
                true,
                row,
                Some("This note is signed, so it can't be changed. Your changes are below as an addendum: check them and add it, and the note keeps both, dated.".into()),
                attempted.join("\n\n"),
                Vec::new(),
            )
            .await?;
            Ok((StatusCode::CONFLICT, Html(html)).into_response())
        }
        Change::Missing => refused(&state, event).await,
    }
}

/// Records a refused change to a note.
async fn record_refusal(state: &AppState, event: Event) -> AppResult<()> {
    state
        .audit
        .record(Event {
            action: "session_note.update",
            outcome: crate::audit::Outcome::Denied,
            ..event
        })
        .await?;
    Ok(())
}

/// Records a refused change to a note that is not this therapist's, and answers 404.
async fn refused(state: &AppState, event: Event) -> AppResult<Response> {
    record_refusal(state, event).await?;
    Err(AppError::NotFound)
}

/// `POST /clients/{id}/notes/{note}/share`: whether the client can read the note.
pub async fn share(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Path((id, note_id)): Path<(Uuid, Uuid)>,
    Form(fields): Form<BTreeMap<String, String>>,
) -> AppResult<Response> {
    let (_, event) =
        authorize(&state, &current.user, id, Access::Write, page.ip.as_deref()).await?;
    let shared = fields.get("shared").is_some_and(|v| v == "1");
    if !state
        .db
        .set_note_shared(note_id, id, current.user.id, shared)
        .await?
    {
        return refused(&state, event).await;
    }
    state
        .audit
        .record(Event {
            action: if shared {
                "session_note.share"
            } else {
                "session_note.unshare"
            },
            ..event
        })
        .await?;
    Ok(Redirect::to(&format!("/clients/{id}/notes/{note_id}")).into_response())
}

/// `POST /clients/{id}/notes/{note}/addenda`: a dated addition to a signed note.
pub async fn add_addendum(
    State(state): State<AppState>,
    page: Page,
    Signed(current): Signed,
    Path((id, note_id)): Path<(Uuid, Uuid)>,
    Form(fields): Form<BTreeMap<String, String>>,
) -> AppResult<Response> {
    let (_, event) =
        authorize(&state, &current.user, id, Access::Write, page.ip.as_deref()).await?;
    let text = fields
        .get("addendum")
        .map(|t| t.trim().to_string())
        .unwrap_or_default();
    let mut problems = Vec::new();
    if text.is_empty() {
        problems.push(FieldError::new("addendum", "Write the addendum first."));
    }
    if let Err(e) = check_len("addendum", &text, ADDENDUM_MAX) {
        problems.push(e);
    }
    if !problems.is_empty() {
        let row = state
            .db
            .note(note_id, id)
            .await?
            .ok_or(AppError::NotFound)?;
        let html = render_show(
            &state,
            &page,
            current.user.id,
            true,
            row,
            None,
            text,
            problems,
        )
        .await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response());
    }
    let addendum_id = new_id();
    let sealed = state
        .sealer
        .seal(&addendum_context(addendum_id), &text)
        .await?;
    match state
        .db
        .add_addendum(addendum_id, note_id, id, current.user.id, &sealed)
        .await?
    {
        Change::Done => {}
        Change::WrongState => {
            return Err(AppError::Conflict(
                "This note is still a draft: change it directly, then sign it.".into(),
            ));
        }
        Change::Missing => return Err(AppError::NotFound),
    }
    state
        .audit
        .record(Event {
            action: "session_note.addendum",
            ..event
        })
        .await?;
    Ok(Redirect::to(&format!("/clients/{id}/notes/{note_id}#addenda")).into_response())
}
