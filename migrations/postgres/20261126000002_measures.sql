-- Measurement-based care (PostgreSQL). Twin: migrations/sqlite/20261126000002_measures.sql.

-- A therapist asks a client to complete an instrument once (every_days NULL) or every N days.
CREATE TABLE measure_assignments (
    id UUID PRIMARY KEY NOT NULL,
    client_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    therapist_id UUID NOT NULL REFERENCES users (id),
    instrument TEXT NOT NULL,
    every_days BIGINT,
    next_due_at TIMESTAMPTZ NOT NULL,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX measure_assignments_client ON measure_assignments (client_id, active);

-- One administration. Drafts hold partial answers (autosaved) until submitted; answers are
-- a JSON array of numbers or nulls in item order (no free text). Scores are stored as
-- computed at submission, with the flags that were raised.
CREATE TABLE measure_responses (
    id UUID PRIMARY KEY NOT NULL,
    assignment_id UUID REFERENCES measure_assignments (id) ON DELETE SET NULL,
    client_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    instrument TEXT NOT NULL,
    answers TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'submitted')),
    version BIGINT NOT NULL,
    total DOUBLE PRECISION,
    band TEXT,
    complete BOOLEAN NOT NULL DEFAULT FALSE,
    risk TEXT,
    flags TEXT NOT NULL DEFAULT '[]',
    source TEXT NOT NULL DEFAULT 'form',
    started_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    submitted_at TIMESTAMPTZ
);
CREATE INDEX measure_responses_history ON measure_responses (client_id, instrument, status, submitted_at);

-- Per client and instrument: baseline, latest and change status, updated at each submission so
-- caseload overviews read one row per client instead of every administration.
CREATE TABLE measure_summaries (
    client_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    instrument TEXT NOT NULL,
    baseline_total DOUBLE PRECISION NOT NULL,
    baseline_at TIMESTAMPTZ NOT NULL,
    latest_total DOUBLE PRECISION NOT NULL,
    latest_at TIMESTAMPTZ NOT NULL,
    administrations BIGINT NOT NULL,
    status TEXT NOT NULL,
    not_on_track BOOLEAN NOT NULL,
    PRIMARY KEY (client_id, instrument)
);
-- Finds the clients who need attention without scanning every summary.
CREATE INDEX measure_summaries_attention ON measure_summaries (not_on_track, client_id);

-- The alert ledger: open -> acknowledged -> resolved, escalated when left open. One alert per
-- (kind, source, recipient), so raising it twice is harmless.
CREATE TABLE alerts (
    id UUID PRIMARY KEY NOT NULL,
    client_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    recipient_id UUID NOT NULL REFERENCES users (id),
    kind TEXT NOT NULL,
    severity TEXT NOT NULL CHECK (severity IN ('urgent', 'review')),
    source_id UUID NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved')),
    created_at TIMESTAMPTZ NOT NULL,
    acknowledged_at TIMESTAMPTZ,
    resolved_at TIMESTAMPTZ,
    escalated_at TIMESTAMPTZ,
    UNIQUE (kind, source_id, recipient_id)
);
CREATE INDEX alerts_recipient ON alerts (recipient_id, status);
