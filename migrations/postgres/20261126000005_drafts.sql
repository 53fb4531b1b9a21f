-- Drafts (PostgreSQL). Twin: migrations/sqlite/20261126000005_drafts.sql.
-- Long pieces a client writes over time (the compassionate letter). Sealed; every save bumps
-- version, and a save must name the version it started from, so two tabs cannot silently
-- overwrite each other.
CREATE TABLE drafts (
    id UUID PRIMARY KEY NOT NULL,
    client_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('letter')),
    content_sealed BYTEA NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX drafts_client ON drafts (client_id, updated_at);
