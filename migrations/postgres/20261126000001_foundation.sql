-- Foundation schema (PostgreSQL). Its twin in migrations/sqlite has the same name and meaning;
-- tests/migrations.rs checks the two lists match.
-- Types: ids are app-generated UUIDv7 (UUID here, 16-byte BYTEA there); timestamps are UTC
-- (TIMESTAMPTZ here, fixed-width text there: see src/db/timestamp.rs); sealed free text is
-- an AEAD envelope (BYTEA here, BYTEA there: see src/crypto).

-- Everyone who can sign in. Email is stored lower-cased so lookups need no ILIKE.
CREATE TABLE users (
    id UUID PRIMARY KEY NOT NULL,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('client', 'therapist', 'supervisor', 'admin')),
    -- NULL until the person sets a password (invitation accepted).
    password_hash TEXT,
    -- Sealed TOTP secret; NULL when no authenticator is enrolled.
    totp_secret BYTEA,
    totp_enabled BOOLEAN NOT NULL DEFAULT FALSE,
    -- The last TOTP time step accepted, so a code cannot be used twice.
    totp_last_step BIGINT,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- One-time recovery codes for when the authenticator is lost; stored hashed.
CREATE TABLE recovery_codes (
    id UUID PRIMARY KEY NOT NULL,
    user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at TIMESTAMPTZ
);
CREATE INDEX recovery_codes_user ON recovery_codes (user_id);

-- Server-side sessions for browsers ('web') and bearer tokens for the API ('api').
-- Only the SHA-256 of the token is kept, so a database leak does not hand out sign-ins.
CREATE TABLE sessions (
    id UUID PRIMARY KEY NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('web', 'api')),
    -- 'full' once every factor is checked; 'mfa' waits for a code; 'enroll' must set up TOTP.
    stage TEXT NOT NULL CHECK (stage IN ('full', 'mfa', 'enroll')),
    created_at TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    source_ip TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Emailed one-time invitations. A client invitation names the inviting therapist, and
-- accepting it creates the care relationship.
CREATE TABLE invitations (
    id UUID PRIMARY KEY NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('client', 'therapist', 'supervisor', 'admin')),
    invited_by UUID NOT NULL REFERENCES users (id),
    therapist_id UUID REFERENCES users (id),
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    accepted_at TIMESTAMPTZ
);

-- Who treats whom. Authorization for client records starts here.
CREATE TABLE care_relationships (
    id UUID PRIMARY KEY NOT NULL,
    therapist_id UUID NOT NULL REFERENCES users (id),
    client_id UUID NOT NULL REFERENCES users (id),
    started_at TIMESTAMPTZ NOT NULL,
    ended_at TIMESTAMPTZ,
    UNIQUE (therapist_id, client_id)
);
CREATE INDEX care_relationships_client ON care_relationships (client_id);

-- Who supervises whom (a supervisor sees a trainee's training work, never client records).
CREATE TABLE supervisions (
    id UUID PRIMARY KEY NOT NULL,
    supervisor_id UUID NOT NULL REFERENCES users (id),
    trainee_id UUID NOT NULL REFERENCES users (id),
    started_at TIMESTAMPTZ NOT NULL,
    UNIQUE (supervisor_id, trainee_id)
);

-- The client's record: for now the intake summary, sealed at rest.
CREATE TABLE client_records (
    client_id UUID PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    intake_sealed BYTEA,
    updated_by UUID REFERENCES users (id),
    updated_at TIMESTAMPTZ NOT NULL
);

-- Data-encryption keys, each wrapped (encrypted) by a master key named by master_key_id.
CREATE TABLE data_keys (
    id UUID PRIMARY KEY NOT NULL,
    master_key_id TEXT NOT NULL,
    wrapped BYTEA NOT NULL,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

-- Break-glass access: an admin reads one client's record for a typed reason, for a while.
CREATE TABLE break_glass_grants (
    id UUID PRIMARY KEY NOT NULL,
    admin_id UUID NOT NULL REFERENCES users (id),
    client_id UUID NOT NULL REFERENCES users (id),
    reason_sealed BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX break_glass_client ON break_glass_grants (client_id);

-- Append-only, hash-chained audit trail. seq is assigned in order under a lock; hash covers
-- every other column and prev_hash, so editing or deleting any row breaks the chain.
CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY NOT NULL,
    id UUID NOT NULL UNIQUE,
    at TIMESTAMPTZ NOT NULL,
    actor_id UUID,
    actor_role TEXT,
    action TEXT NOT NULL,
    resource_type TEXT,
    resource_id UUID,
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
    id UUID PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    idempotency_key TEXT UNIQUE,
    state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'done', 'failed')),
    attempts BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL,
    run_at TIMESTAMPTZ NOT NULL,
    locked_until TIMESTAMPTZ,
    last_error TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX jobs_due ON jobs (state, run_at);

-- Practice-wide settings as key/value text.
CREATE TABLE settings (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
