//! Storage for accounts: users, sessions, invitations, recovery codes and care relationships.

use uuid::Uuid;

use crate::authz::{ClientFacts, Role};
use crate::db::{Db, DbError, DbResult, Timestamp, new_id};
use crate::with_pool;

/// Columns selected for [`User`], in one place so every query reads the same shape.
const USER_COLUMNS: &str = "id, email, name, role, password_hash, totp_secret, totp_enabled, \
     totp_last_step, disabled, created_at, updated_at";

/// A person who can sign in.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct User {
    /// Stable id (UUIDv7).
    pub id: Uuid,
    /// Lower-cased email address.
    pub email: String,
    /// Name shown to others.
    pub name: String,
    /// Their role.
    #[sqlx(try_from = "String")]
    pub role: Role,
    /// Argon2id PHC string; `None` until they set a password.
    pub password_hash: Option<String>,
    /// Sealed TOTP secret, if they enrolled an authenticator.
    pub totp_secret: Option<Vec<u8>>,
    /// Whether TOTP is required at sign-in.
    pub totp_enabled: bool,
    /// Last accepted TOTP step (replay protection).
    pub totp_last_step: Option<i64>,
    /// Disabled accounts cannot sign in.
    pub disabled: bool,
    /// When the account was created.
    pub created_at: Timestamp,
    /// When the account last changed.
    pub updated_at: Timestamp,
}

impl User {
    /// The principal the authorization policy reasons about.
    pub fn principal(&self) -> crate::authz::Principal {
        crate::authz::Principal {
            id: self.id,
            role: self.role,
        }
    }
}

/// A new account to insert.
pub struct NewUser<'a> {
    /// Email (lower-cased by [`Db::create_user`]).
    pub email: &'a str,
    /// Display name.
    pub name: &'a str,
    /// Role.
    pub role: Role,
    /// Password hash, or `None` for an account that will set one later.
    pub password_hash: Option<&'a str>,
    /// For a client: the therapist whose care they are in.
    pub therapist_id: Option<Uuid>,
}

/// How far a session has got through sign-in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Password and (where required) TOTP checked.
    Full,
    /// Password checked; waiting for a TOTP or recovery code.
    Mfa,
    /// Password checked; the role requires TOTP and none is enrolled yet.
    Enroll,
}

impl Stage {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Full => "full",
            Stage::Mfa => "mfa",
            Stage::Enroll => "enroll",
        }
    }
}

impl TryFrom<String> for Stage {
    type Error = String;
    fn try_from(value: String) -> Result<Stage, String> {
        match value.as_str() {
            "full" => Ok(Stage::Full),
            "mfa" => Ok(Stage::Mfa),
            "enroll" => Ok(Stage::Enroll),
            other => Err(format!("unknown session stage `{other}`")),
        }
    }
}

/// A browser session or API token.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Session {
    /// Row id (shown in "your sessions"; not a secret).
    pub id: Uuid,
    /// Whose session.
    pub user_id: Uuid,
    /// `web` or `api`.
    pub kind: String,
    /// Sign-in progress.
    #[sqlx(try_from = "String")]
    pub stage: Stage,
    /// When it began.
    pub created_at: Timestamp,
    /// Last request seen (updated at most once a minute).
    pub last_seen_at: Timestamp,
    /// Absolute end.
    pub expires_at: Timestamp,
    /// Address it was created from.
    pub source_ip: Option<String>,
    /// When the person last confirmed their password in this session (exports need it).
    pub reauthenticated_at: Option<Timestamp>,
}

/// A session to insert.
pub struct NewSession<'a> {
    /// SHA-256 of the token.
    pub token_hash: &'a str,
    /// Whose session.
    pub user_id: Uuid,
    /// `web` or `api`.
    pub kind: &'a str,
    /// Starting stage.
    pub stage: Stage,
    /// Absolute expiry.
    pub expires_at: Timestamp,
    /// Source address.
    pub source_ip: Option<&'a str>,
}

/// An emailed invitation.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Invitation {
    /// Row id.
    pub id: Uuid,
    /// Invitee's email.
    pub email: String,
    /// Invitee's name as the inviter typed it.
    pub name: String,
    /// The role they will have.
    #[sqlx(try_from = "String")]
    pub role: Role,
    /// Who invited them.
    pub invited_by: Uuid,
    /// For client invitations, the therapist they will be in care with.
    pub therapist_id: Option<Uuid>,
    /// When the link stops working.
    pub expires_at: Timestamp,
    /// When it was used, if it was.
    pub accepted_at: Option<Timestamp>,
}

/// A client in someone's caseload, as listed to them.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CaseloadEntry {
    /// The client's id.
    pub id: Uuid,
    /// The client's name.
    pub name: String,
    /// The client's email.
    pub email: String,
    /// When care began.
    pub started_at: Timestamp,
}

impl Db {
    /// Creates an account (and, for a client with a therapist, the care relationship) in one
    /// transaction. Fails with [`DbError::Conflict`] when the email is taken.
    pub async fn create_user(&self, new: NewUser<'_>) -> DbResult<User> {
        self.insert_user(new, None).await
    }

    /// Inserts an account and, for a client with a therapist, the care relationship; when
    /// `invitation` is given, first marks it accepted (refusing with [`DbError::Conflict`] if
    /// it already was), all in one transaction so a link creates exactly one account.
    async fn insert_user(&self, new: NewUser<'_>, invitation: Option<Uuid>) -> DbResult<User> {
        let id = new_id();
        let now = Timestamp::now();
        let email = new.email.trim().to_lowercase();
        let sql = format!(
            "INSERT INTO users (id, email, name, role, password_hash, totp_enabled, disabled, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, FALSE, FALSE, $6, $6) RETURNING {USER_COLUMNS}"
        );
        with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            if let Some(invitation_id) = invitation {
                let claimed = sqlx::query(
                    "UPDATE invitations SET accepted_at = $1 WHERE id = $2 AND accepted_at IS NULL",
                )
                .bind(now)
                .bind(invitation_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if claimed != 1 {
                    return Err(DbError::Conflict);
                }
            }
            let user: User = sqlx::query_as(&sql)
                .bind(id)
                .bind(&email)
                .bind(new.name.trim())
                .bind(new.role.as_str())
                .bind(new.password_hash)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
            if let Some(therapist_id) = new.therapist_id {
                sqlx::query("INSERT INTO care_relationships (id, therapist_id, client_id, started_at) VALUES ($1, $2, $3, $4)")
                    .bind(new_id())
                    .bind(therapist_id)
                    .bind(id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(user)
        })
    }

    /// Finds an account by email (case-insensitive).
    pub async fn user_by_email(&self, email: &str) -> DbResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1");
        let email = email.trim().to_lowercase();
        Ok(with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(&email)
            .fetch_optional(pool)
            .await?))
    }

    /// Finds an account by id.
    pub async fn user_by_id(&self, id: Uuid) -> DbResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        Ok(with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await?))
    }

    /// Every account, newest first, optionally of one role.
    pub async fn list_users(&self, role: Option<Role>) -> DbResult<Vec<User>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE ($1 IS NULL OR role = $1) ORDER BY role, name"
        );
        let role = role.map(Role::as_str);
        Ok(with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(role)
            .fetch_all(pool)
            .await?))
    }

    /// Whether any admin account exists (first-run setup is offered until one does).
    pub async fn has_admin(&self) -> DbResult<bool> {
        let count: i64 = with_pool!(self, |pool| {
            sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin'")
                .fetch_one(pool)
                .await?
        });
        Ok(count > 0)
    }

    /// Sets a new password hash and ends every session of that account, in one transaction.
    pub async fn set_password(&self, user_id: Uuid, hash: &str) -> DbResult<()> {
        let now = Timestamp::now();
        with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            let done =
                sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
                    .bind(hash)
                    .bind(now)
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
            if done.rows_affected() == 0 {
                return Err(DbError::Corrupt("no such user".into()));
            }
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Stores a sealed TOTP secret and whether it is active yet.
    pub async fn set_totp(
        &self,
        user_id: Uuid,
        sealed: Option<&[u8]>,
        enabled: bool,
    ) -> DbResult<()> {
        with_pool!(self, |pool| {
            sqlx::query(
                "UPDATE users SET totp_secret = $1, totp_enabled = $2, totp_last_step = NULL, updated_at = $3 WHERE id = $4",
            )
            .bind(sealed)
            .bind(enabled)
            .bind(Timestamp::now())
            .bind(user_id)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Turns on the already-stored TOTP secret, keeping the step used to confirm it so that
    /// code cannot be replayed at the next sign-in.
    pub async fn enable_totp(&self, user_id: Uuid) -> DbResult<()> {
        with_pool!(self, |pool| {
            sqlx::query("UPDATE users SET totp_enabled = TRUE, updated_at = $1 WHERE id = $2 AND totp_secret IS NOT NULL")
                .bind(Timestamp::now())
                .bind(user_id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Records the TOTP step just used; returns false if a newer or equal step was already
    /// recorded (a concurrent replay), so the caller refuses the code.
    pub async fn claim_totp_step(&self, user_id: Uuid, step: i64) -> DbResult<bool> {
        let done = with_pool!(self, |pool| {
            sqlx::query(
                "UPDATE users SET totp_last_step = $1 WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)",
            )
            .bind(step)
            .bind(user_id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(done == 1)
    }

    /// Replaces a user's recovery codes with these hashes.
    pub async fn replace_recovery_codes(&self, user_id: Uuid, hashes: &[String]) -> DbResult<()> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            for hash in hashes {
                sqlx::query(
                    "INSERT INTO recovery_codes (id, user_id, code_hash) VALUES ($1, $2, $3)",
                )
                .bind(new_id())
                .bind(user_id)
                .bind(hash)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Uses up a recovery code; true if it existed and was unused.
    pub async fn use_recovery_code(&self, user_id: Uuid, hash: &str) -> DbResult<bool> {
        let done = with_pool!(self, |pool| {
            sqlx::query("UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL")
                .bind(Timestamp::now())
                .bind(user_id)
                .bind(hash)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(done == 1)
    }

    /// How many unused recovery codes a user has left.
    pub async fn recovery_codes_left(&self, user_id: Uuid) -> DbResult<i64> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
            )
            .bind(user_id)
            .fetch_one(pool)
            .await?
        }))
    }

    /// Inserts a session.
    pub async fn create_session(&self, new: NewSession<'_>) -> DbResult<Uuid> {
        let id = new_id();
        let now = Timestamp::now();
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO sessions (id, token_hash, user_id, kind, stage, created_at, last_seen_at, expires_at, source_ip) \
                 VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8)",
            )
            .bind(id)
            .bind(new.token_hash)
            .bind(new.user_id)
            .bind(new.kind)
            .bind(new.stage.as_str())
            .bind(now)
            .bind(new.expires_at)
            .bind(new.source_ip)
            .execute(pool)
            .await?;
        });
        Ok(id)
    }

    /// Finds a session by its token hash.
    pub async fn session_by_token_hash(&self, token_hash: &str) -> DbResult<Option<Session>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT id, user_id, kind, stage, created_at, last_seen_at, expires_at, source_ip, reauthenticated_at FROM sessions WHERE token_hash = $1",
            )
            .bind(token_hash)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// A user's sessions, newest first.
    pub async fn sessions_of(&self, user_id: Uuid) -> DbResult<Vec<Session>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT id, user_id, kind, stage, created_at, last_seen_at, expires_at, source_ip, reauthenticated_at FROM sessions \
                 WHERE user_id = $1 ORDER BY created_at DESC",
            )
            .bind(user_id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Notes activity on a session (for the idle timeout).
    pub async fn touch_session(&self, id: Uuid, at: Timestamp) -> DbResult<()> {
        with_pool!(self, |pool| {
            sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2")
                .bind(at)
                .bind(id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Moves a session to another sign-in stage.
    pub async fn set_session_stage(&self, id: Uuid, stage: Stage) -> DbResult<()> {
        with_pool!(self, |pool| {
            sqlx::query("UPDATE sessions SET stage = $1 WHERE id = $2")
                .bind(stage.as_str())
                .bind(id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Ends one session.
    pub async fn delete_session(&self, id: Uuid) -> DbResult<()> {
        with_pool!(self, |pool| {
            sqlx::query("DELETE FROM sessions WHERE id = $1")
                .bind(id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Ends every session of a user except `keep`; returns how many ended.
    pub async fn delete_sessions_of(&self, user_id: Uuid, keep: Option<Uuid>) -> DbResult<u64> {
        Ok(with_pool!(self, |pool| {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND ($2 IS NULL OR id <> $2)")
                .bind(user_id)
                .bind(keep)
                .execute(pool)
                .await?
                .rows_affected()
        }))
    }

    /// Inserts an invitation.
    pub async fn create_invitation(&self, token_hash: &str, inv: &Invitation) -> DbResult<()> {
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO invitations (id, token_hash, email, name, role, invited_by, therapist_id, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(inv.id)
            .bind(token_hash)
            .bind(inv.email.trim().to_lowercase())
            .bind(&inv.name)
            .bind(inv.role.as_str())
            .bind(inv.invited_by)
            .bind(inv.therapist_id)
            .bind(Timestamp::now())
            .bind(inv.expires_at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Finds an invitation by its token hash.
    pub async fn invitation_by_token_hash(&self, token_hash: &str) -> DbResult<Option<Invitation>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT id, email, name, role, invited_by, therapist_id, expires_at, accepted_at FROM invitations WHERE token_hash = $1",
            )
            .bind(token_hash)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// Accepts an invitation: creates the account (and care relationship) and marks the link
    /// used, all in one transaction so a link works exactly once.
    pub async fn accept_invitation(
        &self,
        inv: &Invitation,
        name: &str,
        password_hash: &str,
    ) -> DbResult<User> {
        let new = NewUser {
            email: &inv.email,
            name,
            role: inv.role,
            password_hash: Some(password_hash),
            therapist_id: inv.therapist_id,
        };
        self.insert_user(new, Some(inv.id)).await
    }

    /// Starts a care relationship (idempotent).
    pub async fn add_care_relationship(&self, therapist_id: Uuid, client_id: Uuid) -> DbResult<()> {
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO care_relationships (id, therapist_id, client_id, started_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (therapist_id, client_id) DO NOTHING",
            )
            .bind(new_id())
            .bind(therapist_id)
            .bind(client_id)
            .bind(Timestamp::now())
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Starts a supervision (idempotent).
    pub async fn add_supervision(&self, supervisor_id: Uuid, trainee_id: Uuid) -> DbResult<()> {
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO supervisions (id, supervisor_id, trainee_id, started_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (supervisor_id, trainee_id) DO NOTHING",
            )
            .bind(new_id())
            .bind(supervisor_id)
            .bind(trainee_id)
            .bind(Timestamp::now())
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Trainees a supervisor supervises.
    pub async fn trainees_of(&self, supervisor_id: Uuid) -> DbResult<Vec<User>> {
        let sql = format!(
            "SELECT {} FROM users u JOIN supervisions s ON s.trainee_id = u.id WHERE s.supervisor_id = $1 ORDER BY u.name",
            USER_COLUMNS
                .split(", ")
                .map(|c| format!("u.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        Ok(with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(supervisor_id)
            .fetch_all(pool)
            .await?))
    }

    /// The clients in a therapist's active caseload.
    pub async fn caseload(&self, therapist_id: Uuid) -> DbResult<Vec<CaseloadEntry>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT u.id, u.name, u.email, c.started_at FROM care_relationships c JOIN users u ON u.id = c.client_id \
                 WHERE c.therapist_id = $1 AND c.ended_at IS NULL ORDER BY u.name",
            )
            .bind(therapist_id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// The facts the policy needs about one client.
    pub async fn client_facts(&self, client_id: Uuid) -> DbResult<ClientFacts> {
        let now = Timestamp::now();
        let (therapist_ids, break_glass_admin_ids): (Vec<Uuid>, Vec<Uuid>) = with_pool!(
            self,
            |pool| {
                let t = sqlx::query_scalar(
                "SELECT therapist_id FROM care_relationships WHERE client_id = $1 AND ended_at IS NULL",
            )
            .bind(client_id)
            .fetch_all(pool)
            .await?;
                let b = sqlx::query_scalar("SELECT admin_id FROM break_glass_grants WHERE client_id = $1 AND expires_at > $2")
                .bind(client_id)
                .bind(now)
                .fetch_all(pool)
                .await?;
                (t, b)
            }
        );
        Ok(ClientFacts {
            client_id,
            therapist_ids,
            break_glass_admin_ids,
        })
    }
}
