-- Between-session practice (PostgreSQL). Twin: migrations/sqlite/20261126000004_practice.sql.
-- Client-written text (reflections, journal entries, homework notes) is sealed at rest.

-- A practice done: how long, mood before and after (0-10, optional), a reflection.
CREATE TABLE practice_completions (
    id UUID PRIMARY KEY NOT NULL,
    client_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    practice_id TEXT NOT NULL,
    minutes BIGINT NOT NULL,
    mood_before BIGINT,
    mood_after BIGINT,
    reflection_sealed BYTEA,
    shared BOOLEAN NOT NULL,
    completed_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX practice_completions_client ON practice_completions (client_id, completed_at);

-- Journal entries: mood, emotion tags from a fixed list (JSON array), sealed text.
CREATE TABLE journal_entries (
    id UUID PRIMARY KEY NOT NULL,
    client_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    mood BIGINT,
    emotions TEXT NOT NULL,
    text_sealed BYTEA NOT NULL,
    shared BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX journal_entries_client ON journal_entries (client_id, created_at);

-- Practices a therapist suggests, once or every N days, with a sealed personal note.
CREATE TABLE homework (
    id UUID PRIMARY KEY NOT NULL,
    client_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    therapist_id UUID NOT NULL REFERENCES users (id),
    practice_id TEXT NOT NULL,
    note_sealed BYTEA,
    every_days BIGINT,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX homework_client ON homework (client_id, active);
