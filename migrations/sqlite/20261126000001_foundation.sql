-- Foundation schema (SQLite). Its twin in migrations/postgres has the same name and meaning;
-- tests/migrations.rs checks the two lists match.
-- Types: ids are app-generated UUIDv7 (16-byte BLOB here, UUID there); timestamps are UTC
-- (fixed-width text here, TIMESTAMPTZ there: see src/db/timestamp.rs); sealed free text is
-- an AEAD envelope (BLOB here, BYTEA there: see src/crypto).

-- Everyone who can sign in. Email is stored lower-cased so lookups need no ILIKE.
CREATE TABLE users (
    id BLOB PRIMARY KEY NOT NULL,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('client', 'therapist', 'supervisor', 'admin')),
    -- NULL until the person sets a password (invitation accepted).
    password_hash TEXT,
    -- Sealed TOTP secret; NULL when no authenticator is enrolled.
    totp_secret BLOB,
    totp_enabled BOOLEAN NOT NULL DEFAULT FALSE,
    -- The last TOTP time step accepted, so a code cannot be used twice.
    totp_last_step BIGINT,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- One-time recovery codes for when the authenticator is lost; stored hashed.
CREATE TABLE recovery_codes (
    id BLOB PRIMARY KEY NOT NULL,
    user_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at TEXT
);
CREATE INDEX recovery_codes_user ON recovery_codes (user_id);

-- Server-side sessions for browsers ('web') and bearer tokens for the API ('api').
-- Only the SHA-256 of the token is kept, so a database leak does not hand out sign-ins.
CREATE TABLE sessions (
    id BLOB PRIMARY KEY NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    user_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('web', 'api')),
    -- 'full' once every factor is checked; 'mfa' waits for a code; 'enroll' must set up TOTP.
    stage TEXT NOT NULL CHECK (stage IN ('full', 'mfa', 'enroll')),
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    source_ip TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Emailed one-time invitations. A client invitation names the inviting therapist, and
-- accepting it creates the care relationship.
CREATE TABLE invitations (
    id BLOB PRIMARY KEY NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('client', 'therapist', 'supervisor', 'admin')),
    invited_by BLOB NOT NULL REFERENCES users (id),
    therapist_id BLOB REFERENCES users (id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    accepted_at TEXT
);

-- Who treats whom. Authorization for client records starts here.
CREATE TABLE care_relationships (
    id BLOB PRIMARY KEY NOT NULL,
    therapist_id BLOB NOT NULL REFERENCES users (id),
    client_id BLOB NOT NULL REFERENCES users (id),
    started_at TEXT NOT NULL,
    ended_at TEXT,
    UNIQUE (therapist_id, client_id)
);
CREATE INDEX care_relationships_client ON care_relationships (client_id);

-- Who supervises whom (a supervisor sees a trainee's training work, never client records).
CREATE TABLE supervisions (
    id BLOB PRIMARY KEY NOT NULL,
    supervisor_id BLOB NOT NULL REFERENCES users (id),
    trainee_id BLOB NOT NULL REFERENCES users (id),
    started_at TEXT NOT NULL,
    UNIQUE (supervisor_id, trainee_id)
);

-- The client's record: for now the intake summary, sealed at rest.
CREATE TABLE client_records (
    client_id BLOB PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    intake_sealed BLOB,
    updated_by BLOB REFERENCES users (id),
    updated_at TEXT NOT NULL
);

-- Data-encryption keys, each wrapped (encrypted) by a master key named by master_key_id.
CREATE TABLE data_keys (
    id BLOB PRIMARY KEY NOT NULL,
    master_key_id TEXT NOT NULL,
    wrapped BLOB NOT NULL,
    active BOOLEAN NOT NULL,
    created_at TEXT NOT NULL
);

-- Break-glass access: an admin reads one client's record for a typed reason, for a while.
CREATE TABLE break_glass_grants (
    id BLOB PRIMARY KEY NOT NULL,
    admin_id BLOB NOT NULL REFERENCES users (id),
    client_id BLOB NOT NULL REFERENCES users (id),
    reason_sealed BLOB NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX break_glass_client ON break_glass_grants (client_id);

-- Append-only, hash-chained audit trail. seq is assigned in order under a lock; hash covers
-- every other column and prev_hash, so editing or deleting any row breaks the chain.
CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY NOT NULL,
    id BLOB NOT NULL UNIQUE,
    at TEXT NOT NULL,
    actor_id BLOB,
    actor_role TEXT,
    action TEXT NOT NULL,
    resource_type TEXT,
    resource_id BLOB,
    source_ip TEXT,
    outcome TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_log_actor ON audit_log (actor_id);

-- The chain's head: one row, locked by every append. Starting each append with an UPDATE of
-- this row serialises appends on both backends (SQLite takes its write lock at once; on
-- PostgreSQL instances queue on the row lock), and `tend audit verify` checks the newest entry
-- matches it, so removing the newest entries is noticed too.
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
CREATE INDEX audit_log_resource ON audit_log (resource_id);

-- The job queue. idempotency_key makes enqueueing the same job twice a no-op.
CREATE TABLE jobs (
    id BLOB PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    idempotency_key TEXT UNIQUE,
    state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'done', 'failed')),
    attempts BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL,
    run_at TEXT NOT NULL,
    locked_until TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX jobs_due ON jobs (state, run_at);

-- Practice-wide settings as key/value text.
CREATE TABLE settings (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
