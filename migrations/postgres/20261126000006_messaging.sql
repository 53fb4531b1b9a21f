-- Messaging and safety (PostgreSQL). Twin: migrations/sqlite/20261126000006_messaging.sql.

-- One conversation per care relationship (staff = therapist, member = client) or supervision
-- (staff = supervisor, member = trainee).
CREATE TABLE conversations (
    id UUID PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('care', 'supervision')),
    staff_id UUID NOT NULL REFERENCES users (id),
    member_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (staff_id, member_id)
);
CREATE INDEX conversations_member ON conversations (member_id);

-- Messages are sealed and immutable once sent (a clinical record): the trigger refuses edits.
-- client_key makes a resend of the same message (after a lost connection) a no-op.
CREATE TABLE messages (
    id UUID PRIMARY KEY NOT NULL,
    conversation_id UUID NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    sender_id UUID NOT NULL REFERENCES users (id),
    body_sealed BYTEA NOT NULL,
    client_key TEXT NOT NULL,
    risk_level TEXT NOT NULL CHECK (risk_level IN ('none', 'concern', 'urgent', 'unscreened')),
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (conversation_id, sender_id, client_key)
);
CREATE INDEX messages_conversation ON messages (conversation_id, created_at);
CREATE FUNCTION messages_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'messages are immutable once sent';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER messages_immutable BEFORE UPDATE ON messages
    FOR EACH ROW EXECUTE FUNCTION messages_immutable();

-- How far each participant has read.
CREATE TABLE conversation_reads (
    conversation_id UUID NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    read_up_to TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
);

-- A clinician's messaging preferences: office hours, the note clients see before writing,
-- and who covers their urgent alerts when they do not acknowledge in time.
CREATE TABLE messaging_settings (
    user_id UUID PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    office_hours TEXT NOT NULL,
    reply_note TEXT NOT NULL,
    backup_clinician_id UUID REFERENCES users (id),
    updated_at TIMESTAMPTZ NOT NULL
);

-- Resolving an alert takes a note (sealed); who resolved it.
ALTER TABLE alerts ADD COLUMN resolution_sealed BYTEA;
ALTER TABLE alerts ADD COLUMN resolved_by UUID REFERENCES users (id);

-- Every saved version of a safety plan, so earlier versions can be read and printed.
CREATE TABLE safety_plan_versions (
    client_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    version BIGINT NOT NULL,
    content_sealed BYTEA NOT NULL,
    updated_by UUID NOT NULL REFERENCES users (id),
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (client_id, version)
);
