//! The public directory: search, profiles, photos, the matching questionnaire and requests.
//! None of these needs an account.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use uuid::Uuid;

use super::matching::{self, Answers, TIMES};
use super::profile::{Profile, money};
use super::queries::Hit;
use super::schedule::{WeeklyWindow, format_hhmm, weekday_name};
use super::search::{Found, SearchQuery};
use super::vocab::{Facet, GENDERS, Term};
use crate::audit::{Event, Outcome};
use crate::authz::Role;
use crate::db::new_id;
use crate::email::Email;
use crate::error::{AppError, AppResult, FieldError};
use crate::jobs::{JobKind, enqueue};
use crate::safety::screen::{Level, screen};
use crate::web::AppState;
use crate::web::extract::{
    FormPairs, Page, QueryPairs, check_email, check_len, check_required, collect,
};
use crate::web::layout::{Errors, Layout};

/// A result card as templates show it.
pub struct Card {
    /// The profile.
    pub profile: Profile,
    /// Formatted fee.
    pub fee: String,
    /// Formatted sliding-scale floor.
    pub sliding: Option<String>,
    /// Distance in km, when searching near a place.
    pub km: Option<f64>,
    /// Why this therapist (matching only).
    pub reasons: Vec<String>,
    /// Notes that earned no points.
    pub notes: Vec<String>,
    /// Points earned (matching only).
    pub score: u32,
}

impl Card {
    /// A card for `profile`.
    fn new(profile: Profile, currency: &str) -> Card {
        Card {
            fee: profile.fee(currency),
            sliding: profile.sliding_min(currency),
            profile,
            km: None,
            reasons: Vec::new(),
            notes: Vec::new(),
            score: 0,
        }
    }

    /// The concerns, for the card.
    pub fn concerns(&self) -> String {
        self.profile.labels(Facet::Concern)
    }

    /// The ways of meeting.
    pub fn modalities(&self) -> String {
        self.profile.labels(Facet::Modality)
    }

    /// The languages.
    pub fn languages(&self) -> String {
        self.profile.labels(Facet::Language)
    }

    /// The reasons joined with middle dots.
    pub fn why(&self) -> String {
        self.reasons.join(" · ")
    }

    /// The distance, rounded.
    pub fn distance(&self) -> String {
        self.km
            .map(|k| format!("{k:.0} km away"))
            .unwrap_or_default()
    }
}

/// A facet's options with the current selection, for a `<select>`.
pub struct Choice {
    /// Field name.
    pub key: &'static str,
    /// Label text.
    pub label: &'static str,
    /// The options.
    pub terms: &'static [Term],
    /// The selected slug, or empty.
    pub selected: String,
}

/// The search page.
#[derive(Template)]
#[template(path = "directory/search.html")]
struct SearchPage {
    layout: Layout,
    q: SearchQuery,
    choices: Vec<Choice>,
    cards: Vec<Card>,
    found: Found,
    pages: i64,
    prev: Option<String>,
    next: Option<String>,
    max_fee: String,
    errors: Errors,
}

/// `GET /directory`
pub async fn search(
    State(state): State<AppState>,
    page: Page,
    QueryPairs(pairs): QueryPairs,
) -> AppResult<Response> {
    let (q, errors) = match SearchQuery::from_pairs(&pairs) {
        Ok(q) => (q, Vec::new()),
        Err(errors) => (SearchQuery::default(), errors),
    };
    let (found, hits) = if errors.is_empty() {
        state.directory.search(&state.db, &q).await?
    } else {
        (Found::default(), Vec::new())
    };
    let currency = &state.config.currency_symbol;
    let near = q.near.is_some();
    let cards = hits
        .into_iter()
        .map(|h| card_for_hit(h, currency, near))
        .collect();
    let pages = found.pages();
    let link = |p: i64| format!("/directory?{}", q.to_query_string(p));
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let choices = [
        Facet::Concern,
        Facet::Approach,
        Facet::Language,
        Facet::Modality,
    ]
    .into_iter()
    .map(|f| Choice {
        key: f.key(),
        label: match f {
            Facet::Concern => "What would you like help with?",
            Facet::Approach => "Approach",
            Facet::Language => "Language",
            _ => "Way of meeting",
        },
        terms: f.terms(),
        selected: q.selected(f).to_string(),
    })
    .collect();
    let html = SearchPage {
        layout: page.layout("Find a therapist"),
        max_fee: q.max_fee_cents.map(|c| money(c, "")).unwrap_or_default(),
        prev: (q.page > 1).then(|| link(q.page - 1)),
        next: (q.page < pages).then(|| link(q.page + 1)),
        q,
        choices,
        cards,
        found,
        pages,
        errors: Errors(errors),
    }
    .render()?;
    Ok((status, Html(html)).into_response())
}

/// A card from a search hit, with its distance when the search was near a place.
fn card_for_hit(hit: Hit, currency: &str, near: bool) -> Card {
    let mut card = Card::new(hit.profile, currency);
    if near {
        card.km = Some(hit.dist2.sqrt() * super::search::KM_PER_DEGREE);
    }
    card
}

/// Whether the caller may see a profile that is not listed (its owner or an admin).
fn may_preview(page: &Page, profile: &Profile) -> bool {
    page.user
        .as_ref()
        .is_some_and(|u| u.user.id == profile.row.user_id || u.user.role == Role::Admin)
}

/// A listed profile by slug, or one the caller may preview; 404 otherwise.
async fn visible_profile(state: &AppState, page: &Page, slug: &str) -> AppResult<Profile> {
    let profile = state
        .db
        .profile_by_slug(slug)
        .await?
        .ok_or(AppError::NotFound)?;
    let listed = profile.row.published && !profile.row.hidden;
    if listed || may_preview(page, &profile) {
        Ok(profile)
    } else {
        Err(AppError::NotFound)
    }
}

/// A weekly window as text.
pub struct HoursLine {
    /// Day name.
    pub day: &'static str,
    /// Times.
    pub times: String,
}

/// Weekly hours grouped by day, for display.
pub fn hours_lines(windows: &[WeeklyWindow]) -> Vec<HoursLine> {
    let mut out: Vec<HoursLine> = Vec::new();
    for w in windows {
        let span = format!(
            "{}–{}",
            format_hhmm(w.start_minute),
            format_hhmm(w.end_minute)
        );
        match out.last_mut() {
            Some(last) if last.day == weekday_name(w.weekday) => {
                last.times.push_str(", ");
                last.times.push_str(&span);
            }
            _ => out.push(HoursLine {
                day: weekday_name(w.weekday),
                times: span,
            }),
        }
    }
    out
}

/// Loads a therapist's weekly windows as domain values.
pub async fn weekly_windows(state: &AppState, therapist_id: Uuid) -> AppResult<Vec<WeeklyWindow>> {
    Ok(state
        .db
        .windows(therapist_id)
        .await?
        .iter()
        .map(super::queries::WindowRow::window)
        .collect())
}

/// A session type as text.
pub struct OfferLine {
    /// Name.
    pub name: String,
    /// "50 minutes · video · $90".
    pub detail: String,
}

/// The profile page.
#[derive(Template)]
#[template(path = "directory/profile.html")]
struct ProfilePage {
    layout: Layout,
    card: Card,
    hours: Vec<HoursLine>,
    offers: Vec<OfferLine>,
    ages: String,
    approaches: String,
    gender: String,
    listed: bool,
}

/// `GET /directory/t/{slug}`
pub async fn show_profile(
    State(state): State<AppState>,
    page: Page,
    Path(slug): Path<String>,
) -> AppResult<Response> {
    let profile = visible_profile(&state, &page, &slug).await?;
    let currency = state.config.currency_symbol.clone();
    let hours = hours_lines(&weekly_windows(&state, profile.row.user_id).await?);
    let offers = state
        .db
        .session_types(profile.row.user_id, true)
        .await?
        .into_iter()
        .map(|s| OfferLine {
            detail: format!(
                "{} minutes · {} · {}",
                s.minutes,
                Facet::Modality.label(&s.modality).to_lowercase(),
                if s.fee_cents == 0 {
                    "free".to_string()
                } else {
                    money(s.fee_cents, &currency)
                }
            ),
            name: s.name,
        })
        .collect();
    let listed = profile.row.published && !profile.row.hidden;
    let html = ProfilePage {
        layout: page.layout(&profile.row.display_name),
        hours,
        offers,
        ages: profile.labels(Facet::AgeGroup),
        approaches: profile.labels(Facet::Approach),
        gender: super::vocab::gender_label(&profile.row.gender)
            .unwrap_or_default()
            .to_string(),
        listed,
        card: Card::new(profile, &currency),
    }
    .render()?;
    Ok(Html(html).into_response())
}

/// `GET /directory/photos/{id}`: a listed therapist's photo (JPEG, metadata stripped).
pub async fn photo(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let profile = state
        .db
        .profile_for_user(id)
        .await?
        .ok_or(AppError::NotFound)?;
    let listed = profile.row.published && !profile.row.hidden;
    if !listed && !may_preview(&page, &profile) {
        return Err(AppError::NotFound);
    }
    let (jpeg, etag) = state.db.photo(id).await?.ok_or(AppError::NotFound)?;
    let quoted = format!("\"{etag}\"");
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(quoted.as_str())
    {
        return Ok(StatusCode::NOT_MODIFIED.into_response());
    }
    Ok((
        [
            (header::CONTENT_TYPE, "image/jpeg".to_string()),
            (header::ETAG, quoted),
            (header::CACHE_CONTROL, "public, max-age=3600".to_string()),
        ],
        jpeg,
    )
        .into_response())
}

/// The matching questionnaire and its results.
#[derive(Template)]
#[template(path = "directory/match.html")]
struct MatchPage {
    layout: Layout,
    concerns: &'static [Term],
    languages: &'static [Term],
    modalities: &'static [Term],
    approaches: &'static [Term],
    genders: &'static [Term],
    times: &'static [(&'static str, &'static str)],
    answers: Answers,
    budget: String,
    answered: bool,
    max_score: u32,
    cards: Vec<Card>,
    errors: Errors,
}

/// `GET /directory/match`: the questionnaire; with answers, the ranked results below it.
pub async fn match_page(
    State(state): State<AppState>,
    page: Page,
    QueryPairs(pairs): QueryPairs,
) -> AppResult<Response> {
    let (answers, errors) = match Answers::from_pairs(&pairs) {
        Ok(a) => (a, Vec::new()),
        Err(e) => (Answers::default(), e),
    };
    let answered = errors.is_empty() && !answers.is_empty();
    let cards = if answered {
        ranked_cards(&state, &answers, 20).await?
    } else {
        Vec::new()
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let html = MatchPage {
        layout: page.layout("Find a good fit"),
        concerns: Facet::Concern.terms(),
        languages: Facet::Language.terms(),
        modalities: Facet::Modality.terms(),
        approaches: Facet::Approach.terms(),
        genders: GENDERS,
        times: TIMES,
        budget: answers
            .budget_cents
            .map(|c| money(c, ""))
            .unwrap_or_default(),
        max_score: answers.max_score(),
        answers,
        answered,
        cards,
        errors: Errors(errors),
    }
    .render()?;
    Ok((status, Html(html)).into_response())
}

/// The best `limit` matches for these answers, as cards with their reasons.
pub async fn ranked_cards(
    state: &AppState,
    answers: &Answers,
    limit: usize,
) -> AppResult<Vec<Card>> {
    let language_tags: Vec<String> = answers
        .languages
        .iter()
        .map(|l| Facet::Language.tag(l))
        .collect();
    let candidates = state.db.match_candidates(&language_tags).await?;
    // The candidates' hours in one query, not one per candidate.
    let mut by_therapist: std::collections::HashMap<Uuid, Vec<WeeklyWindow>> =
        std::collections::HashMap::new();
    let ids: Vec<Uuid> = candidates.iter().map(|c| c.row.user_id).collect();
    for w in state.db.windows_of(&ids).await? {
        by_therapist
            .entry(w.therapist_id)
            .or_default()
            .push(w.row.window());
    }
    let windows: Vec<Vec<WeeklyWindow>> = candidates
        .iter()
        .map(|c| by_therapist.remove(&c.row.user_id).unwrap_or_default())
        .collect();
    let pairs: Vec<(&Profile, &[WeeklyWindow])> = candidates
        .iter()
        .zip(windows.iter())
        .map(|(p, w)| (p, w.as_slice()))
        .collect();
    let currency = &state.config.currency_symbol;
    let ranked = matching::rank(answers, &pairs, currency);
    Ok(ranked
        .into_iter()
        .take(limit)
        .filter_map(|m| {
            let profile = candidates.get(m.index)?.clone();
            let mut card = Card::new(profile, currency);
            card.reasons = m.reasons;
            card.notes = m.notes;
            card.score = m.score;
            Some(card)
        })
        .collect())
}

/// The request form.
#[derive(Template)]
#[template(path = "directory/request.html")]
struct RequestPage {
    layout: Layout,
    card: Card,
    name: String,
    email: String,
    message: String,
    errors: Errors,
}

/// `GET /directory/t/{slug}/request`
pub async fn request_form(
    State(state): State<AppState>,
    page: Page,
    Path(slug): Path<String>,
) -> AppResult<Response> {
    let profile = listed_profile(&state, &slug).await?;
    let (name, email) = page
        .user
        .as_ref()
        .map(|u| (u.user.name.clone(), u.user.email.clone()))
        .unwrap_or_default();
    render_request(
        &state,
        &page,
        profile,
        name,
        email,
        String::new(),
        Vec::new(),
        StatusCode::OK,
    )
}

/// A profile that is listed (requests go only to listed therapists); 404 otherwise.
async fn listed_profile(state: &AppState, slug: &str) -> AppResult<Profile> {
    let profile = state
        .db
        .profile_by_slug(slug)
        .await?
        .ok_or(AppError::NotFound)?;
    if profile.row.published && !profile.row.hidden {
        Ok(profile)
    } else {
        Err(AppError::NotFound)
    }
}

/// Renders the request form.
#[allow(clippy::too_many_arguments)]
fn render_request(
    state: &AppState,
    page: &Page,
    profile: Profile,
    name: String,
    email: String,
    message: String,
    errors: Vec<FieldError>,
    status: StatusCode,
) -> AppResult<Response> {
    let title = if profile.row.accepting {
        format!("Ask to work with {}", profile.row.display_name)
    } else {
        format!("Join {}'s waitlist", profile.row.display_name)
    };
    let html = RequestPage {
        layout: page.layout(&title),
        card: Card::new(profile, &state.config.currency_symbol),
        name,
        email,
        message,
        errors: Errors(errors),
    }
    .render()?;
    Ok((status, Html(html)).into_response())
}

/// What someone sent, shown back to them.
#[derive(Template)]
#[template(path = "directory/requested.html")]
struct RequestedPage {
    layout: Layout,
    therapist: String,
    waitlist: bool,
    risk: bool,
}

/// Requests one address may send per hour.
const REQUESTS_PER_HOUR: u32 = 10;

/// `POST /directory/t/{slug}/request`
pub async fn send_request(
    State(state): State<AppState>,
    page: Page,
    Path(slug): Path<String>,
    FormPairs(pairs): FormPairs,
) -> AppResult<Response> {
    let profile = listed_profile(&state, &slug).await?;
    let get = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let (name, email, message) = (get("name"), get("email").to_lowercase(), get("message"));
    if let Err(AppError::Invalid(fields)) = collect([
        check_required("name", &name),
        check_len("name", &name, 120),
        check_email("email", &email),
        check_len("message", &message, 2000),
    ]) {
        return render_request(
            &state,
            &page,
            profile,
            name,
            email,
            message,
            fields,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    state.limiter.hit(
        &format!(
            "directory-request:{}",
            page.ip.as_deref().unwrap_or("unknown")
        ),
        REQUESTS_PER_HOUR,
        std::time::Duration::from_secs(3600),
    )?;
    let id = new_id();
    let sealed = state
        .sealer
        .seal(&format!("directory_requests.message:{id}"), &message)
        .await?;
    // Someone reaching out may be in crisis: what they wrote is screened so they see crisis
    // lines at once and the therapist sees the request first and marked.
    let level = match crate::safety::risk::try_screen(&state, &message).await {
        Ok(screening) => screening.level,
        Err(error) => {
            // The request is not tied to a client yet, so there is no alert to retry; the
            // phrase rules alone still decide what the person sees and how it is marked.
            tracing::error!(request = %id, %error, "screening a directory request failed; using the phrase rules alone");
            screen(&message).level
        }
    };
    let risk = match level {
        Level::None => "none",
        Level::Concern => "concern",
        Level::Urgent => "urgent",
    };
    let waitlist = !profile.row.accepting;
    let requester = page
        .user
        .as_ref()
        .filter(|u| u.user.role == Role::Client)
        .map(|u| u.user.id);
    state
        .db
        .create_request(
            id,
            profile.row.user_id,
            requester,
            &name,
            &email,
            &sealed,
            waitlist,
            risk,
        )
        .await?;
    let therapist = state
        .db
        .user_by_id(profile.row.user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let base = state.config.base_url();
    enqueue(
        &state,
        &JobKind::SendEmail(Email::text(
            &therapist.email,
            if waitlist {
                "Someone joined your waitlist on Tend"
            } else {
                "Someone asked to work with you on Tend"
            },
            format!(
                "Hello {},\n\n{} would like to work with you{}. You can read their note and reply here:\n\n{base}/directory/requests\n\nTend never puts what people write in an email.\n",
                therapist.name,
                name,
                if waitlist { " and joined your waitlist" } else { "" },
            ),
        )),
        None,
    )
    .await?;
    enqueue(
        &state,
        &JobKind::SendEmail(Email::text(
            &email,
            "Your request on Tend",
            format!(
                "Hello {name},\n\nThank you for reaching out. {} has your {} and will reply by email.\n\nIf you are not safe right now, please call your local emergency number or a crisis line: {base}/help\n",
                profile.row.display_name,
                if waitlist { "place on the waitlist" } else { "request" },
            ),
        )),
        None,
    )
    .await?;
    state
        .audit
        .record(
            Event::new(
                page.user.as_ref().map(|u| u.user.principal()),
                "directory.request",
                Outcome::Success,
            )
            .on("directory_request", id)
            .from_ip(page.ip.as_deref()),
        )
        .await?;
    let html = RequestedPage {
        layout: page.layout("Request sent"),
        therapist: profile.row.display_name,
        waitlist,
        risk: level != Level::None,
    }
    .render()?;
    Ok(Html(html).into_response())
}
