//! Authorization as one explicit policy.
//!
//! Two layers, both here so they can be read and tested together:
//! - **Route access** ([`Access`]): every route declares who may call it at all; the router
//!   enforces it in one middleware before any handler runs (see `web::routes`).
//! - **Record access** ([`can_read_client_record`] and friends): pure functions over the facts
//!   a handler loads (care relationships, break-glass grants), deciding about one record.
//!
//! The rules: a client sees only their own data; a therapist only clients in an active care
//! relationship with them; a supervisor only their trainees' training work, never client
//! records unless they are also the treating therapist; an admin manages users and settings
//! but reads clinical content only through an audited break-glass grant.

use serde::Serialize;
use uuid::Uuid;

/// What a person is in the practice. One role per account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Someone in care.
    Client,
    /// A clinician with a caseload.
    Therapist,
    /// A clinician who supervises trainees' training work.
    Supervisor,
    /// Manages users and settings; no clinical access by default.
    Admin,
}

impl Role {
    /// Every role, in display order.
    pub const ALL: [Role; 4] = [Role::Client, Role::Therapist, Role::Supervisor, Role::Admin];

    /// The stored and displayed name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Client => "client",
            Role::Therapist => "therapist",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
        }
    }

    /// Staff accounts must use a second factor.
    pub fn requires_mfa(self) -> bool {
        !matches!(self, Role::Client)
    }

    /// Clinicians and admins get the shorter idle timeout.
    pub fn is_staff(self) -> bool {
        self.requires_mfa()
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Role, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                format!("unknown role `{s}`: expected client, therapist, supervisor or admin")
            })
    }
}

impl TryFrom<String> for Role {
    type Error = String;
    fn try_from(value: String) -> Result<Role, String> {
        value.parse()
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who may call a route at all. Checked before the handler runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not (public pages, health checks, sign-in).
    Public,
    /// A signed-in person part-way through sign-in (waiting for a TOTP code or required to
    /// enrol one), or fully signed in.
    PartialSignIn,
    /// Fully signed in with one of these roles.
    Roles(&'static [Role]),
}

/// Any fully signed-in role.
pub const ANY_ROLE: Access = Access::Roles(&Role::ALL);
/// Clients only.
pub const CLIENT: Access = Access::Roles(&[Role::Client]);
/// Therapists only.
pub const THERAPIST: Access = Access::Roles(&[Role::Therapist]);
/// Clinicians who may hold a caseload or supervise.
pub const CLINICIAN: Access = Access::Roles(&[Role::Therapist, Role::Supervisor]);
/// Admins only.
pub const ADMIN: Access = Access::Roles(&[Role::Admin]);
/// Staff who may invite people (admins invite staff, therapists invite clients).
pub const INVITER: Access = Access::Roles(&[Role::Therapist, Role::Admin]);

/// The signed-in person as the policy sees them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Principal {
    /// Their user id.
    pub id: Uuid,
    /// Their role.
    pub role: Role,
}

/// Facts about one client, loaded by the handler before asking the policy.
#[derive(Clone, Debug, Default)]
pub struct ClientFacts {
    /// The client's id.
    pub client_id: Uuid,
    /// Therapists in an active care relationship with the client.
    pub therapist_ids: Vec<Uuid>,
    /// Admins holding an unexpired break-glass grant for this client.
    pub break_glass_admin_ids: Vec<Uuid>,
}

/// Why access to a record was allowed; audited with the read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grant {
    /// The client reading their own record.
    Own,
    /// A treating therapist.
    Treating,
    /// An admin under a break-glass grant.
    BreakGlass,
}

impl Grant {
    /// Only treating clinicians change a record; owners and break-glass readers only read.
    pub fn allows_write(self) -> bool {
        self == Grant::Treating
    }
}

/// Whether `who` may read (and, for clinicians, write) a client's clinical record.
pub fn can_read_client_record(who: Principal, facts: &ClientFacts) -> Option<Grant> {
    match who.role {
        Role::Client if who.id == facts.client_id => Some(Grant::Own),
        // A supervisor with their own caseload is treated as a therapist for those clients.
        Role::Therapist | Role::Supervisor if facts.therapist_ids.contains(&who.id) => {
            Some(Grant::Treating)
        }
        Role::Admin if facts.break_glass_admin_ids.contains(&who.id) => Some(Grant::BreakGlass),
        _ => None,
    }
}

/// Whether `who` may edit a client's clinical record (treating clinicians only).
pub fn can_write_client_record(who: Principal, facts: &ClientFacts) -> bool {
    can_read_client_record(who, facts).is_some_and(Grant::allows_write)
}

/// Whether an account with role `inviter` may invite someone with role `invitee`.
pub fn can_invite(inviter: Role, invitee: Role) -> bool {
    match inviter {
        Role::Admin => invitee != Role::Client,
        Role::Therapist => invitee == Role::Client,
        Role::Client | Role::Supervisor => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> (ClientFacts, Uuid, Uuid) {
        let client = Uuid::now_v7();
        let therapist = Uuid::now_v7();
        (
            ClientFacts {
                client_id: client,
                therapist_ids: vec![therapist],
                ..Default::default()
            },
            client,
            therapist,
        )
    }

    #[test]
    fn a_client_reads_only_their_own_record() {
        let (facts, client, _) = facts();
        let me = Principal {
            id: client,
            role: Role::Client,
        };
        let other = Principal {
            id: Uuid::now_v7(),
            role: Role::Client,
        };
        assert_eq!(can_read_client_record(me, &facts), Some(Grant::Own));
        assert_eq!(can_read_client_record(other, &facts), None);
        assert!(!can_write_client_record(me, &facts));
    }

    #[test]
    fn only_the_treating_therapist_reads_and_writes() {
        let (facts, _, therapist) = facts();
        let treating = Principal {
            id: therapist,
            role: Role::Therapist,
        };
        let other = Principal {
            id: Uuid::now_v7(),
            role: Role::Therapist,
        };
        assert_eq!(
            can_read_client_record(treating, &facts),
            Some(Grant::Treating)
        );
        assert!(can_write_client_record(treating, &facts));
        assert_eq!(can_read_client_record(other, &facts), None);
    }

    #[test]
    fn supervisors_and_admins_are_refused_without_a_relationship_or_grant() {
        let (mut facts, _, _) = facts();
        let supervisor = Principal {
            id: Uuid::now_v7(),
            role: Role::Supervisor,
        };
        let admin = Principal {
            id: Uuid::now_v7(),
            role: Role::Admin,
        };
        assert_eq!(can_read_client_record(supervisor, &facts), None);
        assert_eq!(can_read_client_record(admin, &facts), None);
        facts.break_glass_admin_ids.push(admin.id);
        assert_eq!(
            can_read_client_record(admin, &facts),
            Some(Grant::BreakGlass)
        );
        assert!(!can_write_client_record(admin, &facts));
    }

    #[test]
    fn admins_invite_staff_and_therapists_invite_clients() {
        assert!(can_invite(Role::Admin, Role::Therapist));
        assert!(!can_invite(Role::Admin, Role::Client));
        assert!(can_invite(Role::Therapist, Role::Client));
        assert!(!can_invite(Role::Therapist, Role::Admin));
        assert!(!can_invite(Role::Client, Role::Client));
    }

    #[test]
    fn unknown_role_names_are_refused_clearly() {
        assert!("root".parse::<Role>().unwrap_err().contains("unknown role"));
    }
}
