-- Drafts (SQLite). Twin: migrations/postgres/20261126000005_drafts.sql.
-- Long pieces a client writes over time (the compassionate letter). Sealed; every save bumps
-- version, and a save must name the version it started from, so two tabs cannot silently
-- overwrite each other.
CREATE TABLE drafts (
    id BLOB PRIMARY KEY NOT NULL,
    client_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('letter')),
    content_sealed BLOB NOT NULL,
    version BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX drafts_client ON drafts (client_id, updated_at);
