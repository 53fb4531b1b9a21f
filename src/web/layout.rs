//! What every page template shares: title, navigation for the caller's role, CSRF token.

use super::middleware::CurrentUser;
use crate::accounts::queries::Stage;
use crate::authz::Role;

/// A navigation link.
pub struct NavLink {
    /// Target path.
    pub href: &'static str,
    /// Visible text.
    pub label: &'static str,
    /// Whether it is the current page (gets `aria-current="page"`).
    pub current: bool,
}

/// The signed-in person as the header shows them.
pub struct NavUser {
    /// Their name.
    pub name: String,
    /// Their role, as a word.
    pub role: &'static str,
}

/// Inputs of `templates/base.html`.
pub struct Layout {
    /// Page title (also the `<h1>` in most pages).
    pub title: String,
    /// The caller, when signed in.
    pub user: Option<NavUser>,
    /// CSRF token for forms (including sign-out in the header).
    pub csrf: String,
    /// Links for the caller's role.
    pub nav: Vec<NavLink>,
    /// Badges, the urgent-alert banner and crisis lines.
    pub attention: Attention,
}

/// What the header and crisis blocks need beyond the caller: counts that ask for attention
/// and the practice's crisis lines.
#[derive(Clone, Debug)]
pub struct Attention {
    /// Open urgent alerts for a clinician (a banner on every page).
    pub urgent_alerts: i64,
    /// Unread messages.
    pub unread_messages: i64,
    /// Whether the caller is a client (the "Need help now?" link stands out).
    pub is_client: bool,
    /// Crisis lines to show, practice's first.
    pub crisis: Vec<crate::safety::crisis::Region>,
}

impl Default for Attention {
    fn default() -> Self {
        Attention {
            urgent_alerts: 0,
            unread_messages: 0,
            is_client: false,
            crisis: crate::safety::crisis::resolve("us", &[]),
        }
    }
}

impl Attention {
    /// Loads the counts for `user` (when fully signed in) and the crisis lines. A failed
    /// count shows as zero rather than failing the page; the crisis lines fall back to the
    /// verified defaults.
    pub async fn load(state: &crate::web::AppState, user: Option<&CurrentUser>) -> Attention {
        let practice = state.crisis.practice_lines(&state.db).await;
        let mut attention = Attention {
            crisis: crate::safety::crisis::resolve(&state.config.crisis_region, &practice),
            ..Attention::default()
        };
        let Some(user) = user else {
            return attention;
        };
        let id = user.user.id;
        attention.is_client = user.user.role == Role::Client;
        if matches!(user.user.role, Role::Therapist | Role::Supervisor) {
            attention.urgent_alerts = state.db.open_urgent_alerts(id).await.unwrap_or(0);
        }
        if user.user.role != Role::Admin {
            attention.unread_messages = state.db.unread_total(id).await.unwrap_or(0);
        }
        attention
    }
}

impl Layout {
    /// A layout for `user` on the page at `path`.
    pub fn new(title: &str, user: Option<&CurrentUser>, csrf: String, path: &str) -> Layout {
        let full = user.filter(|u| u.session.stage == Stage::Full);
        let links: &[(&'static str, &'static str)] = match full.map(|u| u.user.role) {
            None => &[("/directory", "Find a therapist")],
            Some(Role::Client) => &[
                ("/", "Home"),
                ("/practice", "Practice"),
                ("/journal", "Journal"),
                ("/messages", "Messages"),
                ("/appointments", "Appointments"),
                ("/safety-plan", "Safety plan"),
                ("/account", "Account"),
            ],
            Some(Role::Therapist) => &[
                ("/", "Home"),
                ("/clients", "Clients"),
                ("/progress", "Progress"),
                ("/appointments", "Schedule"),
                ("/messages", "Messages"),
                ("/alerts", "Alerts"),
                ("/coach", "Coach"),
                ("/account", "Account"),
            ],
            Some(Role::Supervisor) => &[
                ("/", "Home"),
                ("/trainees", "Trainees"),
                ("/clients", "Clients"),
                ("/outcomes", "Outcomes"),
                ("/messages", "Messages"),
                ("/coach", "Coach"),
                ("/account", "Account"),
            ],
            Some(Role::Admin) => &[
                ("/", "Home"),
                ("/admin/users", "People"),
                ("/admin/instruments", "Questionnaires"),
                ("/admin/directory", "Directory"),
                ("/outcomes", "Outcomes"),
                ("/admin/audit", "Audit"),
                ("/admin/jobs", "Background work"),
                ("/account", "Account"),
            ],
        };
        Layout {
            title: title.to_string(),
            user: user.map(|u| NavUser {
                name: u.user.name.clone(),
                role: u.user.role.as_str(),
            }),
            csrf,
            nav: links
                .iter()
                .map(|(href, label)| NavLink {
                    href,
                    label,
                    current: *href == path || (*href != "/" && path.starts_with(href)),
                })
                .collect(),
            attention: Attention::default(),
        }
    }

    /// A layout with no caller (error pages, sign-in).
    pub fn bare(title: &str, csrf: String) -> Layout {
        Layout {
            title: title.to_string(),
            user: None,
            csrf,
            nav: Vec::new(),
            attention: Attention::default(),
        }
    }
}

/// Field problems to show beside a re-displayed form.
#[derive(Default)]
pub struct Errors(pub Vec<crate::error::FieldError>);

impl Errors {
    /// The message for `field`, if it has one.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    /// Whether there are no problems.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// All problems, for the summary at the top of the form.
    pub fn all(&self) -> &[crate::error::FieldError] {
        &self.0
    }
}

impl From<crate::error::AppError> for Errors {
    fn from(err: crate::error::AppError) -> Self {
        match err {
            crate::error::AppError::Invalid(fields) => Errors(fields),
            other => Errors(vec![crate::error::FieldError::new(
                "form",
                other.to_string(),
            )]),
        }
    }
}
