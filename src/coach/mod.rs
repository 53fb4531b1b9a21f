//! The empathy and active-listening coach: feedback on a written reply to a client's message,
//! practice scenarios with history and supervision, a MITI-style transcript summary, and
//! "check my draft" in messaging.
//!
//! Layout: [`text`] (sentences, language), [`roadblocks`] (rules), [`feedback`] (profile,
//! evidence, suggestions) and [`summary`] (MITI figures) are pure; [`model`] runs the encoder
//! with candle; [`Engine`] loads it lazily and runs it off the async threads; `api`, `pages`
//! and `queries` are the edges. The coach is English-only and says so; it offers suggestions,
//! never grades, and nothing it sees leaves the server.

pub mod api;
pub mod feedback;
pub mod model;
pub mod pages;
pub mod queries;
pub mod roadblocks;
pub mod scenarios;
pub mod summary;
pub mod text;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;
use utoipa::ToSchema;

use crate::authz::CLINICIAN;
use crate::web::routes::Route;
use feedback::Feedback;
use model::Model;

/// Longest reply (and client message) the coach reads, in characters.
pub const REPLY_MAX: usize = 5_000;
/// Longest transcript for a summary, in characters.
pub const TRANSCRIPT_MAX: usize = 50_000;

/// A listening behaviour, as the model labels a sentence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Label {
    /// Says back what the client said and adds meaning, feeling or what is unsaid.
    ComplexReflection,
    /// Says back what the client said, in the same or nearly the same words.
    SimpleReflection,
    /// A question that invites a wide answer.
    OpenQuestion,
    /// A question with a short answer (yes or no, a number, a fact).
    ClosedQuestion,
    /// Information, advice, options or suggestions.
    InformationOrAdvice,
    /// Anything else: greetings, affirmations, small talk, structuring.
    Other,
}

impl Label {
    /// Every label, in the model's output order.
    pub const ALL: [Label; 6] = [
        Label::ComplexReflection,
        Label::SimpleReflection,
        Label::OpenQuestion,
        Label::ClosedQuestion,
        Label::InformationOrAdvice,
        Label::Other,
    ];

    /// Position in [`Label::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Label::ComplexReflection => "complex_reflection",
            Label::SimpleReflection => "simple_reflection",
            Label::OpenQuestion => "open_question",
            Label::ClosedQuestion => "closed_question",
            Label::InformationOrAdvice => "information_or_advice",
            Label::Other => "other",
        }
    }

    /// How the label reads on a page.
    pub fn display(self) -> &'static str {
        match self {
            Label::ComplexReflection => "Complex reflection",
            Label::SimpleReflection => "Simple reflection",
            Label::OpenQuestion => "Open question",
            Label::ClosedQuestion => "Closed question",
            Label::InformationOrAdvice => "Information or advice",
            Label::Other => "Other",
        }
    }

    /// Either kind of reflection.
    pub fn is_reflection(self) -> bool {
        matches!(self, Label::ComplexReflection | Label::SimpleReflection)
    }
}

impl std::str::FromStr for Label {
    type Err = String;
    fn from_str(s: &str) -> Result<Label, String> {
        Label::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| format!("unknown label `{s}`"))
    }
}

/// Why the coach gave no feedback.
#[derive(Debug, thiserror::Error)]
pub enum CoachError {
    /// The input is empty, too long or not English; each names its field.
    #[error("{}", describe(.0))]
    Invalid(Vec<crate::error::FieldError>),
    /// The model is missing or failed to load; the rest of Tend works.
    #[error("the coach is not available: {0}")]
    Unavailable(String),
    /// Inference failed unexpectedly.
    #[error("the coach failed: {0}")]
    Failed(String),
}

impl From<CoachError> for crate::error::AppError {
    fn from(err: CoachError) -> Self {
        match err {
            CoachError::Invalid(fields) => crate::error::AppError::Invalid(fields),
            CoachError::Unavailable(why) => crate::error::AppError::FeatureOff(format!(
                "The listening coach is not available on this server ({why}). Everything else in Tend works as usual."
            )),
            CoachError::Failed(why) => crate::error::AppError::Internal(why),
        }
    }
}

/// Field problems as one line: `reply: …; client_message: …`.
fn describe(fields: &[crate::error::FieldError]) -> String {
    fields
        .iter()
        .map(|f| format!("{}: {}", f.field, f.message))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Checks a client message and reply before any model work.
pub fn check_input(client_message: &str, reply: &str) -> Result<(), CoachError> {
    use crate::error::FieldError;
    use crate::web::extract::check_len;
    let mut fields: Vec<FieldError> = [
        check_len("client_message", client_message, REPLY_MAX),
        check_len("reply", reply, REPLY_MAX),
    ]
    .into_iter()
    .filter_map(Result::err)
    .collect();
    if text::sentences(reply).is_empty() {
        fields.push(FieldError::new(
            "reply",
            "Write a reply to get feedback on it.",
        ));
    } else if fields.is_empty() && !text::is_english(reply) {
        fields.push(FieldError::new(
            "reply",
            "The coach understands English only, so it has not scored this reply.",
        ));
    }
    if fields.is_empty() {
        Ok(())
    } else {
        Err(CoachError::Invalid(fields))
    }
}

/// The coach's model, loaded on first use; shared by every request.
pub struct Engine {
    dir: PathBuf,
    startup_problem: Option<String>,
    loaded: OnceLock<Result<Arc<Model>, String>>,
    /// One inference at a time per core: under load, more threads only slow each other down.
    permits: Semaphore,
}

/// What the coach can do right now, for pages and `/healthz`-style checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// The files are there; the model loads on first use (or has loaded).
    Ready,
    /// The coach is off, with the reason.
    Unavailable(String),
}

impl Engine {
    /// Checks the model files (cheaply: no weights are read) and logs a clear error if they
    /// cannot be used. The coach is then off; everything else works.
    pub fn new(dir: &Path) -> Engine {
        let startup_problem = model::check_files(dir).err().map(|e| e.to_string());
        if let Some(problem) = &startup_problem {
            tracing::error!(model_dir = %dir.display(), %problem, "the listening coach is off: its model cannot be used");
        }
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        Engine {
            dir: dir.to_owned(),
            startup_problem,
            loaded: OnceLock::new(),
            permits: Semaphore::new(threads),
        }
    }

    /// Whether the coach can be used.
    pub fn status(&self) -> Status {
        if let Some(problem) = &self.startup_problem {
            return Status::Unavailable(problem.clone());
        }
        match self.loaded.get() {
            Some(Err(problem)) => Status::Unavailable(problem.clone()),
            _ => Status::Ready,
        }
    }

    /// The model, loading it on first use (blocking; call off the async threads).
    pub fn model(&self) -> Result<Arc<Model>, CoachError> {
        if let Some(problem) = &self.startup_problem {
            return Err(CoachError::Unavailable(problem.clone()));
        }
        self.loaded
            .get_or_init(|| {
                let started = std::time::Instant::now();
                let loaded = model::load_shared(&self.dir).map_err(|e| {
                    tracing::error!(model_dir = %self.dir.display(), error = %e, "the listening coach is off: loading its model failed");
                    e.to_string()
                });
                if loaded.is_ok() {
                    tracing::info!(elapsed_ms = started.elapsed().as_millis() as u64, "coach model loaded");
                }
                loaded
            })
            .clone()
            .map_err(CoachError::Unavailable)
    }

    /// A turn's sentences and, for each, the label probabilities given the client's words.
    fn label_sentences(
        model: &Model,
        context: &str,
        turn: &str,
    ) -> Result<(Vec<text::Span>, Vec<Vec<f32>>), CoachError> {
        let spans = text::sentences(turn);
        let texts: Vec<&str> = spans.iter().map(|s| s.text.as_str()).collect();
        let probs = model
            .classify(context, &texts)
            .map_err(|e| CoachError::Failed(e.to_string()))?;
        Ok((spans, probs))
    }

    /// Feedback on a reply, computed in the calling thread (for the CLI and benchmarks).
    pub fn feedback_blocking(
        &self,
        client_message: &str,
        reply: &str,
    ) -> Result<Feedback, CoachError> {
        check_input(client_message, reply)?;
        let (spans, probs) = Self::label_sentences(&*self.model()?, client_message, reply)?;
        Ok(feedback::compose(&spans, &probs))
    }

    /// Runs `work` on a blocking thread, one per permit (one encoder run per core), so the
    /// server keeps serving; `failed` turns a lost permit or thread into the caller's error.
    /// Shared by the coach and by the risk screen's own encoder (one CPU budget for both).
    pub async fn run_blocking<T: Send + 'static, E: Send + 'static>(
        self: &Arc<Self>,
        work: impl FnOnce() -> Result<T, E> + Send + 'static,
        failed: fn(String) -> E,
    ) -> Result<T, E> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| failed(e.to_string()))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| failed(format!("the encoder's thread failed: {e}")))?
    }

    /// The coach's own work on a blocking thread (see [`Engine::run_blocking`]).
    async fn off_the_async_threads<T: Send + 'static>(
        self: &Arc<Self>,
        work: impl FnOnce(&Engine) -> Result<T, CoachError> + Send + 'static,
    ) -> Result<T, CoachError> {
        let engine = Arc::clone(self);
        self.run_blocking(move || work(&engine), CoachError::Failed)
            .await
    }

    /// Feedback on a reply, on a blocking thread so the server keeps serving. Input is checked
    /// first, so a reply the coach cannot read never waits for a permit.
    pub async fn feedback(
        self: &Arc<Self>,
        client_message: String,
        reply: String,
    ) -> Result<Feedback, CoachError> {
        check_input(&client_message, &reply)?;
        self.off_the_async_threads(move |engine| engine.feedback_blocking(&client_message, &reply))
            .await
    }

    /// The MITI-style summary of a transcript (blocking).
    pub fn summary_blocking(&self, transcript: &str) -> Result<summary::Summary, CoachError> {
        let turns = summary::parse(transcript).map_err(|e| {
            CoachError::Invalid(vec![crate::error::FieldError::new(
                "transcript",
                e.to_string(),
            )])
        })?;
        let model = self.model()?;
        let mut labels = Vec::new();
        let mut context = "";
        let mut therapist_turns = 0;
        for turn in &turns {
            match turn.speaker {
                summary::Speaker::Client => context = &turn.text,
                summary::Speaker::Therapist => {
                    therapist_turns += 1;
                    let (_, probs) = Self::label_sentences(&model, context, &turn.text)?;
                    labels.extend(probs.iter().map(|p| argmax_label(p)));
                }
            }
        }
        Ok(summary::summarise(therapist_turns, &labels))
    }

    /// The summary on a blocking thread.
    pub async fn summary(
        self: &Arc<Self>,
        transcript: String,
    ) -> Result<summary::Summary, CoachError> {
        self.off_the_async_threads(move |engine| engine.summary_blocking(&transcript))
            .await
    }
}

/// Stores a practice attempt: the reply and the feedback sealed against its id, the three
/// profile figures in the clear for the progress chart. Returns the attempt's id.
pub async fn save_attempt(
    state: &crate::web::AppState,
    user_id: uuid::Uuid,
    scenario: &str,
    reply: &str,
    feedback: &Feedback,
    created_at: crate::db::Timestamp,
) -> Result<uuid::Uuid, crate::error::AppError> {
    use queries::{Attempt, feedback_context, reply_context};
    let id = crate::db::new_id();
    let json = serde_json::to_string(feedback)
        .map_err(|e| crate::error::AppError::Internal(e.to_string()))?;
    let attempt = Attempt {
        id,
        user_id,
        scenario: scenario.to_owned(),
        reply_sealed: state.sealer.seal(&reply_context(id), reply.trim()).await?,
        feedback_sealed: state.sealer.seal(&feedback_context(id), &json).await?,
        reflection: f64::from(feedback.dimensions.reflection),
        exploration: f64::from(feedback.dimensions.exploration),
        warmth: f64::from(feedback.dimensions.warmth),
        created_at,
    };
    state.db.add_attempt(&attempt).await?;
    Ok(id)
}

/// Adds a comment to an attempt, sealed against the comment's id.
pub async fn save_comment(
    state: &crate::web::AppState,
    attempt_id: uuid::Uuid,
    author_id: uuid::Uuid,
    body: &str,
) -> Result<(), crate::error::AppError> {
    let id = crate::db::new_id();
    let sealed = state
        .sealer
        .seal(&queries::comment_context(id), body.trim())
        .await?;
    state
        .db
        .add_comment(id, attempt_id, author_id, &sealed)
        .await?;
    Ok(())
}

/// The most likely label of a probability row (in [`Label::ALL`] order) and its probability.
pub fn best_label(probs: &[f32]) -> (Label, f32) {
    probs
        .iter()
        .enumerate()
        .fold((Label::Other, f32::MIN), |best, (i, &v)| {
            if v > best.1 {
                (Label::ALL.get(i).copied().unwrap_or(Label::Other), v)
            } else {
                best
            }
        })
}

/// The most likely label of a probability row.
pub fn argmax_label(probs: &[f32]) -> Label {
    best_label(probs).0
}

/// Where the shipped model lives when `TEND_COACH_MODEL` is not set: `coach/model` under the
/// working directory, else under the source tree this binary was built from.
pub fn default_model_dir() -> PathBuf {
    let here = PathBuf::from("coach/model");
    if here.join("config.json").exists() {
        here
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("coach/model")
    }
}

/// Routes of this feature.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/coach", CLINICIAN, pages::index),
        Route::get("/coach/scenarios/{slug}", CLINICIAN, pages::scenario),
        Route::post("/coach/scenarios/{slug}", CLINICIAN, pages::attempt),
        Route::get("/coach/attempts/{id}", CLINICIAN, pages::show_attempt),
        Route::post("/coach/attempts/{id}/comments", CLINICIAN, pages::comment),
        Route::get("/coach/progress", CLINICIAN, pages::own_progress),
        Route::get("/coach/trainees/{id}", CLINICIAN, pages::trainee_progress),
        Route::get("/coach/check", CLINICIAN, pages::check_form),
        Route::post("/coach/check", CLINICIAN, pages::check),
        Route::get("/coach/summary", CLINICIAN, pages::summary_form),
        Route::post("/coach/summary", CLINICIAN, pages::summary),
        Route::post("/api/v1/coach/feedback", CLINICIAN, api::feedback),
        Route::post("/api/v1/coach/summary", CLINICIAN, api::summary),
    ]
}
