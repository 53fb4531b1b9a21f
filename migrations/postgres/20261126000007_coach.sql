-- The listening coach (PostgreSQL). Twin: migrations/sqlite/20261126000007_coach.sql.
-- A practice attempt: the reply and the coach's feedback are sealed at rest; the three
-- profile figures are kept in the clear for progress charts (numbers only, no text).
CREATE TABLE coach_attempts (
    id UUID PRIMARY KEY NOT NULL,
    user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scenario TEXT NOT NULL,
    reply_sealed BYTEA NOT NULL,
    feedback_sealed BYTEA NOT NULL,
    reflection DOUBLE PRECISION NOT NULL,
    exploration DOUBLE PRECISION NOT NULL,
    warmth DOUBLE PRECISION NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX coach_attempts_user ON coach_attempts (user_id, created_at);

-- A supervisor's comment on a trainee's attempt (or the trainee's reply to it), sealed.
CREATE TABLE coach_comments (
    id UUID PRIMARY KEY NOT NULL,
    attempt_id UUID NOT NULL REFERENCES coach_attempts (id) ON DELETE CASCADE,
    author_id UUID NOT NULL REFERENCES users (id),
    body_sealed BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX coach_comments_attempt ON coach_comments (attempt_id, created_at);
