-- Safety plans (PostgreSQL). Twin: migrations/sqlite/20261126000003_safety_plans.sql.
-- One plan per client, written together with their therapist. The sections are sealed as one
-- JSON document (client-authored free text); version guards against two editors at once.
CREATE TABLE safety_plans (
    client_id UUID PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    content_sealed BYTEA NOT NULL,
    version BIGINT NOT NULL,
    updated_by UUID NOT NULL REFERENCES users (id),
    updated_at TIMESTAMPTZ NOT NULL
);
